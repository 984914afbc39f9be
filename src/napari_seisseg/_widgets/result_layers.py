"""The layers a prediction adds: short names, where they come from, and their placement.

Names are short, so napari's layer list shows them whole: ``P(<class>)``, ``mask`` and
``uncertainty``; a quick look (one slice) says where it is, ``mask · inline 117``. When a
name is taken (a second model, another image) all layers of the prediction get the same
number, ``P(fault) (2)``, ``mask (2)``, ``uncertainty (2)``, so they read as one set (napari
itself would append ``[1]`` to each clashing name on its own).

What the names leave out is in each layer's ``metadata["seisseg_prediction"]``: the model,
its bundle file, the source image, the time and the part predicted.
:func:`~napari_seisseg.io.prediction_layers.describe` turns that into the line the Predict
widget shows for the selected layer; the naming rules are in that module too.

A quick look replaces the previous quick look of the same model on the same image (its
layers are removed once the new ones are in, and the new ones take their place in the layer
list, shown or hidden as the user left them) instead of piling up one set per slice looked
at.  Only layers this module made, under the name it gave them, are replaced: renaming or
duplicating a quick-look layer keeps it, and so does correcting its mask with the brush
(the whole set is kept).
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..io.prediction_layers import numbered_names, prediction_info
from ..io.probabilities import PREDICTION_KEY

__all__ = ["add_result_layers", "quick_looks_of"]

#: Separates a quick look's base name from the slice it shows (``mask · inline 117``).
SLICE_SEP = " · "
#: The layers :func:`add_result_layers` made (a napari duplicate is not among them).
_MADE: weakref.WeakSet = weakref.WeakSet()


def quick_looks_of(viewer: Any, source: str, model: str) -> list[Any]:
    """The quick-look layers of ``model`` on the image named ``source``, in list order.

    Only layers :func:`add_result_layers` made and that still carry the name it gave them:
    a layer the user renamed or duplicated is kept.  A set whose mask the user corrected
    with the brush is kept whole.
    """
    from ..training.mask_edits import edited_voxels

    sets: dict[str, list[Any]] = {}
    for layer in viewer.layers:
        info = prediction_info(layer)
        if (layer in _MADE and info.get("quick_look") and info.get("source") == source
                and info.get("model") == model and layer.name == info.get("name")):
            sets.setdefault(str(info.get("set")), []).append(layer)
    out = []
    for members in sets.values():
        edited = [edited_voxels(m) for m in members if prediction_info(m).get("role") == "mask"]
        if not any(e is not None and e.any() for e in edited):
            out.extend(members)
    return out


def _placement(source: Any, result: Any, role: str, stamp: dict[str, Any],
               **extra: Any) -> dict[str, Any]:
    """Layer keywords placing a result layer exactly over ``source`` (or its predicted part)."""
    scale = np.asarray(source.scale, dtype=float)
    translate = np.asarray(source.translate, dtype=float).copy()
    for k, s in enumerate(result.region):
        if s != slice(None):
            translate[k] += (s.start or 0) * scale[k]
    metadata = dict(source.metadata)
    if result.geometry is not None:
        metadata.update(result.geometry.to_metadata())
    bm = result.bundle
    metadata[PREDICTION_KEY] = {
        "role": role, "model": bm.name, "model_path": None if bm.path is None else str(bm.path),
        "source": source.name, "priors": dict(result.priors),
        "passes": dict(getattr(result, "passes", {})), **stamp, **extra,
    }
    return {
        "scale": tuple(scale), "translate": tuple(translate),
        "axis_labels": tuple(source.axis_labels), "units": tuple(source.units),
        "metadata": metadata,
    }


def _style_key(layer: Any) -> tuple:
    info = prediction_info(layer)
    return info.get("role"), info.get("class")


def _take_style(layers: Sequence[Any]) -> dict[tuple, dict[str, Any]]:
    """What the user may have changed on the layers of a quick look about to be replaced."""
    out = {}
    for layer in layers:
        style = {"visible": layer.visible, "opacity": layer.opacity}
        if hasattr(layer, "contrast_limits"):
            style["contrast_limits"] = tuple(layer.contrast_limits)
            style["dtype"] = np.dtype(layer.data.dtype)
        out[_style_key(layer)] = style
    return out


def _give_style(layer: Any, style: dict[str, Any] | None) -> None:
    if not style:
        return
    layer.visible, layer.opacity = style["visible"], style["opacity"]
    if "contrast_limits" in style and style["dtype"] == np.dtype(layer.data.dtype):
        layer.contrast_limits = style["contrast_limits"]


def add_result_layers(viewer: Any, source: Any, result: Any, probs: Any, mask: Any, unc: Any,
                      where: str | None = None) -> tuple[dict[str, Any], bool]:
    """Add the probability, mask and uncertainty layers of a prediction to ``viewer``.

    Parameters
    ----------
    viewer : napari.viewer.Viewer
        The viewer.
    source : napari.layers.Image
        The image predicted; the layers take its placement and geometry.
    result : BundlePrediction
        The prediction (its model, region, geometry and duration).
    probs, mask, unc : array-like
        Probabilities ``(C, *shape)``, class mask and uncertainty of ``result``.
    where : str, optional
        For a quick look, the slice predicted (e.g. ``"inline 117"``): it goes into the
        names, and the previous quick look of the same model on ``source`` is replaced.

    Returns
    -------
    layers : dict
        ``"probability <class>"``, ``"mask"`` and ``"uncertainty"`` to the layers added.
    replaced : bool
        Whether an earlier quick look was replaced.
    """
    bm = result.bundle
    stamp = {"time": time.strftime("%Y-%m-%d %H:%M:%S"),
             "seconds": round(float(result.seconds), 3),
             "quick_look": where is not None, "slice": where}
    stamp["set"] = f"{stamp['time']}#{id(result)}"
    old = quick_looks_of(viewer, source.name, bm.name) if where is not None else []
    style = _take_style(old)
    at = min((viewer.layers.index(layer) for layer in old), default=None)
    names_before = [layer.name for layer in old]
    for layer in old:  # out of the way of the new names; removed once the new set is in
        layer.name = f"{layer.name} (replaced)"
    try:
        layers = _add_set(viewer, source, result, probs, mask, unc, where, stamp)
    except BaseException:
        for layer, name in zip(old, names_before, strict=True):
            layer.name = name
        raise
    for layer in old:
        viewer.layers.remove(layer)
    for layer in layers.values():
        _give_style(layer, style.get(_style_key(layer)))
    if at is not None:  # where the replaced quick look was in the layer list
        new = [viewer.layers.index(layer) for layer in layers.values()]
        if min(new) != at:
            viewer.layers.move_multiple(new, at)
    return layers, bool(old)


def _add_set(viewer: Any, source: Any, result: Any, probs: Any, mask: Any, unc: Any,
             where: str | None, stamp: dict[str, Any]) -> dict[str, Any]:
    """Add the probability, mask and uncertainty layers of one prediction."""
    from ..io.layer_colors import class_mask_style, probability_colormap
    from ..training.mask_edits import remember_written

    bm = result.bundle

    classes = bm.channel_classes
    bases = [f"P({c['name']})" for c in classes] + ["mask", "uncertainty"]
    if where is not None:
        bases = [f"{b}{SLICE_SEP}{where}" for b in bases]
    names = numbered_names((layer.name for layer in viewer.layers), bases)

    layers: dict[str, Any] = {}
    top = 255.0 if probs.dtype == np.uint8 else 1.0
    for k, cls in enumerate(classes):
        layers[f"probability {cls['name']}"] = viewer.add_image(
            probs[k], name=names[k], colormap=probability_colormap(cls["name"], cls["color"]),
            blending="additive", contrast_limits=(0.0, top), opacity=0.8, visible=bm.binary,
            **_placement(source, result, "probability", stamp,
                         **{"class": cls["name"], "value": cls["value"]}),
        )
    layers["mask"] = viewer.add_labels(
        mask, name=names[-2], **class_mask_style(bm.classes), opacity=0.5,
        **_placement(source, result, "mask", stamp,
                     classes=[dict(c, color=list(c["color"])) for c in bm.classes],
                     threshold=bm.threshold if bm.binary else None),
    )
    remember_written(layers["mask"], layers["mask"].data)  # corrections = changes to it
    layers["uncertainty"] = viewer.add_image(
        unc, name=names[-1], colormap="inferno", contrast_limits=(0.0, 1.0), visible=False,
        **_placement(source, result, "uncertainty", stamp),
    )
    for layer in layers.values():
        layer.metadata[PREDICTION_KEY]["name"] = layer.name  # a rename is the user's
        _MADE.add(layer)
    return layers
