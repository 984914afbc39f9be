"""Survey coordinates where the user reads the position: the status bar and a readout.

napari shows world coordinates; along the vertical axis those are stretched by the vertical
exaggeration (:meth:`~napari_seisseg.io.geometry.SurveyGeometry.napari_kwargs`).  Layers
carrying a survey geometry get a status line in true units with axis names
(``inline 122, crossline 885, 1200 ms: -3128``), and :func:`describe_point` gives the same
words for the viewer's current slice.
"""

from __future__ import annotations

import types
import weakref
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..io.geometry import DISPLAY_KEY, METADATA_KEY

_WATCHED: weakref.WeakSet = weakref.WeakSet()


def survey_words(metadata: dict[str, Any], world: Sequence[float]) -> list[str]:
    """``["inline 122", "1200 ms", "crossline 885"]`` for a world position of a layer.

    Parameters
    ----------
    metadata : dict
        The layer's metadata (its geometry and display settings, in the layer's axis order).
    world : sequence of float
        World position along the layer's axes.

    Returns
    -------
    list of str
        One entry per axis (empty when the metadata holds no survey geometry).
    """
    if not metadata or METADATA_KEY not in metadata:
        return []
    axes = list(metadata.get("axes") or [])
    display = metadata.get(DISPLAY_KEY) or {}
    per_world = display.get("vertical_per_world")
    out = []
    for name, w in zip(axes, world, strict=False):
        if name == "sample":
            unit = metadata.get("unit", "ms")
            domain = "time" if unit == "ms" else "depth"
            if per_world:
                out.append(f"{w * per_world:.4g} {unit}")
            else:  # index coordinates
                t0, dt = float(metadata.get("t0", 0.0)), float(metadata.get("dt", 1.0))
                out.append(f"{t0 + round(w) * dt:.4g} {unit}" if dt else f"{domain} {w:.0f}")
            continue
        label = metadata.get("trace_key", "trace") if name == "trace" else name
        if per_world:
            out.append(f"{label} {w:.0f}")
        else:
            values = metadata.get({"inline": "ilines", "crossline": "xlines"}.get(name, "traces"))
            i = int(round(w))
            if values is not None and 0 <= i < len(values):
                out.append(f"{label} {int(np.asarray(values)[i])}")
            else:
                out.append(f"{label} {w:.0f}")
    return out


def _get_status(self, position=None, *, view_direction=None, dims_displayed=None,
                world=False, value=None):
    status = type(self).get_status(self, position, view_direction=view_direction,
                                   dims_displayed=dims_displayed, world=world, value=value)
    if position is None or not world:
        return status
    words = survey_words(self.metadata, list(np.asarray(position, dtype=float))[-self.ndim:])
    if words:
        coords = ", ".join(words)
        status["coords"] = coords
        status["coordinates"] = f"{coords}: {status.get('value', '')}".rstrip(": ")
    return status


def survey_status(layer: Any) -> None:
    """Give ``layer`` a status line in survey coordinates, when it carries a geometry."""
    if METADATA_KEY in (getattr(layer, "metadata", None) or {}) and \
            "get_status" not in vars(layer):
        layer.get_status = types.MethodType(_get_status, layer)


def watch_viewer(viewer: Any = None) -> None:
    """Give every survey layer of ``viewer`` (now and later) the survey status line.

    ``viewer`` None: the current viewer, when there is one.  Calling it again is free.
    """
    if viewer is None:
        try:
            import napari

            viewer = napari.current_viewer()
        except Exception:  # noqa: BLE001 - no viewer (headless use of a reader)
            viewer = None
    if viewer is None or viewer in _WATCHED:
        return
    _WATCHED.add(viewer)
    for layer in viewer.layers:
        survey_status(layer)
    viewer.layers.events.inserted.connect(lambda event: survey_status(event.value))


def describe_point(viewer: Any) -> str:
    """The current slice in survey words (``inline 122``), from the top survey layer."""
    for layer in reversed(list(viewer.layers)):
        if METADATA_KEY not in (layer.metadata or {}):
            continue
        point = np.asarray(viewer.dims.point, dtype=float)[-layer.ndim:]
        words = survey_words(layer.metadata, point)
        shown = set(viewer.dims.displayed)
        offset = viewer.dims.ndim - layer.ndim
        return " · ".join(w for k, w in enumerate(words) if k + offset not in shown)
    return ""
