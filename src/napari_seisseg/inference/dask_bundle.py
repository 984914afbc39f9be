"""Prediction with a 3D bundle on a Dask cluster: a Zarr cube in, a Zarr store out.

The bundle-level front of :func:`~napari_seisseg.inference.dask_volume.predict_volume_dask`:
it checks the model and the store, applies the card's normalisation window by window and
returns the same :class:`~napari_seisseg.inference.bundle_result.BundlePrediction` as
in-process prediction.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..bundle.model import BundleModel
from ..errors import SeisSegError
from ..io.sample_axis import is_guessed
from ..io.zarr_io import read_zarr
from .bundle_prediction import window_3d
from .bundle_result import PredictionGenerator, PredictionPlan, finish_prediction
from .dask_volume import predict_volume_dask
from .passes import describe_passes
from .survey_axes import canonical_order, dead_mask_from_geometry

__all__ = ["predict_bundle_dask"]


def _check_order(zarr_in: Any, geometry: Any) -> Any:
    """``geometry`` when the store is in the canonical order; a SeisSegError saying what to do otherwise."""
    if geometry is None or tuple(geometry.axes) == canonical_order(geometry):
        return geometry
    if is_guessed(geometry):
        raise SeisSegError(
            f"{zarr_in} has no survey geometry, and time was taken along its axis "
            f"{geometry.axes.index('sample')} (read from its amplitudes or given), not the last; the "
            "Dask path needs the (inline, crossline, sample) order. Predict without "
            "--dask-scheduler (it reads any order), store the cube with time last, or give "
            "--sample-axis 2 if time is the last axis after all."
        )
    raise SeisSegError(
        f"{zarr_in} is stored in {', '.join(geometry.axes)} order; the Dask path needs the "
        f"canonical order. Rewrite it: seisseg convert {zarr_in} canonical.zarr"
    )


def predict_bundle_dask(
    bundle: Any,
    zarr_in: str | os.PathLike,
    zarr_out: str | os.PathLike,
    *,
    client: Any = None,
    scheduler: str = "threads",
    overlap: float = 0.5,
    tta: bool | None = None,
    device: Any = "auto",
    amp: bool | None = None,
    blend: str = "gaussian",
    batch_size: int | None = None,
    window: int | Sequence[int] | None = None,
    out_dtype: str = "float32",
    block: int | Sequence[int] | None = None,
    overwrite: bool = True,
    stop: Any = None,
    lateral_prior: bool = True,
    sample_axis: int | str | None = "auto",
) -> PredictionGenerator:
    """Predict a Zarr cube into a Zarr store on a Dask cluster with a 3D bundle.

    The input must be stored in training order (the canonical ``(inline, crossline,
    sample)`` order that ``seisseg convert`` writes) on storage every worker reads; workers
    load the bundle file themselves.  Dead traces come from the geometry in the store's
    attributes.  The card's preprocessing is applied window by window (a pipeline with AGC
    sees only the window's samples there; the in-process path reads the AGC margin).

    Parameters
    ----------
    bundle : path, BundleModel, (model, card) or model entry
        A 3D model; a bundle file is loaded on each worker, anything else is shipped.
    zarr_in, zarr_out : path
        Input cube and output store ``(C, *shape)``.
    client : distributed.Client or str, optional
        A cluster client or a scheduler address (``tcp://host:8786``); None runs locally.
    scheduler : str
        Local Dask scheduler without a client.
    overlap, tta, device, amp, blend, batch_size, window, out_dtype, overwrite, stop
        As for :func:`predict_bundle`.
    lateral_prior : bool
        Whether the lateral prior was asked for: the Dask path predicts without it, and says so
        when it was.
    block : int or sequence of int, optional
        Spatial size of one task (default: four windows per axis).

    Returns
    -------
    generator
        Progress events; returns a :class:`BundlePrediction` (the output opened read-only)
        or None when cancelled.
    """
    bm = BundleModel.coerce(bundle)
    if bm.is_section_model:
        raise SeisSegError(
            f"The Dask path runs 3D models; '{bm.name}' is a section ({bm.kind}) model. Predict it "
            "in one process (without --dask-scheduler): sections stream through bounded memory."
        )
    if Path(zarr_in).suffix.lower() != ".zarr":
        raise SeisSegError(
            f"The Dask path reads a Zarr store every worker can open, not {zarr_in}. Convert it "
            f"first: seisseg convert {zarr_in} {Path(zarr_in).with_suffix('.zarr')}"
        )
    vol = read_zarr(zarr_in, sample_axis=sample_axis)
    shape = tuple(int(n) for n in vol.data.shape)
    if len(shape) != 3:
        raise SeisSegError(f"{zarr_in} is {len(shape)}D (shape {shape}); the Dask path predicts 3D cubes.")
    geometry = _check_order(zarr_in, vol.geometry)
    norm = bm.normalizer
    preprocess = None if norm is None else functools.partial(norm, axis=bm.sample_axis)
    predictor: Any = str(Path(bm.path).resolve()) if bm.path is not None else bm.model
    dead = dead_mask_from_geometry(geometry, shape)
    flips = bm.test_time_flips(tta) or False  # the axes, where training never flipped time
    gen = predict_volume_dask(
        predictor, str(Path(zarr_in).resolve()), Path(zarr_out).resolve(),
        window=window_3d(bm, window, shape), overlap=overlap,
        blend=blend, batch_size=batch_size or 2, device=device, amp=True if amp is None else amp,
        out_dtype=out_dtype, n_channels=bm.n_outputs, preprocess=preprocess, tta=flips,
        dead_mask=dead, block=block, client=client, scheduler=scheduler, stop=stop,
        overwrite=overwrite,
    )
    plan = PredictionPlan(None, (0, 1, 2), False, geometry, dead, dead)
    notes = (["lateral prior not applied: the Dask path predicts with the network alone (predict in one "
              "process to combine it with the paint)"] if lateral_prior and bm.input.get("lateral_prior") else [])
    passes, said = describe_passes(bm, (), flips, plan.axis_names())
    return finish_prediction(gen, bm, plan, (slice(None),) * 3, None, None, out_dtype, None, overwrite,
                             [said, *notes], passes=passes)
