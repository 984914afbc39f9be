"""The model card: everything needed to use, judge and reproduce a trained model.

See :mod:`napari_seisseg.bundle.storage` for the layout.  Prediction needs
``model`` (the architecture), ``input`` (how windows are cut and in which axis order),
``classes`` (class index -> label value, name, colour), ``binary`` / ``threshold`` and
``preprocessing`` (:meth:`~napari_seisseg.bundle.normalize.Normalizer.from_dict`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from .classes import ClassInfo
from .lateral_prior import painted_lateral_prior
from .normalize import Normalizer
from .storage import FORMAT, FORMAT_VERSION, json_safe, package_versions
from .time_prior import painted_time_prior

if TYPE_CHECKING:  # training's types, for the annotations only (training imports this module)
    from ..training.config import TrainConfig
    from ..training.data import TrainingData
    from ..training.patches import PatchLayout

__all__ = ["build_card", "card_classes", "class_names_line", "model_kind", "model_name", "record_pipeline",
           "window_preprocess", "without_pipeline"]


def model_kind(model: torch.nn.Module) -> str:
    """Patch layout a model takes: ``"2d"``, ``"slab"`` (thin slab in, section out) or ``"3d"``."""
    spatial = int(getattr(model, "spatial_dims", 2))
    inp = int(getattr(model, "input_dims", spatial))
    if spatial == 3:
        return "3d"
    return "slab" if inp == 3 else "2d"


def prediction_axes(data: TrainingData, section_axes: list[int]) -> list[int]:
    """The orientations predicted and averaged by default: inlines and crosslines when both
    were painted, or when time slices lead paint with one of them; else the painted one, and
    all three for time slices painted alone or for a vertical orientation leading paint
    with time slices.

    **Inlines and crosslines painted, or time slices leading paint with one of them** (each
    orientation holding at least a tenth of the painted voxels,
    ``LabelSummary.painted_orientations``): the inlines and crosslines, the most painted
    first, alike (and their traces flipped:
    :attr:`~napari_seisseg.bundle.model.BundleModel.flips_by_default`), even a vertical
    orientation that was not painted.  On the survey stand-in (docs/fewlabel-experiments.md,
    eleventh and twelfth sessions) this beat or matched every other average on every model
    measured: 3 inlines + 3 crosslines, two seeds, 0.906 / 0.882 against 0.863 / 0.844 along
    inlines alone and 0.882 / 0.868 for the three alike (every axis flipped); 3 time slices
    + 2 inlines + 2 crosslines (the time slices 43 % of the paint), the hybrid of the
    defaults, two seeds, 0.910 / 0.892 against 0.846 / 0.819 for the three weighted toward
    time; 6 time slices + 1 inline + 1 crossline (time 75 % of the paint) 0.859 against 0.818;
    3 time slices + 2 inlines (time 58 %), two seeds, 0.882 / 0.859 against 0.805 / 0.730 for
    the three weighted toward time and 0.876 / 0.848 along the painted inlines alone, traces
    flipped (0.863 / 0.844 without).  Vertical sections show the waveform that a time slice
    blurs, and a painted vertical section teaches them far more than the one row a time
    slice crosses them with.

    **A vertical orientation leading paint with time slices** (2 time slices + 3 inlines,
    unet2d, two seeds): the three alike, their traces flipped
    (:attr:`~napari_seisseg.bundle.model.BundleModel.flips_by_default`), 0.674 / 0.819,
    against 0.658 / 0.806 without flips and 0.655 / 0.801 for the inlines and crosslines
    (0.681 / 0.822 with every axis flipped, time included: not the default).

    **Time slices** alone teach the model the inline and crossline patches through them (one
    painted row each), and sections that hold time show the vertical extent of a fault or a
    thin channel that a single time slice blurs with the wavelet's tails: averaging the three
    orientations raised every model measured on the synthetic time-slice benchmark (8
    painted slices, 9 trained models: +0.003 to +0.075 mean IoU) for about twice the
    prediction time.  The time orientation, listed first, weighs as much as the two others
    together (:meth:`~napari_seisseg.bundle.model.BundleModel.orientation_weights`).  At the
    end of training of time-slice paint
    :func:`~napari_seisseg.training.orientation_check.check_orientations` keeps time slices
    alone where the validation voxels say surely that they score higher.

    Parameters
    ----------
    data : TrainingData
        The run's data (its label summary).
    section_axes : list of int
        Axes the model was trained on.

    Returns
    -------
    list of int
        The painted vertical orientations, most painted first, when there are two; the
        painted vertical one and then the other vertical axis, when it was trained too, if
        time slices lead paint with it (``TrainingData.mixed_paint`` and
        ``TrainingData.time_slices_painted_most``); else first the trained axis whose
        painted sections hold the most labels, counting only axes painted on fewer than half
        of their slices (the first trained axis otherwise, e.g. scribbles or dense labels),
        and after it the other trained axes when time slices were painted with a vertical
        orientation, or when it is the sample axis and over half of the labels were painted
        on time slices (``TrainingData.painted_on_time_slices``, as training decides it too).
    """
    painted = data.summary.painted_orientations(section_axes)  # the most painted first
    vertical = [a for a in painted if a != data.sample_axis]
    if len(vertical) >= 2:
        return vertical
    first = painted[0] if painted else int(section_axes[0])
    other = [int(a) for a in section_axes if int(a) != data.sample_axis and a not in vertical]
    if vertical and other and data.mixed_paint and data.time_slices_painted_most:
        # time slices lead (ties as training decides), one vertical orientation painted and
        # the other trained too: the inlines and crosslines
        return [*vertical, *other]
    if data.mixed_paint or (first == data.sample_axis and data.painted_on_time_slices):
        return [first, *(int(a) for a in section_axes if int(a) != first)]
    return [first]


def card_time_prior(layout: PatchLayout, data: TrainingData) -> dict[str, Any] | None:
    """What was painted at each sample (:mod:`.time_prior`), for models with the position channel."""
    if layout.position is None or layout.kind != "2d":
        return None
    prior = painted_time_prior(data.target, data.sample_axis, len(data.classes), data.held)
    return prior.to_dict()


def card_priors(layout: PatchLayout, data: TrainingData,
                tiles: bool | None = None) -> dict[str, Any]:
    """The card's priors from the paint: ``time_prior`` (:func:`card_time_prior`) and
    ``lateral_prior`` (the painted traces, :mod:`.lateral_prior`; None without any, and
    for a stack of unrelated tiles, whose nearest painted trace lies in another tile).

    ``tiles``: whether the image is such a stack, when the run has asked
    :func:`~napari_seisseg.training.recipe.is_tile_stack` already (None: asked here)."""
    if tiles is None:
        from ..training.recipe import is_tile_stack

        tiles = is_tile_stack(data.target.shape, data.axes, data.image)
    lateral = None if tiles else painted_lateral_prior(
        data.target, data.sample_axis, len(data.classes), data.held, data.coordinates)
    return {"time_prior": card_time_prior(layout, data),
            "lateral_prior": None if lateral is None else lateral.to_dict()}


def build_card(
    *,
    spec: dict[str, Any],
    model: torch.nn.Module,
    layout: PatchLayout,
    data: TrainingData,
    normalizer: Normalizer,
    binary: bool,
    threshold: float,
    config: TrainConfig,
    best_epoch: int | None,
    best_metrics: dict[str, Any] | None,
    run: dict[str, Any],
    fine_tuned_from: dict[str, Any] | None = None,
    priors: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Assemble the JSON model card of a trained model.

    Parameters
    ----------
    spec : dict
        ``model_spec(model)``.
    model : torch.nn.Module
        The model (for its channel counts).
    layout : PatchLayout
        How training windows were cut.
    data : TrainingData
        Classes, label provenance, axis names, validation split.
    normalizer : Normalizer
        Input normalisation.
    binary : bool
        Single-logit model.
    threshold : float
        Probability threshold of a binary model (0.5 when not tuned).
    config : TrainConfig
        The settings.
    best_epoch, best_metrics
        The kept model's epoch and validation scores.
    run : dict
        Facts of the run (steps, epochs, stop reason, elapsed seconds, device).
    fine_tuned_from : dict, optional
        Provenance of the starting bundle.
    priors : dict, optional
        The card's ``input.time_prior`` and ``input.lateral_prior`` (:func:`card_priors` of
        ``layout`` and ``data``, computed here when None; a caller that keeps them between
        cards passes them).

    Returns
    -------
    dict
        JSON-able card.
    """
    section_axes = list(layout.axes)
    priors = card_priors(layout, data) if priors is None else priors
    card = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "model": spec,
        "input": {
            "kind": layout.kind,
            "context": layout.context,
            "in_channels": int(getattr(model, "in_channels", 1)),
            "input_channels": int(getattr(model, "input_channels", layout.channels)),
            "patch_size": list(layout.size),
            "axes": section_axes,
            "axis_names": list(data.axis_names),
            "section_axis_names": [data.axis_names[a] for a in section_axes],
            "sample_axis": data.sample_axis,
            "pad_mode": layout.pad_mode,
            "position": None if layout.position is None else layout.position.to_dict(),
            "time_prior": priors.get("time_prior"),
            "lateral_prior": priors.get("lateral_prior"),
            "predict_axes": prediction_axes(data, section_axes)[: 1 if layout.kind == "3d" else None],
        },
        "n_classes": len(data.classes),
        "n_outputs": 1 if binary else len(data.classes),
        "binary": bool(binary),
        "threshold": float(threshold),
        "zero_is_background": bool(config.zero_is_background),
        "classes": [c.to_dict() for c in data.classes],
        "preprocessing": normalizer.to_dict(),
        "labels": data.summary.to_dict(data.coordinates),
        "validation": {
            "split": None if data.held is None else data.held.to_dict(),
            "epoch": best_epoch,
            "metrics": best_metrics,
        },
        "training": {"config": config.to_dict(), **run},
        "versions": package_versions(),
    }
    if fine_tuned_from:
        card["fine_tuned_from"] = fine_tuned_from
    return json_safe(card)


def window_preprocess(card: Any) -> Callable[[np.ndarray], np.ndarray] | None:
    """The card's input normalisation as a window preprocessing function.

    Parameters
    ----------
    card : dict or None
        A model card (anything else, or a card without ``preprocessing``, gives None).

    Returns
    -------
    callable or None
        The card's :class:`Normalizer` applied along the card's ``input.sample_axis`` (the
        last axis when the card does not say).
    """
    if not isinstance(card, dict) or not card.get("preprocessing"):
        return None
    axis = int((card.get("input") or {}).get("sample_axis", -1))
    return functools.partial(Normalizer.from_dict(card["preprocessing"]), axis=axis)


def without_pipeline(card: Mapping[str, Any]) -> dict[str, Any]:
    """Copy of ``card`` whose preprocessing no longer applies a pipeline.

    For a model fine-tuned on an image that already holds the pipeline's output (a layer
    the Preprocess widget made): the model then takes that image as it is, only
    standardised.

    Parameters
    ----------
    card : mapping
        A model card.

    Returns
    -------
    dict
        A shallow copy of the card, with ``preprocessing.pipeline`` set to None when it had
        one (unchanged otherwise).
    """
    prep = card.get("preprocessing") or {}
    if not prep.get("pipeline"):
        return dict(card)
    return {**card, "preprocessing": {**prep, "pipeline": None}}


def record_pipeline(card: dict[str, Any], pipeline: Mapping[str, Any]) -> None:
    """Record in ``card`` (in place) the preprocessing pipeline the model applies.

    Parameters
    ----------
    card : dict
        A model card, changed in place.
    pipeline : mapping
        ``Pipeline.to_dict()`` of the pipeline the training image was made with.
    """
    card.setdefault("preprocessing", {})["pipeline"] = pipeline


def card_classes(card: Mapping[str, Any]) -> list[ClassInfo]:
    """The classes a card lists, in class-index order."""
    return [ClassInfo.from_dict(c) for c in card["classes"]]


def model_name(card: Mapping[str, Any]) -> str:
    """The architecture name a card records."""
    return str(card["model"]["name"])


def class_names_line(card: Mapping[str, Any]) -> str:
    """The card's class names, comma-separated (a class without a name shows its value)."""
    return ", ".join(c.get("name", str(c.get("value"))) for c in card.get("classes", []))
