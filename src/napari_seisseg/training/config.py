"""Training settings: one dataclass, checked up front, JSON round-trippable.

:class:`TrainConfig` is what the widget's form, the ``seisseg train`` options and Python
callers fill in.  :meth:`TrainConfig.validate` turns every bad value into a
:class:`~napari_seisseg.errors.SeisSegError` that names the setting and a valid choice, so
nothing fails half-way through a run because of a typo.  The defaults, choices and help of
the settings forms offer are written once, in :mod:`napari_seisseg.train_settings` (which
the command line reads without importing torch); the fields take them with
:func:`~napari_seisseg.train_settings.train_field`.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from ..errors import SeisSegError
from ..train_settings import LR_SCHEDULES, setting_choices, train_field

__all__ = ["AugmentConfig", "TrainConfig", "DEFAULT_PATCH"]

#: Default patch edge by model input dimensionality.
DEFAULT_PATCH = {2: 128, 3: 64}

#: Largest rotation of time-slice patches with the ``maps`` extra (with the quarter turns
#: of ``map_view``, every azimuth).
MAP_ROTATE = 45.0

#: Augmentations beyond the default flips, gain and noise, by the name the CLI's
#: ``--augment`` and the Train widget's boxes use, with the :class:`AugmentConfig` fields
#: each one sets.
AUGMENT_EXTRAS: dict[str, dict[str, Any]] = {
    "rotate90": {"rotate90": True, "transpose": True},
    "polarity": {"polarity": 0.5},
    "elastic": {"elastic": 2.0},
    "zoom": {"scale": 0.15, "rotate": 5.0},
    "maps": {"map_rotate": MAP_ROTATE},
    "copypaste": {"copy_paste": 0.5},
}


@dataclass
class AugmentConfig:
    """Random changes applied to every training patch (never to validation patches).

    Parameters
    ----------
    flip : bool
        Mirror along every patch axis (and the slice order of a 2.5D / slab context), each
        with probability 1/2.
    flip_time : bool
        Whether flips include the time (depth) axis.  Geology is not symmetric in time
        (salt lies under sediment, faults dip one way with depth); False keeps flips
        horizontal.
    rotate90 : bool
        Rotate by a random multiple of 90 degrees in the patch plane (2D) or in the plane of
        the first two axes (3D: inline x crossline, the sample axis being last); only where
        the patch is square in those axes.
    transpose : bool
        Swap the two in-plane axes with probability 1/2 (same squareness rule).
    roll_axis : int or None
        Patch axis (0 = first spatial axis) to roll by a random shift, for images that wrap
        around (borehole images); None for no rolling.
    map_view : bool
        Time slices (section patches whose plane holds no time axis) are also turned by a
        random multiple of 90 degrees and transposed half of the time: a map has no up.
        Sections holding time are never turned by it.
    gain : float
        Amplitudes multiplied by ``exp(u)``, ``u`` uniform in ``[-gain, gain]``; 0 for none.
    polarity : float
        Probability of flipping the sign of the amplitudes.
    noise : float
        Standard deviation of added Gaussian noise (the input is standardised, so 0.05 is 5%
        of its typical amplitude); 0 for none.
    scale : float
        Random zoom about the patch centre by a factor between ``1 - scale`` and
        ``1 + scale`` (log-uniform); 0 for none.  Bodies and reflectors come in many sizes;
        0.15 is a mild change.
    rotate : float
        Largest random in-plane rotation, in degrees (plane of the first two patch axes, as
        for ``rotate90``); 0 for none.  A few degrees vary dips without turning the image
        over.
    map_rotate : float
        Largest random rotation, in degrees, of a time-slice patch (a map; only with
        ``map_view`` on), used there in place of ``rotate`` when larger; with the quarter
        turns of ``map_view`` (square patches only), 45 reaches every azimuth.  0 for none.
    affine_p : float
        Probability of applying the zoom and rotation to a patch.
    elastic : float
        Largest displacement, in voxels, of a smooth random distortion; 0 for none.
    elastic_p : float
        Probability of applying the distortion to a patch.
    copy_paste : float
        Probability that a patch of a batch gets the painted voxels of the classes painted
        as a few bodies pasted in from another patch (:mod:`~.copy_paste`); 0 for none.
    """

    flip: bool = True
    flip_time: bool = True
    rotate90: bool = False
    transpose: bool = False
    roll_axis: int | None = None
    map_view: bool = True
    gain: float = 0.2
    polarity: float = 0.0
    noise: float = 0.03
    scale: float = 0.0
    rotate: float = 0.0
    map_rotate: float = 0.0
    affine_p: float = 0.5
    elastic: float = 0.0
    elastic_p: float = 0.3
    copy_paste: float = 0.0

    def validate(self) -> None:
        """Raise :class:`SeisSegError` for a value outside its range."""
        for name in ("gain", "noise", "elastic", "rotate", "map_rotate"):
            if not float(getattr(self, name)) >= 0:
                raise SeisSegError(f"augment.{name} must be 0 or more, got {getattr(self, name)}.")
        if not 0.0 <= float(self.scale) < 1.0:
            raise SeisSegError(f"augment.scale is a share of the size (0 to below 1), got "
                               f"{self.scale}; 0.15 is a mild zoom.")
        for name in ("polarity", "elastic_p", "affine_p", "copy_paste"):
            v = float(getattr(self, name))
            if not 0.0 <= v <= 1.0:
                raise SeisSegError(f"augment.{name} is a probability (0 to 1), got {v}.")
        if self.roll_axis is not None and int(self.roll_axis) not in (0, 1, 2):
            raise SeisSegError(f"augment.roll_axis must be 0, 1, 2 or None, got {self.roll_axis}.")

    @classmethod
    def none(cls) -> AugmentConfig:
        """Settings that change nothing (for tests and for checking a pipeline)."""
        return cls(flip=False, gain=0.0, polarity=0.0, noise=0.0, elastic=0.0, map_view=False)

    def with_extras(self, names: Sequence[str]) -> AugmentConfig:
        """A copy with the named extra augmentations (:data:`AUGMENT_EXTRAS`) turned on.

        Parameters
        ----------
        names : sequence of str
            Any of ``rotate90`` (90° rotations and transposes, for images without a
            preferred vertical direction), ``polarity`` (sign flips half of the time),
            ``elastic`` (smooth distortion of up to 2 voxels on 30% of the patches),
            ``zoom`` (zoom by up to ±15% and rotation by up to ±5° on half of them) and
            ``maps`` (time-slice patches turned by up to ±45° on half of them, so with the
            quarter turns of ``map_view`` to any azimuth) and ``copypaste`` (the painted
            voxels of classes painted as a few bodies pasted into other patches).

        Raises
        ------
        SeisSegError
            For a name that is not one of them.
        """
        changes: dict[str, Any] = {}
        for name in names:
            key = str(name).strip().lower()
            if key not in AUGMENT_EXTRAS:
                raise SeisSegError(f"Unknown augmentation {name!r}; choose from "
                                   f"{', '.join(AUGMENT_EXTRAS)}.")
            changes.update(AUGMENT_EXTRAS[key])
        return replace(self, **changes)



@dataclass
class TrainConfig:
    """Everything that defines a training run.

    Parameters
    ----------
    model : str
        Architecture: ``"auto"`` (default: chosen for the kind of task and said in a note,
        see :mod:`.recipe`), ``"unet2d"``, ``"unet3d"``, ``"hybrid"`` or ``"resunet"``.
    model_kwargs : dict
        Architecture options passed to ``create_model`` (``width``, ``depth``, ``context``...).
    patch_size : int, tuple of int or None
        Patch edge (or per-axis sizes).  None: 128 for section models, 64 for 3D models.
        Patches never exceed the data: a smaller cube or section gives smaller patches
        (sections are padded to a common size and the padding is not labeled).
    batch_size : int or None
        Patches per step.  None: 8 (2D) / 2 (3D) on CPU; on CUDA the largest size that fits
        in memory (up to 4x that).  On CUDA the batch is halved after an out-of-memory error.
    epochs : int or None
        Maximum number of epochs (None: only ``minutes`` limits the run).
    minutes : float or None
        Wall-clock budget; the run ends (keeping the model ``keep`` names) when it is spent.
    steps_per_epoch : int
        Optimisation steps between two validations.
    lr, weight_decay : float
        AdamW learning rate and weight decay.
    lr_schedule : {"plateau", "cosine"}
        ``"plateau"``: the rate is multiplied by ``lr_factor`` after ``lr_patience`` epochs
        without improvement.  ``"cosine"``: a short linear warm-up (the first 3% of the
        budget), then cosine decay from ``lr`` to ``lr / 100`` over the whole budget
        (``minutes`` or ``epochs``, whichever ends first): the usual choice for a fixed budget.
    lr_patience, lr_factor : int, float
        ReduceLROnPlateau: epochs without improvement before the rate is multiplied by
        ``lr_factor``.
    ema : float
        Decay of an exponential moving average of the weights (default 0.99: about the last
        100 steps); the average is what is validated and kept.  It smooths the validation
        curve and gives a better kept model for the same budget.  0: off, the weights of
        the last step are used.
    keep : {None, "best", "last"}
        The model the run keeps: the best by validation, or the last (validation still
        scored and reported until the held-out paint joins training, ``val_join``; no early
        stopping).  None (auto): ``"last"`` when time slices are the orientation painted
        most and validation is held out of them
        (:func:`~.time_slices.time_slice_defaults`) or ``val_join`` is below 1, else
        ``"best"``; the run's card records which.
    early_stopping : int or None
        Stop after this many epochs without a better validation score (None or 0: never).
        With a time budget (``minutes``), patience is half of the budget instead; a
        model that predicts a single class never ends a run early.
    seed : int
        Seed of every random choice (weights, patches, augmentation, validation split).
    device : {"auto", "cpu", "cuda", "mps"}
        Where to train; ``"auto"`` takes CUDA, then Apple MPS, then the CPU.
    amp : bool or None
        Mixed precision (bf16 where supported, else fp16 with gradient scaling on CUDA).
        None: on for CUDA and for CPUs with native bf16 (about twice as fast there), off
        elsewhere; False: float32 everywhere.
    loss : {"auto", "ce_dice", "bce_dice", "ce_lovasz", "bce_lovasz", "ce", "bce"}
        ``auto``: ``bce_dice`` (one logit, tuned threshold) for two classes, ``ce_dice``
        otherwise.  ``*_lovasz`` replace the Dice term by the Lovasz extension of IoU;
        ``ce`` and ``bce`` have no region term.
    dice_weight : float
        Weight of the region term (Dice or Lovasz).
    dice_ramp_epochs : int
        BCE-then-Dice schedule: the Dice weight grows linearly from 0 to ``dice_weight`` over
        this many epochs (0: constant).
    class_weights : None, "auto", list of float or dict
        Per-class weights of the cross-entropy term: one per class in label-value order, a
        ``{label value: weight}`` dict, or ``"auto"`` (the default: inverse square root of
        the labeled frequency, so a class painted on 1 % of the voxels weighs about 10 times
        a class on 100 %; all ones when the classes are balanced).
    pos_weight : float, "auto" or None
        Binary tasks: weight of the positive-class term of the BCE (``"auto"``:
        square root of negatives / positives).
    aux_weight : float
        Total weight of the deep-supervision outputs (models that have them).
    zero_is_background : bool
        Label 0 is a class (dense masks made elsewhere); nothing is ignored.
    axes : tuple of int or None
        Section models: sections are taken only along these axes of the input array (e.g.
        ``(0,)`` for a stack of unrelated 2D images).  None: every axis.
    val_fraction : float
        Share of the labeled sections held out for validation (0: no validation).
    val_join : float or None
        Share of the budget (``minutes`` or ``epochs``) after which the paint an automatic
        split held out (bands and the gaps beside them, or whole sections) joins training;
        the validation scores reported are those measured just before (labelled so).  None
        (auto): 0.5 (:data:`~.time_slices.VAL_JOIN`) when the last model is kept on
        time-slice paint, not mixed paint (:func:`~.time_slices.time_slice_defaults`), else
        1 (never).  Below 1 the last model is kept (``keep`` auto or ``"last"``; a binary
        model keeps the threshold tuned on that last validation).  Validation labels the
        user gave never join, nor does a run until stopped (no budget).
    max_val_windows : int
        Cap on the number of validation patches evaluated each epoch.
    augment : AugmentConfig
        Augmentation settings.
    pad_mode : {"reflect", "zeros"}
        How sections smaller than the patch are padded (padding is never labeled).
    position : bool or None
        Section models (``unet2d``, ``resunet``): give the network the position of every
        pixel along time/depth as a second input channel (:mod:`napari_seisseg.bundle.position`), so layers that
        look alike at different depths are told apart.  None (auto): on when the traces are
        at least twice as long as the patch (a patch cannot see where it sits), the
        augmentation keeps time vertical (no ``rotate90``/``transpose``) and most labels are
        not on time slices (a time slice has one position: the channel would only teach
        which class sits at the few painted times); off for stacks of unrelated tiles
        (``axes`` = (0,) with traces shorter than that).
    pretrained : str or None
        Section models: start from a self-supervised pretraining of the same network
        (:mod:`.pretrain`).  ``"auto"`` (default): this survey's cached pretraining for this
        architecture when one exists (none: a fresh start, said in a note); a path: that
        file (refused when it was made for another architecture); None: never.
    run_dir : str or None
        Folder for ``config.json``, ``metrics.csv`` and the final bundle of this run.
    checkpoint_minutes : float or None
        Write the kept model to the model store's ``checkpoints`` folder after this many
        minutes of training when it changed (:mod:`.checkpoint`), so a killed run can be
        resumed; the checkpoint is removed when the run ends.  None or 0: never.
    """

    model: str = train_field("model")
    model_kwargs: dict[str, Any] = field(default_factory=dict)
    patch_size: int | tuple[int, ...] | None = None
    batch_size: int | None = None
    epochs: int | None = train_field("epochs")
    minutes: float | None = train_field("minutes")
    steps_per_epoch: int = train_field("steps_per_epoch")
    lr: float = train_field("lr")
    weight_decay: float = 1e-4
    lr_schedule: str = train_field("lr_schedule")
    lr_patience: int = 3
    lr_factor: float = 0.5
    early_stopping: int | None = train_field("early_stopping")
    keep: str | None = train_field("keep")
    ema: float = train_field("ema")
    seed: int = train_field("seed")
    device: str = train_field("device")
    amp: bool | None = train_field("amp")
    loss: str = train_field("loss")
    dice_weight: float = 1.0
    dice_ramp_epochs: int = 0
    class_weights: Any = train_field("class_weights")
    pos_weight: float | str | None = None
    aux_weight: float = 0.4
    zero_is_background: bool = train_field("zero_is_background")
    axes: tuple[int, ...] | None = train_field("axes")
    val_fraction: float = train_field("val_fraction")
    val_join: float | None = train_field("val_join")
    max_val_windows: int = 48
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    pad_mode: str = "reflect"
    position: bool | None = train_field("position")
    pretrained: str | None = train_field("pretrained")
    run_dir: str | None = train_field("run_dir")
    checkpoint_minutes: float | None = train_field("checkpoint_minutes")

    def __post_init__(self) -> None:
        if isinstance(self.augment, Mapping):
            self.augment = AugmentConfig(**self.augment)
        if self.axes is not None:
            axes = (self.axes,) if isinstance(self.axes, int) else self.axes
            self.axes = tuple(int(a) for a in axes)
        if isinstance(self.patch_size, Sequence) and not isinstance(self.patch_size, str):
            self.patch_size = tuple(int(p) for p in self.patch_size)
        self.model_kwargs = dict(self.model_kwargs or {})

    # ------------------------------------------------------------------ checks
    def validate(self, *, until_stopped: bool = False) -> None:
        """Raise :class:`SeisSegError` naming the first invalid setting and a valid choice.

        ``until_stopped``: a run that ends when stopped (live training) needs no budget.
        """
        if not isinstance(self.model, str) or not self.model:
            raise SeisSegError("model must be a model name such as 'unet2d'.")
        self._check_budget(until_stopped)
        self._check_optimisation()
        self._check_choices()
        self._check_data()
        self.augment.validate()

    def _check_budget(self, until_stopped: bool = False) -> None:
        """Steps, batch, epochs, minutes, checkpoints and patch size."""
        _positive_int("steps_per_epoch", self.steps_per_epoch)
        _positive_int("max_val_windows", self.max_val_windows)
        if self.batch_size is not None:
            _positive_int("batch_size", self.batch_size)
        if self.epochs is not None:
            _positive_int("epochs", self.epochs)
        if self.checkpoint_minutes is not None and not float(self.checkpoint_minutes) >= 0:
            raise SeisSegError(
                f"checkpoint_minutes must be 0 (never) or positive, got {self.checkpoint_minutes}."
            )
        if self.minutes is not None and not float(self.minutes) > 0:
            raise SeisSegError(f"minutes must be positive, got {self.minutes}.")
        if self.epochs is None and self.minutes is None:
            if not until_stopped:
                raise SeisSegError("Give a budget: epochs, minutes, or both.")
            if self.lr_schedule == "cosine":
                raise SeisSegError("The cosine schedule decays over a budget; a run until "
                                   "stopped needs the plateau schedule (or give a budget).")
        if self.patch_size is not None:
            sizes = self.patch_size if isinstance(self.patch_size, tuple) else (self.patch_size,)
            if not 1 <= len(sizes) <= 3 or any(int(p) < 4 for p in sizes):
                raise SeisSegError(
                    f"patch_size must be an edge of at least 4 (or 2-3 such sizes), got "
                    f"{self.patch_size}. Try 128 for section models or 64 for 3D models."
                )

    def _check_optimisation(self) -> None:
        """Learning rate and its schedule, loss weights, weight averaging, early stopping."""
        for name in ("lr", "lr_factor"):
            if not float(getattr(self, name)) > 0:
                raise SeisSegError(f"{name} must be positive, got {getattr(self, name)}.")
        if float(self.lr_factor) >= 1:
            raise SeisSegError(f"lr_factor must be below 1 (e.g. 0.5), got {self.lr_factor}.")
        for name in ("weight_decay", "dice_weight", "aux_weight"):
            if not float(getattr(self, name)) >= 0:
                raise SeisSegError(f"{name} must be 0 or more, got {getattr(self, name)}.")
        if self.lr_schedule not in LR_SCHEDULES:
            raise SeisSegError(
                f"lr_schedule must be 'plateau' or 'cosine', got {self.lr_schedule!r}."
            )
        if int(self.dice_ramp_epochs) < 0 or int(self.lr_patience) < 0:
            raise SeisSegError("dice_ramp_epochs and lr_patience must be 0 or more.")
        if not 0.0 <= float(self.ema) < 1.0:
            raise SeisSegError(
                f"ema must be at least 0 (off) and below 1 (e.g. 0.99), got {self.ema}."
            )
        if self.early_stopping is not None and int(self.early_stopping) < 0:
            raise SeisSegError(f"early_stopping must be 0 or more, got {self.early_stopping}.")
        if self.keep not in (None, "best", "last"):
            raise SeisSegError(f"keep must be 'best', 'last' or None (auto), got {self.keep!r}.")

    def _check_choices(self) -> None:
        """Settings that take one of a few values: device, loss, position, pad mode, weights."""
        for name in ("device", "loss"):
            choices = setting_choices(name)
            if getattr(self, name) not in choices:
                raise SeisSegError(f"{name} must be one of {', '.join(choices)}, "
                                   f"got {getattr(self, name)!r}.")
        if self.position is not None and not isinstance(self.position, bool):
            raise SeisSegError(
                f"position must be True, False or None (auto), got {self.position!r}."
            )
        if self.pad_mode not in ("reflect", "zeros"):
            raise SeisSegError(f"pad_mode must be 'reflect' or 'zeros', got {self.pad_mode!r}.")
        if isinstance(self.class_weights, str) and self.class_weights != "auto":
            raise SeisSegError("class_weights must be None, 'auto', a list or a dict.")
        if isinstance(self.pos_weight, str) and self.pos_weight != "auto":
            raise SeisSegError("pos_weight must be None, 'auto' or a positive number.")
        if isinstance(self.pos_weight, (int, float)) and not self.pos_weight > 0:
            raise SeisSegError(f"pos_weight must be positive, got {self.pos_weight}.")

    def _check_data(self) -> None:
        """The validation share and the section axes."""
        if not 0.0 <= float(self.val_fraction) < 1.0:
            raise SeisSegError(
                f"val_fraction must be at least 0 and below 1 (e.g. 0.2), got {self.val_fraction}."
            )
        if self.val_join is not None and not 0.0 < float(self.val_join) <= 1.0:
            raise SeisSegError(
                f"val_join must be above 0 and at most 1 (e.g. 0.5; 1: never), got {self.val_join}."
            )
        if self.val_join is not None and self.val_join < 1 and self.keep == "best":
            raise SeisSegError(
                "val_join below 1 keeps the last model (once the held-out paint joins "
                "training nothing is left to choose the best by): use keep 'last' or auto (--keep "
                "last or auto), or val_join 1 (--val-join 1)."
            )
        if self.axes is not None and (not self.axes or any(a not in (0, 1, 2) for a in self.axes)):
            raise SeisSegError(f"axes must hold axis numbers 0, 1 or 2, got {self.axes}.")

    # ------------------------------------------------------------------ JSON
    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dictionary (tuples become lists)."""
        d = asdict(self)
        for k, v in d.items():
            if isinstance(v, tuple):
                d[k] = list(v)
        if isinstance(self.class_weights, Mapping):
            d["class_weights"] = {str(k): float(v) for k, v in self.class_weights.items()}
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> TrainConfig:
        """Rebuild from :meth:`to_dict` output; unknown keys raise :class:`SeisSegError`."""
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise SeisSegError(
                f"Unknown training setting(s): {', '.join(unknown)}. Valid: {', '.join(sorted(names))}."
            )
        d = dict(d)
        if isinstance(d.get("class_weights"), Mapping):
            d["class_weights"] = {int(k): float(v) for k, v in d["class_weights"].items()}
        return cls(**d)


def _positive_int(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise SeisSegError(f"{name} must be a whole number of at least 1, got {value!r}.")
