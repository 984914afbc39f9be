"""Block-wise iteration over large (possibly lazy) arrays, so writers never load a whole cube."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

#: Target size of one block read into memory while copying.
BLOCK_BYTES = 64 << 20


def block_slices(shape: tuple[int, ...], itemsize: int, max_bytes: int = BLOCK_BYTES) -> Iterator[slice]:
    """Slices along axis 0 such that each block holds about ``max_bytes`` at most."""
    if not shape or shape[0] == 0:
        return
    per = max(1, int(np.prod(shape[1:], dtype=np.int64)) * itemsize)
    step = max(1, max_bytes // per)
    for a in range(0, shape[0], step):
        yield slice(a, min(shape[0], a + step))


def iter_blocks(data: Any, max_bytes: int = BLOCK_BYTES) -> Iterator[tuple[slice, np.ndarray]]:
    """Yield ``(slice along axis 0, numpy block)`` covering ``data``."""
    itemsize = np.dtype(data.dtype).itemsize
    for s in block_slices(tuple(data.shape), itemsize, max_bytes):
        yield s, np.asarray(data[s])


def copy_blocks(data: Any, target: Any, max_bytes: int = BLOCK_BYTES) -> Iterator[float]:
    """Copy ``data`` into ``target`` (same shape) block by block, yielding the fraction copied.

    Parameters
    ----------
    data : array-like
        The source (numpy, memmap, dask, zarr or lazy SEG-Y).
    target : array-like
        A writable array of the same shape (a memmap, a Zarr array).
    max_bytes : int
        About the most bytes read into memory at once.

    Yields
    ------
    float
        The fraction of ``data`` copied, after each block.
    """
    total = data.shape[0] if data.ndim else 1
    for s, block in iter_blocks(data, max_bytes):
        target[s] = block
        yield s.stop / total
