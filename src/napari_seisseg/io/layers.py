"""napari layer-data tuples for volumes with geometry (plain data: no napari import here)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import SeisSegError
from .geometry import SurveyGeometry

#: Traces-or-slices sampled to set the display contrast.
_CONTRAST_SLICES = 8


def robust_contrast(data: Any, percentile: float = 99.0) -> tuple[float, float]:
    """Display range from robust percentiles of a few slices (never the whole cube).

    Data with both signs (seismic amplitudes) get a range symmetric around zero; data of
    one sign (velocities, probabilities) get the ``100 - percentile`` .. ``percentile`` range.
    """
    n0 = data.shape[0]
    idx = np.unique(np.linspace(0, n0 - 1, min(n0, _CONTRAST_SLICES)).astype(int))
    values = np.concatenate([np.asarray(data[int(i)], dtype=np.float64).ravel() for i in idx])
    values = values[np.isfinite(values)]
    nonzero = values[values != 0]
    if nonzero.size:
        values = nonzero
    if values.size == 0:
        return (-1.0, 1.0)
    lo, hi = np.percentile(values, [100 - percentile, percentile])
    if lo < 0 < hi and min(-lo, hi) > 0.05 * max(-lo, hi):
        m = float(max(-lo, hi))
        return (-m, m)
    if hi <= lo:
        hi = lo + 1.0
    return (float(lo), float(hi))


def volume_layer_data(
    data: Any,
    geometry: SurveyGeometry | None,
    name: str,
    layer_type: str = "image",
    coordinates: str = "survey",
    exaggeration: float | None = None,
    **kwargs: Any,
) -> tuple[Any, dict[str, Any], str]:
    """A ``(data, kwargs, layer_type)`` tuple showing ``data`` in survey coordinates.

    ``data`` is in ``geometry.axes`` order; it is transposed (as a view) so the vertical
    axis is shown downwards, and the layer gets scale, translate, axis labels, units and
    the geometry in its metadata (``coordinates`` as in
    :meth:`~napari_seisseg.io.geometry.SurveyGeometry.napari_kwargs`; ``exaggeration`` None:
    the automatic vertical exaggeration).  Labels are read
    into memory as a writable copy, so they can be painted on (a read-only memory map or
    Zarr array cannot be); the file itself is not changed until it is saved.
    """
    kw: dict[str, Any] = {"name": name}
    if geometry is not None:
        data, display_geometry = geometry.transpose_to(data, geometry.display_axes)
        kw.update(display_geometry.napari_kwargs(coordinates, exaggeration))
    if layer_type == "labels":
        data = as_label_array(data)  # writable, in memory, integers
    if layer_type == "image":
        kw["contrast_limits"] = list(robust_contrast(data))
        kw["colormap"] = "gray"
    kw.update(kwargs)
    return (data, kw, layer_type)


#: Traces sampled to tell class labels from amplitudes, and more when those are all zero.
_LABEL_SAMPLE_TRACES = 48
_LABEL_MORE_TRACES = 1024
#: At most this many distinct values, all whole numbers 0..:data:`_LABEL_MAX_VALUE`, make labels.
_LABEL_MAX_CLASSES = 32
_LABEL_MAX_VALUE = 255
_LABEL_WORDS = ("label", "mask", "segmentation", "class", "annot", "truth")


def _named_like_labels(name: str) -> bool:
    lowered = name.lower()
    return any(w in lowered for w in _LABEL_WORDS)


def looks_like_labels(data: Any, name: str = "") -> bool:
    """True when ``data`` holds class labels (a mask) rather than amplitudes.

    A few traces spread over the volume are read (never the whole cube). Labels hold only
    whole, non-negative numbers. Without a name that says labels (``label``, ``mask``,
    ``segmentation``, ``class``, ``annot``, ``truth``) they must also be at most 255, at most
    32 different values, and not all zero; when the first traces are all zero, up to 1024
    more are read, so that a few painted sections are found. This is how a mask exported as
    SEG-Y (float or integer samples, any name) opens as a paintable Labels layer, while
    amplitudes (which have negative values, fractions or many values) stay images.
    """
    dtype = np.dtype(data.dtype)
    if dtype.kind not in "iubf" or len(data.shape) < 2:
        return False
    named = _named_like_labels(name)
    values = _sample_traces(data, _LABEL_SAMPLE_TRACES)
    if values.size and not values.any() and not named:
        values = _sample_traces(data, _LABEL_MORE_TRACES, spread=False)
    if values.size == 0 or not np.isfinite(values).all() or values.min() < 0:
        return False
    if dtype.kind == "f" and not np.array_equal(values, np.round(values)):
        return False
    if named:
        return True
    return bool(values.any()) and values.max() <= _LABEL_MAX_VALUE and \
        np.unique(values).size <= _LABEL_MAX_CLASSES


def _sample_traces(data: Any, n: int, spread: bool = True) -> np.ndarray:
    """Up to ``n`` whole traces (last axis) of ``data``: evenly spread, or at random (seeded)."""
    grid = tuple(int(k) for k in data.shape[:-1])
    total = int(np.prod(grid))
    if total == 0:
        return np.zeros(0)
    if spread or total <= n:
        flat = np.unique(np.linspace(0, total - 1, min(total, n)).astype(np.int64))
    else:
        flat = np.sort(np.random.default_rng(0).choice(total, size=n, replace=False))
    traces = [np.asarray(data[tuple(int(i) for i in np.unravel_index(f, grid))], dtype=np.float64)
              for f in flat]
    return np.concatenate([t.ravel() for t in traces])


def as_label_array(data: Any) -> np.ndarray:
    """A writable integer copy of labels (uint8 when they fit, NaN read as 0)."""
    arr = np.array(data)  # the one copy; floats are converted in place, then cast once
    if arr.dtype.kind == "f":
        np.nan_to_num(arr, copy=False, nan=0.0, posinf=0.0, neginf=0.0)
        np.rint(arr, out=arr)
        top = float(arr.max()) if arr.size else 0.0
        arr = arr.astype(np.uint8 if 0 <= arr.min() and top < 256 else np.int32)
    return arr


def check_image_layer(layer: Any, missing: str, task: str) -> None:
    """Refuse a missing or multiscale image layer.

    Parameters
    ----------
    layer : napari layer or None
        The chosen layer (None when there is none).
    missing : str
        The message when ``layer`` is None.
    task : str
        What is done with the layer (``"predict"``), in the message of a multiscale one.

    Raises
    ------
    SeisSegError
        Saying what to do instead.
    """
    if layer is None:
        raise SeisSegError(missing)
    if getattr(layer, "multiscale", False):
        raise SeisSegError(f"'{layer.name}' is multiscale; {task} a single-scale layer.")
