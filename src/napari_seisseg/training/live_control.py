"""The thread-safe control of a live training run (see :func:`.live.live_train`).

Another thread (the Train widget's event loop, a test) talks to the running generator only
through a :class:`LiveControl`: it hands in new labels, names the slice to preview, and
stops the run.  The generator picks these up between training steps.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["LabelUpdate", "LiveControl", "PreviewRequest", "stroke_region"]


@dataclass(frozen=True)
class LabelUpdate:
    """Labels handed in: the whole array (``region`` None) or the new values of a region.

    Attributes
    ----------
    values : numpy.ndarray
        A copy of the labels (the whole array, or the block at ``region``), in the input's
        axis order.
    region : tuple of slice or None
        Where ``values`` go in the labels array (None: ``values`` is the whole array).
    """

    values: np.ndarray
    region: tuple[slice, ...] | None = None


@dataclass(frozen=True)
class PreviewRequest:
    """The slice to preview: ``index`` along ``axis`` (an axis of the input image)."""

    axis: int
    index: int
    requested_at: float


class LiveControl:
    """Hand labels, preview requests and a stop to a running :func:`~.live.live_train`.

    Every method may be called from any thread; the run picks the changes up before its
    next training step.

    Parameters
    ----------
    preview_period_s : float
        Least time between two previews of the same slice (seconds); the watched slice is
        predicted again at this period while training runs.
    max_preview_share : float
        Largest share of the run's time previews may take (0-1; default 0.2): after a
        preview that took ``c`` seconds the next one waits at least ``c (1 - share) /
        share`` seconds, whatever the slice.
    keep_preview_weights : bool
        Put a CPU copy of the weights used in every :class:`~.live.Preview` (tests, tools
        that need to reproduce a preview); off by default as it costs a copy per preview.
    stop_when : callable, optional
        Also stop once this returns True (e.g. the widget that started the run was closed);
        called from the training thread before every step.
    """

    def __init__(self, preview_period_s: float = 3.0, keep_preview_weights: bool = False,
                 stop_when: Callable[[], bool] | None = None,
                 max_preview_share: float = 0.2) -> None:
        if not 0.0 < max_preview_share <= 1.0:
            raise ValueError(f"max_preview_share must be in (0, 1], not {max_preview_share}")
        self.preview_period_s = float(preview_period_s)
        self.max_preview_share = float(max_preview_share)
        self.keep_preview_weights = bool(keep_preview_weights)
        self._stop_when = stop_when
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._labels: list[LabelUpdate] = []
        self._preview: PreviewRequest | None = None

    # ------------------------------------------------------------------ caller side
    def update_labels(self, labels: Any, region: tuple[slice, ...] | None = None) -> None:
        """Hand in new labels: the whole labels array, or the new values of ``region``.

        The values are copied here, so the caller may go on editing its array.  Updates
        are applied in the order they were handed in; a whole array replaces every update
        before it.

        Parameters
        ----------
        labels : array-like
            The whole labels array (``region`` None) or the block at ``region``, in the
            axis order of the image given to the run.
        region : tuple of slice, optional
            Where the block goes (e.g. the bounding box of a brush stroke).
        """
        update = LabelUpdate(np.array(labels, copy=True),
                             None if region is None else tuple(region))
        with self._lock:
            if region is None:
                self._labels = []
            self._labels.append(update)

    def request_preview(self, axis: int, index: int) -> None:
        """Preview slice ``index`` along ``axis`` (of the image) from now on; the latest wins.

        A slice outside the image is ignored quietly by the run (no preview, no error).
        """
        with self._lock:
            self._preview = PreviewRequest(int(axis), int(index), time.perf_counter())

    def clear_preview(self) -> None:
        """Stop previewing."""
        with self._lock:
            self._preview = None

    def stop(self) -> None:
        """End the run before its next step; the best and the latest models are kept."""
        self._stop.set()

    @property
    def stopped(self) -> bool:
        """Whether :meth:`stop` was called (or ``stop_when`` said so)."""
        if not self._stop.is_set() and self._stop_when is not None and self._stop_when():
            self._stop.set()
        return self._stop.is_set()

    # ------------------------------------------------------------------ run side
    def take_labels(self) -> list[LabelUpdate]:
        """The label updates handed in since the last call (oldest first), emptied."""
        with self._lock:
            out, self._labels = self._labels, []
        return out

    def watched(self) -> PreviewRequest | None:
        """The slice to preview now (None: no preview wanted)."""
        with self._lock:
            return self._preview

    def drop_preview(self, request: PreviewRequest) -> None:
        """Forget ``request`` (refused: outside the image) unless a newer one replaced it."""
        with self._lock:
            if self._preview is request:
                self._preview = None


def stroke_region(atoms: Sequence[Any], shape: Sequence[int]) -> tuple[slice, ...] | None:
    """The bounding box of an edit of a napari Labels layer (its ``paint`` event's value).

    Parameters
    ----------
    atoms : sequence
        The edit's history atoms: objects with a ``slice_key`` (napari's masked paint, fill
        and polygon edits) or ``(indices, old_values, new_values)`` tuples (``data_setitem``).
    shape : sequence of int
        The labels array's shape.

    Returns
    -------
    tuple of slice or None
        The smallest box holding every voxel the edit may have changed (None: no voxel).
    """
    lo = np.full(len(shape), np.iinfo(np.int64).max, dtype=np.int64)
    hi = np.full(len(shape), -1, dtype=np.int64)
    for atom in atoms:
        key = getattr(atom, "slice_key", None)
        if key is not None:
            bounds = [s.indices(n)[:2] for s, n in zip(_full_key(key, len(shape)), shape,
                                                         strict=True)]
            a = np.array([start for start, _ in bounds])
            b = np.array([stop for _, stop in bounds]) - 1
        else:
            indices = [np.asarray(i).ravel() for i in atom[0]]
            if not indices or indices[0].size == 0:
                continue
            a = np.array([i.min() for i in indices])
            b = np.array([i.max() for i in indices])
        if np.any(b < a):
            continue
        lo, hi = np.minimum(lo, a), np.maximum(hi, b)
    if np.any(hi < lo):
        return None
    return tuple(slice(int(s), int(e) + 1) for s, e in zip(lo, hi, strict=True))


def _full_key(key: Any, ndim: int) -> tuple[slice, ...]:
    """``key`` (slices and integers) as one slice per axis."""
    key = key if isinstance(key, tuple) else (key,)
    out = [k if isinstance(k, slice) else slice(int(k), int(k) + 1) for k in key]
    return tuple(out + [slice(None)] * (ndim - len(out)))
