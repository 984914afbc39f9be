"""The Train widget's input rules, as plain functions of layers (no napari import).

Which layers may be trained on, how the budget controls translate into epochs or
minutes, and the device line.  The widget reads its controls, calls these and shows what
they return.
"""

from __future__ import annotations

from typing import Any

from ..errors import SeisSegError

__all__ = [
    "budget_limits",
    "check_training_layers",
    "device_text",
]

def check_training_layers(image: Any, labels: Any, val: Any) -> None:
    """Refuse a missing image or labels layer, a multiscale one, validation on the labels, or
    plain labels laid out otherwise than their plain image (:func:`~napari_seisseg.io.sample_axis.laid_out_apart`).

    Parameters
    ----------
    image, labels : layer or None
        The chosen Image and Labels layers.
    val : layer or None
        The chosen validation Labels layer (None: painted sections are held out).

    Raises
    ------
    SeisSegError
        Saying what to do instead.
    """
    if image is None:
        raise SeisSegError("No Image layer to train on. Open a cube (File > Open, or the "
                           "synthetic sample) and choose it as 'image'.")
    if labels is None:
        raise SeisSegError("No Labels layer. Click 'New labels layer' (name the classes "
                           "beside it), paint a few sections with 1, 2, ... and train.")
    for layer in (image, labels, val):
        if layer is not None and getattr(layer, "multiscale", False):
            raise SeisSegError(f"'{layer.name}' is multiscale; train on a single-scale layer.")
    if val is labels:
        raise SeisSegError("The validation layer is the training labels layer; choose "
                           "another layer, or none to hold out painted sections.")
    from ..io.sample_axis import image_shape, laid_out_apart

    for layer in (labels, val):
        if layer is not None and laid_out_apart(getattr(image, "metadata", None),
                                                getattr(layer, "metadata", None), image_shape(image)):
            raise SeisSegError(
                f"'{layer.name}' is stored as '{image.name}' is, but was laid out with time along "
                "its last axis (opened or made before the image, or without it): it lies "
                f"transposed over '{image.name}'. Remove it and open its file again now that "
                f"'{image.name}' is open (save it first if it was painted here).")


def budget_limits(value: float, unit: str) -> tuple[int | None, float | None]:
    """``(epochs, minutes)`` of a budget of ``value`` ``unit``.

    ``unit`` is "epochs" (rounded to a whole number, at least 1), "minutes", or
    "until stopped" (both None: the run ends when stopped); the other limit is None.
    """
    if unit == "until stopped":
        return None, None
    if unit == "epochs":
        return max(1, int(round(value))), None
    return None, float(value)


def device_text(choice: str) -> str:
    """What the device line says for the device option ``choice`` (never raises)."""
    from ..device import amp_settings, describe_device, resolve_device

    try:
        device = resolve_device(choice)
        return f"{describe_device(device)}, {amp_settings(device, None).describe()}"
    except SeisSegError as exc:
        return f"{choice}: not available ({exc})"
