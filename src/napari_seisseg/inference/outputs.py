"""Where stitched probabilities go: memory, a memory-mapped .npy, or a Zarr store.

Disk outputs are written to a temporary path beside the target and renamed only when the
prediction completes, so a cancelled or failed run never leaves a half-written file (an
existing file at the target stays untouched until then).  Probabilities may be stored
compactly: float16, or uint8 holding ``round(p * 255)``.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import SeisSegError
from ..io.atomic import atomic_path, owned_prefix, remove_stale
from ._checks import check_out_dtype

__all__ = ["OutputSink", "from_stored", "open_output", "to_stored"]


def to_stored(probs: np.ndarray, dtype: str | np.dtype) -> np.ndarray:
    """Convert float32 probabilities to the stored dtype (uint8: ``round(p * 255)``, clipped)."""
    dtype = np.dtype(dtype)
    if dtype == np.uint8:
        return np.clip(np.rint(probs * 255.0), 0, 255).astype(np.uint8)
    return probs.astype(dtype, copy=False)


def from_stored(data: Any) -> np.ndarray:
    """Float32 probabilities from stored values (uint8 are divided by 255)."""
    arr = np.asarray(data)
    if arr.dtype == np.uint8:
        return arr.astype(np.float32) / np.float32(255.0)
    return arr.astype(np.float32, copy=False)


class _Discarded(Exception):
    """Raised into the atomic-path context to throw the temporary output away."""


class OutputSink:
    """An output array being filled, committed (renamed into place) or discarded.

    Use :func:`open_output` to make one.

    Attributes
    ----------
    array : array-like
        Where blocks are written (numpy, memmap or zarr array).
    target : pathlib.Path or None
        Final path of a disk output.
    tmp : pathlib.Path or None
        Where a disk output is written until :meth:`commit`.
    """

    def __init__(
        self, array: Any, dtype: np.dtype, target: Path | None = None, ctx: Any = None,
        tmp: Path | None = None,
    ):
        self.array = array
        self.tmp = tmp
        self.dtype = dtype
        self.target = target
        self._ctx = ctx
        self._done = False

    def write(self, index: Sequence[slice], block: np.ndarray) -> None:
        """Store float32 ``block`` (channels first) at the spatial ``index``."""
        self.array[(slice(None), *index)] = to_stored(block, self.dtype)

    def commit(self) -> Any:
        """Finish: a disk output is moved to its target and reopened read-only."""
        if self._done:
            return self.array
        self._done = True
        if self._ctx is None:
            return self.array
        if isinstance(self.array, np.memmap):
            self.array.flush()
        self.array = None
        self._ctx.__exit__(None, None, None)
        if self.target.suffix.lower() == ".npy":
            self.array = np.load(self.target, mmap_mode="r")
        else:
            import zarr

            self.array = zarr.open_array(store=str(self.target), mode="r")
        return self.array

    def discard(self) -> None:
        """Throw a disk output away (the target is left as it was)."""
        if self._done:
            return
        self._done = True
        self.array = None
        if self._ctx is not None:
            exc = _Discarded()
            self._ctx.__exit__(_Discarded, exc, None)


def open_output(
    out: Any,
    shape: Sequence[int],
    dtype: str = "float32",
    *,
    chunks: Sequence[int] | None = None,
    overwrite: bool = True,
    protect: Sequence[Any] = (),
) -> OutputSink:
    """Create the output array of a prediction.

    Parameters
    ----------
    out : None, path or array
        None: an in-memory numpy array.  A path ending in ``.npy`` (memory-mapped) or
        ``.zarr`` (a Zarr store): written through a temporary path.  An array-like of the
        right shape: written in place.
    shape : sequence of int
        ``(C, *volume_shape)``.
    dtype : {"float32", "float16", "uint8"}
        Stored type.
    chunks : sequence of int, optional
        Zarr chunks (default: one channel, 64 per spatial axis).
    overwrite : bool
        Whether an existing target may be replaced.
    protect : sequence of paths
        Files that must never be overwritten (the input).
    """
    dtype = check_out_dtype(dtype)
    shape = tuple(int(n) for n in shape)
    if out is None:
        return OutputSink(np.zeros(shape, dtype=dtype), dtype)
    if not isinstance(out, str | os.PathLike):
        if tuple(getattr(out, "shape", ())) != shape or not hasattr(out, "__setitem__"):
            raise SeisSegError(
                f"The output array has shape {tuple(getattr(out, 'shape', ()))}; expected {shape}."
            )
        return OutputSink(out, dtype)
    target = Path(out)
    suffix = target.suffix.lower()
    if suffix not in (".npy", ".zarr"):
        raise SeisSegError(
            f"Cannot write probabilities to {target}: use a path ending in .npy or .zarr "
            "(SEG-Y output is written from them afterwards)."
        )
    ctx = atomic_path(target, protect=protect, overwrite=overwrite, directory=suffix == ".zarr")
    tmp = ctx.__enter__()
    try:
        if suffix == ".npy":
            array = np.lib.format.open_memmap(tmp, mode="w+", dtype=dtype, shape=shape)
        else:
            import zarr

            if chunks is None:
                chunks = (1, *(min(n, 64) for n in shape[1:]))
            array = zarr.create_array(
                store=str(tmp), shape=shape, chunks=tuple(chunks), dtype=dtype,
                fill_value=0, overwrite=True,
            )
    except BaseException as exc:
        ctx.__exit__(type(exc), exc, exc.__traceback__)
        raise
    return OutputSink(array, dtype, target, ctx, tmp)


class ScratchSum:
    """A float32 running sum (C, *shape) in memory or in a temporary .npy beside ``near``.

    Used to average the orientations of a section-wise prediction without holding the
    whole cube in memory when the output lives on disk.
    """

    def __init__(self, shape: Sequence[int], near: Path | None = None):
        self.path: Path | None = None
        if near is None:
            self.array = np.zeros(tuple(shape), dtype=np.float32)
        else:
            remove_stale(near.parent, f"{near.name}.sum")
            fd, name = tempfile.mkstemp(prefix=owned_prefix(f"{near.name}.sum"), suffix=".npy",
                                        dir=near.parent)
            os.close(fd)
            self.path = Path(name)
            self.array = np.lib.format.open_memmap(self.path, mode="w+", dtype=np.float32, shape=tuple(shape))

    @classmethod
    def wrap(cls, array: np.ndarray) -> ScratchSum:
        """Sum into an existing zeroed float32 array (kept when closed)."""
        self = cls.__new__(cls)
        self.path, self.array = None, array
        return self

    def add(self, index: Sequence[slice], block: np.ndarray, scale: float) -> None:
        """``sum[index] += block * scale``."""
        key = (slice(None), *index)
        self.array[key] += block * np.float32(scale)

    def close(self) -> None:
        """Remove the temporary file."""
        self.array = None
        if self.path is not None:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
