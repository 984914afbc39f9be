"""Lazy array views used by bundle prediction: read only what is indexed.

- :class:`DerivedArray`: a mask or an uncertainty computed from stored probabilities
  ``(C, *shape)`` block by block when indexed (bounded memory for disk-backed outputs);
- :class:`ChannelView`: one channel of stored probabilities as float32;
- transposed views of arrays without ``transpose`` (Zarr), a normalised view that reads the
  pipeline's halo of neighbouring samples, and a slab of rows of a lazy array.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..errors import SeisSegError
from ..io.indexing import expand_key
from ._checks import check_dead_mask, mask_slices
from .outputs import from_stored

__all__ = [
    "ChannelView",
    "DerivedArray",
    "HaloNormalized",
    "Slab",
    "TransposedView",
    "transpose_view",
]

#: Bytes of probabilities read at once when deriving masks lazily.
_DERIVE_BYTES = 32 << 20


class TransposedView:
    """A lazy transposed view of an array that has no ``transpose`` (e.g. a zarr array)."""

    def __init__(self, data: Any, perm: Sequence[int]):
        self.data, self.perm = data, tuple(perm)
        self.shape = tuple(int(data.shape[p]) for p in self.perm)
        self.dtype = data.dtype
        self.ndim = len(self.shape)

    def __getitem__(self, key: Any) -> np.ndarray:
        key = expand_key(key, self.ndim, type(self).__name__)
        inner = [slice(None)] * self.ndim
        for k, p in enumerate(self.perm):
            inner[p] = key[k]
        block = np.asarray(self.data[tuple(inner)])
        kept = [p for p, k in zip(self.perm, key, strict=True) if not isinstance(k, int | np.integer)]
        order = sorted(kept)
        return block.transpose([order.index(p) for p in kept]) if kept else block


def transpose_view(data: Any, perm: tuple[int, ...]) -> Any:
    if perm == tuple(range(len(perm))):
        return data
    if isinstance(data, np.ndarray):
        return np.transpose(data, perm)
    if hasattr(data, "transpose"):
        try:
            return data.transpose(perm)
        except TypeError:
            pass
    return TransposedView(data, perm)


class HaloNormalized:
    """The volume seen through a normaliser whose pipeline looks at neighbouring samples.

    Every read takes the pipeline's halo of extra samples along ``axis`` (clamped at the
    trace ends), normalises, and crops them off: what training's patch reader does.
    """

    def __init__(self, data: Any, normalizer: Any, axis: int):
        self.data, self.normalizer, self.axis = data, normalizer, axis
        self.shape = tuple(int(n) for n in data.shape)
        self.ndim = len(self.shape)
        self.dtype = np.dtype(np.float32)

    def __getitem__(self, key: Any) -> np.ndarray:
        key = expand_key(key, self.ndim, type(self).__name__)
        slices = [
            slice(int(k), int(k) + 1) if isinstance(k, int | np.integer) else slice(*k.indices(n)[:2])
            for k, n in zip(key, self.shape, strict=True)
        ]
        before, after = self.normalizer.halo
        s, n = slices[self.axis], self.shape[self.axis]
        lo, hi = max(0, s.start - before), min(n, s.stop + after)
        read = list(slices)
        read[self.axis] = slice(lo, hi)
        block = self.normalizer(np.asarray(self.data[tuple(read)]), axis=self.axis)
        crop: list[Any] = [slice(None)] * self.ndim
        crop[self.axis] = slice(s.start - lo, s.stop - lo)
        block = block[tuple(crop)]
        squeeze = tuple(i for i, k in enumerate(key) if isinstance(k, int | np.integer))
        return block.squeeze(squeeze) if squeeze else block


class Slab:
    """Rows ``lo:hi`` along ``axis`` of a (possibly lazy) array, read when indexed."""

    def __init__(self, data: Any, axis: int, lo: int, hi: int):
        self.data, self.axis, self.lo = data, axis, lo
        shape = [int(n) for n in data.shape]
        shape[axis] = hi - lo
        self.shape = tuple(shape)
        self.ndim = len(shape)
        self.dtype = data.dtype

    def __getitem__(self, key: Any) -> np.ndarray:
        key = list(expand_key(key, self.ndim, type(self).__name__))
        k = key[self.axis]
        if isinstance(k, int | np.integer):
            key[self.axis] = self.lo + int(k) % self.shape[self.axis]
        else:
            start, stop, step = k.indices(self.shape[self.axis])
            key[self.axis] = slice(self.lo + start, self.lo + stop, step)
        return np.asarray(self.data[tuple(key)])


class DerivedArray:
    """A lazy spatial array computed from probabilities ``(C, *shape)`` when indexed.

    Reads at most about 32 MB of probabilities at a time, so a mask or an uncertainty of a
    disk-backed prediction can be written by the block-wise writers of
    :mod:`napari_seisseg.io` within bounded memory.

    Parameters
    ----------
    probs : array-like
        ``(C, *shape)`` probabilities (stored form).
    fn : callable
        ``fn(block, dead)`` with ``block`` a numpy ``(C, *sizes)`` and ``dead`` the matching
        part of the dead mask (or None), returning ``sizes``.
    dtype : dtype
        Result dtype.
    dead_mask : numpy.ndarray, optional
        Dead voxels, broadcastable to ``shape``.
    """

    def __init__(self, probs: Any, fn: Callable[[np.ndarray, Any], np.ndarray], dtype: Any,
                 dead_mask: np.ndarray | None = None):
        self.probs, self.fn = probs, fn
        self.shape = tuple(int(n) for n in probs.shape[1:])
        self.ndim = len(self.shape)
        self.dtype = np.dtype(dtype)
        self.dead = None if dead_mask is None else check_dead_mask(dead_mask, self.shape)

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    def __len__(self) -> int:
        return self.shape[0]

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        out = self[(slice(None),) * self.ndim]
        return out if dtype is None else out.astype(dtype, copy=False)

    def transpose(self, *perm: Any) -> Any:
        """A lazy transposed view."""
        perm = tuple(perm[0]) if len(perm) == 1 and not isinstance(perm[0], int) else tuple(perm)
        return TransposedView(self, perm or tuple(reversed(range(self.ndim))))

    def __getitem__(self, key: Any) -> np.ndarray:
        key = expand_key(key, self.ndim, type(self).__name__)
        ints = tuple(i for i, k in enumerate(key) if isinstance(k, int | np.integer))
        slices = []
        for k, n in zip(key, self.shape, strict=True):
            if isinstance(k, int | np.integer):
                k = int(k) % n
                slices.append(slice(k, k + 1))
            elif isinstance(k, slice):
                slices.append(k)
            else:
                raise SeisSegError("Derived arrays take integers and slices only.")
        ranges = [s.indices(n) for s, n in zip(slices, self.shape, strict=True)]
        sizes = [len(range(*r)) for r in ranges]
        out = np.zeros(sizes, dtype=self.dtype)
        if 0 in sizes:
            return out.squeeze(ints) if ints else out
        itemsize = np.dtype(getattr(self.probs, "dtype", np.float32)).itemsize
        per_row = max(1, self.probs.shape[0] * math.prod(sizes[1:]) * max(itemsize, 4))
        rows = max(1, _DERIVE_BYTES // per_row)
        r0 = range(*ranges[0])
        rest = tuple(slice(*r) for r in ranges[1:])
        for b in range(0, len(r0), rows):
            sub = r0[b : b + rows]
            first = slice(sub.start, sub.stop if sub.stop >= 0 else None, sub.step)
            block = np.asarray(self.probs[(slice(None), first, *rest)])
            dead = None
            if self.dead is not None:
                dead = np.broadcast_to(
                    mask_slices(self.dead, (first, *rest)), block.shape[1:]
                )
            out[b : b + len(sub)] = self.fn(block, dead)
        return out.squeeze(ints) if ints else out


class ChannelView:
    """One channel of stored probabilities, lazily, as float32 (or raw stored values)."""

    def __init__(self, probs: Any, k: int, raw: bool = False):
        self.probs, self.k, self.raw = probs, int(k), raw
        self.shape = tuple(int(n) for n in probs.shape[1:])
        self.ndim = len(self.shape)
        self.dtype = np.dtype(probs.dtype) if raw else np.dtype(np.float32)

    def __len__(self) -> int:
        return self.shape[0]

    def transpose(self, *perm: Any) -> Any:
        """A lazy transposed view."""
        perm = tuple(perm[0]) if len(perm) == 1 and not isinstance(perm[0], int) else tuple(perm)
        return TransposedView(self, perm or tuple(reversed(range(self.ndim))))

    def __getitem__(self, key: Any) -> np.ndarray:
        key = expand_key(key, self.ndim, type(self).__name__)
        block = self.probs[(self.k, *key)]
        return np.asarray(block) if self.raw else from_stored(block)
