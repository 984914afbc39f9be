"""Sliding-window prediction: window planning, blending, whole-cube prediction, postprocessing.

Main entry points (all pure: no napari, no Qt):

- :func:`predict_volume`: a 2D or 3D model over a 2D or 3D volume, as a generator of
  progress events returning the probabilities ``(C, *shape)``.
- :func:`predict_sections`: a 2D (or 2.5D) model over every section of a cube, along one or
  several axes, averaged.
- :func:`predict_volume_dask`: Zarr to Zarr on a Dask cluster, the same result.
- :func:`drain`: drain one of these generators and return its result.
- :func:`probabilities_to_mask`, :func:`uncertainty`, :func:`rank_slices`: results for the
  user (mask in the training convention 1..K, entropy, where to label next).

Importing this package imports torch.
"""

from __future__ import annotations

from .blending import blend_weights
from .dask_predict import predict_volume_dask
from .events import (
    PredictionCancelled,
    PredictionEvent,
    PredictionFinished,
    PredictionProgress,
    PredictionStarted,
)
from .outputs import from_stored, to_stored
from .postprocess import probabilities_to_mask, rank_slices, slice_uncertainty, uncertainty
from .predict import predict_volume
from .predictor import resolve_device
from .sections import predict_sections
from .windows import WindowPlan, axis_starts

__all__ = [
    "PredictionCancelled",
    "PredictionEvent",
    "PredictionFinished",
    "PredictionProgress",
    "PredictionStarted",
    "WindowPlan",
    "axis_starts",
    "blend_weights",
    "from_stored",
    "predict_sections",
    "predict_volume",
    "predict_volume_dask",
    "probabilities_to_mask",
    "rank_slices",
    "resolve_device",
    "slice_uncertainty",
    "to_stored",
    "uncertainty",
]
