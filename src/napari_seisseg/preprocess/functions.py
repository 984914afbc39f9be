"""Pure numpy building blocks of amplitude preprocessing.

Every function works on arrays of any dimension and takes the index of the time (trace)
axis where it matters, so the same code conditions a whole cube, a block of inlines, a
napari slice in display order ``(inline, sample, crossline)`` or a 2D section.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import SeisSegError

#: uint8 code of the lowest and highest encoded value; code 0 is never produced.
CODE_MIN, CODE_MAX = 1, 255
#: Code of the middle of the encoded range (zero amplitude when the range is symmetric).
CODE_MID = 128
_HALF_CODES = (CODE_MAX - CODE_MIN) / 2.0  # 127 codes on either side of the middle


def clean_traces(
    chunk: Any, axis: int = -1, dtype: Any = np.float32
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Copy ``chunk`` as float, zero its NaN/inf samples and find its dead traces.

    Parameters
    ----------
    chunk : array-like
        Amplitudes; any dimension, any numeric dtype (read with ``np.asarray``).
    axis : int
        Time (trace) axis.
    dtype : dtype
        Floating dtype of the working copy (float32 keeps memory at the input's size).

    Returns
    -------
    x : numpy.ndarray
        A new float array, non-finite samples set to 0.
    dead : numpy.ndarray of bool
        Per trace (``chunk.shape`` without ``axis``): True where every sample is zero or
        non-finite.
    bad : numpy.ndarray of bool or None
        Where the samples were NaN or inf (same shape as ``chunk``), or None when none were.
    """
    x = np.array(np.asarray(chunk), dtype=dtype, copy=True)
    bad = None
    if x.dtype.kind == "f":
        finite = np.isfinite(x)
        if not finite.all():
            bad = np.logical_not(finite, out=finite)
            x[bad] = 0
    dead = ~np.any(x != 0, axis=axis)
    return x, dead, bad


def zero_traces(x: np.ndarray, dead: np.ndarray, axis: int = -1, value: float = 0) -> np.ndarray:
    """Set every sample of the traces flagged in ``dead`` to ``value`` (in place) and return ``x``."""
    if dead.any():
        np.copyto(x, np.asarray(value, dtype=x.dtype), where=np.expand_dims(dead, axis))
    return x


def signed_log1p(x: Any) -> np.ndarray:
    """``sign(x) * log1p(|x|)``: compresses large amplitudes, keeps sign and zero.

    Returns a new array of ``x``'s floating dtype (float64 for integer input).
    """
    x = np.asarray(x)
    if x.dtype.kind != "f":
        x = x.astype(np.float64)
    y = np.log1p(np.abs(x))
    return np.copysign(y, x, out=y)


def signed_expm1(y: Any) -> np.ndarray:
    """Inverse of :func:`signed_log1p`: ``sign(y) * expm1(|y|)``."""
    y = np.asarray(y)
    if y.dtype.kind != "f":
        y = y.astype(np.float64)
    x = np.expm1(np.abs(y))
    return np.copysign(x, y, out=x)


def _check_range(lo: float, hi: float) -> tuple[float, float]:
    lo, hi = float(lo), float(hi)
    if not (np.isfinite(lo) and np.isfinite(hi)) or hi <= lo:
        raise SeisSegError(
            f"The log-uint8 range [{lo:g}, {hi:g}] is empty or not finite. Fit the step on data "
            "that is not constant, or widen its percentiles."
        )
    return lo, hi


def log_uint8_encode(x: Any, lo: float, hi: float) -> np.ndarray:
    """Encode amplitudes as uint8: ``signed_log1p`` then ``[lo, hi]`` mapped linearly onto 1..255.

    The middle of ``[lo, hi]`` maps to code 128 exactly, so a symmetric range (``lo == -hi``)
    maps zero amplitude to 128.  Values outside the range saturate at 1 or 255; code 0 is
    never produced (it is free to mean "no data").

    Parameters
    ----------
    x : array-like
        Amplitudes (finite).
    lo, hi : float
        Range in the ``signed_log1p`` domain (e.g. robust percentiles of ``signed_log1p(x)``).

    Returns
    -------
    numpy.ndarray of uint8
    """
    lo, hi = _check_range(lo, hi)
    mid, half = (lo + hi) / 2.0, (hi - lo) / 2.0
    y = signed_log1p(x)
    y -= y.dtype.type(mid)
    y *= y.dtype.type(_HALF_CODES / half)
    np.rint(y, out=y)
    y += CODE_MID
    np.clip(y, CODE_MIN, CODE_MAX, out=y)
    return y.astype(np.uint8)


def log_uint8_decode(codes: Any, lo: float, hi: float, dtype: Any = np.float32) -> np.ndarray:
    """Inverse of :func:`log_uint8_encode` (exact up to the quantisation step).

    For amplitudes inside the range, ``|signed_log1p(decoded) - signed_log1p(x)|`` is at most
    ``(hi - lo) / 508`` (half a code), so ``|decoded - x| <= (1 + |x|) * expm1((hi - lo) / 508)``.
    Code 0 decodes like code 1.
    """
    lo, hi = _check_range(lo, hi)
    mid, half = (lo + hi) / 2.0, (hi - lo) / 2.0
    c = np.asarray(codes).astype(np.float64)
    np.clip(c, CODE_MIN, CODE_MAX, out=c)
    y = (c - CODE_MID) * (half / _HALF_CODES) + mid
    return signed_expm1(y).astype(dtype, copy=False)


def log_uint8_zero_code(lo: float, hi: float) -> int:
    """The code that zero amplitude encodes to (128 for a symmetric range)."""
    return int(log_uint8_encode(np.zeros(1, dtype=np.float32), lo, hi)[0])


def agc(x: Any, window: int, axis: int = -1) -> np.ndarray:
    """Automatic gain control: divide each sample by the RMS of a window centred on it.

    The window holds ``window`` samples, ``[t - window // 2, t - window // 2 + window)``,
    truncated at the ends of the trace (the RMS is taken over the samples inside the trace).
    Where the window holds only zeros the output is 0.  Sums run in float64.

    Parameters
    ----------
    x : array-like
        Amplitudes.
    window : int
        Window length in samples (at least 1).  A window longer than the array's time axis
        is truncated like any window at the ends: this lets a time range be processed with
        just the margin it needs.  :class:`~napari_seisseg.preprocess.steps.AGC` refuses
        windows longer than the trace.
    axis : int
        Time axis.

    Returns
    -------
    numpy.ndarray
        Same shape; float dtype of ``x`` (float32 for integer input).
    """
    x = np.asarray(x)
    if x.dtype.kind != "f":
        x = x.astype(np.float32)
    axis = axis % x.ndim
    ns = x.shape[axis]
    w = int(window)
    if w < 1:
        raise SeisSegError(f"The AGC window must hold at least 1 sample, not {w}.")
    xm = np.moveaxis(x, axis, -1)
    csum = np.empty((*xm.shape[:-1], ns + 1), dtype=np.float64)
    csum[..., 0] = 0.0
    body = csum[..., 1:]
    np.square(xm, out=body, dtype=np.float64)
    np.add.accumulate(body, axis=-1, out=body)
    t = np.arange(ns)
    lo = np.clip(t - w // 2, 0, ns)
    hi = np.clip(t - w // 2 + w, 0, ns)
    energy = np.take(csum, hi, axis=-1)
    energy -= np.take(csum, lo, axis=-1)
    del csum, body
    energy /= hi - lo
    np.maximum(energy, 0.0, out=energy)
    np.sqrt(energy, out=energy)
    out = np.zeros(xm.shape, dtype=x.dtype)
    np.divide(xm, energy, out=out, where=energy > 0, casting="same_kind")
    return np.moveaxis(out, -1, axis)
