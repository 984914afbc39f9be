"""Blending weights and the float32 accumulator that stitches overlapping windows.

Each window's prediction ``p`` is multiplied by a weight map ``w`` that is largest in the
window's centre; the stitched value is ``sum(w * p) / sum(w)`` over the windows covering a
voxel.  The accumulator keeps these two sums for a *slab* of rows (along the first plan axis)
only: once no remaining window reaches a row, the row is normalised, handed on, and the
buffer moves on, so memory never grows with the size of the volume along that axis.
The weights are separable and the windows a grid, so ``sum(w)`` is an outer product of
per-axis sums and takes no buffer at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np

__all__ = ["Accumulator", "axis_denominator", "axis_profile", "blend_weights"]

#: Smallest weight relative to the window centre, so a voxel that only one window reaches
#: (at the border of the volume) is never weighted by zero.
WEIGHT_FLOOR = 1e-3


def _axis_weights(n: int, mode: str, sigma_scale: float) -> np.ndarray:
    x = np.arange(n, dtype=np.float64)
    if n == 1 or mode == "constant":
        return np.ones(n)
    if mode == "gaussian":
        sigma = max(n * sigma_scale, 1e-6)
        return np.exp(-0.5 * ((x - (n - 1) / 2.0) / sigma) ** 2)
    # linear: a tent that is 1 in the centre and positive at both ends
    return np.minimum(x + 1, n - x) / np.ceil(n / 2.0)


@lru_cache(maxsize=64)
def axis_profile(n: int, mode: str, sigma_scale: float = 0.125, floor: float = WEIGHT_FLOOR) -> np.ndarray:
    """Weights along one axis of a window (read-only float32, maximum 1, at least ``floor``)."""
    w = _axis_weights(int(n), mode, float(sigma_scale))
    w = np.maximum(w / w.max(), floor).astype(np.float32)
    w.setflags(write=False)
    return w


@lru_cache(maxsize=16)
def _weights(window: tuple[int, ...], mode: str, sigma_scale: float, floor: float) -> np.ndarray:
    w = np.ones((1,) * len(window), dtype=np.float32)
    for axis, n in enumerate(window):
        shape = [1] * len(window)
        shape[axis] = n
        w = w * axis_profile(n, mode, sigma_scale, floor).reshape(shape)
    w.setflags(write=False)
    return w


def blend_weights(
    window: Sequence[int],
    mode: str = "gaussian",
    *,
    sigma_scale: float = 0.125,
    floor: float = WEIGHT_FLOOR,
) -> np.ndarray:
    """Weight map of one window (read-only float32, maximum 1).

    The map is separable: the product of one profile per axis (:func:`axis_profile`), so the
    sum of the weights of a grid of windows is a product of per-axis sums too
    (:func:`axis_denominator`) and never needs a buffer of its own.

    Parameters
    ----------
    window : sequence of int
        Window size per axis.
    mode : {"gaussian", "linear", "constant"}
        Gaussian: ``sigma = sigma_scale * size`` per axis (1/8, as nnU-Net and MONAI).
        Linear: a tent.  Constant: plain averaging (seams show where windows disagree).
    sigma_scale : float
        Gaussian width as a fraction of the window.
    floor : float
        Smallest weight of a profile, relative to its centre (so a voxel that only one
        window reaches, at the border of the volume, is never weighted by zero).

    Returns
    -------
    numpy.ndarray
        Weights shaped ``window``.
    """
    return _weights(tuple(int(n) for n in window), mode, float(sigma_scale), float(floor))


def axis_denominator(n: int, starts: Sequence[int], profile: np.ndarray) -> np.ndarray:
    """Sum of the profiles of windows at ``starts`` along an axis of length ``n`` (float32)."""
    den = np.zeros(n, dtype=np.float64)
    w = len(profile)
    for s in starts:
        a, b = max(s, 0), min(s + w, n)
        den[a:b] += profile[a - s : b - s]
    return den.astype(np.float32)


class Accumulator:
    """Weighted sums of window predictions over a moving slab of a region.

    Parameters
    ----------
    n_channels : int
        Channels of the predictions.
    region : sequence of (lo, hi)
        The part of the volume (plan coordinates) whose result is wanted; contributions
        outside it are dropped.
    capacity : int
        Rows (along axis 0) the buffer holds at once.
    denominators : sequence of numpy.ndarray
        Per axis, the sum of the window weights over the region (:func:`axis_denominator`
        restricted to ``region``); their outer product divides the sums.

    Notes
    -----
    Memory: ``n_channels * capacity * prod(region sizes along axes 1..) * 4`` bytes.
    """

    def __init__(
        self,
        n_channels: int,
        region: Sequence[tuple[int, int]],
        capacity: int,
        denominators: Sequence[np.ndarray],
    ):
        self.region = tuple((int(lo), int(hi)) for lo, hi in region)
        self.base = self.region[0][0]
        self.capacity = int(capacity)
        rest = tuple(hi - lo for lo, hi in self.region[1:])
        self.values = np.zeros((n_channels, self.capacity, *rest), dtype=np.float32)
        ndim = len(self.region)
        self.inverse = []
        for axis, den in enumerate(denominators):
            inv = np.zeros_like(den)
            np.divide(1.0, den, out=inv, where=den > 0)
            shape = [1] * ndim
            shape[axis] = len(den)
            self.inverse.append(inv.reshape(shape))

    def add(self, start: Sequence[int], pred: np.ndarray, weights: np.ndarray) -> None:
        """Add ``weights * pred`` of the window at ``start`` (``pred`` is changed in place)."""
        src: list[slice] = []
        dst: list[slice] = []
        for axis, (s, w) in enumerate(zip(start, weights.shape, strict=True)):
            lo, hi = self.region[axis]
            a, b = max(s, lo), min(s + w, hi)
            if a >= b:
                return
            src.append(slice(a - s, b - s))
            origin = self.base if axis == 0 else lo
            dst.append(slice(a - origin, b - origin))
        if dst[0].stop > self.capacity or dst[0].start < 0:
            raise RuntimeError("window outside the accumulator's slab (planning error)")
        p = pred[(slice(None), *src)]
        p *= weights[tuple(src)]
        self.values[(slice(None), *dst)] += p

    def pop(self, upto: int) -> tuple[int, np.ndarray]:
        """Normalise rows ``[base, upto)``, drop them from the buffer and return them.

        Returns
        -------
        start : int
            First row returned (the old base).
        block : numpy.ndarray
            ``sum(w * p) / sum(w)`` shaped ``(n_channels, upto - start, *rest)``; zero where
            no window contributed.
        """
        start, k = self.base, upto - self.base
        if not 0 <= k <= self.capacity:
            raise RuntimeError("rows outside the accumulator's slab (planning error)")
        block = self.values[:, :k].copy()
        r0 = start - self.region[0][0]
        block *= self.inverse[0][r0 : r0 + k]
        for inv in self.inverse[1:]:
            block *= inv
        keep = self.capacity - k
        if keep > 0:
            self.values[:, :keep] = self.values[:, k:]  # numpy copies overlapping ranges safely
        self.values[:, max(keep, 0) :] = 0
        self.base = upto
        return start, block
