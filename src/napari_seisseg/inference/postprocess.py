"""From probabilities to a mask, an uncertainty map, and the slices most worth labelling next.

All functions take probabilities shaped ``(C, *spatial)`` as numpy, memmap, zarr or dask
arrays (float, or uint8 holding ``round(p * 255)``) and work block by block along the first
spatial axis, so they stay within memory for disk-backed outputs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import SeisSegError
from ..io.blocks import block_slices
from ._checks import check_dead_mask, mask_slices
from .outputs import from_stored

__all__ = ["probabilities_to_mask", "rank_slices", "slice_uncertainty", "uncertainty"]

_EPS = 1e-7


def _check_probs(probs: Any) -> tuple[int, tuple[int, ...]]:
    shape = tuple(int(n) for n in getattr(probs, "shape", ()))
    if len(shape) < 2:
        raise SeisSegError(
            f"Probabilities must be shaped (channels, *spatial); got shape {shape or None}."
        )
    return shape[0], shape[1:]


def _blocks(probs: Any, spatial: tuple[int, ...], n_channels: int):
    for s in block_slices(spatial, 4 * n_channels):
        yield s, from_stored(probs[:, s])


def probabilities_to_mask(
    probs: Any,
    *,
    threshold: float | None = None,
    dead_mask: Any = None,
    values: Sequence[int] | None = None,
) -> np.ndarray:
    """Class mask in the training convention: 1..K, 0 at dead voxels.

    Parameters
    ----------
    probs : array-like
        ``(C, *spatial)`` probabilities.
    threshold : float, optional
        For one channel (the probability of class 2): class 2 where ``p >= threshold``
        (default 0.5), else class 1.  For two channels: class 2 where ``p[1] >= threshold``.
        None with several channels: the most probable class (``argmax + 1``).
    dead_mask : array-like of bool, optional
        Dead voxels or traces (see :func:`~napari_seisseg.inference.window_driver.predict_volume`).
    values : sequence of int, optional
        Label value of each class (class ``k`` -> ``values[k]``, e.g. from a model card's
        ``classes``) instead of ``k + 1``.

    Returns
    -------
    numpy.ndarray
        uint8 (uint16 beyond 254 classes or values) mask shaped ``spatial``.
    """
    n_channels, spatial = _check_probs(probs)
    if threshold is not None:
        threshold = float(threshold)
        if not 0.0 <= threshold <= 1.0:
            raise SeisSegError(f"The threshold {threshold} must lie between 0 and 1.")
        if n_channels > 2:
            raise SeisSegError(
                f"A threshold applies to one or two channels; these probabilities have "
                f"{n_channels}. Leave it out to take the most probable class."
            )
    elif n_channels == 1:
        threshold = 0.5
    dead = check_dead_mask(dead_mask, spatial)
    n_classes = max(n_channels, 2) if threshold is not None else n_channels
    lut = None
    if values is not None:
        lut = np.asarray([0, *values])
        if len(lut) != n_classes + 1 or lut.min() < 0 or lut.max() > 65535:
            raise SeisSegError(
                f"Give one label value (0..65535) per class: {n_classes} classes, got {list(values)}."
            )
    big = n_channels >= 255 or (lut is not None and lut.max() > 255)
    mask = np.zeros(spatial, dtype=np.uint16 if big else np.uint8)
    for s, p in _blocks(probs, spatial, n_channels):
        if threshold is not None:
            m = np.where(p[-1] >= threshold, 2, 1)
        else:
            m = np.argmax(p, axis=0) + 1
        if lut is not None:
            m = lut[m]
        if dead is not None:
            m = np.where(mask_slices(dead, (s,) + (slice(None),) * (len(spatial) - 1)), 0, m)
        mask[s] = m
    return mask


def uncertainty(probs: Any, *, dead_mask: Any = None, dtype: str = "float32") -> np.ndarray:
    """Normalised entropy of the class probabilities: 0 (certain) .. 1 (uniform).

    One channel is the binary case ``(1 - p, p)``.  Probabilities are renormalised to sum
    to 1 per voxel (after quantisation they may not), and dead voxels get 0.

    Parameters
    ----------
    probs : array-like
        ``(C, *spatial)`` probabilities.
    dead_mask : array-like of bool, optional
        Dead voxels or traces.
    dtype : str
        Output dtype (float32 or float16).

    Returns
    -------
    numpy.ndarray
        Uncertainty shaped ``spatial``.
    """
    n_channels, spatial = _check_probs(probs)
    dead = check_dead_mask(dead_mask, spatial)
    out = np.zeros(spatial, dtype=np.dtype(dtype))
    norm = np.log(max(n_channels, 2))
    for s, p in _blocks(probs, spatial, n_channels):
        if n_channels == 1:
            p = np.concatenate([1.0 - p, p])
        p = np.clip(p, 0.0, 1.0)
        p = p / np.maximum(p.sum(axis=0, keepdims=True), _EPS)
        h = -(p * np.log(np.maximum(p, _EPS))).sum(axis=0) / norm
        h = np.clip(h, 0.0, 1.0)
        if dead is not None:
            h = np.where(mask_slices(dead, (s,) + (slice(None),) * (len(spatial) - 1)), 0.0, h)
        out[s] = h
    return out


def slice_uncertainty(unc: Any, axis: int = 0, *, dead_mask: Any = None) -> np.ndarray:
    """Mean uncertainty of every slice along ``axis`` over its live voxels (NaN if all dead)."""
    shape = tuple(int(n) for n in getattr(unc, "shape", ()))
    if not shape:
        raise SeisSegError("The uncertainty must be an array.")
    if not isinstance(axis, int | np.integer) or not -len(shape) <= axis < len(shape):
        raise SeisSegError(f"axis {axis!r} is not an axis of the {len(shape)}D uncertainty.")
    axis = int(axis) % len(shape)
    dead = check_dead_mask(dead_mask, shape)
    sums = np.zeros(shape[axis])
    counts = np.zeros(shape[axis])
    for s in block_slices(shape, 4):
        u = np.asarray(unc[s], dtype=np.float64)
        live = np.ones(u.shape, dtype=bool)
        if dead is not None:
            live = np.broadcast_to(~mask_slices(dead, (s,) + (slice(None),) * (len(shape) - 1)), u.shape)
        other = tuple(k for k in range(len(shape)) if k != axis)
        part_sum = np.where(live, u, 0.0).sum(axis=other)
        part_count = live.sum(axis=other)
        if axis == 0:
            sums[s] += part_sum
            counts[s] += part_count
        else:
            sums += part_sum
            counts += part_count
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


def rank_slices(
    unc: Any, axis: int = 0, n: int = 5, *, dead_mask: Any = None, min_gap: int = 0
) -> np.ndarray:
    """Indices of the ``n`` slices along ``axis`` with the highest mean uncertainty.

    "Where to label next": slices whose live voxels the model is least sure of come first.

    Parameters
    ----------
    unc : array-like
        Uncertainty (from :func:`uncertainty`), shaped like the volume.
    axis : int
        Slicing axis (0: inlines, 1: crosslines, 2: time slices in canonical order).
    n : int
        How many slices.
    dead_mask : array-like of bool, optional
        Dead voxels or traces, left out of the means (slices entirely dead are never ranked).
    min_gap : int
        Keep chosen slices more than ``min_gap`` apart (neighbouring slices teach little new).

    Returns
    -------
    numpy.ndarray
        Slice indices, most uncertain first (fewer than ``n`` when not enough qualify).
    """
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise SeisSegError(f"n must be a positive number of slices, got {n!r}.")
    scores = slice_uncertainty(unc, axis, dead_mask=dead_mask)
    order = [int(i) for i in np.argsort(-np.nan_to_num(scores, nan=-np.inf), kind="stable")]
    chosen: list[int] = []
    for i in order:
        if np.isnan(scores[i]) or len(chosen) >= n:
            break
        if all(abs(i - j) > min_gap for j in chosen):
            chosen.append(i)
    return np.asarray(chosen, dtype=np.int64)
