"""The Predict widget's choices for one run, checked (no napari import).

Which devices can be chosen, which layers can be predicted, the slice of a quick look, and
the orientations a section model predicts along.  Each check raises
:class:`~napari_seisseg.errors.SeisSegError` with the message the widget shows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..errors import SeisSegError
from ..io.geometry import CUBE_AXES
from ..io.layer_axes import inline_axis, layer_geometry
from ..io.layers import check_image_layer

__all__ = [
    "check_layer_to_predict",
    "default_orientations",
    "device_choices",
    "section_orientations",
    "slice_in_layer",
]


def device_choices() -> list[str]:
    """"auto", "cpu", and "cuda" and "mps" when torch can use them."""
    import torch

    out = ["auto", "cpu"]
    if torch.cuda.is_available():
        out.append("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        out.append("mps")
    return out


def check_layer_to_predict(layer: Any) -> None:
    """Refuse a missing or multiscale image layer (:func:`~napari_seisseg.io.layers.check_image_layer`)."""
    check_image_layer(layer, "No Image layer to predict. Open a cube first.", "predict")


def slice_in_layer(layer: Any, index: int, axis: int) -> int:
    """``index`` when it is a slice of ``layer`` along ``axis`` (the slice shown).

    Raises
    ------
    SeisSegError
        The slice shown lies outside the layer (another layer's range).
    """
    if not 0 <= index < layer.data.shape[axis]:
        raise SeisSegError(f"The slice shown lies outside '{layer.name}'; move the slider "
                           "onto the image, or untick 'current slice only'.")
    return index


def section_orientations(bm: Any, ndim: int, slice_index: int | None,
                         ticked: Sequence[bool]) -> list[int] | None:
    """The axes a section model predicts a whole cube along (None: not such a run).

    Parameters
    ----------
    bm : BundleModel
        The model.
    ndim : int
        Number of axes of the image.
    slice_index : int or None
        The slice of a quick look (None: the whole cube).
    ticked : sequence of bool
        The orientation boxes, one per axis.

    Raises
    ------
    SeisSegError
        No orientation ticked.
    """
    if not (bm.is_section_model and ndim == 3 and slice_index is None):
        return None
    orientations = [i for i, on in enumerate(ticked) if on]
    if not orientations:
        raise SeisSegError("Tick at least one orientation to predict along.")
    return orientations


def default_orientations(layer: Any, bm: Any = None) -> list[int]:
    """The axes the model predicts along by default, in ``layer``'s order (else inline).

    The orientation its labels were painted in, and the others after it for a model painted
    on time slices alone or on time slices and one leading vertical orientation, or the
    inlines and crosslines when both were painted or time slices lead paint with one of
    them (``BundleModel.predict_axes``), each mapped to the layer's axes.
    """
    g = layer_geometry(layer) if layer is not None else None
    ndim = getattr(layer, "ndim", 0)
    axes = tuple(getattr(bm, "predict_axes", ()) or ()) if bm is not None else ()
    if axes and g is not None and ndim == 3:
        found = [g.axes.index(CUBE_AXES[a]) for a in axes if CUBE_AXES[a] in g.axes]
        if found:
            return found
    elif axes and ndim == 3:
        return list(axes)  # no geometry: the array's own order is the training order
    return [inline_axis(layer) if layer is not None else 0]
