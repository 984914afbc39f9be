"""Survey coordinates where the user reads the position, and one exaggeration per viewer.

napari shows world coordinates; along the vertical axis those are stretched by the vertical
exaggeration (:meth:`~napari_seisseg.io.geometry.SurveyGeometry.napari_kwargs`).  Layers
carrying a survey geometry get a status line in true units with axis names
(``inline 122, crossline 885, 1200 ms: -3128``), and :func:`describe_point` gives the same
words for the viewer's current slice.  A survey layer added to a viewer whose survey layers
share another exaggeration joins theirs (:func:`watch_viewer`), so a file opened later lies
over the others.
"""

from __future__ import annotations

import types
import weakref
from typing import Any

import numpy as np

from ..io.geometry import DISPLAY_KEY, METADATA_KEY
from ..io.survey_text import survey_words

_WATCHED: weakref.WeakSet = weakref.WeakSet()
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


def survey_layers(viewer: Any) -> list[Any]:
    """Layers of ``viewer`` carrying a survey geometry shown in survey coordinates."""
    return [layer for layer in viewer.layers
            if METADATA_KEY in (layer.metadata or {})
            and (layer.metadata.get(DISPLAY_KEY) or {}).get("coordinates") == "survey"]


def rescale_layer(layer: Any, value: float) -> bool:
    """Stretch ``layer``'s vertical axis to exaggeration ``value``; False when it was there.

    Scale and translate of the sample axis are multiplied by the ratio, so a layer placed
    over part of a survey (a quick look, a crop) stays where it was.
    """
    display = dict(layer.metadata[DISPLAY_KEY])
    ratio = float(value) / float(display["exaggeration"])
    if np.isclose(ratio, 1.0):
        return False
    axis = list(layer.metadata["axes"]).index("sample")
    scale = np.asarray(layer.scale, dtype=float).copy()
    translate = np.asarray(layer.translate, dtype=float).copy()
    scale[axis] *= ratio
    translate[axis] *= ratio
    layer.scale, layer.translate = scale, translate
    display.update(exaggeration=float(value),
                   vertical_per_world=display["vertical_per_world"] / ratio)
    layer.metadata[DISPLAY_KEY] = display
    return True


def shared_exaggeration(viewer: Any, but: Any = None) -> float | None:
    """The exaggeration of the oldest survey layer of ``viewer`` other than ``but``."""
    for layer in survey_layers(viewer):
        if layer is not but:
            return float(layer.metadata[DISPLAY_KEY]["exaggeration"])
    return None


def _on_inserted(viewer: Any, layer: Any) -> None:
    survey_status(layer)
    if layer in survey_layers(viewer):
        value = shared_exaggeration(viewer, but=layer)
        if value is not None:
            rescale_layer(layer, value)


def watch_viewer(viewer: Any = None) -> None:
    """Survey status lines and one exaggeration for every survey layer of ``viewer``.

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
    ref = weakref.ref(viewer)

    def inserted(event: Any) -> None:
        v = ref()
        if v is not None:
            _on_inserted(v, event.value)

    viewer.layers.events.inserted.connect(inserted)


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
