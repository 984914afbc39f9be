"""Live curves and scores table of the Train widget.

:class:`TrainingCurves` owns what the Train widget shows while a run goes on: the loss of
every step and of every epoch, the validation mean IoU and per-class IoU per epoch (a
matplotlib canvas redrawn by a timer, a few times per second at most, so a fast run never
floods the GUI thread) and a table of the last validation's per-class scores, filled at every
validation.  Epochs and steps are counted in whole numbers on the axes; class names take
the room the scores leave, elided in the middle when they must be, with the full name as
tooltip.
"""

from __future__ import annotations

import math
from typing import Any

from ..training.run_summary import fmt_score

__all__ = ["TrainingCurves", "MAX_CURVE_POINTS", "REDRAW_INTERVAL_MS",
           "CANVAS_MIN_HEIGHT", "TABLE_MIN_HEIGHT"]

#: Fastest redraw of the curves (milliseconds between two draws).
REDRAW_INTERVAL_MS = 1000
#: Step losses drawn at most (older points are thinned).
MAX_CURVE_POINTS = 2000
#: Height (px) the curves keep at the least (they grow with the dock).
CANVAS_MIN_HEIGHT = 200
#: Height (px) the scores table keeps at the least: its header and three classes (rows of
#: napari's style are 31 px high).
TABLE_MIN_HEIGHT = 126
#: Classes the table grows to show without scrolling (it never takes more height).
TABLE_MAX_ROWS = 6
TABLE_COLUMNS = ["class", "IoU", "Dice", "precision", "recall"]
HISTORY_KEYS = ("step", "loss", "epoch", "epoch_step", "epoch_loss", "val_iou", "class_iou")


class TrainingCurves:
    """Loss and validation-IoU curves plus a per-class scores table, added under ``parent``.

    Parameters
    ----------
    parent : QWidget
        The Qt widget whose layout receives the canvas and the table (and owns the timer).
    dark : bool
        Draw for napari's dark theme (light otherwise).

    Attributes
    ----------
    history : dict of list
        What was drawn: ``step``/``loss`` per step; ``epoch``, ``epoch_step``,
        ``epoch_loss``, ``val_iou`` (NaN without validation) and ``class_iou`` per epoch.
    n_draws : int
        Number of redraws so far.
    """

    def __init__(self, parent: Any, dark: bool = True) -> None:
        from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
        from matplotlib.figure import Figure
        from matplotlib.ticker import MaxNLocator
        from qtpy.QtCore import Qt, QTimer
        from qtpy.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget

        self.history: dict[str, list] = {}
        self.n_draws = 0
        self._class_colors: list = []
        fg, bg = ("#d0d0d0", "#262930") if dark else ("#202020", "#ffffff")
        self._fg = fg
        fig = Figure(figsize=(4.0, 3.6), facecolor=bg, layout="constrained")
        self.ax_loss = fig.add_subplot(2, 1, 1)
        self.ax_iou = fig.add_subplot(2, 1, 2)
        for ax, title in ((self.ax_loss, "training loss"), (self.ax_iou, "validation IoU")):
            ax.set_facecolor(bg)
            ax.set_title(title, color=fg, fontsize=9)
            ax.tick_params(colors=fg, labelsize=7)
            for spine in ax.spines.values():
                spine.set_color(fg)
        self.ax_loss.set_xlabel("step", color=fg, fontsize=7)
        self.ax_iou.set_xlabel("epoch", color=fg, fontsize=7)
        self.ax_iou.set_ylim(0, 1)
        # whole epochs and steps, even when a single one is in view (min_n_ticks=1)
        for axis in (self.ax_loss.xaxis, self.ax_iou.xaxis):
            axis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
        self.figure = fig
        self.canvas = FigureCanvasQTAgg(fig)
        self.canvas.setMinimumHeight(CANVAS_MIN_HEIGHT)
        self.canvas.setToolTip("Live curves: loss of every step (thin) and per epoch (dots); "
                               "validation mean IoU (thick) and per class (thin, class colours).")
        table = QTableWidget(0, len(TABLE_COLUMNS))
        table.setHorizontalHeaderLabels(TABLE_COLUMNS)
        table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        table.verticalHeader().setVisible(False)
        header = table.horizontalHeader()
        # the scores take what they need, the class name the rest (elided in the middle,
        # the full name in the tooltip, when the dock is narrow)
        header.setSectionResizeMode(QHeaderView.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.Stretch)
        table.setTextElideMode(Qt.ElideMiddle)
        table.setWordWrap(False)
        table.setMinimumHeight(TABLE_MIN_HEIGHT)
        table.setMaximumHeight(TABLE_MIN_HEIGHT)  # fitted to the classes in fill_table
        table.setToolTip("Validation scores per class after the last validation (IoU, Dice, "
                         "precision, recall); updated after every epoch.")
        self.table = table
        layout = parent.layout()
        layout.addWidget(self.canvas, 1)
        layout.addWidget(table)
        self._timer = QTimer(parent)
        self._timer.setInterval(REDRAW_INTERVAL_MS)
        self._timer.timeout.connect(self.redraw)
        self.reset()

    # ------------------------------------------------------------------ state
    def reset(self, class_colors: list | None = None) -> None:
        """Forget the last run: empty history, curves and table."""
        self.history = {k: [] for k in HISTORY_KEYS}
        self._class_colors = list(class_colors or [])
        for ax in (self.ax_loss, self.ax_iou):
            for line in list(ax.lines):
                line.remove()
        (self.loss_line,) = self.ax_loss.plot([], [], lw=0.8, alpha=0.6, color="#4fa3ff")
        (self._epoch_line,) = self.ax_loss.plot([], [], "o-", ms=3, lw=1.0, color="#ffb74d")
        (self._iou_line,) = self.ax_iou.plot([], [], "o-", ms=3, lw=2.0, color=self._fg)
        self._class_lines: list = []
        self.ax_loss.set_xlim(0, 10, auto=True)
        self.ax_loss.set_ylim(0, 1, auto=True)
        self.ax_iou.set_xlim(0.5, 5.5)
        self.table.setRowCount(0)
        self._dirty = True

    def set_class_colors(self, colors: list) -> None:
        """RGBA colours of the classes, in class order (table swatches, per-class curves)."""
        self._class_colors = list(colors)

    def add_step(self, step: int, loss: float) -> None:
        """Record the loss of one optimisation step."""
        self.history["step"].append(step)
        self.history["loss"].append(loss)
        self._dirty = True

    def add_epoch(self, epoch: int, step: int, loss: float, metrics: dict | None) -> None:
        """Record an epoch's mean loss and validation metrics (fills the table)."""
        h = self.history
        from ..training.metrics import headline

        m = metrics or {}
        h["epoch"].append(epoch)
        h["epoch_step"].append(step)
        h["epoch_loss"].append(loss)
        score = headline(m) if m else None
        h["val_iou"].append(math.nan if score is None else score)
        h["class_iou"].append([c.get("iou") for c in m.get("classes", [])])
        if m:
            self.fill_table(m)
        self._dirty = True

    # ------------------------------------------------------------------ drawing
    def start(self) -> None:
        """Start redrawing on the timer."""
        self._timer.start()

    def stop(self) -> None:
        """Stop the timer and draw what is there."""
        self._timer.stop()
        self.redraw(force=True)

    def redraw(self, force: bool = False) -> None:
        """Update the curves if anything changed since the last draw (or ``force``)."""
        if not (self._dirty or force):
            return
        h = self.history
        steps, loss = h["step"], h["loss"]
        if len(steps) > MAX_CURVE_POINTS:
            k = int(math.ceil(len(steps) / MAX_CURVE_POINTS))
            steps, loss = steps[::k], loss[::k]
        self.loss_line.set_data(steps, loss)
        self._epoch_line.set_data(h["epoch_step"], h["epoch_loss"])
        self._iou_line.set_data(h["epoch"], h["val_iou"])
        n_cls = max((len(c) for c in h["class_iou"]), default=0)
        while len(self._class_lines) < n_cls:
            i = len(self._class_lines)
            color = self._class_colors[i] if i < len(self._class_colors) else None
            (line,) = self.ax_iou.plot([], [], lw=0.8, color=color)
            self._class_lines.append(line)
        for i, line in enumerate(self._class_lines):
            ys = [c[i] if i < len(c) and c[i] is not None else math.nan for c in h["class_iou"]]
            line.set_data(h["epoch"], ys)
        if steps:
            self.ax_loss.relim()
            self.ax_loss.autoscale_view()
        if h["epoch"]:
            self.ax_iou.set_xlim(0.5, max(h["epoch"]) + 0.5)
        self.canvas.draw_idle()
        self.n_draws += 1
        self._dirty = False

    def fill_table(self, metrics: dict[str, Any]) -> None:
        """Show one validation's per-class scores."""
        from qtpy.QtCore import Qt
        from qtpy.QtGui import QColor
        from qtpy.QtWidgets import QTableWidgetItem

        rows = metrics.get("classes", [])
        self.table.setRowCount(len(rows))
        for r, c in enumerate(rows):
            text = str(c.get("name") or c.get("value"))
            name = QTableWidgetItem(text)
            name.setToolTip(text)
            i = int(c.get("index", r))
            if i < len(self._class_colors):
                rgba = [int(round(255 * x)) for x in self._class_colors[i]]
                name.setData(Qt.DecorationRole, QColor(*rgba))
            self.table.setItem(r, 0, name)
            for col, key in enumerate(("iou", "dice", "precision", "recall"), start=1):
                item = QTableWidgetItem(fmt_score(c.get(key)))
                item.setTextAlignment(int(Qt.AlignRight | Qt.AlignVCenter))
                self.table.setItem(r, col, item)
        self._fit_table_height()

    def _fit_table_height(self) -> None:
        """As tall as the header and the classes (up to :data:`TABLE_MAX_ROWS`), no taller."""
        t = self.table
        rows = min(t.rowCount(), TABLE_MAX_ROWS)
        height = (t.horizontalHeader().sizeHint().height() + 2 * t.frameWidth()
                  + sum(t.rowHeight(r) for r in range(rows)) + 2)
        t.setMaximumHeight(max(TABLE_MIN_HEIGHT, height))

    def table_rows(self) -> list[list[str]]:
        """The scores table as text (for tests and logs)."""
        out = []
        for r in range(self.table.rowCount()):
            out.append([self.table.item(r, c).text() if self.table.item(r, c) else ""
                        for c in range(self.table.columnCount())])
        return out
