"""The training settings the command line and the Train widget offer: written once, torch-free.

Each :class:`Setting` holds the default, the choices (or the words a form shows for its
values) and the help text of one :class:`~napari_seisseg.training.TrainConfig` field:
:class:`~napari_seisseg.training.TrainConfig` takes its defaults from here
(:func:`train_field`), ``seisseg train`` / ``seisseg pretrain`` / ``seisseg predict`` build
their options from it (:func:`cli_option`) and the Train widget its controls
(:func:`setting_choices`, :func:`setting_default`).  It imports nothing heavy (the training
package imports torch), so the command line starts fast.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import Field, dataclass, field
from typing import Any

__all__ = [
    "CLASS_WEIGHT_CHOICES",
    "DEVICES",
    "KEEP_CHOICES",
    "LOSSES",
    "LR_SCHEDULES",
    "MODEL_CHOICES",
    "POSITION_CHOICES",
    "PRECISION_CHOICES",
    "TRAIN_SETTINGS",
    "Setting",
    "cli_option",
    "setting_choices",
    "setting_default",
    "setting_word",
    "train_field",
]

#: ``"auto"`` (chosen for the task, :mod:`napari_seisseg.training.recipe`) and the
#: architectures of the model registry (:data:`napari_seisseg.models.MODELS`, in its order;
#: a test keeps them equal: the registry imports torch).
MODEL_CHOICES = ("auto", "unet2d", "unet3d", "hybrid", "resunet")
LOSSES = ("auto", "ce_dice", "bce_dice", "ce_lovasz", "bce_lovasz", "ce", "bce")
DEVICES = ("auto", "cpu", "cuda", "mps")
LR_SCHEDULES = ("plateau", "cosine")
#: The CLI's and the widget's words for :attr:`TrainConfig.position`.
POSITION_CHOICES: dict[str, bool | None] = {"auto": None, "on": True, "off": False}
#: The CLI's words (``--precision``) for :attr:`TrainConfig.amp`.
PRECISION_CHOICES: dict[str, bool | None] = {"auto": None, "fp32": False, "mixed": True}
#: The CLI's words (``--keep``) for :attr:`TrainConfig.keep`.
KEEP_CHOICES: dict[str, str | None] = {"auto": None, "best": "best", "last": "last"}
#: The CLI's words (``--class-weights``) for :attr:`TrainConfig.class_weights`.
CLASS_WEIGHT_CHOICES: dict[str, str | None] = {"none": None, "auto": "auto"}


@dataclass(frozen=True)
class Setting:
    """One training setting as forms offer it.

    Attributes
    ----------
    default : object
        The :class:`~napari_seisseg.training.TrainConfig` default.
    choices : tuple of str
        The values it takes (empty: free).
    words : mapping, optional
        The words forms show, mapped to the values (``{"auto": None, "on": True}``).
    help : str
        The command line's help text.
    """

    default: Any
    choices: tuple[str, ...] = ()
    words: Mapping[str, Any] | None = None
    help: str = ""


#: The settings of :class:`~napari_seisseg.training.TrainConfig` that forms offer, by field.
TRAIN_SETTINGS: dict[str, Setting] = {
    "model": Setting(
        "auto", choices=MODEL_CHOICES,
        help=("architecture (default auto: unet2d on the sections of a survey; hybrid with 2 "
              "slices above and below when time slices are the orientation painted most; for a stack of "
              "small unrelated tiles (--axes 0), resunet with the recipe tuned on TGS salt "
              "tiles; the choice is printed. With --init: its model)")),
    "epochs": Setting(
        30,
        help="number of epochs (default 30, with early stopping)"),
    "minutes": Setting(
        None,
        help="wall-clock budget in minutes (the model --keep names is kept)"),
    "steps_per_epoch": Setting(
        100,
        help="optimisation steps between two validations (default 100)"),
    "lr": Setting(
        1e-3,
        help="learning rate (default 1e-3)"),
    "lr_schedule": Setting(
        "plateau", choices=LR_SCHEDULES,
        help=("plateau (default): halve the rate when validation stops improving; cosine: warm "
              "up, then decay to lr/100 over the budget")),
    "early_stopping": Setting(
        10,
        help=("stop after N epochs without a better validation score (with --minutes: after "
              "half of the budget without one; never while the model predicts a single class; "
              "0: never)")),
    "keep": Setting(
        None, words=KEEP_CHOICES,
        help=("the model a run keeps: best (the best validation score), last (the end of the "
              "run; its validation is still reported, and the run never stops early), auto "
              "(default): last when time slices are the orientation painted most and "
              "validation is held out of them (it peaks before the model finds the classes at "
              "other times) or --val-join is below 1; else best")),
    "ema": Setting(
        0.99,
        help=("keep an exponential moving average of the weights with this decay, and validate "
              "and keep the average (default 0.99: about the last 100 steps; 0: the weights of "
              "the last step)")),
    "seed": Setting(
        0,
        help="seed of every random choice (default 0)"),
    "device": Setting(
        "auto", choices=DEVICES,
        help="auto: CUDA, then Apple MPS, then the CPU"),
    "amp": Setting(
        None, words=PRECISION_CHOICES,
        help=("auto: mixed precision on CUDA and on CPUs with native bf16 (about twice as "
              "fast), float32 elsewhere; fp32: always float32; mixed: bf16/fp16 autocast where "
              "the device has it")),
    "loss": Setting(
        "auto", choices=LOSSES,
        help=("auto: BCE + Dice for two classes, CE + Dice for more; *_lovasz: the Lovasz "
              "extension of IoU instead of Dice; ce, bce: no region term")),
    "class_weights": Setting(
        "auto", words=CLASS_WEIGHT_CHOICES,
        help=("auto (default): weight classes by 1/sqrt(frequency), so rare classes such as "
              "faults are not drowned by the background; none: equal weights")),
    "zero_is_background": Setting(
        False,
        help="label 0 is a class (dense masks made elsewhere): nothing is ignored"),
    "axes": Setting(
        None,
        help=("section models: take sections only along these axes of the input (canonical "
              "inline, crossline, sample order for SEG-Y and files with geometry), e.g. 0 for a"
              " stack of unrelated 2D images")),
    "val_fraction": Setting(
        0.2,
        help=("share held out for validation without --val-labels: of every painted section's "
              "extent (a band across its traces) when fewer than 10 are painted, else of the "
              "sections (default 0.2; 0 for none)")),
    "val_join": Setting(
        None,
        help=("share of the budget after which the paint held out for validation (bands and "
              "the gaps beside them, or whole sections) joins training; the validation reported "
              "is the one measured just before (auto: 0.5 when the paint is on time slices, not "
              "mixed with other sections, and the last model is kept; 1: never; below 1 keeps "
              "the last model)")),
    "position": Setting(
        None, words=POSITION_CHOICES,
        help=("section models: give the network each pixel's position along time/depth as a "
              "second channel, so look-alike layers at different depths are told apart (auto: "
              "on when traces are at least twice the patch; off for stacks of unrelated tiles)")),
    "pretrained": Setting(
        "auto",
        help=("start from a self-supervised pretraining ('seisseg pretrain'): auto (default) "
              "uses this survey's cached one for the same model settings when it exists; none "
              "never; or a file written by 'seisseg pretrain --out'")),
    "run_dir": Setting(
        None,
        help="folder for config.json, metrics.csv (one row per epoch) and a copy of the bundle"),
    "checkpoint_minutes": Setting(
        5.0,
        help=("every M minutes of training, write the best model so far to the model store's "
              "checkpoints folder; a killed run leaves it and the next training on the cube "
              "offers it (removed when the run ends; 0: never; default 5)")),
}


def train_field(name: str) -> Field:
    """The dataclass field of the setting ``name``: its default, with the setting as metadata."""
    return field(default=TRAIN_SETTINGS[name].default, metadata={"setting": TRAIN_SETTINGS[name]})


def setting_default(name: str) -> Any:
    """The default of the training setting ``name`` (``"loss"`` -> ``"auto"``)."""
    return TRAIN_SETTINGS[name].default


def setting_choices(name: str) -> tuple[str, ...]:
    """The choices of the training setting ``name`` as forms show them (words, else values).

    Parameters
    ----------
    name : str
        A setting with choices (``"device"``, ``"loss"``) or words (``"position"``: the keys
        of :data:`POSITION_CHOICES`).

    Returns
    -------
    tuple of str
        Empty for a free setting.
    """
    setting = TRAIN_SETTINGS[name]
    return tuple(setting.words) if setting.words else setting.choices


def setting_word(name: str, value: Any) -> Any:
    """The word (:func:`setting_choices`) for ``value`` of the setting ``name``; the value itself
    for a setting without words."""
    words = TRAIN_SETTINGS[name].words
    if not words:
        return value
    return next(w for w, v in words.items() if v == value and type(v) is type(value))


def cli_option(name: str, **overrides: Any) -> dict[str, Any]:
    """``argparse`` keywords (default, choices, help) of the training setting ``name``.

    A setting with words (``position``, ``amp``, ``class_weights``) is offered by its words,
    its default as the word for the field's default; map the parsed word back with the
    setting's words (:data:`POSITION_CHOICES`, ...).

    Parameters
    ----------
    name : str
        A key of :data:`TRAIN_SETTINGS`.
    **overrides
        Keywords that replace the derived ones (``default=None`` where the command line tells
        "not given" apart) or add to them.

    Returns
    -------
    dict
        Keywords for ``add_argument``.
    """
    setting = TRAIN_SETTINGS[name]
    option: dict[str, Any] = {"default": setting_word(name, setting.default)}
    if setting_choices(name):
        option["choices"] = setting_choices(name)
    if setting.help:
        option["help"] = setting.help
    return {**option, **overrides}
