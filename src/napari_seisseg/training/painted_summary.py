"""What is painted, in survey terms: the Train widget's line about the labels it trains on.

:meth:`~napari_seisseg.training.labels.LabelSummary.describe` names painted sections by
array index (``inline 2 (4, 17)``).  When the image carries a survey geometry,
:func:`describe_painted` names them as an interpreter does, by line number and by time or
depth (``inlines 115, 128; time slice 400 ms``); without one it is ``describe`` itself.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

__all__ = ["describe_painted", "MAX_LISTED"]

#: Painted sections listed per orientation (the count says how many there are in all).
MAX_LISTED = 8


def _number(value: float) -> str:
    """A line number or a time as written: no ".0" on whole numbers."""
    v = float(value)
    return str(int(v)) if v.is_integer() else f"{v:.6g}"


def _names(axis: str, geometry: Any) -> tuple[str, str, str]:
    """(singular, plural, unit suffix) of the sections across the named axis."""
    if axis == "sample":
        unit = getattr(geometry, "unit", "sample")
        if unit == "sample":
            return "slice at sample", "slices at samples", ""
        kind = "depth" if getattr(geometry, "domain", "time") == "depth" else "time"
        return f"{kind} slice", f"{kind} slices", f" {unit}"
    return axis, f"{axis}s", ""


def _axis_text(name: str, sections: np.ndarray, geometry: Any) -> str:
    """The painted sections across one axis, by coordinate (by index if it has none)."""
    n = len(sections)
    shown = sections[:MAX_LISTED]
    more = f", … ({n} in all)" if n > MAX_LISTED else ""
    try:
        values = np.asarray(geometry.axis_values(name))[shown] if geometry is not None else None
    except Exception:  # noqa: BLE001 - an axis the geometry does not know: indices
        values = None
    if values is None:
        listed = ", ".join(str(int(i)) for i in shown)
        return f"{name} {n} ({listed}{more})"
    singular, plural, unit = _names(name, geometry)
    listed = ", ".join(_number(v) for v in values)
    return f"{singular if n == 1 else plural} {listed}{more}{unit}"


def describe_painted(summary: Any, geometry: Any = None) -> str:
    """One paragraph on the labels: voxels per class, and the painted sections.

    Parameters
    ----------
    summary : LabelSummary
        What :func:`~napari_seisseg.training.check_inputs` found; its axes are named after
        the geometry's axes (``inline``, ``crossline``, ``sample``) when it had one.
    geometry : SurveyGeometry, optional
        The image's survey geometry: sections are then said by line number, and time or
        depth slices by time or depth.

    Returns
    -------
    str
        E.g. ``"40,192 labeled voxels in 3 classes (...); painted sections: inlines 116,
        132, 148; crosslines 321, 342."``
    """
    if geometry is None:
        return summary.describe()
    counts = replace(summary, axes=[]).describe().rstrip(".")
    painted = [_axis_text(a.name, np.asarray(a.sections), geometry)
               for a in summary.sections_listed()]
    parts = [counts, f"painted sections: {'; '.join(painted)}" if painted else ""]
    parts.append(summary.extent_text(lambda name: _names(name, geometry)[1]))  # dense labels
    return "; ".join(p for p in parts if p) + "."
