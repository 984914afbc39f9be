"""The slice a viewer shows, and a live preview of it as a one-slice layer (no napari import).

Live training (:func:`napari_seisseg.training.live.live_train`) predicts the slice the
viewer shows.  :func:`shown_slice` names that slice in the image layer's data (an axis and
an index); :func:`preview_layer_data` turns a :class:`~napari_seisseg.training.live_events.Preview`
into the array and placement of a layer one slice thick, sitting exactly on that slice of
the image, so it is seen over the seismic on that slice only (moving the slider leaves it
behind until the preview of the new slice arrives).

A layer is anything with ``ndim``, ``data``, ``scale``, ``translate`` and ``world_to_data``
(a napari layer); ``dims`` anything with ``ndim``, ``ndisplay``, ``not_displayed`` and
``point`` (napari's ``viewer.dims``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["LIVE_KEY", "is_live_preview", "preview_layer_data", "shown_slice"]

#: Metadata key marking the live preview layer (the Train widget finds it again by it).
LIVE_KEY = "seisseg_live_preview"


def is_live_preview(layer: Any) -> bool:
    """Whether ``layer`` is a live preview (not an image or labels to train or predict on)."""
    return bool(getattr(layer, "metadata", {}).get(LIVE_KEY))


def shown_slice(layer: Any, dims: Any) -> tuple[int, int] | None:
    """The slice of ``layer`` the viewer shows: ``(axis, index)`` in the layer's data.

    Parameters
    ----------
    layer : napari.layers.Layer
        A 2D or 3D image layer.
    dims : napari.components.Dims
        The viewer's dims.

    Returns
    -------
    tuple of int or None
        ``(axis, index)`` along the layer's data axes (the index may lie outside the data:
        the viewer may show a place the layer does not reach); ``(0, 0)`` for a 2D layer
        (the image is its only slice); None when no single slice is shown (3D display).
    """
    if layer.ndim == 2:
        return (0, 0)
    if layer.ndim != 3 or dims.ndisplay != 2:
        return None
    offset = dims.ndim - layer.ndim
    hidden = [a - offset for a in dims.not_displayed if a >= offset]
    if len(hidden) != 1:
        return None
    axis = hidden[0]
    point = np.asarray(dims.point, dtype=float)[offset:]
    data = np.asarray(layer.world_to_data(point), dtype=float)
    return axis, int(np.round(float(data[axis])))  # as napari rounds when it slices


def preview_layer_data(
    source: Any, axis: int, index: int, values: np.ndarray
) -> tuple[np.ndarray, dict[str, Any]]:
    """A previewed slice as the data and placement of a layer over ``source``.

    Parameters
    ----------
    source : napari.layers.Image
        The image the preview belongs to.
    axis, index : int
        The slice previewed (``index`` along ``axis`` of the image's data).
    values : numpy.ndarray
        The slice's values (its axis removed; for a 2D image, the whole image).

    Returns
    -------
    data : numpy.ndarray
        ``values`` with the sliced axis put back, one element thick (a 2D image: as given).
    placement : dict
        ``scale``, ``translate``, ``axis_labels`` and ``units`` of the layer: the source's,
        moved along ``axis`` onto the slice.
    """
    scale = np.asarray(source.scale, dtype=float)
    translate = np.asarray(source.translate, dtype=float).copy()
    data = np.asarray(values)
    if source.ndim == 3:
        data = np.expand_dims(data, axis)
        translate[axis] += index * scale[axis]
    placement = {"scale": tuple(scale), "translate": tuple(translate)}
    for name in ("axis_labels", "units"):
        if hasattr(source, name):
            placement[name] = tuple(getattr(source, name))
    return data, placement
