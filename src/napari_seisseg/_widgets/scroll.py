"""Fit a dock widget on a small screen: its settings scroll, its buttons and outputs stay in view.

A dock widget of this plugin must fit a 1366 x 768 screen beside napari's own panels
(:data:`MAX_DOCK_HEIGHT`).  A widget keeps that promise by putting its settings in a
scroll area (:func:`scroll_in_place`): the settings then need only a few rows of height,
while the rows that must stay visible (Run/Stop, progress, curves, status) sit outside it.
A box of messages that must show whole up to a few lines, then scroll, is one call too
(``min_height == max_height``, ``fit_width=False``).  :func:`scroll_to` brings a row just
added or shown into view.

Usage, in a :class:`magicgui.widgets.Container` built with ``labels=False``::

    self.settings = Container(labels=True, widgets=[self.layer, self.option, ...])
    self.extend([self.settings, run_row, self.progress, self.status])
    scroll_in_place(self.settings)

:func:`scroll_in_place` works on any child of a Container (labeled or not): it swaps the
child's Qt widget for a scroll area holding it, at the same place in the layout, so
magicgui's list of children, ``reset_choices``, ``visible`` and tooltips are unchanged.
"""

from __future__ import annotations

from typing import Any

__all__ = ["MAX_DOCK_HEIGHT", "SETTINGS_MIN_HEIGHT", "fit_scroll_area", "scroll_in_place",
           "scroll_to"]

#: Largest minimum height of a dock widget (px): a 768-px screen, less napari's menu, status
#: bar and dock title.
MAX_DOCK_HEIGHT = 700
#: Height a scrolling settings section keeps at the least (px): about five rows.
SETTINGS_MIN_HEIGHT = 150


def _scroll_area_class() -> type:
    from qtpy.QtCore import QEvent, QSize
    from qtpy.QtWidgets import QFrame, QScrollArea

    class _FitScrollArea(QScrollArea):
        """A vertical scroll area as tall as its content, down to ``min_height``."""

        def __init__(self, min_height: int, max_height: int | None = None,
                     fit_width: bool = True) -> None:
            from qtpy.QtCore import Qt

            super().__init__()
            self._min_height = int(min_height)
            self._max_height = None if max_height is None else int(max_height)
            self._fit_width = fit_width
            self.setWidgetResizable(True)
            self.setFrameShape(QFrame.NoFrame)
            self.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
            self.setVerticalScrollBarPolicy(Qt.ScrollBarAsNeeded)
            if self._max_height is not None:
                self.setMaximumHeight(self._max_height)

        def _content_height(self) -> int:
            """Height of the content at the area's width (wrapped text included)."""
            w = self.widget()
            if w is None:
                return 0
            width = self.viewport().width()
            if w.hasHeightForWidth() and self.isVisible() and width > 0:
                return w.heightForWidth(width)
            return w.sizeHint().height()

        def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
            """The content's size (never cached, unlike QScrollArea's), plus a scroll bar."""
            w = self.widget()
            width = w.sizeHint().width() if w is not None else 0
            frame = 2 * self.frameWidth()
            height = self._content_height() + frame
            if self._max_height is not None:
                height = min(height, self._max_height)
            return QSize(width + frame + self._bar_width(), height)

        def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt's name
            """As wide as the content (unless not ``fit_width``); ``min_height`` high at most."""
            w = self.widget()
            width = w.minimumSizeHint().width() if w is not None and self._fit_width else 0
            frame = 2 * self.frameWidth()
            height = min(self._min_height, self._content_height() + frame)
            return QSize(width + frame + self._bar_width(), height)

        def _bar_width(self) -> int:
            return self.verticalScrollBar().sizeHint().width()

        def eventFilter(self, obj: Any, event: Any) -> bool:  # noqa: N802 - Qt's name
            # the content changed size (rows shown, hidden, added, longer text): ask the
            # parent layout for a new share of the height
            if obj is self.widget() and event.type() == QEvent.LayoutRequest:
                self.updateGeometry()
            return super().eventFilter(obj, event)

    return _FitScrollArea


_CLASS: type | None = None


def fit_scroll_area(min_height: int = SETTINGS_MIN_HEIGHT, max_height: int | None = None,
                    fit_width: bool = True) -> Any:
    """A vertical ``QScrollArea`` that asks for its content's height and needs only ``min_height``.

    Parameters
    ----------
    min_height : int
        Minimum height (px) the area keeps; less when its content is shorter.
    max_height : int, optional
        Height (px) it never exceeds (a message box that scrolls past a few lines).
    fit_width : bool
        Be as wide as the content at the least.  False for text that must never widen the
        dock (a long path in a message): see :func:`scroll_in_place`.

    Returns
    -------
    QScrollArea
        Without a frame or horizontal scroll bar; its size hint follows the content as the
        content changes (rows shown or hidden, text set).
    """
    global _CLASS
    if _CLASS is None:  # Qt is imported only when a widget is built
        _CLASS = _scroll_area_class()
    return _CLASS(min_height, max_height, fit_width)


def scroll_in_place(widget: Any, min_height: int = SETTINGS_MIN_HEIGHT,
                    max_height: int | None = None, stretch: int = 1,
                    fit_width: bool = True) -> Any:
    """Show ``widget``, already a child of a Container, inside a scroll area at its place.

    Parameters
    ----------
    widget : magicgui.widgets.Widget
        The section to scroll (usually a labeled Container of settings), already inserted
        into its parent Container.
    min_height : int
        Height (px) the section keeps at the least (all of it when it is shorter); the rest
        of it scrolls.  ``min_height == max_height``: a box that always shows its content
        whole up to that height (messages).
    max_height : int, optional
        Height (px) the section never takes more of.
    stretch : int
        Stretch factor in the parent layout (0: only the height it asks for).
    fit_width : bool
        Keep the section at least as wide as its content.  False: the section and the
        labels in it take the width they are given (text wraps at it, and a word longer
        than a line, such as a path, is cut at the right edge).

    Returns
    -------
    QScrollArea
        The :func:`fit_scroll_area` now holding ``widget.native``.

    Raises
    ------
    ValueError
        When ``widget`` is not laid out in a parent widget yet.
    """
    native = widget.native
    parent = native.parentWidget()
    layout = parent.layout() if parent is not None else None
    if layout is None or layout.indexOf(native) < 0:
        raise ValueError("scroll_in_place: add the widget to its Container first")
    area = fit_scroll_area(min_height, max_height, fit_width)
    area.setToolTip(native.toolTip())
    if not fit_width:
        from qtpy.QtWidgets import QLabel, QSizePolicy

        for label in native.findChildren(QLabel):  # as wide as the area, wrapped there
            label.setSizePolicy(QSizePolicy.Preferred, label.sizePolicy().verticalPolicy())
            label.setMinimumWidth(1)  # an explicit minimum overrides the size hint's
        native.setMinimumSize(1, 1)  # nor the height its labels need when 1 px wide
    layout.replaceWidget(native, area)
    area.setWidget(native)
    native.setAutoFillBackground(False)  # keep napari's panel colour
    area.viewport().setAutoFillBackground(False)
    if hasattr(layout, "setStretchFactor"):
        layout.setStretchFactor(area, stretch)
    return area


def scroll_to(area: Any, native: Any, later: bool = True) -> None:
    """Scroll ``area`` so that the Qt widget ``native`` (inside it) shows at its top.

    Parameters
    ----------
    area : QScrollArea
        What :func:`scroll_in_place` returned.
    native : QWidget
        A widget inside the area's content.
    later : bool
        Wait for the layout to settle first (after rows were just shown or hidden).
    """
    from qtpy.QtCore import QPoint, QTimer

    def go() -> None:
        try:
            content = area.widget()
            if content is None or not content.isAncestorOf(native):
                return
            if content.layout() is not None:
                content.layout().activate()  # rows just added or shown: place them now
            area.setWidgetResizable(True)  # and size the content and scroll range to them
            y = native.mapTo(content, QPoint(0, 0)).y()
        except RuntimeError:  # deleted meanwhile
            return
        area.verticalScrollBar().setValue(max(0, y - 4))

    if later:  # a timer of the area's: it never fires once the area is gone
        timer = QTimer(area)
        timer.setSingleShot(True)
        timer.timeout.connect(go)
        timer.timeout.connect(timer.deleteLater)
        timer.start(0)
    else:
        go()
