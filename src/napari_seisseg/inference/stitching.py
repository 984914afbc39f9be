"""The streaming stitcher: read windows, predict them in batches, blend, flush finished rows.

Windows are visited in row-major plan order, so along the first plan axis (the slab axis)
every row is finished once the windows start beyond it.  After each batch, the rows before
the next window's start are normalised, the dead traces zeroed, and the rows handed to a
``write`` callback; the accumulator then only holds the rows still in reach of windows.

Peak memory, besides the output itself (nothing when it lives on disk):

- accumulator: ``C_out * L * prod(region[1:]) * 4`` bytes, where ``L``, the slab's rows, is
  at most ``window[0] + step[0] * ceil((batch_size - 1) / m)`` (``m`` windows per row;
  ``L = window[0]`` when a batch never spans rows) and never more than the region; the
  weight sums take no buffer (separable weights on a grid: one vector per axis);
- input slab (only for inputs that are not numpy arrays, whose slices are views): the rows
  ``window[0] + 2 * halo[0]`` of the windows' hull, in the input's dtype;
- one batch: ``batch_size * (C_in + 2 * C_out) * prod(window) * 4`` bytes, plus the model's
  activations.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence
from typing import Any

import numpy as np

from ..bundle.position import interleave_position
from ..errors import SeisSegError
from ..jobs import StopLike, stop_requested
from ._checks import mask_slices
from .blending import Accumulator, axis_denominator, axis_profile, blend_weights
from .windows import WindowPlan, pad_mode

__all__ = ["Stitcher", "WindowReader"]

Region = tuple[tuple[int, int], ...]


class WindowReader:
    """Cut input windows (with halo and padding) out of a possibly lazy volume.

    Parameters
    ----------
    volume : array-like
        Anything sliceable numpy-style (numpy, memmap, dask, zarr, lazy SEG-Y).
    perm : sequence of int
        Plan axis ``k`` is volume axis ``perm[k]``.
    plan : WindowPlan
        The windows.
    region : sequence of (lo, hi)
        Only windows intersecting it are read; the slab is limited to their hull.
    preprocess : callable, optional
        Applied to every window's float32 input before padding, in the volume's axis order
        (e.g. ``functools.partial(normalizer, axis=sample_axis)``); must keep the shape.
    pad : {"reflect", "zeros"}
        How a window reaching beyond the volume is filled (see
        :func:`~napari_seisseg.inference.windows.pad_mode`).
    position : (PositionSpec, int, int), optional
        Section windows only (plan axis 0 = the slices): ``(spec, plan axis of the samples,
        absolute sample index of the volume's first sample)``; the position channel is then
        interleaved after every slice, as training patches have it
        (:mod:`napari_seisseg.bundle.position`).
    """

    def __init__(
        self,
        volume: Any,
        perm: Sequence[int],
        plan: WindowPlan,
        region: Region,
        preprocess: Callable[[np.ndarray], np.ndarray] | None = None,
        pad: str = "reflect",
        position: tuple[Any, int, int] | None = None,
    ) -> None:
        if pad not in ("reflect", "zeros"):
            raise SeisSegError(f"pad must be 'reflect' or 'zeros', got {pad!r}.")
        self.pad = pad
        self.position = position
        self.volume = volume
        self.perm = tuple(perm)
        self.plan = plan
        self.preprocess = preprocess
        self.hull = [plan.input_hull(region, k) for k in range(plan.ndim)]
        self._view = isinstance(volume, np.ndarray)
        self._slab: np.ndarray | None = None
        self._lo = self._hi = 0

    def _read(self, lo: int, hi: int) -> np.ndarray:
        index: list[slice] = [slice(None)] * self.plan.ndim
        index[self.perm[0]] = slice(lo, hi)
        for k in range(1, self.plan.ndim):
            index[self.perm[k]] = slice(*self.hull[k])
        block = np.asarray(self.volume[tuple(index)])
        return block if self.perm == tuple(range(len(self.perm))) else block.transpose(self.perm)

    def _rows(self, lo: int, hi: int) -> None:
        if self._slab is not None and self._lo <= lo and hi <= self._hi:
            return
        if not self._view and self._slab is not None and self._lo <= lo < self._hi:
            # consecutive window rows overlap: read only the new rows of a lazy input
            parts = [self._slab[lo - self._lo :], self._read(self._hi, hi)]
            self._slab, self._lo, self._hi = np.concatenate(parts), lo, hi
            return
        self._slab, self._lo, self._hi = self._read(lo, hi), lo, hi

    def _preprocess(self, x: np.ndarray) -> np.ndarray:
        # the callable sees the window in the volume's axis order (as training patches are)
        identity = self.perm == tuple(range(len(self.perm)))
        inv = tuple(int(i) for i in np.argsort(self.perm))
        xv = x if identity else x.transpose(inv)
        y = np.asarray(self.preprocess(xv), dtype=np.float32)
        if y.shape != xv.shape:
            raise SeisSegError(
                f"The preprocessing changed a window's shape from {xv.shape} to {y.shape}; it "
                "must keep the shape."
            )
        return y if identity else y.transpose(self.perm)

    def window(self, start: Sequence[int]) -> np.ndarray:
        """The float32 input of the window at ``start`` (shape ``plan.input_window``)."""
        plan = self.plan
        self._rows(
            max(start[0] - plan.halo[0], 0),
            min(start[0] + plan.window[0] + plan.halo[0], plan.shape[0]),
        )
        crop: list[slice] = []
        pads: list[tuple[int, int]] = []
        for k, (s, w, h, n) in enumerate(zip(start, plan.window, plan.halo, plan.shape, strict=True)):
            a, b = s - h, s + w + h
            lo, hi = max(a, 0), min(b, n)
            pads.append((lo - a, b - hi))
            origin = self._lo if k == 0 else self.hull[k][0]
            crop.append(slice(lo - origin, hi - origin))
        x = np.array(self._slab[tuple(crop)], dtype=np.float32)
        if self.preprocess is not None:
            x = self._preprocess(x)
        for k, (before, after) in enumerate(pads):
            if before or after:
                width = [(0, 0)] * x.ndim
                width[k] = (before, after)
                mode = pad_mode(x.shape[k], before, after, self.plan.halo[k], self.pad)
                x = np.pad(x, width, mode=mode)
        if self.position is not None:
            x = self._with_position(x, start)
        return x

    def _with_position(self, x: np.ndarray, start: Sequence[int]) -> np.ndarray:
        spec, axis, offset = self.position
        plan = self.plan
        if axis == 0:  # time slices: one value per slice (clamped as training clamps)
            h = plan.halo[0]
            idx = np.clip(np.arange(start[0] - h, start[0] + h + 1), 0, plan.shape[0] - 1)
            return interleave_position(x, spec, None, idx + offset)
        first = int(start[axis]) - plan.halo[axis] + offset
        return interleave_position(x, spec, axis - 1, first)


class Stitcher:
    """Predict the windows of a plan that reach ``region`` and stream the blended result.

    Parameters
    ----------
    predict : callable
        ``(N, *input_window)`` float32 numpy batch -> ``(N, C, *window)`` float32.
    reader : WindowReader
        Where window inputs come from.
    plan : WindowPlan
        The windows (plan coordinates).
    blend : {"gaussian", "linear", "constant"}
        Blending weights (see :func:`~napari_seisseg.inference.blending.blend_weights`).
    write : callable, optional
        ``write(index, block)``: ``index`` slices in plan coordinates (global), ``block``
        float32 ``(C, *sizes)``; called with consecutive row ranges covering the region.
        May be set later as the ``write`` attribute.
    region : sequence of (lo, hi), optional
        Part of the volume wanted (default: all of it).
    dead : numpy.ndarray, optional
        Dead-voxel mask in plan order (broadcastable); zero there, and windows that are
        entirely dead are not predicted.
    batch_size : int
        Windows per call of ``predict``.
    n_channels : int, optional
        Output channels, needed only when every window is dead.
    """

    def __init__(
        self,
        predict: Callable[[np.ndarray], np.ndarray],
        reader: WindowReader,
        plan: WindowPlan,
        blend: str = "gaussian",
        write: Callable[[tuple[slice, ...], np.ndarray], None] | None = None,
        *,
        region: Sequence[tuple[int, int]] | None = None,
        dead: np.ndarray | None = None,
        batch_size: int = 4,
        n_channels: int | None = None,
    ) -> None:
        self.predict, self.reader, self.plan = predict, reader, plan
        self.write, self.dead = write, dead
        self.weights = blend_weights(plan.window, blend)
        self.region: Region = tuple(region) if region is not None else plan.full_region()
        self.denominators = [
            axis_denominator(n, starts, axis_profile(w, blend))[lo:hi]
            for n, starts, w, (lo, hi) in zip(
                plan.shape, plan.starts, plan.window, self.region, strict=True
            )
        ]
        self.batch_size = int(batch_size)
        self.n_channels = n_channels
        windows = plan.windows_in(self.region)
        if dead is not None:
            windows = [s for s in windows if not self._all_dead(s)]
        self.windows = windows
        self.capacity = self._capacity()

    def _all_dead(self, start: Sequence[int]) -> bool:
        index = tuple(
            slice(max(s, 0), min(s + w, n))
            for s, w, n in zip(start, self.plan.window, self.plan.shape, strict=True)
        )
        return bool(mask_slices(self.dead, index).all())

    def _capacity(self) -> int:
        (lo, hi), w0 = self.region[0], self.plan.window[0]
        spans = [1]
        for b in range(0, len(self.windows), self.batch_size):
            last = self.windows[min(b + self.batch_size, len(self.windows)) - 1][0]
            spans.append(min(hi, last + w0) - max(lo, self.windows[b][0]))
        return max(1, min(max(spans), hi - lo))

    @property
    def n_windows(self) -> int:
        """Windows that will be predicted."""
        return len(self.windows)

    def _flush(self, acc: Accumulator, upto: int) -> None:
        while acc.base < upto:
            start, block = acc.pop(min(upto, acc.base + acc.capacity))
            index = (slice(start, start + block.shape[1]),) + tuple(
                slice(lo, hi) for lo, hi in self.region[1:]
            )
            if self.dead is not None:
                np.copyto(block, 0.0, where=mask_slices(self.dead, index))
            self.write(index, block)

    def _probe_channels(self) -> int:
        start = self.plan.windows_in(self.region)[0]
        return int(self.predict(self.reader.window(start)[None]).shape[1])

    def run(self, stop: StopLike = None) -> Generator[int, None, bool]:
        """Predict and write; yield the number of windows done after each batch.

        Returns
        -------
        bool
            True when the whole region was written, False when ``stop`` interrupted it (then
            only some rows were written).
        """
        (lo0, hi0) = self.region[0]
        acc: Accumulator | None = None
        for b in range(0, len(self.windows), self.batch_size):
            if stop_requested(stop):
                return False
            starts = self.windows[b : b + self.batch_size]
            y = self.predict(np.stack([self.reader.window(s) for s in starts]))
            if acc is None:
                acc = Accumulator(y.shape[1], self.region, self.capacity, self.denominators)
            self._flush(acc, min(max(lo0, starts[0][0]), hi0))
            for s, pred in zip(starts, y, strict=True):
                acc.add(s, pred, self.weights)
            yield len(starts)
        if stop_requested(stop):
            return False
        if acc is None:
            n_channels = self.n_channels or self._probe_channels()
            acc = Accumulator(n_channels, self.region, self.capacity, self.denominators)
        self._flush(acc, hi0)
        return True
