"""Self-supervised pretraining on the unlabeled survey, cached per survey and reused.

The painted voxels are a tiny share of a cube; the rest is free data.  :func:`pretrain`
teaches the very network that training will use (same architecture, width, context and
position channel) to fill in what is hidden: every patch, drawn anywhere in the cube, has
random groups of traces and random blocks blanked out and a little noise added, and the
network reconstructs the original amplitudes (mean squared error, mostly on the hidden
part).  To fill a gap the network must follow reflectors across it and know what each
interval looks like: the features segmentation needs.

The result is saved in the model store (``<store>/pretrained/``) under a key made of the
cube's fingerprint and the architecture, and, when asked, to a file of the user's choice
(:mod:`.pretrain_store` writes, finds and applies these files).
:func:`~napari_seisseg.training.loop.train` starts from it by itself (``TrainConfig.pretrained``
= ``"auto"``), so every training on a survey starts from its pretraining once one exists.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..bundle.normalize import fit_normalizer
from ..device import amp_settings, autocast, describe_device, resolve_device
from ..errors import SeisSegError
from ..io.geometry import SurveyGeometry
from ..io.indexing import WithLeadingAxis
from ..jobs import stop_requested
from .augment import Augmenter, context_axis
from .config import AugmentConfig, TrainConfig
from .data import _transpose, orient
from .events import Note, Step
from .labels import check_finite
from .masking import AnywhereSampler, masked_batch
from .patches import PatchLayout, make_layout
from .pretrain_store import FORMAT, architecture_key, cache_path, cube_fingerprint, save_pretrained
from .recipe import paint_wants_hybrid, resolve_model

__all__ = ["PretrainResult", "pretrain"]


@dataclass
class PretrainResult:
    """What :func:`pretrain` made."""

    model: torch.nn.Module
    card: dict[str, Any]
    cache_path: Path | None = None
    out_path: Path | None = None
    losses: list[float] = field(default_factory=list)


def pretrain(
    image: Any,
    config: TrainConfig | None = None,
    *,
    minutes: float = 3.0,
    geometry: SurveyGeometry | None = None,
    out: str | Path | None = None,
    cache: bool = True,
    stop: Any = None,
    labels: Any = None,
) -> Generator[Step | Note, None, PretrainResult]:
    """Pretrain the network ``config`` describes on ``image`` alone, yielding progress.

    Parameters
    ----------
    image : array-like
        The survey (2 or 3 axes; numpy or lazy).
    config : TrainConfig, optional
        The training settings the pretraining is for: model, ``model_kwargs``, patch size,
        batch size, section axes, position channel, seed, device, learning rate.  The
        network is built exactly as :func:`~napari_seisseg.training.loop.train` will build
        it, so the weights fit.
    minutes : float
        Wall-clock budget (at least one step is taken, however small).
    geometry : SurveyGeometry, optional
        Geometry of the input (its axis order).
    out : path, optional
        Also write the pretrained network here.
    cache : bool
        Save it in the model store's cache, where training finds it.
    stop : callable or threading.Event, optional
        Polled before every step; ends the run (what was learned is kept).
    labels : array-like, optional
        The paint training will use (never trained on here): with ``model="auto"`` the
        network is chosen as training on it will choose (the hybrid for paint mostly on
        time slices, :func:`~napari_seisseg.training.recipe.paint_wants_hybrid`; label 0
        is a class with ``config.zero_is_background``).

    Yields
    ------
    Step, Note
        One :class:`Step` per optimisation step (``loss`` is the reconstruction error).

    Returns
    -------
    PretrainResult
    """

    t0 = time.perf_counter()
    config = copy.deepcopy(config) if config is not None else TrainConfig()
    if config.epochs is None and config.minutes is None:  # a live run's: its budget is ``minutes``
        config.minutes = float(minutes) if float(minutes) > 0 else None
    config.validate()
    if not float(minutes) > 0:
        raise SeisSegError(f"minutes must be positive, got {minutes}.")
    img, shape, sample_axis, axes = _oriented_input(image, config, geometry)
    tshape = tuple(int(n) for n in img.shape)
    config, notes = _auto_choice(config, image, labels, geometry, img, axes)
    yield from notes
    model, kind, position = _pretraining_model(config, tshape[sample_axis])
    layout = make_layout(kind, tshape, config.patch_size,
                         context=int(getattr(model, "context", 0) or 0), axes=axes,
                         pad_mode=config.pad_mode, sample_axis=sample_axis, position=position)
    normalizer = fit_normalizer(img, sample_axis=sample_axis, seed=config.seed)
    device = resolve_device(config.device)
    amp = amp_settings(device, config.amp)
    model.to(device)
    sample_seed, augment_seed, mask_seed = np.random.SeedSequence(config.seed).spawn(3)
    aug = AugmentConfig(flip=True, flip_time=not position, gain=0.0, noise=0.0)
    sampler = AnywhereSampler(img, layout, normalizer, np.random.default_rng(sample_seed),
                               Augmenter(aug, np.random.default_rng(augment_seed),
                                         context_axis(kind)))
    mask_rng = np.random.default_rng(mask_seed)
    opt = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    batch = config.batch_size or 8
    budget = float(minutes) * 60.0
    losses: list[float] = []
    step = 0
    model.train()
    while (not step or time.perf_counter() - t0 < budget) and not stop_requested(stop):
        x, y, m = masked_batch(sampler, layout, mask_rng, batch, tshape)
        losses.append(_reconstruction_step(
            model, opt, x.to(device), y.to(device), m.to(device).float(), device, amp
        ))
        step += 1
        elapsed = time.perf_counter() - t0
        yield Step(1, step, step, None, losses[-1], config.lr, elapsed, min(1.0, elapsed / budget))
    if not losses:
        raise SeisSegError("Pretraining was stopped before its first step; nothing to keep.")
    model.to("cpu").eval()
    card = _pretraining_card(model, image, geometry, shape, layout, losses, t0, device)
    result = PretrainResult(model, card, losses=losses)
    yield _save_pretraining(result, cache, out)
    return result


def _auto_choice(
    config: TrainConfig, image: Any, labels: Any, geometry: SurveyGeometry | None,
    img: Any, axes: tuple[int, ...] | None,
) -> tuple[TrainConfig, list[Note]]:
    """The config with ``auto`` resolved (from the paint, when given) and the notes saying
    why: a warning when the paint could not choose, then what was chosen (``img``: the
    image in training order)."""
    fits, why = paint_wants_hybrid(config, image, labels, geometry=geometry)
    config, chosen = resolve_model(config, img.shape, axes, fits, image=img)
    return config, [Note(text, level) for text, level in ((why, "warning"), (chosen, "info"))
                    if text]


def _oriented_input(
    image: Any, config: TrainConfig, geometry: SurveyGeometry | None
) -> tuple[Any, tuple[int, ...], int, tuple[int, ...] | None]:
    """Check ``image`` and put it in training order: ``(img, shape, sample_axis, axes)``.

    A section gets a leading axis of one; ``shape`` is the image's own shape, ``axes`` the
    configured section axes in the new order.
    """
    if not hasattr(image, "shape") or len(image.shape) not in (2, 3):
        raise SeisSegError("Pretraining needs a 2D section or a 3D cube (an array).")
    check_finite(image)
    shape = tuple(int(n) for n in image.shape)
    perm, names, _, _ = orient(shape, geometry)
    img = _transpose(image, perm)
    sample_axis = names.index("sample") if "sample" in names else len(shape) - 1
    axes = None if config.axes is None else tuple(perm.index(int(a)) for a in config.axes)
    if len(shape) == 2:
        img, sample_axis, axes = WithLeadingAxis(img), sample_axis + 1, (0,)
    return img, shape, sample_axis, axes


def _pretraining_model(
    config: TrainConfig, n_samples: int
) -> tuple[torch.nn.Module, str, bool]:
    """The seeded section model to pretrain, built as training builds it: ``(model, kind, position)``."""
    from ..bundle.card import model_kind
    from ..models import create_model
    from .session import _use_position

    torch.manual_seed(config.seed)
    model = create_model(config.model, in_channels=1, n_classes=1, **config.model_kwargs)
    kind = model_kind(model)
    if kind not in ("2d", "slab"):
        raise SeisSegError(
            f"Pretraining is for section models (unet2d, resunet, hybrid); {config.model} is "
            "not one."
        )
    position = _use_position(config, kind, n_samples)
    if position:
        torch.manual_seed(config.seed)
        model = create_model(config.model, in_channels=2, n_classes=1, **config.model_kwargs)
    return model, kind, position


def _reconstruction_step(
    model: torch.nn.Module, opt: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor,
    m: torch.Tensor, device: torch.device, amp: Any,
) -> float:
    """One step on the reconstruction error (hidden voxels, plus a tenth of all); its loss."""
    opt.zero_grad(set_to_none=True)
    with autocast(device, amp):
        pred = model(x)[:, 0]
    err = (pred.float() - y) ** 2
    loss = (err * m).sum() / m.sum().clamp(min=1) + 0.1 * err.mean()
    if not torch.isfinite(loss):
        raise SeisSegError("Pretraining diverged (the loss is not finite); lower lr.")
    loss.backward()
    opt.step()
    return float(loss.detach())


def _pretraining_card(
    model: torch.nn.Module, image: Any, geometry: SurveyGeometry | None,
    shape: tuple[int, ...], layout: PatchLayout,
    losses: list[float], t0: float, device: torch.device,
) -> dict[str, Any]:
    """The card saved beside pretrained weights (what training checks before using them)."""
    from ..models import model_spec

    spec = model_spec(model)
    return {
        "format": FORMAT,
        "model": spec,
        "architecture": architecture_key(spec),
        "survey": cube_fingerprint(image, geometry),
        "shape": list(shape),
        "position": None if layout.position is None else layout.position.to_dict(),
        "patch_size": list(layout.size),
        "axes": list(layout.axes),
        "steps": len(losses),
        "minutes": round((time.perf_counter() - t0) / 60.0, 2),
        "loss_first": losses[0],
        "loss_last": float(np.mean(losses[-20:])),
        "device": describe_device(device),
        "created": time.strftime("%Y-%m-%d %H:%M:%S"),
        "task": "masked trace and block reconstruction",
    }


def _save_pretraining(result: PretrainResult, cache: bool, out: str | Path | None) -> Note:
    """Save the pretrained network (cache and/or ``out``); the note that says what was made."""
    card = result.card
    if cache:
        result.cache_path = save_pretrained(cache_path(card["survey"], card["architecture"]),
                                            result.model, card)
    if out is not None:
        result.out_path = save_pretrained(out, result.model, card)
    where = result.out_path or result.cache_path
    return Note(
        f"Pretrained {card['model']['name']} for {card['minutes']:.1f} min ({card['steps']} "
        f"steps; reconstruction error {card['loss_first']:.3f} -> {card['loss_last']:.3f})"
        + (f"; saved to {where}" if where else "")
        + ". Training on this survey with the same model settings starts from it.",
        "info",
    )
