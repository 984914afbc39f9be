"""The Train widget's advanced options, folded away under "advanced options".

:class:`TrainOptions` holds every setting beyond image, labels, model and budget (model
width and encoder, patch and batch size, learning rate, 2.5D context, section axes, seed,
device, loss, validation share and when it joins training, weight averaging, augmentation
and the model to fine-tune) and turns them into
:class:`~napari_seisseg.training.TrainConfig` arguments with
:meth:`TrainOptions.config_kwargs`.  Width, patch size and batch size read 0 for "chosen
automatically" and show it as "auto".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from magicgui.widgets import CheckBox, ComboBox, Container, FloatSpinBox, SpinBox

from ..store import MODEL_STORE
from ..train_settings import (
    KEEP_CHOICES,
    POSITION_CHOICES,
    setting_choices,
    setting_default,
    setting_word,
)
from .auto_spinbox import AutoSpinBox
from .rows import tight_box

__all__ = ["TrainOptions", "VAL_JOIN_WORDS"]

#: The widget's words for :attr:`~napari_seisseg.training.TrainConfig.val_join`.
VAL_JOIN_WORDS: dict[str, float | None] = {"auto": None, "never": 1.0, "after half": 0.5}


def _setting_box(name: str, **kwargs: Any) -> ComboBox:
    """A drop-down of the choices (or words) of a training setting, at its default."""
    return ComboBox(choices=list(setting_choices(name)),
                    value=setting_word(name, setting_default(name)), **kwargs)


class TrainOptions(Container):
    """Advanced training settings (hidden until "advanced options" is ticked).

    Parameters
    ----------
    image_layer : callable
        Returns the Image layer chosen in the Train widget (or None); the section-axes
        choices are named after its axes.
    """

    def __init__(self, image_layer: Callable[[], Any]):
        self._image_layer = image_layer
        model_controls = self._model_controls()
        run_controls = self._run_controls()
        self.init_from = ComboBox(label="start from", choices=self._init_choices,
                                  tooltip="A new model, or fine-tune a trained / loaded model "
                                          "on new or corrected labels (its architecture and "
                                          "classes are kept).")
        super().__init__(labels=True, widgets=[
            *model_controls, *run_controls, self._average_box(), self._augment_box(),
            self.init_from,
        ], tooltip="Advanced training settings.")
        self.visible = False

    def _model_controls(self) -> list:
        """Width, encoder, decoder output, patch and batch size."""
        self.model_width = AutoSpinBox(label="width", value=0, max=512,
                                       tooltip="Channels of the first stage; auto (0): the "
                                               "model's default (16 for unet2d/unet3d/hybrid, "
                                               "64 for resunet; 16-32 suit a CPU).")
        self.encoder = ComboBox(label="encoder", choices=["resnet18", "resnet34"],
                                value="resnet18",
                                tooltip="resunet: residual blocks of the encoder (resnet34 is "
                                        "deeper and about 1.6x slower).")
        self.output_stride = ComboBox(
            label="decoder output", value=1,
            choices=[("full resolution", 1), ("1/2, upsampled", 2), ("1/4, upsampled", 4)],
            tooltip="resunet: resolution the decoder stops at. 1/4 trains about 2x faster and "
                    "suits smooth bodies (salt); keep full resolution for thin classes (faults).")
        self.patch = AutoSpinBox(label="patch size", value=0, max=2048, step=8,
                                 tooltip="Edge of the training patches; auto (0): 128 for "
                                         "section models, whole tiles for stacks of small tiles "
                                         "(96 where they exceed 128), 64 for unet3d, capped "
                                         "at the data's size.")
        self.batch = AutoSpinBox(label="batch size", value=0, max=1024,
                                 tooltip="Patches per step; auto (0): 8 sections or 2 boxes on "
                                         "a CPU, fitted to memory on a GPU.")
        return [self.model_width, self.encoder, self.output_stride, self.patch, self.batch]

    def _run_controls(self) -> list:
        """Steps, learning rate, context, axes, seed, device, loss, position, held-out share.

        Choices and defaults of the settings :class:`~napari_seisseg.training.TrainConfig`
        has come from :mod:`napari_seisseg.train_settings`.
        """
        # shorter epochs than the command line's default: the curves update more often
        self.steps_per_epoch = SpinBox(label="steps per epoch", value=25, min=1, max=100_000,
                                       tooltip="Optimisation steps between two validations "
                                               "(each validation updates the curves and table).")
        self.lr = FloatSpinBox(label="learning rate", value=setting_default("lr"), min=1e-5,
                               max=1.0, step=1e-5,
                               tooltip="AdamW learning rate; lowered automatically on plateaus.")
        self.context = SpinBox(label="context", value=0, min=0, max=16,
                               tooltip="Section models: neighbouring slices on each side given "
                                       "as extra input (2.5D). 0 = the model's default: single "
                                       "sections, but 2 for hybrid (which model auto chooses "
                                       "for time-slice paint). unet3d ignores it.")
        self.axes = ComboBox(label="section axes", choices=self._axes_choices,
                             tooltip="Section models: take sections only along these axes "
                                     "(e.g. axis 0 alone for a stack of unrelated 2D images). "
                                     "All: every orientation that is painted.")
        self.circular_axis = ComboBox(
            label="wraps around", value=None,
            choices=[("nothing", None), ("section axis 0", 0), ("section axis 1", 1),
                     ("patch axis 2 (unet3d)", 2)],
            tooltip="Axis of the model's sections along which the images wrap around (the "
                    "azimuth of borehole images): the model pads circularly along it and "
                    "training rolls patches along it. Sections along axis 0 of a stack have the "
                    "stack's axes 1 and 2 as their axes 0 and 1.")
        self.seed = SpinBox(label="seed", value=setting_default("seed"), min=0, max=2**31 - 1,
                            tooltip="Seed of weights, patches, augmentation and the validation "
                                    "split (same seed, same run on a CPU).")
        self.device = _setting_box("device", label="device",
                                   tooltip="auto: CUDA GPU, then Apple MPS, then the CPU.")
        self.loss = _setting_box("loss", label="loss",
                                 tooltip="auto: BCE + Dice (one logit, tuned threshold) for two "
                                         "classes, cross-entropy + Dice for more. *_lovasz: the "
                                         "Lovasz extension of IoU instead of Dice; ce, bce: "
                                         "no region term.")
        self.position = _setting_box(
            "position", label="position along time",
            tooltip="Section models: give the network each pixel's position along time "
                    "(depth) as a second input channel, so layers that look alike at "
                    "different depths are told apart. auto: on when the traces are at least "
                    "twice as long as the patch.")
        return [self.steps_per_epoch, self.lr, self.context, self.axes, self.circular_axis,
                self.seed, self.device, self.loss, self.position, *self._validation_controls()]

    def _validation_controls(self) -> list:
        """The held-out share, the model kept and when validation joins training."""
        self.val_fraction = FloatSpinBox(label="held out", value=setting_default("val_fraction"),
                                         min=0.0, max=0.9, step=0.05,
                                         tooltip="Share held out for validation when no "
                                                 "validation layer is given: a band of every "
                                                 "painted section (fewer than 10 sections), "
                                                 "else whole sections.")
        self.keep = _setting_box(
            "keep", label="model kept",
            tooltip="best: the best validation score; last: the end of the run (validation "
                    "still reported, no early stop); auto: last when time slices are the "
                    "orientation painted most and validation is held out of them (it peaks too "
                    "early there) or validation joins training, else best.")
        self.val_join = ComboBox(
            label="validation joins training", choices=list(VAL_JOIN_WORDS), value="auto",
            tooltip="The paint held out for validation joins training for the end of the run, "
                    "so the last model learns from all of it; the validation shown is the one "
                    "measured just before. auto: after half the budget when the last model is "
                    "kept on time-slice paint (not mixed with other sections), else never. Not "
                    "in a run until stopped (no budget to take half of).")
        return [self.val_fraction, self.keep, self.val_join]

    def _average_box(self) -> Container:
        """The weight-averaging (EMA) box, on by default as in the configuration."""
        self.average = CheckBox(text="moving average of the weights (EMA)",
                                value=setting_default("ema") > 0,
                                tooltip="Validate and keep a moving average of the weights over "
                                        "about the last 100 steps: smoother curves and a better "
                                        "model for the same budget. Untick to keep the weights "
                                        "of the last step.")
        box = tight_box([self.average], self.average.tooltip, layout="vertical", label="weights")
        return box

    def _augment_box(self) -> Container:
        """The augmentation boxes."""
        self.aug_flip = CheckBox(text="flips", value=True,
                                 tooltip="Mirror patches along their axes.")
        self.aug_flip_time = CheckBox(text="flips along time (upside down)", value=True,
                                      tooltip="Include the time/depth axis in the flips. Untick "
                                              "when up and down matter (salt under sediment, "
                                              "faults dipping one way).")
        self.aug_rotate = CheckBox(text="rotations / transposes", value=False,
                                   tooltip="Rotate by 90° and swap in-plane axes (for images "
                                           "without a preferred vertical direction).")
        self.aug_gain = CheckBox(text="gain and noise", value=True,
                                 tooltip="Random amplitude gain (±20%) and 3% Gaussian noise.")
        self.aug_polarity = CheckBox(text="polarity flips", value=False,
                                     tooltip="Flip the sign of the amplitudes half of the time.")
        self.aug_elastic = CheckBox(text="elastic distortion", value=False,
                                    tooltip="Mild smooth random deformation (up to 2 voxels, "
                                            "30% of the patches; slower).")
        self.aug_zoom = CheckBox(text="zoom and small rotations", value=False,
                                 tooltip="Zoom by up to ±15% and rotate by up to ±5° half of "
                                         "the patches (bodies and dips of many sizes; slower).")
        self.aug_maps = CheckBox(text="time slices at any azimuth", value=False,
                                 tooltip="Turn time-slice patches by any angle half of the time "
                                         "(a map has no up): channels of every direction. A "
                                         "fault of one strike may be found less well.")
        box = tight_box([self.aug_flip, self.aug_flip_time, self.aug_rotate, self.aug_gain,
                         self.aug_polarity, self.aug_elastic, self.aug_zoom, self.aug_maps],
                        "Random changes applied to training patches only.",
                        layout="vertical", label="augmentation")
        return box

    # ------------------------------------------------------------------ choices
    def _axes_choices(self, _widget=None) -> list:
        layer = self._image_layer()
        ndim = layer.ndim if layer is not None else 3
        names = list(layer.axis_labels) if layer is not None else [f"axis {i}" for i in range(3)]
        choices: list = [("all painted orientations", None)]
        for i in range(ndim):
            choices.append((f"{names[i]} (axis {i})", (i,)))
        if ndim == 3:
            for a, b in ((0, 1), (0, 2), (1, 2)):
                choices.append((f"{names[a]} + {names[b]}", (a, b)))
        return choices

    def _init_choices(self, _widget=None) -> list:
        return [("new model", None)] + [(name, name) for name in MODEL_STORE.names()]

    def refresh_init_choices(self) -> None:
        """Offer the models now in the session's store for fine-tuning."""
        try:
            self.init_from.reset_choices()
        except RuntimeError:  # the widget was deleted
            pass

    def set_model(self, model: str) -> None:
        """Enable the options that apply to ``model`` (encoder, decoder output: resunet)."""
        resunet = model == "resunet"
        for w in (self.encoder, self.output_stride):
            w.enabled = resunet

    # ------------------------------------------------------------------ settings
    def model_kwargs(self, model: str) -> dict[str, Any]:
        """Architecture options of ``model`` the controls set (defaults left out)."""
        kwargs: dict[str, Any] = {}
        if self.model_width.value:
            kwargs["width"] = int(self.model_width.value)
        if self.context.value and model != "unet3d":
            kwargs["context"] = int(self.context.value)
        if self.circular_axis.value is not None:
            kwargs["circular_axis"] = int(self.circular_axis.value)
        if model == "resunet":
            kwargs["encoder"] = self.encoder.value
            if self.output_stride.value != 1:
                kwargs["output_stride"] = int(self.output_stride.value)
        return kwargs

    def augment(self):
        """The :class:`~napari_seisseg.training.AugmentConfig` the augmentation boxes describe."""
        from ..training import AugmentConfig

        extras = [name for name, box in (("rotate90", self.aug_rotate),
                                         ("polarity", self.aug_polarity),
                                         ("elastic", self.aug_elastic),
                                         ("zoom", self.aug_zoom),
                                         ("maps", self.aug_maps)) if box.value]
        base = AugmentConfig(flip=bool(self.aug_flip.value),
                             flip_time=bool(self.aug_flip_time.value),
                             roll_axis=self.circular_axis.value)
        if not self.aug_gain.value:
            base.gain = base.noise = 0.0
        return base.with_extras(extras)

    def config_kwargs(self, model: str) -> dict[str, Any]:
        """:class:`~napari_seisseg.training.TrainConfig` arguments of these options."""
        return {
            "model_kwargs": self.model_kwargs(model),
            "patch_size": int(self.patch.value) or None,
            "batch_size": int(self.batch.value) or None,
            "steps_per_epoch": int(self.steps_per_epoch.value),
            "lr": float(self.lr.value),
            "ema": setting_default("ema") if self.average.value else 0.0,
            "seed": int(self.seed.value),
            "device": self.device.value,
            "loss": self.loss.value,
            "axes": self.axes.value,
            "val_fraction": float(self.val_fraction.value),
            "position": POSITION_CHOICES[self.position.value],
            "keep": KEEP_CHOICES[self.keep.value],
            "val_join": VAL_JOIN_WORDS[self.val_join.value],
            "augment": self.augment(),
        }
