"""A new Labels layer to paint on, laid exactly over a seismic Image layer, with named classes.

napari's own "New labels layer" button makes an empty layer the size of the scene, but it
knows nothing of classes and leaves the axis names and units out (napari then stops showing
units).  The Train widget's "New labels layer" button makes one that:

- has the image's shape, scale, translate, axis labels and units, so it sits on the image
  voxel for voxel, in survey coordinates;
- carries the image's survey geometry (if it has one) in its metadata, so the Export widget
  writes the painted labels as SEG-Y with the input's geometry and headers;
- names its classes in its ``features`` table (value 0 is "unlabeled") and colours them
  with the package palette (value 0 transparent), which is where training reads class names
  and colours from.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from magicgui.widgets import LineEdit, PushButton

from ..bundle.classes import parse_class_names
from ..errors import SeisSegError
from ..training.new_labels import labels_layer_spec
from .rows import tight_box

__all__ = ["NewLabels", "add_labels_layer"]


def add_labels_layer(viewer: Any, image: Any, names: list[str]) -> Any:
    """Add an empty Labels layer over ``image`` and make it ready to paint class 1.

    Parameters
    ----------
    viewer : napari.viewer.Viewer
        The viewer.
    image : napari.layers.Image
        The seismic layer to paint over.
    names : list of str
        Class names of label values 1, 2, ... (may be empty).

    Returns
    -------
    napari.layers.Labels
        The new layer: selected, in paint mode, with label 1 chosen.
    """
    shape, kwargs = labels_layer_spec(image, names)
    layer = viewer.add_labels(np.zeros(shape, dtype=np.uint8), **kwargs)
    layer.selected_label = 1
    viewer.layers.selection.active = layer
    layer.mode = "paint"
    return layer


class NewLabels:
    """The Train widget's "new labels" row: class names and a "New labels layer" button.

    Parameters
    ----------
    viewer : napari.viewer.Viewer
        The viewer.
    image_of : callable
        Returns the Image layer to paint over (the Train widget's *image*).
    fail : callable
        Shows a failure (message) as a notification and in the status line.
    added : callable
        ``added(layer, message)`` after a layer was added.
    """

    def __init__(self, viewer: Any, image_of: Callable[[], Any], fail: Callable[[str], Any],
                 added: Callable[[Any, str], Any]) -> None:
        self.viewer = viewer
        self._image_of, self._fail, self._added = image_of, fail, added
        self.class_names = LineEdit(value="", tooltip="Names of the classes a new labels layer "
                                    "paints, as values 1, 2, ... (comma-separated, e.g. "
                                    "'sediment, salt, fault'); blank: unnamed classes.")
        self.class_names.native.setPlaceholderText("classes, e.g. sediment, salt")
        self.button = PushButton(
            text="New labels layer",
            tooltip="Add an empty Labels layer exactly over the image (same grid, survey "
                    "coordinates and geometry) with these class names, ready to paint class 1.")
        #: The row to put in the form.
        self.row = tight_box([self.class_names, self.button],
                             "Start painting: a Labels layer over the image.",
                             label="new labels")
        self.button.changed.connect(lambda *_: self.add())

    def add(self) -> Any:
        """Add an empty Labels layer over the image, with the typed class names.

        Returns
        -------
        napari.layers.Labels or None
            The new layer, or None when refused (the reason goes to ``fail``).
        """
        image = self._image_of()
        try:
            if image is None:
                raise SeisSegError("No image layer to paint over. Open a SEG-Y or .npy volume "
                                   "(or the synthetic sample) and choose it as 'image'.")
            names = parse_class_names(self.class_names.value)
            layer = add_labels_layer(self.viewer, image, names)
        except SeisSegError as exc:
            return self._fail(str(exc))
        classes = ", ".join(f"{v} {n}" for v, n in enumerate(names, start=1))
        what = f"classes {classes}" if names else "paint classes as 1, 2, ..."
        self._added(layer, f"added '{layer.name}' ({what}); 0 means not labeled")
        return layer
