"""The live preview layer: the shown slice predicted by the running training, over the seismic.

One layer per image, one slice thick, placed exactly on the slice it shows
(:func:`~napari_seisseg.io.live_slice.preview_layer_data`): the predicted mask as a Labels
layer in the classes' colours, or one class's probability as an Image layer coloured from
black to the class colour (the Predict widget's colours).  Each preview replaces the layer's
data and placement within one call on the GUI thread (no redraw between them), so the
viewer never shows half of one; the
layer is found again by its metadata (:data:`~napari_seisseg.io.live_slice.LIVE_KEY`) and
re-created if the user deleted it.  It stays after the run, showing the last preview.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..io.layer_colors import class_mask_style, probability_colormap
from ..io.live_slice import LIVE_KEY, preview_layer_data

__all__ = ["LivePreviewLayer", "preview_choices"]

#: What the "preview" control offers before the classes are known.
BASE_CHOICES = ("off", "mask")


def preview_choices(classes: list[Any], binary: bool) -> list[str]:
    """``off``, ``mask`` and ``P(<class>)`` per probability channel of a run's classes."""
    channels = classes[1:2] if binary else classes
    return [*BASE_CHOICES, *(f"P({c.name})" for c in channels)]


class LivePreviewLayer:
    """Draws :class:`~napari_seisseg.training.live_events.Preview` events over ``source``.

    Parameters
    ----------
    viewer : napari.viewer.Viewer
        The viewer.
    source : napari.layers.Image
        The image being trained on.
    """

    def __init__(self, viewer: Any, source: Any) -> None:
        self.viewer, self.source = viewer, source
        self.last: Any = None
        self.n_drawn = 0
        self._layer: Any = None  # the layer last drawn (found again if the image is renamed)

    def layer(self) -> Any:
        """The preview layer of ``source`` in the viewer (None when there is none)."""
        if self._layer is not None and self._layer in self.viewer.layers:
            return self._layer
        for layer in self.viewer.layers:
            info = layer.metadata.get(LIVE_KEY)
            if isinstance(info, dict) and info.get("source") == self.source.name:
                return layer
        return None

    def show(self, preview: Any, what: str) -> None:
        """Keep ``preview`` and draw it as ``what`` (``"mask"``, ``"P(<class>)"``, ``"off"``)."""
        self.last = preview
        self.draw(what)

    def draw(self, what: str) -> None:
        """Draw the last preview as ``what``; ``"off"`` removes the layer."""
        if what == "off":
            layer = self.layer()
            if layer is not None:
                self.viewer.layers.remove(layer)
            return
        p = self.last
        if p is None:
            return
        from ..bundle.model import BundleModel

        card = BundleModel(model=None, card=p.card)  # the card's reading only: no network
        classes = card.classes
        if what == "mask":
            values = p.mask
        else:
            names = [f"P({c['name']})" for c in card.channel_classes]
            if what not in names:
                return
            values = p.probabilities[names.index(what)]
        data, placement = preview_layer_data(self.source, p.axis, p.index, values)
        info = {"source": self.source.name, "what": what, "axis": p.axis, "index": p.index,
                "step": p.step, "epoch": p.epoch}
        self._put(what, data, placement, info, classes)
        self.n_drawn += 1

    def _put(self, what: str, data: np.ndarray, placement: dict[str, Any], info: dict[str, Any],
             classes: list[dict[str, Any]]) -> None:
        """Update the preview layer in place, or replace it when its kind changed."""
        from napari.layers import Image, Labels

        layer = self.layer()
        kind = Labels if what == "mask" else Image
        if layer is not None and (type(layer) is not kind
                                  or layer.metadata[LIVE_KEY].get("what") != what):
            self.viewer.layers.remove(layer)
            layer = None
        if layer is None:
            # a new layer would become the selected one: the brush would paint into it
            active = self.viewer.layers.selection.active
            self._layer = self._add(what, data, placement, info, classes)
            if active is not None and active in self.viewer.layers:
                self.viewer.layers.selection.active = active
            return
        layer.data = data
        layer.translate = placement["translate"]
        layer.metadata[LIVE_KEY] = info

    def _add(self, what: str, data: np.ndarray, placement: dict[str, Any],
             info: dict[str, Any], classes: list[dict[str, Any]]) -> Any:
        metadata = {LIVE_KEY: info}
        name = f"live {what}"
        if what == "mask":
            return self.viewer.add_labels(data, name=name, opacity=0.5, metadata=metadata,
                                          **class_mask_style(classes), **placement)
        cls = next(c for c in classes if f"P({c['name']})" == what)
        top = 255.0 if data.dtype == np.uint8 else 1.0
        return self.viewer.add_image(
            data, name=name, metadata=metadata, blending="additive",
            colormap=probability_colormap(cls["name"], cls["color"]),
            contrast_limits=(0.0, top), opacity=0.8, **placement)

