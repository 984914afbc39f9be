"""A new Labels layer to paint on, laid exactly over a seismic image, as layer data.

:func:`labels_layer_spec` gives the shape and ``add_labels`` keyword arguments of a layer
with the image's shape, placement, axis names and units, its survey geometry (so the painted
labels export with the input's geometry) and, when classes are named, their names and
palette colours (value 0 transparent), which is where training reads them from.  Plain
data: no napari import (the image is read by duck typing).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..bundle.classes import PALETTE
from ..errors import SeisSegError
from ..io.geometry import DISPLAY_KEY, SurveyGeometry
from ..io.sample_axis import FILE_AXES_KEY

__all__ = ["labels_layer_spec"]


def labels_layer_spec(image: Any, names: list[str]) -> tuple[tuple[int, ...], dict[str, Any]]:
    """Shape and ``add_labels`` keyword arguments of a Labels layer over ``image``.

    Parameters
    ----------
    image : napari.layers.Image
        The seismic layer to paint over (any object with napari's layer attributes).
    names : list of str
        Class names of label values 1, 2, ...; empty for unnamed classes.

    Returns
    -------
    shape : tuple of int
        The image's shape.
    kwargs : dict
        ``name``, ``scale``, ``translate``, ``axis_labels``, ``units``, ``metadata``,
        ``opacity`` and, with names, ``features`` and ``colormap``.

    Raises
    ------
    SeisSegError
        If ``image`` is RGB or multiscale (no single voxel grid to paint on).
    """
    if getattr(image, "rgb", False):
        raise SeisSegError(f"'{image.name}' is an RGB image; choose a seismic (grey) layer.")
    if getattr(image, "multiscale", False):
        raise SeisSegError(f"'{image.name}' is multiscale; choose a single-scale layer.")
    shape = tuple(int(n) for n in image.data.shape)
    metadata: dict[str, Any] = {}
    geometry = SurveyGeometry.from_metadata(getattr(image, "metadata", None))
    if geometry is not None and len(geometry.axes) == len(shape):
        metadata.update(geometry.to_metadata())
        if DISPLAY_KEY in image.metadata:  # the same vertical exaggeration as the image
            metadata[DISPLAY_KEY] = dict(image.metadata[DISPLAY_KEY])
        if FILE_AXES_KEY in image.metadata:  # a plain array's file order, to be saved in
            metadata[FILE_AXES_KEY] = list(image.metadata[FILE_AXES_KEY])
    kwargs: dict[str, Any] = {
        "name": f"{image.name} labels",
        "scale": tuple(np.asarray(image.scale, dtype=float)),
        "translate": tuple(np.asarray(image.translate, dtype=float)),
        # an image placed with rotate/shear/affine (a survey grid at an angle) keeps them too
        "rotate": np.asarray(image.rotate, dtype=float),
        "shear": np.asarray(image.shear, dtype=float),
        "affine": np.asarray(image.affine.affine_matrix, dtype=float),
        "axis_labels": tuple(image.axis_labels),
        "units": tuple(image.units),
        "metadata": metadata,
        "opacity": 0.6,
    }
    if names:
        values = list(range(len(names) + 1))
        kwargs["features"] = {"index": values, "class": ["unlabeled", *names]}
        colors: dict[Any, Any] = {None: (0.0, 0.0, 0.0, 0.0), 0: (0.0, 0.0, 0.0, 0.0)}
        colors.update({v: PALETTE[(v - 1) % len(PALETTE)] for v in values[1:]})
        kwargs["colormap"] = colors
    return shape, kwargs
