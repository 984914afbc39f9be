"""Names and coordinates of a layer's axes, from the survey geometry in its metadata.

What the widgets show for an axis (``inline``, ``time``, a trace key, else the layer's own
axis label), which axis holds inlines, the coordinate of every index along an axis (line
numbers, times) and the name of a part of a volume (``inline 117``).  A layer is anything
with ``metadata`` and ``ndim`` (``axis_labels`` and ``data`` where used): no napari import.
"""

from __future__ import annotations

from typing import Any

from .geometry import SurveyGeometry

__all__ = [
    "axis_coordinates",
    "axis_label",
    "axis_word",
    "inline_axis",
    "layer_geometry",
    "region_text",
    "survey_geometry",
]


def survey_geometry(layer: Any) -> SurveyGeometry | None:
    """The survey geometry in ``layer``'s metadata (None for no layer or no geometry)."""
    return None if layer is None else SurveyGeometry.from_metadata(layer.metadata)


def layer_geometry(layer: Any) -> SurveyGeometry | None:
    """The survey geometry in a layer's metadata, when it describes the layer's axes."""
    geometry = survey_geometry(layer)
    if geometry is not None and len(geometry.axes) != layer.ndim:
        geometry = None
    return geometry


def axis_word(geometry: SurveyGeometry, name: str) -> str:
    """What an interpreter calls a geometry axis: ``time`` or ``depth`` for the samples (as
    the geometry's domain says), the trace key for the traces of a 2D line, else its name."""
    if name == "sample":
        return geometry.sample_label.split(" ")[0]
    return geometry.trace_key if name == "trace" else name


def axis_label(layer: Any, axis: int) -> str:
    """Name of an axis: from the geometry (inline, time...), else the layer's axis label."""
    g = layer_geometry(layer)
    if g is not None:
        return axis_word(g, g.axes[axis])
    labels = tuple(getattr(layer, "axis_labels", ()) or ())
    text = str(labels[axis]) if axis < len(labels) else f"axis {axis}"
    return text if text and not text.lstrip("-").isdigit() else f"axis {axis}"


def inline_axis(layer: Any) -> int:
    """The axis holding inlines (0 when the geometry does not say)."""
    g = layer_geometry(layer)
    if g is not None and "inline" in g.axes:
        return g.axes.index("inline")
    return 0


def axis_coordinates(layer: Any, axis: int) -> list:
    """Coordinate of every index along ``axis`` of ``layer`` (line numbers, times)."""
    g = layer_geometry(layer)
    if g is not None:
        values = g.axis_values(g.axes[axis])
        return [int(v) if float(v).is_integer() else float(v) for v in values]
    return list(range(layer.data.shape[axis]))


def region_text(layer: Any, region: tuple) -> str | None:
    """The part of ``layer`` a region covers (``inline 117``); None for all of it."""
    g = survey_geometry(layer)
    parts = []
    for k, s in enumerate(region):
        if s != slice(None):
            value = g.axis_values(g.axes[k])[s.start] if g is not None else s.start
            parts.append(f"{axis_label(layer, k)} {value:g}")
    return ", ".join(parts) or None
