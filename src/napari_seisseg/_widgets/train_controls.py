"""The controls of the Train widget, built with their tooltips (no behaviour here)."""

from __future__ import annotations

from typing import Any

from magicgui.widgets import (
    CheckBox,
    ComboBox,
    Container,
    FloatSpinBox,
    Label,
    ProgressBar,
    PushButton,
)

from ._status import StatusLabel
from .rows import tight_box

__all__ = ["action_buttons", "budget_controls", "layer_choosers", "live_controls",
           "model_chooser", "option_switches", "output_lines"]


def layer_choosers(viewer: Any) -> tuple[ComboBox, ComboBox, ComboBox]:
    """The image, labels and validation layer choosers, offering ``viewer``'s layers."""

    from ..io.live_slice import is_live_preview

    def image_choices(_widget=None) -> list:
        from napari.layers import Image

        return [(layer.name, layer) for layer in viewer.layers
                if isinstance(layer, Image) and not layer.rgb and not is_live_preview(layer)]

    def labels_choices(_widget=None) -> list:
        from napari.layers import Labels

        return [(layer.name, layer) for layer in viewer.layers
                if isinstance(layer, Labels) and not is_live_preview(layer)]

    def val_choices(_widget=None) -> list:
        return [("none (hold out painted sections)", None), *labels_choices()]

    image = ComboBox(label="image", choices=image_choices,
                     tooltip="Image layer of amplitudes to learn from (a Preprocess "
                             "result is fine: its pipeline is stored in the model).")
    labels_layer = ComboBox(label="labels", choices=labels_choices,
                            tooltip="Labels layer of the image's shape: 0 = not labeled "
                                    "(ignored), 1..K = classes. Paint a few inlines, "
                                    "crosslines, time slices or scribbles.")
    val_labels = ComboBox(label="validation", choices=val_choices,
                          tooltip="Optional second Labels layer scored after every "
                                  "epoch. None: a share of the painted sections is held "
                                  "out automatically.")
    return image, labels_layer, val_labels


def model_chooser() -> ComboBox:
    """The architecture chooser: auto or a registered model."""
    from ..train_settings import setting_choices, setting_default

    model = ComboBox(label="model", choices=list(setting_choices("model")),
                     value=setting_default("model"),
                     tooltip="auto: unet2d on the sections of a survey; hybrid (each time "
                             "slice read with two slices above and below) when time slices "
                             "are the orientation painted most; for a stack of "
                             "small unrelated tiles (section axes 0), resunet with the "
                             "recipe tuned on salt tiles (the choice is shown). unet2d: "
                             "fast 2D U-Net on sections; resunet: residual encoder, "
                             "stronger; hybrid: thin 3D slab in, section out; unet3d: "
                             "3D patches (slow on a CPU).")
    return model


def budget_controls() -> tuple[FloatSpinBox, ComboBox, Container]:
    """The training budget, its unit, and the row holding both."""
    budget_unit = ComboBox(choices=["minutes", "epochs", "until stopped"], value="minutes",
                           tooltip="Limit the run by wall-clock minutes or by epochs, or "
                                   "train until you press Stop (paint meanwhile: strokes are "
                                   "taken up). The best model (validation mean IoU) and the "
                                   "latest weights are both kept.")
    budget = FloatSpinBox(value=1.5, min=0.1, max=100_000.0, step=0.5,
                          tooltip="Training budget, in the unit on the right "
                                  "(epochs are rounded to whole numbers).")
    budget_row = tight_box([budget, budget_unit], "How long to train.", label="budget")
    return budget, budget_unit, budget_row


def live_controls() -> tuple[ComboBox, PushButton]:
    """What the live preview shows, and the button predicting the whole cube."""
    from .live_preview import BASE_CHOICES

    preview = ComboBox(label="preview", choices=list(BASE_CHOICES), value="mask",
                       tooltip="While training runs, the slice shown is predicted with the "
                               "current weights every few seconds and drawn over the seismic "
                               "('live' layer): the mask, or one class's probability (offered "
                               "once training starts). Move the slider: the new slice is "
                               "previewed. Off: no previews.")
    predict_cube = PushButton(text="Predict cube", enabled=False,
                              tooltip="Predict the whole cube with the model the preview "
                                      "shows (during training: stops it, then predicts with "
                                      "the latest weights), in the Predict widget.")
    return preview, predict_cube


def option_switches() -> tuple[CheckBox, CheckBox]:
    """The "zero is background" and "advanced options" check boxes."""
    zero_is_background = CheckBox(
        text="zero is background (dense mask)", value=False,
        tooltip="Treat label 0 as a class (masks made elsewhere, where 0 means e.g. "
                "sediment). Off: 0 means 'not labeled' and is ignored by the loss.")
    show_advanced = CheckBox(text="advanced options", value=False,
                             tooltip="Show patch size, batch size, learning rate, "
                                     "axes, device, loss, augmentation, fine-tuning.")
    return zero_is_background, show_advanced


def action_buttons() -> tuple[PushButton, PushButton, PushButton, PushButton]:
    """Train, Stop, Save model… and Load model…."""
    train_button = PushButton(text="Train", tooltip="Check the inputs and start training "
                                                    "in the background.")
    stop_button = PushButton(text="Stop", enabled=False,
                             tooltip="Stop after the current step; the best model so far "
                                     "is kept.")
    save_button = PushButton(text="Save model…", enabled=False,
                             tooltip="Write the current model (weights + JSON card) as one "
                                     "bundle file at exactly the chosen path.")
    load_button = PushButton(text="Load model…",
                             tooltip="Read a model bundle; it becomes available to the "
                                     "Predict widget and for fine-tuning.")
    return train_button, stop_button, save_button, load_button


def output_lines() -> tuple[ProgressBar, Label, Label, StatusLabel, Label]:
    """The progress bar, the device and current-model lines, the status and what is painted."""
    progress = ProgressBar(label="progress", min=0, max=1000, value=0,
                           tooltip="Share of the budget spent (steps or minutes).")
    device_label = Label(label="device", value="",
                         tooltip="Where training runs (set by the device option).")
    model_label = Label(label="current model", value="none",
                        tooltip="The model Save writes: the last one trained or loaded.")
    status = StatusLabel()
    info = Label(value="", tooltip="What is painted: labeled voxels per class and "
                                   "the painted sections (line numbers on a survey).")
    info.native.setWordWrap(True)
    info.visible = False  # until a run says what is painted
    return progress, device_label, model_label, status, info
