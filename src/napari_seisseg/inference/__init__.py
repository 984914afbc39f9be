"""Sliding-window prediction: window planning, blending, whole-cube prediction, postprocessing.

Main entry points (all pure: no napari, no Qt):

- :func:`predict_volume`: a 2D or 3D model over a 2D or 3D volume, as a generator of
  progress events returning the probabilities ``(C, *shape)``.
- :func:`predict_sections`: a 2D (or 2.5D) model over every section of a cube, along one or
  several axes, averaged.
- :func:`predict_volume_dask`: Zarr to Zarr on a Dask cluster, the same result.
- :func:`predict_bundle`: a trained model bundle (:class:`~napari_seisseg.bundle.BundleModel`)
  over an image, its card deciding every setting; returns a :class:`BundlePrediction`
  (what ``seisseg predict`` and the Predict widget run); :func:`predict_bundle_dask`: the
  same for a 3D bundle on a Dask cluster.
- :func:`probabilities_to_mask`, :func:`uncertainty`, :func:`rank_slices`: results for the
  user (mask in the training convention 1..K, entropy, where to label next).

Modules: the window engine (:mod:`.windows` plans, :mod:`.blending` weights,
:mod:`.stitching` streams windows into blended rows, :mod:`.window_driver` runs passes of
it, :mod:`.sections` sweeps sections, :mod:`.predictor` runs the network on batches), bundle
prediction (:mod:`.bundle_prediction`), and the Dask front (:mod:`.dask_volume`,
:mod:`.dask_bundle`).  :func:`~napari_seisseg.jobs.drain` runs any of these generators to
its end.

Importing this package imports torch.
"""

from __future__ import annotations

from .blending import blend_weights
from .bundle_prediction import predict_bundle
from .bundle_result import BundlePrediction
from .dask_bundle import predict_bundle_dask
from .dask_volume import predict_volume_dask
from .events import (
    PredictionCancelled,
    PredictionEvent,
    PredictionFinished,
    PredictionProgress,
    PredictionStarted,
)
from .outputs import from_stored, to_stored
from .postprocess import probabilities_to_mask, rank_slices, slice_uncertainty, uncertainty
from .sections import predict_sections
from .window_driver import predict_volume
from .windows import WindowPlan, axis_starts

__all__ = [
    "BundlePrediction",
    "PredictionCancelled",
    "PredictionEvent",
    "PredictionFinished",
    "PredictionProgress",
    "PredictionStarted",
    "WindowPlan",
    "axis_starts",
    "blend_weights",
    "from_stored",
    "predict_bundle",
    "predict_bundle_dask",
    "predict_sections",
    "predict_volume",
    "predict_volume_dask",
    "probabilities_to_mask",
    "rank_slices",
    "slice_uncertainty",
    "to_stored",
    "uncertainty",
]
