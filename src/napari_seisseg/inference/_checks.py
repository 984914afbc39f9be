"""Validation of user-facing arguments: every problem becomes a clear :class:`SeisSegError`."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import SeisSegError
from ..jobs import StopLike

#: Largest window (in voxels) a single prediction may use: 512**3, about 0.5 GB of float32.
MAX_WINDOW_VOXELS = 512**3

BLEND_MODES = ("gaussian", "linear", "constant")
OUT_DTYPES = ("float32", "float16", "uint8")


def check_shape(volume: Any, ndims: Sequence[int] | None = None, what: str = "volume") -> tuple[int, ...]:
    """Return the shape of an array-like, or raise when it is not a non-empty numeric array."""
    shape = getattr(volume, "shape", None)
    if shape is None or not hasattr(volume, "__getitem__"):
        raise SeisSegError(
            f"The {what} must be an array (numpy, memmap, dask, zarr or lazy SEG-Y), "
            f"got {type(volume).__name__}."
        )
    shape = tuple(int(n) for n in shape)
    if ndims is not None and len(shape) not in ndims:
        want = " or ".join(f"{d}D" for d in ndims)
        raise SeisSegError(f"The {what} is {len(shape)}D (shape {shape}); expected {want}.")
    if any(n < 1 for n in shape):
        raise SeisSegError(f"The {what} is empty (shape {shape}).")
    dtype = getattr(volume, "dtype", None)
    if dtype is not None and not (
        np.issubdtype(np.dtype(dtype), np.number) or np.dtype(dtype) == np.bool_
    ):
        raise SeisSegError(f"The {what} has dtype {dtype}; expected numbers.")
    return shape


def check_window(window: Any, ndim: int, name: str = "window") -> tuple[int, ...]:
    """Return ``window`` as a tuple of ``ndim`` positive ints (an int applies to every axis)."""
    if isinstance(window, int | np.integer):
        window = (int(window),) * ndim
    try:
        win = tuple(int(w) for w in window)
        if any(float(w) != int(w) for w in window):
            raise ValueError
    except (TypeError, ValueError):
        raise SeisSegError(f"The {name} must be integers, got {window!r}.") from None
    if len(win) != ndim:
        raise SeisSegError(
            f"The {name} {win} has {len(win)} axes but the data has {ndim}: give one size per "
            f"axis (a {ndim}D {name})."
        )
    if any(w < 1 for w in win):
        raise SeisSegError(f"The {name} {win} must be at least 1 along every axis.")
    if math.prod(win) > MAX_WINDOW_VOXELS:
        raise SeisSegError(
            f"The {name} {win} holds {math.prod(win):,} voxels, more than the {MAX_WINDOW_VOXELS:,} "
            "allowed. Use a smaller window (e.g. 128 per axis); windows overlap and are blended, "
            "so a small window loses nothing."
        )
    return win


def check_overlap(overlap: Any, ndim: int) -> tuple[float, ...]:
    """Return the overlap fraction per axis, each in ``[0, 1)``."""
    values = overlap if isinstance(overlap, Sequence) and not isinstance(overlap, str) else [overlap] * ndim
    try:
        out = tuple(float(v) for v in values)
    except (TypeError, ValueError):
        raise SeisSegError(f"The overlap must be a fraction between 0 and 1, got {overlap!r}.") from None
    if len(out) != ndim:
        raise SeisSegError(f"Give one overlap per axis ({ndim}), or one number; got {overlap!r}.")
    if any(not (0.0 <= v < 1.0) for v in out):  # also rejects NaN
        raise SeisSegError(
            f"The overlap {overlap!r} is not a fraction in [0, 1): 0 means windows only touch, "
            "0.5 (the default) that each half-overlaps its neighbour."
        )
    return out


def check_choice(value: Any, choices: Sequence[str], name: str) -> str:
    """Return ``value`` when it is one of ``choices``."""
    if value not in choices:
        raise SeisSegError(f"Unknown {name} {value!r}; choose one of {', '.join(choices)}.")
    return value


def check_positive_int(value: Any, name: str) -> int:
    """Return ``value`` as an int >= 1."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise SeisSegError(f"The {name} must be a positive integer, got {value!r}.")
    return int(value)


def check_dead_mask(dead_mask: Any, shape: tuple[int, ...]) -> np.ndarray | None:
    """Return a boolean mask that broadcasts to ``shape`` (True = dead), with ``len(shape)`` axes.

    Accepted: a mask of the volume's shape, a trace mask of ``shape[:-1]`` (samples on the
    last axis, the canonical order), or any mask that broadcasts to ``shape``.
    """
    if dead_mask is None:
        return None
    mask = np.asarray(dead_mask).astype(bool, copy=False)
    if mask.shape == tuple(shape[:-1]) and mask.shape != tuple(shape):
        mask = mask[..., None]
    try:
        fits = mask.ndim <= len(shape) and np.broadcast_shapes(mask.shape, shape) == tuple(shape)
    except ValueError:
        fits = False
    if not fits:
        raise SeisSegError(
            f"The dead-trace mask has shape {mask.shape}, which does not fit the volume {shape}: "
            f"give a mask of shape {shape} or {shape[:-1]} (one value per trace)."
        )
    return mask.reshape((1,) * (len(shape) - mask.ndim) + mask.shape)


def mask_slices(mask: np.ndarray, index: Sequence[slice]) -> np.ndarray:
    """Slice a broadcastable mask (axes of length 1 stay whole)."""
    return mask[tuple(slice(None) if n == 1 else s for n, s in zip(mask.shape, index, strict=True))]


def check_stop(stop: Any) -> StopLike:
    """Return ``stop`` when it is None, an Event or a callable."""
    if stop is None or hasattr(stop, "is_set") or callable(stop):
        return stop
    raise SeisSegError(f"stop must be a callable or a threading.Event, got {type(stop).__name__}.")


def check_out_dtype(dtype: Any) -> np.dtype:
    """Return the output dtype when it is float32, float16 or uint8."""
    try:
        dt = np.dtype(dtype)
    except TypeError:
        dt = None
    if dt is None or dt.name not in OUT_DTYPES:
        raise SeisSegError(f"Unknown output dtype {dtype!r}; choose one of {', '.join(OUT_DTYPES)}.")
    return dt
