"""What a bundle's model reads: the normaliser for an image and whether it is preprocessed.

:func:`input_normalizer` gives the card's normalisation (or one refitted on another
survey); :func:`pipeline_already_applied` tells whether an image (a Preprocess-widget
layer) already holds the output of the card's pipeline, so it is not applied twice.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import SeisSegError
from ..preprocess import Pipeline
from .model import BundleModel
from .normalize import Normalizer, fit_normalizer

__all__ = ["STATISTICS", "input_normalizer", "pipeline_already_applied"]

#: How the normalisation statistics are chosen: the card's, or refitted on the image.
STATISTICS = ("stored", "refit")


def input_normalizer(
    bm: BundleModel,
    view: Any,
    *,
    statistics: str = "stored",
    pipeline_applied: bool = False,
    dt: float | None = None,
    live: np.ndarray | None = None,
) -> Any:
    """The normaliser to apply to ``view`` (training order) before the model.

    Parameters
    ----------
    bm : BundleModel
        The model and its card.
    view : array-like
        The image in training order.
    statistics : {"stored", "refit"}
        ``"stored"``: the card's statistics (those of the training survey).  ``"refit"``:
        the card's pipeline steps and standardisation refitted on ``view`` (another survey
        whose amplitudes differ); the fit reads a sample of traces, not the whole cube.
    pipeline_applied : bool
        ``view`` already holds the output of the card's preprocessing pipeline (a layer
        made by the Preprocess widget): only the standardisation is applied.
    dt : float, optional
        Sample interval (ms) for AGC windows in ms when refitting.
    live : numpy.ndarray, optional
        Live-trace mask of ``view`` (its first two axes) for refitting.

    Returns
    -------
    Normalizer or None
    """
    if statistics not in STATISTICS:
        raise SeisSegError(f"statistics must be one of {', '.join(STATISTICS)}, got {statistics!r}.")
    norm = bm.normalizer
    if norm is None:
        return None
    pipeline = None if pipeline_applied else norm.pipeline
    if statistics == "stored":
        return norm if pipeline is norm.pipeline else Normalizer(norm.center, norm.scale, norm.clip, None)
    if pipeline is not None:
        pipeline = pipeline.reset()
        axis = bm.sample_axis
        live_ok = live if (live is not None and axis == 2 and live.shape == tuple(view.shape[:2])) else None
        pipeline.fit(view, axis, dt=dt, live=live_ok)
    refit = fit_normalizer(view, pipeline=pipeline, sample_axis=bm.sample_axis)
    refit.clip = norm.clip
    return refit


def pipeline_already_applied(bm: BundleModel, image_pipeline: dict | None, name: str = "The image") -> bool:
    """Whether an image already holds the output of the card's preprocessing pipeline.

    Parameters
    ----------
    bm : BundleModel
        The model.
    image_pipeline : dict or None
        The pipeline the image was made with (a Preprocess-widget layer carries it in
        ``layer.metadata["seisseg_preprocess"]``); None for raw amplitudes.
    name : str
        How to call the image in messages.

    Returns
    -------
    bool
        True when the image was made with the card's pipeline steps (statistics may differ:
        refitted on this cube), so prediction must not apply them again.

    Raises
    ------
    SeisSegError
        If the image was made with a different pipeline than the model's.
    """
    card_pipe = (bm.card.get("preprocessing") or {}).get("pipeline")
    if not image_pipeline or not card_pipe:
        return False
    try:
        ours, theirs = Pipeline.from_dict(card_pipe), Pipeline.from_dict(image_pipeline)
    except SeisSegError:
        return False
    if ours.same_parameters(theirs):
        return True
    raise SeisSegError(
        f"{name} was preprocessed with [{theirs.describe()}] but the model applies "
        f"[{ours.describe()}] to raw amplitudes. Predict the raw image (the model preprocesses "
        "it itself), or an image made with the model's pipeline."
    )
