"""A lazy, numpy-like array over the traces of SEG-Y files.

:class:`LazyTraceArray` reads only what is indexed: an inline reads one run of traces, a
time slice reads one sample of every trace.  It supports integer and slice indexing (and
1D integer arrays, applied per axis like zarr's ``oindex``), ``transpose`` views and
``np.asarray``, which is all napari and dask need.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .indexing import LazyArray, expand_key
from .segy_file import SegyFile


class LazyTraceArray(LazyArray):
    """Samples of traces laid out on a grid, read on demand.

    Parameters
    ----------
    files : sequence of SegyFile
        The files; global trace ids number their traces consecutively in this order.
    trace_map : numpy.ndarray
        Global trace id at every grid position (-1 where no trace exists: read as zeros).
    n_samples : int
        Samples per trace.
    perm : sequence of int, optional
        Axis order of this view relative to the canonical ``(*grid, sample)`` order.
    """

    def __init__(
        self,
        files: Sequence[SegyFile],
        trace_map: np.ndarray,
        n_samples: int,
        perm: Sequence[int] | None = None,
    ):
        self.files = list(files)
        self.trace_map = np.asarray(trace_map, dtype=np.int64)
        self.n_samples = int(n_samples)
        self._canonical_shape = (*self.trace_map.shape, self.n_samples)
        ndim = len(self._canonical_shape)
        self.perm = tuple(range(ndim)) if perm is None else tuple(int(p) for p in perm)
        self.dtype = np.result_type(*[np.dtype(f.fmt.native) for f in self.files])
        self._starts = np.cumsum([0] + [f.n_traces for f in self.files])

    # ------------------------------------------------------------------ array protocol
    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self._canonical_shape[p] for p in self.perm)

    @property
    def ndim(self) -> int:
        return len(self.perm)

    def __repr__(self) -> str:
        names = ", ".join(str(f.path.name) for f in self.files[:2])
        more = "..." if len(self.files) > 2 else ""
        return f"LazyTraceArray(shape={self.shape}, dtype={self.dtype}, files=[{names}{more}])"

    def transpose(self, *axes: Any) -> LazyTraceArray:
        """A view with axes permuted, like :meth:`numpy.ndarray.transpose`."""
        if len(axes) == 1 and not isinstance(axes[0], int | np.integer):
            axes = tuple(axes[0])
        if not axes:
            axes = tuple(reversed(range(self.ndim)))
        if sorted(axes) != list(range(self.ndim)):
            raise ValueError(f"axes {axes} are not a permutation of {self.ndim} axes")
        return LazyTraceArray(self.files, self.trace_map, self.n_samples, [self.perm[a] for a in axes])

    @property
    def T(self) -> LazyTraceArray:  # noqa: N802 - numpy name
        return self.transpose()

    def to_dask(self, chunks: Any = "auto"):
        """This array as a dask array (chunks default to whole slices along the first axis)."""
        import dask.array as da

        if chunks == "auto":
            per_slice = max(1, int(np.prod(self.shape[1:])) * self.dtype.itemsize)
            first = max(1, min(self.shape[0], (64 << 20) // per_slice))
            chunks = (first, *self.shape[1:])
        return da.from_array(self, chunks=chunks, asarray=False, fancy=False,
                             meta=np.empty((0,) * self.ndim, dtype=self.dtype))

    # ------------------------------------------------------------------ indexing
    def __getitem__(self, key: Any) -> np.ndarray:
        key = _normalize_key(key, self.shape)
        canon: list[Any] = [None] * self.ndim
        for d, k in enumerate(key):
            canon[self.perm[d]] = k
        result = self._read_canonical(canon)
        kept_canon = [c for c in range(self.ndim) if not _is_int(canon[c])]
        order = [kept_canon.index(self.perm[d]) for d in range(self.ndim) if not _is_int(key[d])]
        return result.transpose(order) if order != sorted(order) else result

    def _read_canonical(self, key: list[Any]) -> np.ndarray:
        grid_key, sample_key = key[:-1], key[-1]
        sub = self.trace_map
        for axis in reversed(range(len(grid_key))):
            k = grid_key[axis]
            if isinstance(k, slice):
                sub = sub[(slice(None),) * axis + (k,)]
            else:
                sub = np.take(sub, k, axis=axis)
        ids = np.asarray(sub).ravel()
        values = self._gather(ids, sample_key)
        return values.reshape(np.shape(sub) + values.shape[1:])

    def _gather(self, ids: np.ndarray, samples: Any) -> np.ndarray:
        n_sel = len(range(self.n_samples)[samples]) if isinstance(samples, slice) else (
            None if _is_int(samples) else len(samples))
        out_shape = (len(ids),) if n_sel is None else (len(ids), n_sel)
        if len(ids) == 0:
            return np.zeros(out_shape, dtype=self.dtype)
        out: np.ndarray | None = None
        for fi, f in enumerate(self.files):
            a, b = self._starts[fi], self._starts[fi + 1]
            mask = (ids >= a) & (ids < b)
            if not mask.any():
                continue
            local = ids[mask] - a
            sel: Any = local
            if len(local) > 1 and local[-1] - local[0] == len(local) - 1 and np.all(np.diff(local) == 1):
                sel = slice(int(local[0]), int(local[-1]) + 1)
            elif len(local) == 1:
                sel = slice(int(local[0]), int(local[0]) + 1)
            values = f.read_traces(sel, samples)
            if mask.all():
                return values.astype(self.dtype, copy=False)
            if out is None:
                out = np.zeros(out_shape, dtype=self.dtype)
            out[mask] = values
        return out if out is not None else np.zeros(out_shape, dtype=self.dtype)


def _is_int(k: Any) -> bool:
    return isinstance(k, int | np.integer)


def _normalize_key(key: Any, shape: tuple[int, ...]) -> tuple[Any, ...]:
    """Expand ``key`` to one int, slice or 1D int array per axis (no newaxis)."""
    key = expand_key(key, len(shape), "LazyTraceArray")
    out: list[Any] = []
    for k, n in zip(key, shape, strict=True):
        if _is_int(k):
            k = int(k)
            if not -n <= k < n:
                raise IndexError(f"index {k} is out of bounds for axis with size {n}")
            out.append(k % n)
        elif isinstance(k, slice):
            start, stop, step = k.indices(n)
            out.append(slice(start, stop, step) if step > 0 else np.arange(start, stop, step))
        else:
            arr = np.asarray(k)
            if arr.dtype == bool:
                arr = np.flatnonzero(arr)
            if arr.ndim != 1 or arr.dtype.kind not in "iu":
                raise IndexError("only integers, slices, and 1D integer or boolean arrays are valid indices")
            if arr.size and (arr.max() >= n or arr.min() < -n):
                raise IndexError(f"index out of bounds for axis with size {n}")
            out.append(arr % n if arr.size else arr.astype(np.int64))
    return tuple(out)
