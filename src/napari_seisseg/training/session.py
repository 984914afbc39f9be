"""Everything a training run needs, built and checked before the first step.

:func:`build_session` turns the inputs of :func:`~napari_seisseg.training.loop.train` into
a :class:`Session`: the prepared data and validation split, the model (fresh or from a
bundle being fine-tuned), patch layout, normaliser, sampler, validation windows, loss,
device, precision and batch size.  All user errors surface here, before training starts.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass, field, fields, replace
from typing import Any

import numpy as np
import torch

from ..bundle.card import model_kind
from ..bundle.classes import ClassInfo
from ..bundle.normalize import Normalizer, fit_normalizer
from ..bundle.storage import load_bundle
from ..device import AmpSettings, amp_settings, autocast, is_oom, resolve_device
from ..errors import SeisSegError
from ..io.geometry import SurveyGeometry
from .augment import Augmenter, context_axis
from .config import TrainConfig
from .copy_paste import classes_to_paste
from .data import TrainingData, prepare_data, split_data
from .labels import value_counts
from .losses import SegmentationLoss, loss_weights, region_term
from .patch_sampler import PatchSampler
from .patches import PatchLayout, inplane_axes, make_layout
from .recipe import hybrid_fits, is_tile_stack, resolve_model
from .report import few_body_classes, few_body_texts, few_voxel_warnings
from .time_slices import settle_validation
from .validation import ValidationSet

__all__ = ["Session", "build_session"]


@dataclass
class Session:
    """A training run, ready to go (see the module docstring)."""

    config: TrainConfig
    data: TrainingData
    model: torch.nn.Module
    spec: dict[str, Any]
    layout: PatchLayout
    binary: bool
    normalizer: Normalizer
    sampler: PatchSampler
    val: ValidationSet | None
    loss_fn: SegmentationLoss
    device: torch.device
    amp: AmpSettings
    batch_size: int
    train_counts: np.ndarray
    init_card: dict[str, Any] | None = None
    init_source: str | None = None
    notes: list[str] = field(default_factory=list)
    infos: list[str] = field(default_factory=list)
    #: The image is a stack of unrelated tiles (:func:`~.recipe.is_tile_stack`), asked once
    #: by :func:`build_session` (None: not asked; the card's priors then ask).
    tile_stack: bool | None = None

    @property
    def class_names(self) -> list[str]:
        """Class names in index order."""
        return [c.name for c in self.data.classes]

    def recount(self) -> None:
        """Count the training voxels per class again (the paint changed: held-out paint
        joined, or a live run's labels were updated) and derive the loss weights again
        (:func:`~.losses.loss_weights`: only ``class_weights`` and ``pos_weight`` "auto"
        depend on the counts; values given stay as they were)."""
        self.train_counts = value_counts(self.data.target, len(self.data.classes) + 1)[1:]
        self.loss_fn.class_weights, self.loss_fn.pos_weight = loss_weights(
            self.config, self.train_counts, self.data.classes)

    @property
    def validation_text(self) -> str:
        """How the validation data was made."""
        return self.data.held.description if self.data.held is not None else "no validation data"


def _load_init(init_bundle: Any) -> tuple[torch.nn.Module, dict[str, Any], str]:
    if isinstance(init_bundle, (str, os.PathLike)):
        model, card = load_bundle(init_bundle)
        return model, card, str(init_bundle)
    if hasattr(init_bundle, "model") and hasattr(init_bundle, "card"):  # a TrainResult
        init_bundle = (init_bundle.model, init_bundle.card)
    if isinstance(init_bundle, (tuple, list)) and len(init_bundle) == 2:
        model, card = init_bundle
        return copy.deepcopy(model).cpu(), dict(card), "a model in memory"
    raise SeisSegError(
        "init_bundle must be a bundle path, the (model, card) pair load_bundle returns, or a "
        "TrainResult."
    )


def fit_batch_size(
    model: torch.nn.Module,
    loss_fn: SegmentationLoss,
    layout: PatchLayout,
    device: torch.device,
    amp: AmpSettings,
    base: int,
    cap: int,
) -> int:
    """Largest CUDA batch (``base``, doubled up to ``cap``) whose step peaks under 45% of memory.

    The model's weights and statistics are restored afterwards.
    """
    state = copy.deepcopy(model.state_dict())
    total = torch.cuda.get_device_properties(device).total_memory
    slab = (2 * layout.context + 1,) if layout.kind == "slab" else ()
    best, bs = base, base
    while bs <= cap:
        try:
            torch.cuda.reset_peak_memory_stats(device)
            x = torch.randn(bs, layout.channels, *slab, *layout.size, device=device)
            y = torch.zeros((bs, *layout.size), dtype=torch.long, device=device)
            with autocast(device, amp):
                out = model(x)
            loss_fn(out, y).backward()
            peak = torch.cuda.max_memory_allocated(device)
        except Exception as exc:  # noqa: BLE001 - only out-of-memory is expected
            if not is_oom(exc):
                raise
            break
        finally:
            model.zero_grad(set_to_none=True)
            x = y = out = None
        best = bs
        if peak > 0.45 * total:
            break
        bs *= 2
    model.load_state_dict(state)
    torch.cuda.empty_cache()
    return best


def _use_position(config: TrainConfig, kind: str, n_samples: int) -> bool:
    """Whether a run gives the network the position channel (see ``TrainConfig.position``)."""
    if kind != "2d":
        if config.position:
            raise SeisSegError(
                f"position=True is for section models (unet2d, resunet); {config.model} "
                "takes slabs or boxes. Leave position on auto for this model."
            )
        return False
    if config.position is not None:
        return bool(config.position)
    if config.augment.rotate90 or config.augment.transpose:
        return False
    patch = config.patch_size
    edge = max(patch) if isinstance(patch, tuple) else (patch or 128)
    return int(n_samples) >= 2 * int(edge)


def _start_from_pretraining(
    model: torch.nn.Module, choice: str, image: Any, geometry: SurveyGeometry | None
) -> list[tuple[str, str]]:
    """Load the pretraining ``choice`` names ("auto": this cube's cached one) into ``model``.

    Returns the notes to show, as ``(level, text)``.
    """
    from ..models import model_spec
    from .pretrain_store import apply_pretrained, cube_fingerprint, find_pretrained, load_pretrained

    if choice == "auto":
        path, note = find_pretrained(image, model_spec(model), geometry)
        if path is None:
            return [("warning", note)] if note else []
        whose = "this survey"
    else:
        path = choice
        whose = None
    state, card = load_pretrained(path)
    n = apply_pretrained(model, state, card)
    if whose is None:
        same = card.get("survey") == cube_fingerprint(image, geometry)
        whose = "this survey" if same else "another survey (given explicitly)"
    return [(
        "info",
        f"Started from the pretraining of {whose} ({card.get('minutes', '?')} min of "
        f"{card.get('task', 'pretraining')}, made {card.get('created', '?')}; {n} weight "
        f"tensors): {path}",
    )]


def _check_init(init_bundle: Any, config: TrainConfig) -> tuple[Any, dict[str, Any] | None, Any]:
    """The bundle to fine-tune as ``(model, card, source)`` (Nones without one), checked."""
    if init_bundle is None:
        return None, None, None
    init_model, init_card, init_source = _load_init(init_bundle)
    was = bool(init_card.get("zero_is_background"))
    if was != config.zero_is_background:
        raise SeisSegError(
            f"The model to fine-tune was trained with zero_is_background={was}; use the "
            "same setting (and the same kind of labels), or train a new model from scratch."
        )
    return init_model, init_card, init_source


def _new_model(
    config: TrainConfig, data: TrainingData, infos: list[str], image: Any = None,
    geometry: SurveyGeometry | None = None, tiles: bool | None = None,
) -> tuple[torch.nn.Module, bool, int]:
    """A fresh model for ``data``: ``(model, binary, n_out)``; resolves ``"auto"`` in ``config``."""
    from ..models import create_model

    k = len(data.classes)
    fits = hybrid_fits(config, data, image, geometry, tiles=tiles)
    resolved, note = resolve_model(config, data.target.shape, data.axes, fits, image=data.image,
                                   tiles=tiles)
    for f in fields(config):  # in place: the run's own copy records what was run
        setattr(config, f.name, getattr(resolved, f.name))
    if note:
        infos.append(note)
    binary = config.loss.startswith("bce") or (config.loss == "auto" and k == 2)
    if binary and k != 2:
        raise SeisSegError(
            f"loss {config.loss!r} is for two classes, but the labels hold {k}. Use "
            "'ce_dice' (or 'auto') for more classes."
        )
    n_out = 1 if binary else k
    model = create_model(config.model, in_channels=1, n_classes=n_out, **config.model_kwargs)
    return model, binary, n_out


def _use_position_channel(
    config: TrainConfig, kind: str, data: TrainingData, init_card: dict[str, Any] | None,
    notes: list[str], infos: list[str],
) -> bool:
    """Whether the network gets the position-along-time channel (a fine-tuned one keeps its own)."""
    if init_card is not None:
        position = bool((init_card.get("input") or {}).get("position"))
        if config.position is not None and bool(config.position) != position:
            notes.append(
                f"Fine-tuning keeps the bundle's input: the position channel stays "
                f"{'on' if position else 'off'} (position={config.position} is ignored)."
            )
        return position
    position = _use_position(config, kind, data.target.shape[data.sample_axis])
    if position and config.position is None and data.painted_on_time_slices:
        # painted on time slices: each patch would see one position value, and only the
        # few painted ones; the channel would teach "this time, this class"
        position = False
        infos.append("Most labels are on time slices, so the position-along-time channel "
                     "is off (position=True turns it on).")
    return position


def _session_layout(
    kind: str, data: TrainingData, config: TrainConfig, model: torch.nn.Module,
    position: bool, init_card: dict[str, Any] | None,
) -> PatchLayout:
    """The patch layout of the run (a fine-tuned model keeps its position scale)."""
    layout = make_layout(
        kind,
        data.target.shape,
        config.patch_size,
        context=int(getattr(model, "context", 0) or 0),
        axes=data.axes,
        pad_mode=config.pad_mode,
        sample_axis=data.sample_axis,
        position=position,
    )
    if init_card and position:  # fine-tuning keeps the bundle's scale
        from ..bundle.position import PositionSpec

        spec_pos = PositionSpec.from_card(init_card["input"].get("position"))
        layout = replace(layout, position=spec_pos)
    return layout


def _fit_augment_to_position(
    config: TrainConfig, data: TrainingData, layout: PatchLayout,
    notes: list[str], infos: list[str],
) -> None:
    """Say the position channel is on and turn off the augmentations that move time."""
    infos.append(
        "The network sees each pixel's position along "
        f"{data.summary.axes[data.sample_axis].name} as a second input channel "
        "(position=False to turn it off)."
    )
    aug = config.augment
    time_dims = {inplane_axes(a).index(data.sample_axis) for a in layout.axes
                 if a != data.sample_axis}
    rolls_time = aug.roll_axis is not None and aug.roll_axis in time_dims
    off = [n for n, on in (("upside-down flips", aug.flip_time),
                           ("90-degree rotations", aug.rotate90),
                           ("transposes", aug.transpose),
                           ("rolling along time", rolls_time)) if on]
    if off:
        config.augment = replace(aug, flip_time=False, rotate90=False, transpose=False,
                                 roll_axis=None if rolls_time else aug.roll_axis)
        if any(o != "upside-down flips" for o in off):
            notes.append(f"With the position channel, {', '.join(off)} are turned off "
                         "(they would move time against its position).")


def _session_normalizer(
    data: TrainingData, config: TrainConfig, pipeline: Any, init_card: dict[str, Any] | None
) -> Normalizer:
    """The bundle's input normalisation when fine-tuning without a pipeline, else a fitted one."""
    if init_card and pipeline is None and init_card.get("preprocessing"):
        return Normalizer.from_dict(init_card["preprocessing"])
    return fit_normalizer(
        data.image, pipeline=pipeline, sample_axis=data.sample_axis, seed=config.seed
    )


def _place_model(model: torch.nn.Module, kind: str, device: torch.device) -> None:
    """Move ``model`` to ``device``, channels-last where 2D convolutions run faster so."""
    model.to(device)
    if kind == "2d" and device.type in ("cpu", "cuda"):
        # oneDNN and cuDNN run 2D convolutions faster channels-last (10-15 % per CPU step)
        model.to(memory_format=torch.channels_last)


def _session_sampler(
    data: TrainingData, layout: PatchLayout, normalizer: Normalizer, config: TrainConfig,
    kind: str, few: list[int],
) -> PatchSampler:
    """The seeded, augmenting patch sampler of the run (``few``: classes to copy-paste)."""
    sample_seed, augment_seed = np.random.SeedSequence(config.seed).spawn(2)
    augmenter = Augmenter(config.augment, np.random.default_rng(augment_seed), context_axis(kind))
    return PatchSampler(
        data.image, data.target, layout, normalizer, np.random.default_rng(sample_seed),
        augmenter, n_classes=len(data.classes), paste_classes=few,
    )


def _validation(
    data: TrainingData, held: Any, layout: PatchLayout, normalizer: Normalizer,
    config: TrainConfig,
) -> ValidationSet | None:
    """The validation windows of the held-out labels (None without any)."""
    if held is None:
        return None
    val = ValidationSet.build(
        data.image,
        held,
        layout,
        normalizer,
        max_windows=config.max_val_windows,
        seed=config.seed,
    )
    return val if len(val) else None


def _session_loss(
    config: TrainConfig, data: TrainingData, binary: bool
) -> tuple[np.ndarray, SegmentationLoss]:
    """The training voxel counts per class and the loss weighted by them."""
    counts = value_counts(data.target, len(data.classes) + 1)[1:]
    weights, pos_weight = loss_weights(config, counts, data.classes)
    loss_fn = SegmentationLoss(
        binary,
        class_weights=weights,
        pos_weight=pos_weight,
        dice_weight=config.dice_weight,
        dice_ramp_epochs=config.dice_ramp_epochs,
        aux_weight=config.aux_weight,
        region=region_term(config.loss),
    )
    return counts, loss_fn


def _session_model(
    config: TrainConfig, data: TrainingData, image: Any, geometry: SurveyGeometry | None,
    init_model: Any,
    init_card: dict[str, Any] | None, notes: list[str], infos: list[str], tiles: bool | None = None,
) -> tuple[torch.nn.Module, bool, str, bool]:
    """The seeded model of the run: ``(model, binary, kind, position)``.

    The bundle's model when fine-tuning, else a fresh one (with the position channel when it
    is on, and started from the survey's pretraining when asked).
    """
    torch.manual_seed(config.seed)
    from ..models import create_model

    if init_model is not None:
        model, binary = init_model, bool(init_card.get("binary"))
        if config.model.lower() not in ("auto", str(init_card["model"]["name"])):
            notes.append(f"Fine-tuning keeps the bundle's model ({init_card['model']['name']}).")
    else:
        model, binary, n_out = _new_model(config, data, infos, image, geometry, tiles)
    kind = model_kind(model)
    position = _use_position_channel(config, kind, data, init_card, notes, infos)
    if position and init_model is None:
        # amplitude and position per slice
        torch.manual_seed(config.seed)
        model = create_model(config.model, in_channels=2, n_classes=n_out, **config.model_kwargs)
    if init_model is None and config.pretrained and kind in ("2d", "slab"):
        for level, text in _start_from_pretraining(model, config.pretrained, image, geometry):
            (infos if level == "info" else notes).append(text)
    return model, binary, kind, position


def _paint_warnings(data: TrainingData) -> tuple[list[str], list[tuple[int, int]]]:
    """The data's notes and what the paint holds too little of (a few voxels, a few bodies),
    with the classes painted as a few bodies (:func:`few_body_classes`: copy-paste's too)."""
    names = [c.name for c in data.classes]
    few = few_body_classes(data.target, data.summary, len(data.classes))
    return [*data.notes, *few_voxel_warnings(data.summary.class_counts, names),
            *few_body_texts(few, names)], few


def build_session(
    image: Any,
    labels: Any,
    config: TrainConfig,
    *,
    geometry: SurveyGeometry | None = None,
    val_labels: Any = None,
    class_names: Any = None,
    class_colors: Any = None,
    pipeline: Any = None,
    init_bundle: Any = None,
    until_stopped: bool = False,
) -> Session:
    """Check the inputs and build everything a run needs (arguments as for ``train``).

    ``until_stopped``: the run needs no budget (live training, ended by its control).
    """
    config.validate(until_stopped=until_stopped)
    init_model, init_card, init_source = _check_init(init_bundle, config)
    data = prepare_data(
        image,
        labels,
        zero_is_background=config.zero_is_background,
        axes=config.axes,
        geometry=geometry,
        val_labels=val_labels,
        class_names=class_names,
        class_colors=class_colors,
        classes=[ClassInfo.from_dict(c) for c in init_card["classes"]] if init_card else None,
    )
    notes, few_bodies = _paint_warnings(data)
    infos: list[str] = []  # said at the start, not warnings
    tiles = is_tile_stack(data.target.shape, data.axes, data.image)  # the recipe's, the card's
    model, binary, kind, position = _session_model(
        config, data, image, geometry, init_model, init_card, notes, infos, tiles
    )
    from ..models import model_spec

    spec = model_spec(model)
    layout = _session_layout(kind, data, config, model, position, init_card)
    if position:
        _fit_augment_to_position(config, data, layout, notes, infos)
    own_validation = data.val_target is not None  # split_data clears it
    few = classes_to_paste(config, data, layout, few_bodies, infos)  # warned of, before the split
    held = split_data(data, kind=kind, fraction=config.val_fraction, seed=config.seed)
    infos += settle_validation(config, data, held, own_validation,
                               [data.classes[k].name for k in few])
    notes += [n for n in data.notes if n not in notes]
    normalizer = _session_normalizer(data, config, pipeline, init_card)
    device = resolve_device(config.device)
    amp = amp_settings(device, config.amp)
    _place_model(model, kind, device)
    sampler = _session_sampler(data, layout, normalizer, config, kind, few)
    val = _validation(data, held, layout, normalizer, config)
    counts, loss_fn = _session_loss(config, data, binary)
    base = 2 if kind == "3d" else 8
    bs = config.batch_size or base
    if config.batch_size is None and device.type == "cuda":
        bs = fit_batch_size(model, loss_fn, layout, device, amp, 2 * base, 8 * base)
    return Session(
        config, data, model, spec, layout, binary, normalizer, sampler, val, loss_fn, device,
        amp, bs, counts, init_card, init_source, notes, infos, tiles,
    )  # fmt: skip
