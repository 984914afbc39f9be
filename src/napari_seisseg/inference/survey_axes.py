"""Axes of a survey for prediction: names of orientations, training order, dead traces.

A volume with a :class:`~napari_seisseg.io.geometry.SurveyGeometry` may come in any order
its geometry names; models were trained in the canonical order (:func:`canonical_order`).
These helpers check that a geometry fits the data, turn orientation names into axes, and
give the dead-trace mask and the geometry of a slice in the data's own order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from ..errors import SeisSegError
from ..io.geometry import CUBE_AXES, SECTION_AXES, SurveyGeometry

__all__ = [
    "AXIS_ALIASES",
    "canonical_order",
    "dead_mask_from_geometry",
    "fitting_geometry",
    "resolve_orientations",
    "subset_geometry",
]

#: Names accepted for orientations, mapped to geometry axis names.
AXIS_ALIASES = {
    "inline": "inline", "il": "inline", "iline": "inline",
    "crossline": "crossline", "xl": "crossline", "xline": "crossline",
    "time": "sample", "depth": "sample", "sample": "sample", "samples": "sample",
    "timeslice": "sample", "trace": "trace",
}


def canonical_order(geometry: SurveyGeometry) -> tuple[str, ...]:
    """The axis order training uses: ``(inline, crossline, sample)`` or ``(trace, sample)``."""
    return CUBE_AXES if geometry.kind == "cube" else SECTION_AXES


def fitting_geometry(geometry: SurveyGeometry | None, shape: tuple[int, ...]) -> SurveyGeometry | None:
    """``geometry`` when it describes data of ``shape``; a SeisSegError saying so otherwise."""
    if geometry is None:
        return None
    if not isinstance(geometry, SurveyGeometry):
        raise SeisSegError(f"geometry must be a SurveyGeometry, got {type(geometry).__name__}.")
    if len(geometry.axes) != len(shape) or geometry.shape != tuple(shape):
        raise SeisSegError(
            f"The image has shape {tuple(shape)} but its survey geometry describes "
            f"{geometry.shape} ({', '.join(geometry.axes)}). Predict the image the geometry "
            "belongs to, or drop the geometry."
        )
    return geometry


def dead_mask_from_geometry(geometry: SurveyGeometry | None, shape: Sequence[int]) -> np.ndarray | None:
    """Dead traces of a geometry as a mask broadcastable to ``shape`` (the geometry's order).

    Parameters
    ----------
    geometry : SurveyGeometry or None
        Its ``live`` mask marks traces present in the file; ``axes`` names the data's order.
    shape : sequence of int
        Shape of the data the geometry describes.

    Returns
    -------
    numpy.ndarray or None
        Boolean, True at dead traces, with length 1 along the sample axis; None when every
        trace is live (or there is no geometry).
    """
    if geometry is None or geometry.live is None or bool(np.all(geometry.live)):
        return None
    canonical = canonical_order(geometry)
    grid_axes = [a for a in canonical if a != "sample"]
    dead = ~np.asarray(geometry.live, dtype=bool)  # grid in canonical order
    order = [a for a in geometry.axes if a != "sample"]
    dead = dead.transpose([grid_axes.index(a) for a in order])
    return np.expand_dims(dead, geometry.axes.index("sample")).reshape(
        tuple(1 if a == "sample" else int(n) for a, n in zip(geometry.axes, shape, strict=True))
    )


def resolve_orientations(
    orientations: Any, geometry: SurveyGeometry | None, ndim: int
) -> tuple[int, ...] | None:
    """Section orientations as axes of the input (names need a geometry), or None for the default.

    Accepts ints (axes of the input array), names (``inline``, ``crossline``, ``time`` /
    ``depth`` / ``sample``, ``trace``) or a comma-separated string of either.
    """
    if orientations is None:
        return None
    if isinstance(orientations, str):
        orientations = [o.strip() for o in orientations.split(",") if o.strip()]
    elif isinstance(orientations, int | np.integer):
        orientations = [orientations]
    out: list[int] = []
    for o in orientations:
        if isinstance(o, str) and o.lstrip("-").isdigit():
            o = int(o)
        if isinstance(o, int | np.integer) and not isinstance(o, bool):
            if not -ndim <= int(o) < ndim:
                raise SeisSegError(f"Orientation axis {o} is not an axis of the {ndim}D image.")
            out.append(int(o) % ndim)
            continue
        name = AXIS_ALIASES.get(str(o).lower())
        if name is None:
            raise SeisSegError(
                f"Unknown orientation {o!r}: use inline, crossline, time (or depth), or axis "
                "numbers 0, 1, 2."
            )
        if geometry is None:
            raise SeisSegError(
                f"The image has no survey geometry, so {o!r} names no axis; give axis numbers "
                "(0, 1, 2) instead."
            )
        if name not in geometry.axes:
            raise SeisSegError(f"This {geometry.kind} has no {o} axis (axes: {', '.join(geometry.axes)}).")
        out.append(geometry.axes.index(name))
    if not out:
        raise SeisSegError("Give at least one orientation (e.g. inline).")
    if len(set(out)) != len(out):
        raise SeisSegError(f"Orientations repeat an axis: {orientations!r}.")
    return tuple(out)


def subset_geometry(geometry: SurveyGeometry, region: tuple[slice, ...]) -> SurveyGeometry:
    """The geometry of ``data[region]`` (one slice along one axis)."""
    kw: dict[str, Any] = {}
    live = geometry.live
    canonical = canonical_order(geometry)
    grid_axes = [a for a in canonical if a != "sample"]
    for name, s in zip(geometry.axes, region, strict=True):
        if s == slice(None):
            continue
        if name == "sample":
            kw["t0"] = float(geometry.samples[s][0])
            kw["n_samples"] = len(geometry.samples[s])
            continue
        key: list[Any] = [slice(None)] * live.ndim
        key[grid_axes.index(name)] = s
        live = live[tuple(key)]
        attr = {"inline": "ilines", "crossline": "xlines", "trace": "traces"}[name]
        kw[attr] = getattr(geometry, attr)[s]
    return replace(geometry, live=live, **kw)
