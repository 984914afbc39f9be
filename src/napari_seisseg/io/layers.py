"""napari layer-data tuples for volumes with geometry (plain data: no napari import here)."""

from __future__ import annotations

from typing import Any

import numpy as np

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
    **kwargs: Any,
) -> tuple[Any, dict[str, Any], str]:
    """A ``(data, kwargs, layer_type)`` tuple showing ``data`` in survey coordinates.

    ``data`` is in ``geometry.axes`` order; it is transposed (as a view) so the vertical
    axis is shown downwards, and the layer gets scale, translate, axis labels, units and
    the geometry in its metadata (``coordinates`` as in
    :meth:`~napari_seisseg.io.geometry.SurveyGeometry.napari_kwargs`).  Labels are read
    into memory as a writable copy, so they can be painted on (a read-only memory map or
    Zarr array cannot be); the file itself is not changed until it is saved.
    """
    kw: dict[str, Any] = {"name": name}
    if geometry is not None:
        data, display_geometry = geometry.transpose_to(data, geometry.display_axes)
        kw.update(display_geometry.napari_kwargs(coordinates))
    if layer_type == "labels":
        data = np.array(data)  # writable, in memory
    if layer_type == "image":
        kw["contrast_limits"] = list(robust_contrast(data))
        kw["colormap"] = "gray"
    kw.update(kwargs)
    return (data, kw, layer_type)


def is_labels_like(name: str, dtype: Any) -> bool:
    """True for integer arrays whose name says they hold labels or masks."""
    lowered = name.lower()
    words = ("label", "mask", "seg", "class", "annot", "truth")
    return np.dtype(dtype).kind in "iub" and any(w in lowered for w in words)
