"""Running long jobs: every long job (convert, export, preprocess, pretrain, train, predict) is a
generator that yields progress events and returns its result; :func:`drain` runs one to its end,
and :func:`stop_requested` is how a job reads its ``stop`` argument (a callable or an Event).

The CLI, the demo, the benchmarks and the tests drain jobs with :func:`drain`; the napari widgets
run the same generators in a napari thread worker, so a job is written once and runs everywhere.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Generator
from typing import Any, TypeVar

__all__ = ["StopLike", "drain", "stop_requested"]

R = TypeVar("R")

#: How a caller asks a running job to stop: a callable returning True, or an Event that is set.
StopLike = Callable[[], bool] | threading.Event | None


def drain(gen: Generator[Any, Any, R], on_event: Callable[[Any], Any] | None = None) -> R:
    """Run a job generator to its end and return its result.

    Parameters
    ----------
    gen : generator
        A long job: :func:`~napari_seisseg.training.loop.train`,
        :func:`~napari_seisseg.inference.window_driver.predict_volume`, ... Its return value (the
        ``StopIteration`` value) is the job's result.
    on_event : callable, optional
        Called with every yielded event (a progress bar, a printer, a list's ``append``).

    Returns
    -------
    object
        What the generator returned (None for a prediction that was cancelled).
    """
    while True:
        try:
            event = next(gen)
        except StopIteration as done:
            return done.value
        if on_event is not None:
            on_event(event)


def stop_requested(stop: StopLike) -> bool:
    """True when ``stop`` (a callable or a :class:`threading.Event`) says to stop.

    Parameters
    ----------
    stop : callable, threading.Event or None
        None never stops; an object with ``is_set`` (an Event) stops once set; a callable
        stops when it returns True.

    Returns
    -------
    bool
    """
    if stop is None:
        return False
    if hasattr(stop, "is_set"):
        return bool(stop.is_set())
    return bool(stop())
