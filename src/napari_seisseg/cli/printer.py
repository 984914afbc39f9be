"""Printing the progress events of jobs: one printer for every command and the demo.

Every long job is a generator of events (:mod:`napari_seisseg.jobs`); the commands drain it
with :func:`~napari_seisseg.jobs.drain` and one of these printers as ``on_event``:

- :func:`progress_bar`: a bar driven by fractions 0..1 (the writers, preprocessing), or by
  the :class:`~napari_seisseg.inference.PredictionProgress` events of a prediction through
  :class:`PredictionPrinter`;
- :class:`TrainingPrinter`: the events of :func:`~napari_seisseg.training.train` (a bar for
  the steps, a line per epoch, the notes and the closing message) and, with
  ``pretraining=True``, those of :func:`~napari_seisseg.training.pretrain.pretrain`.

Bars go to stderr: a tqdm bar in a terminal; into a log file (stderr not a terminal) one
whole line at most every :data:`LOG_REDRAW_S` instead, so that no carriage-return redraw
runs into the lines printed between them.  Lines go to stdout, warnings
(``warning: ...``) to stderr.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

__all__ = ["LOG_REDRAW_S", "LogBar", "PredictionPrinter", "TrainingPrinter", "epoch_line", "fmt",
           "move_bar", "new_bar", "progress_bar"]

#: Seconds between progress-bar redraws when stderr is not a terminal (a log file, CI):
#: a redraw on every step wrote megabytes of carriage-return lines into logs.
LOG_REDRAW_S = 30.0


def new_bar(total: int, enabled: bool = True, **kwargs: Any) -> Any:
    """A tqdm bar on a terminal's stderr; a :class:`LogBar` when stderr is a log file.

    Move it with :func:`move_bar` (which honours the redraw interval), not ``refresh()``.
    """
    if not bool(getattr(sys.stderr, "isatty", lambda: False)()):
        return LogBar(total, enabled, kwargs.get("desc") or "")
    from tqdm import tqdm

    return tqdm(total=total, disable=not enabled, leave=False, file=sys.stderr,
                mininterval=0.1, miniters=1, **kwargs)


class LogBar:
    """Progress for a log file: a whole line on stderr at most every :data:`LOG_REDRAW_S`.

    The part of tqdm's interface the printers use (``n``, ``disable``, ``update``,
    ``set_description_str``, ``write``, ``close``).  A line says the description, the share
    done and the time taken: ``epoch 3 loss 0.4210: 45% (2 min 10 s)``.
    """

    def __init__(self, total: int, enabled: bool = True, desc: str = ""):
        self.total, self.disable, self.desc = max(int(total), 1), not enabled, desc
        self.n = 0
        self._t0 = time.monotonic()
        self._shown = self._t0

    def set_description_str(self, desc: str, refresh: bool = False) -> None:
        """Name what is in progress (shown from the next line on)."""
        self.desc = desc

    def update(self, k: int) -> None:
        """Move by ``k``; print a line when :data:`LOG_REDRAW_S` passed since the last one."""
        self.n += int(k)
        now = time.monotonic()
        if not self.disable and now - self._shown >= LOG_REDRAW_S:
            self._shown = now
            spent = int(now - self._t0)
            took = f"{spent // 60} min {spent % 60} s" if spent >= 60 else f"{spent} s"
            print(f"{self.desc}: {100 * self.n // self.total}% ({took})", file=sys.stderr,
                  flush=True)

    @staticmethod
    def write(text: str, file: Any = None) -> None:
        """Print a line on ``file`` (default stdout)."""
        print(text, file=sys.stdout if file is None else file, flush=True)

    def close(self) -> None:
        """Nothing to remove: every line printed is whole."""


def move_bar(bar: Any, n: int) -> None:
    """Set ``bar`` to ``n`` of its total, drawing only when its interval has passed."""
    bar.update(n - bar.n)


@contextmanager
def progress_bar(desc: str, enabled: bool = True) -> Iterator[Callable[[float], None]]:
    """A progress bar (:func:`new_bar`) driven by fractions (0..1); yields the update function.

    The update function is the ``on_event`` of jobs that yield fractions
    (``drain(write_volume_job(...), update)``).
    """
    bar = new_bar(100, enabled, desc=desc, unit="%",
                  bar_format="{desc}: {percentage:3.0f}%|{bar}| {elapsed}<{remaining}")

    def update(fraction: float) -> None:
        move_bar(bar, round(100 * min(1.0, max(0.0, fraction))))

    try:
        yield update
    finally:
        bar.close()


class PredictionPrinter:
    """``on_event`` of a prediction: moves a fraction bar and keeps the closing event.

    Parameters
    ----------
    update : callable
        The update function of a :func:`progress_bar`.

    Attributes
    ----------
    finished : PredictionFinished or None
        The last event of the prediction (timings), once it came.
    """

    def __init__(self, update: Callable[[float], None]):
        self.update = update
        self.finished = None

    def __call__(self, event: Any) -> None:
        from ..inference import PredictionFinished, PredictionProgress, PredictionStarted

        if isinstance(event, PredictionProgress):
            self.update(event.fraction)
        elif isinstance(event, PredictionStarted):
            self.update(0.0)
        elif isinstance(event, PredictionFinished):
            self.finished = event


def fmt(v: Any, digits: int = 3) -> str:
    """A score with ``digits`` decimals, ``-`` for None or a value that is not finite."""
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return "-"
    return f"{float(v):.{digits}f}"


def epoch_line(event: Any) -> str:
    """One line for an :class:`~napari_seisseg.training.EpochEnd` event."""
    parts = [f"epoch {event.epoch:3d}", f"loss {fmt(event.train_loss, 4)}"]
    metrics = event.metrics
    if metrics:
        from ..training.metrics import headline

        parts.append(f"val mIoU {fmt(headline(metrics))}")
        per_class = " ".join(
            f"{c.get('name') or c.get('value')} {fmt(c.get('iou'))}"
            for c in metrics.get("classes", [])
        )
        if per_class:
            parts.append(f"IoU: {per_class}")
    parts.append(f"lr {event.lr:.2g}")
    parts.append(f"{event.elapsed_s:.0f} s")
    line = "  ".join(parts)
    return line + ("  *best*" if event.is_best and metrics else "")


class TrainingPrinter:
    """``on_event`` of a training (or pretraining): a bar for the steps, lines for the rest.

    Parameters
    ----------
    enabled : bool
        Show the bar (lines are printed either way).
    classes : bool
        On ``Started``, say the classes and the task with the validation (``seisseg
        train``); False: the validation alone (the demo).
    pretraining : bool
        The events of a pretraining: a note closes the bar and is printed as it is (a
        warning is printed as in training: ``warning: ...`` on stderr, the bar kept).

    Use it as a context manager (the bar is closed on the way out) or call :meth:`close`.
    """

    def __init__(self, enabled: bool, *, classes: bool = True, pretraining: bool = False):
        self.enabled = enabled
        self.classes = classes
        self.pretraining = pretraining
        self.bar = None

    def __enter__(self) -> TrainingPrinter:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __call__(self, event: Any) -> None:
        """Print one event of :func:`~napari_seisseg.training.train` or of a pretraining."""
        from ..training import EpochEnd, Finished, Note, Started, Step

        if isinstance(event, Step):
            self.step(event)
        elif isinstance(event, Started):
            self.started(event)
        elif isinstance(event, EpochEnd):
            self.write(epoch_line(event))
        elif isinstance(event, Note):
            self.note(event)
        elif isinstance(event, Finished):
            self.close()
            self.write(event.message())

    def started(self, event: Any) -> None:
        """Say the device, the data and the validation; then show the bar."""
        self.write(f"device: {event.device_description}, {event.precision}")
        self.write(event.message())
        if self.classes:
            classes = ", ".join(f"{c.value}={c.name}" for c in event.classes)
            self.write(f"classes: {classes}; {'binary' if event.binary else 'multi-class'}"
                       f" task; validation: {event.validation}")
        else:
            self.write(f"validation: {event.validation}")
        self.start()

    def note(self, event: Any) -> None:
        """A training note as ``note: ...`` (a progress note as it is); a pretraining's note
        as it is, below the bar; a warning as ``warning: ...`` on stderr."""
        if getattr(event, "level", "info") == "warning":
            sys.stdout.flush()  # in order with the lines before it when both go to one log
            self.write(f"warning: {event.text}", sys.stderr)
        elif self.pretraining:
            self.close()
            self.write(event.text)
        elif getattr(event, "level", "info") == "progress":
            self.write(event.text)
        else:
            self.write(f"note: {event.text}")

    def start(self) -> None:
        """Show the bar (after the set-up messages)."""
        self.bar = new_bar(1000, self.enabled,
                           bar_format="{desc} {percentage:3.0f}%|{bar}| {elapsed}<{remaining}")

    def step(self, event: Any) -> None:
        """Move the bar to ``event.progress`` (0..1), with the epoch and loss as its label."""
        if self.bar is None:
            self.start()
        self.bar.set_description_str(f"epoch {event.epoch} loss {event.loss:.4f}", refresh=False)
        move_bar(self.bar, int(round(1000 * min(1.0, max(0.0, event.progress)))))

    def write(self, text: str, file: Any = None) -> None:
        """Print a line on ``file`` (default stdout), above the bar when one is shown."""
        file = sys.stdout if file is None else file
        if self.bar is None or self.bar.disable:
            print(text, file=file, flush=True)
        else:
            self.bar.write(text, file=file)

    def close(self) -> None:
        """Remove the bar."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None
