"""The model card: everything needed to use, judge and reproduce a trained model.

See :mod:`napari_seisseg.training.bundle` for the layout.  Prediction needs
``model`` (the architecture), ``input`` (how windows are cut and in which axis order),
``classes`` (class index -> label value, name, colour), ``binary`` / ``threshold`` and
``preprocessing`` (:meth:`~napari_seisseg.training.normalize.Normalizer.from_dict`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from .bundle import FORMAT, FORMAT_VERSION, json_safe, package_versions
from .config import TrainConfig
from .data import TrainingData
from .normalize import Normalizer
from .patches import PatchLayout

__all__ = ["build_card", "model_kind"]


def model_kind(model: torch.nn.Module) -> str:
    """Patch layout a model takes: ``"2d"``, ``"slab"`` (thin slab in, section out) or ``"3d"``."""
    spatial = int(getattr(model, "spatial_dims", 2))
    inp = int(getattr(model, "input_dims", spatial))
    if spatial == 3:
        return "3d"
    return "slab" if inp == 3 else "2d"


def painted_axis(data: TrainingData, section_axes: list[int]) -> int:
    """The section axis most labels were painted in (the default prediction orientation).

    Parameters
    ----------
    data : TrainingData
        The run's data (its label summary).
    section_axes : list of int
        Axes the model was trained on.

    Returns
    -------
    int
        Among ``section_axes``, the one whose painted sections hold the most labels, counting
        only axes painted on fewer than half of their slices (the first one otherwise, e.g.
        scribbles or dense labels).
    """
    voxels = [data.summary.painted_voxels(a) for a in section_axes]
    return int(section_axes[int(np.argmax(voxels))]) if max(voxels, default=0) > 0 else int(section_axes[0])


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

    Returns
    -------
    dict
        JSON-able card.
    """
    section_axes = list(layout.axes)
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
            "predict_axes": [painted_axis(data, section_axes)],
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
