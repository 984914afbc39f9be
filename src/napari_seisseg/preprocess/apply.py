"""Applying a fitted pipeline to large arrays: lazily, or block by block with progress.

:class:`PreprocessedArray` is a numpy-like view that computes what is indexed (napari layers,
the writers of :mod:`napari_seisseg.io`); :func:`preprocess_job` is the one preprocessing job
(lazy, in memory with :func:`apply_blocks`, or to a file) that the Preprocess widget runs in a
worker and ``seisseg preprocess`` drains with :func:`napari_seisseg.jobs.drain`.
"""

from __future__ import annotations

import os
from collections.abc import Generator
from typing import Any

import numpy as np

from ..errors import SeisSegError
from ..io.indexing import LazyArray, expand_key
from .pipeline import Pipeline, PreprocessReport

#: Bytes of float32 work per block when a large array is processed.
BLOCK_BYTES = 16 << 20


class PreprocessedArray(LazyArray):
    """``pipeline`` applied to ``data`` on demand: numpy-like, lazy, one block at a time.

    Indexing reads the indexed traces whole (or, for a time range, with the margin AGC
    windows need), applies the pipeline in blocks of about :data:`BLOCK_BYTES` and returns
    numpy.  napari can show it as a layer (each slice is computed when viewed) and the
    writers of :mod:`napari_seisseg.io` can write it block by block.  Reads of whole traces
    are recorded per trace (so re-reading a block does not count twice) for :meth:`report`.

    Time ranges that are not whole traces judge a trace dead from the part read; use whole
    traces (as writers do) for exact output.
    """

    def __init__(self, data: Any, pipeline: Pipeline, axis: int = -1,
                 block_bytes: int = BLOCK_BYTES):
        if not pipeline.is_fitted:
            pipeline.validate(int(data.shape[axis]))
            raise SeisSegError("The pipeline has no statistics yet: fit it before applying it.")
        self.data = data
        self.pipeline = pipeline
        self.ndim = len(data.shape)
        self.axis = axis % self.ndim
        self.shape = tuple(int(n) for n in data.shape)
        self.dtype = pipeline.output_dtype
        self.block_bytes = int(block_bytes)
        grid = self.shape[: self.axis] + self.shape[self.axis + 1:]
        self._seen = np.zeros(grid, dtype=bool)
        self._dead = np.zeros(grid, dtype=bool)
        self._bad = np.zeros(grid, dtype=np.int64)
        #: The last key asked for (tests and the widget use it to see what napari requested).
        self.last_key: Any = None

    # ------------------------------------------------------------------ array protocol
    def __repr__(self) -> str:
        return f"PreprocessedArray(shape={self.shape}, dtype={self.dtype}, steps={len(self.pipeline.steps)})"

    def __getitem__(self, key: Any) -> np.ndarray:
        key = expand_key(key, self.ndim, "PreprocessedArray")
        self.last_key = key
        simple = [isinstance(k, int | np.integer) or (isinstance(k, slice) and (k.step or 1) > 0)
                  for k in key]
        if not all(simple):  # fancy parts: compute their hull, then index the result
            hull = tuple(k if ok else slice(None) for k, ok in zip(key, simple, strict=True))
            rest = tuple(slice(None) if ok else k for k, ok in zip(key, simple, strict=True)
                         if not isinstance(k, int | np.integer))
            return self[hull][rest]
        key = tuple(_norm(k, n) for k, n in zip(key, self.shape, strict=True))
        return self._compute(key)

    # ------------------------------------------------------------------ computing
    def _compute(self, key: tuple[Any, ...]) -> np.ndarray:
        ax = self.axis
        ns = self.shape[ax]
        tk = key[ax]
        if isinstance(tk, int):
            t0, t1 = tk, tk + 1
        else:
            t0, t1 = tk.start, max(tk.start, tk.stop)
        before, after = self.pipeline.halo
        a0, b0 = max(0, t0 - before), min(ns, t1 + after)
        whole = a0 == 0 and b0 == ns
        src_key = list(key)
        src_key[ax] = slice(a0, b0)
        out_shape = tuple(len(range(k.start, k.stop, k.step)) for k in key if isinstance(k, slice))
        out = np.empty(out_shape, dtype=self.dtype)
        if 0 in out_shape:
            return out
        # block along the first sliced axis other than time
        it = next((a for a, k in enumerate(key) if a != ax and isinstance(k, slice)), None)
        per_unit = (b0 - a0) * 4
        for a, k in enumerate(key):
            if a not in (ax, it) and isinstance(k, slice):
                per_unit *= len(range(k.start, k.stop, k.step))
        if it is None:
            blocks = [None]
        else:
            idx = range(key[it].start, key[it].stop, key[it].step)
            step = max(1, self.block_bytes // max(1, per_unit))
            blocks = [idx[i:i + step] for i in range(0, len(idx), step)]
        # position of the time axis and of the block axis once integer keys drop their axes
        drop = [isinstance(k, int) for k in key]
        t_pos = ax - sum(drop[:ax])
        it_pos = None if it is None else it - sum(drop[:it])
        if isinstance(tk, int):
            t_sel: Any = tk - a0
        else:
            t_sel = slice(tk.start - a0, max(tk.start, tk.stop) - a0, tk.step)
        done = 0
        for sub in blocks:
            k = list(src_key)
            if sub is not None:
                k[it] = slice(sub.start, sub.stop, sub.step)
            block = np.asarray(self.data[tuple(k)])
            res, dead, bad = self.pipeline.transform(block, t_pos)
            if whole:
                gk = tuple(kk for a, kk in enumerate(k) if a != ax)
                self._seen[gk] = True
                self._dead[gk] = dead
                self._bad[gk] = 0 if bad is None else bad
            sel: list[Any] = [slice(None)] * res.ndim
            sel[t_pos] = t_sel
            res = res[tuple(sel)]
            if sub is None:
                out[...] = res
            else:
                o: list[Any] = [slice(None)] * out.ndim
                o[it_pos] = slice(done, done + len(sub))
                out[tuple(o)] = res
                done += len(sub)
        return out

    def report(self) -> PreprocessReport:
        """Counts over the traces read whole so far."""
        return PreprocessReport(
            shape=self.shape,
            output_dtype=str(self.dtype),
            n_traces=int(self._seen.size),
            n_traces_seen=int(self._seen.sum()),
            n_dead_traces=int(self._dead.sum()),
            n_nonfinite_samples=int(self._bad.sum()),
            n_traces_with_nonfinite=int(np.count_nonzero(self._bad)),
            fit=self.pipeline.fit_info,
            steps=self.pipeline.describe().splitlines(),
        )


def apply_blocks(
    pipeline: Pipeline,
    data: Any,
    axis: int = -1,
    *,
    out: np.ndarray | None = None,
    block_bytes: int = BLOCK_BYTES,
) -> Generator[float, None, tuple[np.ndarray, PreprocessReport]]:
    """Apply a fitted pipeline to all of ``data`` block by block, yielding the fraction done.

    The widget runs this generator in a napari ``thread_worker``; tests and scripts drain it
    (``result = yield from apply_blocks(...)`` or :func:`drain`).

    Parameters
    ----------
    pipeline : Pipeline
        Fitted pipeline.
    data : array-like
        Input (numpy, memmap, dask, zarr, lazy SEG-Y).
    axis : int
        Time axis.
    out : numpy.ndarray, optional
        Where to write (e.g. a writable memmap); a new array by default.
    block_bytes : int
        float32 bytes processed at a time.

    Returns
    -------
    (numpy.ndarray, PreprocessReport)
        The generator's return value.
    """
    lazy = PreprocessedArray(data, pipeline, axis, block_bytes=block_bytes)
    if out is None:
        out = np.empty(lazy.shape, dtype=lazy.dtype)
    ax = lazy.axis
    b = 0 if ax != 0 else 1
    per = max(1, 4 * int(np.prod([n for a, n in enumerate(lazy.shape) if a != b], dtype=np.int64)))
    step = max(1, block_bytes // per)
    n = lazy.shape[b]
    yield 0.0
    for a in range(0, n, step):
        key: list[Any] = [slice(None)] * lazy.ndim
        key[b] = slice(a, min(n, a + step))
        out[tuple(key)] = lazy[tuple(key)]
        yield min(n, a + step) / n
    return out, lazy.report()


def preprocess_job(
    pipeline: Pipeline,
    data: Any,
    axis: int = -1,
    *,
    lazy: bool = False,
    path: str | os.PathLike | None = None,
    geometry: Any = None,
    block_bytes: int = BLOCK_BYTES,
    **write_options: Any,
) -> Generator[float, None, tuple[Any, PreprocessReport]]:
    """Apply a fitted pipeline to ``data``: lazily, in memory, or into a file; yield the fraction done.

    The one preprocessing job: the Preprocess widget runs it in a napari worker (lazy or in
    memory), ``seisseg preprocess`` drains it into a file (:mod:`napari_seisseg.jobs`).

    Parameters
    ----------
    pipeline, data, axis, block_bytes
        As for :func:`apply_blocks`.
    lazy : bool
        Compute nothing now: the result is a :class:`PreprocessedArray` (each block is
        computed when it is read).
    path : path, optional
        Write the result there (SEG-Y, .npy or Zarr, block by block with
        :func:`~napari_seisseg.io.volume.write_volume_job`) instead of into memory.
    geometry : SurveyGeometry, optional
        Geometry of ``data`` for the file written.
    **write_options
        More keywords for the writer (``overwrite``, ``sample_format``).

    Returns
    -------
    (result, PreprocessReport)
        The generator's return value: the result is the :class:`PreprocessedArray`
        (``lazy``), the path written (``path``) or a numpy array; the report counts the
        traces read so far (all of them, except for a lazy result).
    """
    if lazy:
        result = PreprocessedArray(data, pipeline, axis, block_bytes=block_bytes)
        return result, result.report()
    if path is None:
        return (yield from apply_blocks(pipeline, data, axis, block_bytes=block_bytes))
    from ..io.volume import write_volume_job

    view = PreprocessedArray(data, pipeline, axis, block_bytes=block_bytes)
    out = yield from write_volume_job(path, view, geometry, **write_options)
    return out, view.report()


def _norm(k: Any, n: int) -> Any:
    if isinstance(k, slice):
        start, stop, step = k.indices(n)
        return slice(start, max(start, stop), step)
    k = int(k)
    if not -n <= k < n:
        raise IndexError(f"index {k} is out of bounds for axis with size {n}")
    return k % n
