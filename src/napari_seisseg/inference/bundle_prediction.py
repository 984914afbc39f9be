"""Prediction with a trained model bundle: the one place that turns a model card into settings.

Both ``seisseg predict`` and the Predict widget go through here, so a bundle is applied the
same way everywhere:

>>> model = BundleModel.load("salt.safetensors")                      # doctest: +SKIP
>>> gen = predict_bundle(model, cube, geometry=geometry, overlap=0.5)  # doctest: +SKIP
>>> result = drain(gen)                                    # doctest: +SKIP
>>> mask, unc = result.mask(), result.uncertainty()                    # doctest: +SKIP

What the card decides
    ``input.kind`` picks the sweep: ``"3d"`` models run :func:`predict_volume` with the
    training patch as the window; ``"2d"`` and ``"slab"`` models run
    :func:`predict_sections` (with the card's 2.5D ``context``) along the chosen
    orientations, averaged.  ``preprocessing`` is rebuilt with
    :meth:`~napari_seisseg.bundle.normalize.Normalizer.from_dict` and applied window by
    window along the card's ``input.sample_axis``; a pipeline that looks at neighbouring
    samples (AGC) reads them, as training did, so a window gets exactly the values the whole
    cube would.  ``classes`` / ``binary`` / ``threshold`` turn probabilities into a mask in
    the training convention (the card's label values, 0 at dead traces).

Axis order
    Training saw a cube with a geometry in the canonical order ``(inline, crossline,
    sample)`` (a section as ``(trace, sample)``), and the card's axes refer to that order;
    without a geometry it saw the array as given.  Here a volume with a geometry may come in
    any order the geometry names (the canonical order of files, or napari's display order
    ``(inline, sample, crossline)``): it is viewed in training order for prediction and the
    probabilities come back in the volume's own order.  A 2D section is predicted as one
    section (a section model is needed).

Outputs
    In memory by default.  ``out`` may be a ``.npy`` or ``.zarr`` path (disk-backed, written
    window by window, renamed into place on success); such a file holds the training order
    (the canonical order when the volume has a geometry) and the returned array is a view of
    it in the volume's order.  :class:`BundlePrediction` computes the mask and the
    uncertainty block by block, in memory or lazily (:meth:`BundlePrediction.lazy_mask`) for
    writers that stream them to disk.
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..bundle.inputs import input_normalizer
from ..bundle.model import BundleModel
from ..bundle.prior_application import applied_priors, fitting_prior, lateral_finalize, prior_notes
from ..bundle.time_prior import with_time_prior
from ..errors import SeisSegError
from ..io.geometry import SurveyGeometry
from ..io.indexing import WithLeadingAxis
from ..io.sample_axis import is_guessed
from ..preprocess.fitting import interval_ms
from ._checks import check_dead_mask, mask_slices
from .array_views import HaloNormalized, Slab, transpose_view
from .bundle_result import PredictionGenerator, PredictionPlan, axis_key, finish_prediction
from .events import PredictionEvent
from .passes import describe_passes
from .sections import predict_sections
from .survey_axes import (
    canonical_order,
    dead_mask_from_geometry,
    fitting_geometry,
    resolve_orientations,
)
from .window_driver import predict_volume

__all__ = ["predict_bundle", "window_3d"]

#: Largest section (voxels) predicted whole by a section model; larger ones are tiled.
MAX_WHOLE_SECTION = 1 << 20
#: Tile edge used for sections larger than :data:`MAX_WHOLE_SECTION`.
SECTION_TILE = 512

def _section_tile(view_shape: tuple[int, ...], axes: Sequence[int]) -> tuple[int, int] | None:
    """Whole sections unless one is larger than :data:`MAX_WHOLE_SECTION` voxels."""
    largest = max(math.prod(n for k, n in enumerate(view_shape) if k != a) for a in axes)
    if largest <= MAX_WHOLE_SECTION:
        return None
    return (SECTION_TILE, SECTION_TILE)


# ---------------------------------------------------------------------------------- prediction
def _plan(bm: BundleModel, volume: Any, geometry: SurveyGeometry | None, dead_mask: Any) -> PredictionPlan:
    shape = getattr(volume, "shape", None)
    if shape is None or not hasattr(volume, "__getitem__"):
        raise SeisSegError(
            f"The image must be an array (numpy, memmap, dask, Zarr or SEG-Y), got {type(volume).__name__}."
        )
    shape = tuple(int(n) for n in shape)
    ndim = len(shape)
    if ndim not in (2, 3):
        raise SeisSegError(
            f"The image is {ndim}D (shape {shape}); predict a 3D cube or a 2D section. "
            "An RGB or multichannel image cannot be segmented by a seismic model."
        )
    if ndim == 2 and not bm.is_section_model:
        raise SeisSegError(
            f"'{bm.name}' is a 3D model and needs a cube, but the image is a 2D section of shape "
            f"{shape}. Use a section model (unet2d, resunet, hybrid) for single sections."
        )
    geometry = fitting_geometry(geometry, shape)
    perm = tuple(range(ndim))
    if geometry is not None:
        perm = geometry.permutation_to(canonical_order(geometry))
    view = transpose_view(volume, perm)
    if isinstance(dead_mask, str) and dead_mask == "auto":
        dead_input = dead_mask_from_geometry(geometry, shape)
    elif dead_mask is None:
        dead_input = None
    else:
        dead_input = check_dead_mask(dead_mask, shape)
    dead_view = None if dead_input is None else np.transpose(dead_input, perm)
    if ndim == 2:
        view = view[None] if isinstance(view, np.ndarray) else WithLeadingAxis(view)
        dead_view = None if dead_view is None else dead_view[None]
    return PredictionPlan(view, perm, ndim == 2, geometry, dead_view, dead_input)


def _preprocess(bm: BundleModel, view: Any, norm: Any = "card") -> tuple[Any, Callable[[np.ndarray], np.ndarray] | None]:
    """The view to read and the per-window preprocessing (normaliser, sample axis)."""
    norm = bm.normalizer if isinstance(norm, str) else norm
    if norm is None:
        return view, None
    if norm.halo != (0, 0):
        return HaloNormalized(view, norm, bm.sample_axis), None
    return view, functools.partial(norm, axis=bm.sample_axis)


def _view_axes(orientations: tuple[int, ...] | None, plan: PredictionPlan, bm: BundleModel) -> tuple[int, ...]:
    if plan.squeeze:
        return (0,)
    if orientations is None:
        return bm.predict_axes
    return tuple(plan.perm.index(a) for a in orientations)


def window_3d(bm: BundleModel, window: Any, shape: tuple[int, ...]) -> tuple[int, ...]:
    """The sliding window of a 3D model: ``window``, else the training patch, capped at ``shape``."""
    if window is None:
        window = bm.patch_size or (64, 64, 64)
    if isinstance(window, int | np.integer):
        window = (int(window),) * 3
    window = tuple(int(w) for w in window)
    if len(window) == 1:
        window = window * 3
    if len(window) != 3:
        raise SeisSegError(f"A 3D model takes a 3D window (depth, height, width); got {window}.")
    return tuple(min(w, n) for w, n in zip(window, shape, strict=True))


def predict_bundle(
    bundle: Any,
    volume: Any,
    *,
    geometry: SurveyGeometry | None = None,
    orientations: Any = None,
    overlap: float = 0.5,
    tta: bool | None = None,
    device: Any = "auto",
    amp: bool | None = None,
    blend: str = "gaussian",
    batch_size: int | None = None,
    window: int | Sequence[int] | None = None,
    out: Any = None,
    out_dtype: str = "float32",
    chunks: Sequence[int] | None = None,
    overwrite: bool = True,
    dead_mask: Any = "auto",
    slice_index: int | None = None,
    slice_axis: int | str | None = None,
    statistics: str = "stored",
    pipeline_applied: bool = False,
    stop: Any = None,
    time_prior: bool = True,
    lateral_prior: bool = True,
) -> PredictionGenerator:
    """Predict an image with a trained bundle, as a generator of progress events.

    Arguments are checked when this is called (bad ones raise :class:`SeisSegError` at
    once); the work happens as the generator is iterated.

    Parameters
    ----------
    bundle : path, BundleModel, (model, card) or model entry
        The trained model (see :meth:`BundleModel.coerce`).
    volume : array-like
        3D cube or 2D section (numpy, memmap, dask, zarr, lazy SEG-Y), raw amplitudes as
        the model was trained on (the card's preprocessing is applied here).
    geometry : SurveyGeometry, optional
        Geometry of ``volume`` (``geometry.axes`` is its axis order: canonical, napari's
        display order or any other); dead traces come from its live mask.  Without one the
        array is taken in the order the model was trained in.
    orientations : sequence of int or str, optional
        Section models: the section axes to predict along and average (input axes, or
        names such as ``"inline"``, ``"crossline"``, ``"time"`` with a geometry).  Default:
        the card's ``predict_axes`` (the painted orientation; the inlines and crosslines when
        both were painted or when time slices lead paint with one of them; all trained
        orientations for time slices painted alone, time first, or led by one painted
        vertical orientation, it first), else the first axis the model was trained on.
    overlap : float
        Overlap of neighbouring windows (3D models) or section tiles, in ``[0, 1)``.
    tta : bool, optional
        Test-time augmentation: average over flips of the window (or section) axes; for a
        model painted on time slices, over flips of its maps (and their transposes, when
        training turned the maps: :meth:`BundleModel.test_time_turns`), and for one painted
        in several orientations, over flips of the traces (never of time); never over time
        for a model trained without upside-down patches
        (:attr:`BundleModel.trained_upside_down`).  Default (None): on for the first two
        kinds, off otherwise (:attr:`BundleModel.flips_by_default`).
    device : str
        ``"auto"`` (CUDA, MPS, else CPU), ``"cpu"``, ``"cuda"``...
    amp : bool, optional
        Mixed precision on CUDA (default: on for CUDA).
    blend : {"gaussian", "linear", "constant"}
        Window weights.
    batch_size : int, optional
        Windows (sections) per model call; default 2 for 3D models, 4 for sections.
    window : int or sequence of int, optional
        3D models: the window (default: the training patch, capped at the cube).  Section
        models: the tile of a section (default: whole sections up to about a million
        voxels, tiles of 512 beyond).
    out : None, path or array
        Where the probabilities go (see the module docstring): memory, a ``.npy`` or a
        ``.zarr`` path (in training order), or an array of the training-order shape.
    out_dtype : {"float32", "float16", "uint8"}
        Stored probability type.
    chunks : sequence of int, optional
        Zarr chunks of a Zarr ``out``.
    overwrite : bool
        Whether an existing ``out`` may be replaced.
    dead_mask : "auto", None or array-like of bool
        ``"auto"``: dead traces from the geometry; or a mask broadcastable to the image
        (its order); None: no dead traces.
    slice_index : int, optional
        Quick look: predict only this slice along ``slice_axis`` (its neighbours are read
        for context, or a window around it for 3D models).
    slice_axis : int or str, optional
        Axis of ``slice_index`` (input axis or name; default: the inline axis with a
        geometry, else axis 0).
    statistics : {"stored", "refit"}
        Input statistics: the card's (training survey) or refitted on this image (see
        :func:`input_normalizer`).
    pipeline_applied : bool
        The image already holds the card's preprocessing output (a Preprocess-widget
        layer): the pipeline is not applied twice, only the standardisation.
    stop : callable or threading.Event, optional
        Checked before every batch: the generator then yields
        :class:`~napari_seisseg.inference.events.PredictionCancelled` and returns None,
        leaving nothing at ``out``.
    time_prior : bool
        Combine the network with what was painted at each time sample, when the card holds
        it (:mod:`napari_seisseg.bundle.time_prior`; models with the position channel).
    lateral_prior : bool
        Combine the network with what the nearest painted trace holds, when the card holds
        painted traces and the image is the painted survey's shape
        (:mod:`napari_seisseg.bundle.lateral_prior`).

    Returns
    -------
    generator
        Yields :mod:`~napari_seisseg.inference.events`; returns a :class:`BundlePrediction`
        (probabilities in the input's axis order) or None when cancelled.
    """
    bm = BundleModel.coerce(bundle)
    plan = _plan(bm, volume, geometry, dead_mask)
    ndim = len(volume.shape)
    orient = _orientations(bm, orientations, plan, ndim)
    if plan.squeeze:
        slice_index = None  # a single section: one orientation, one slice
    norm = _normalizer(bm, plan, statistics, pipeline_applied)
    view, preprocess = _preprocess(bm, plan.view, norm)
    if slice_index is not None:
        part = _quick_look(bm, plan, view, slice_index, slice_axis, window)
    else:
        part = _whole_image(bm, plan, view, orient)
    flips = bm.test_time_flips(tta)
    turns = bm.test_time_turns(tta, part.axes)  # () but for time-slice section models
    path_out = out if isinstance(out, str | os.PathLike) else None
    write_later = path_out is not None and (plan.squeeze or part.sub_axis is not None)
    common = dict(
        overlap=overlap, blend=blend, device=device, amp=True if amp is None else bool(amp),
        activation="auto", out=None if write_later else out, out_dtype=out_dtype,
        n_channels=bm.n_outputs, preprocess=preprocess, tta=flips, dead_mask=part.dead_view,
        stop=stop, overwrite=overwrite, chunks=chunks,
    )
    lines = _lines(plan)
    prior, why_not = fitting_prior(bm.card, plan.view.shape, lines) if lateral_prior else (None, None)
    common["finalize"] = None if prior is None else lateral_finalize(prior, plan.view.shape, part.origin)
    gen = _sweep(bm, part, window, batch_size, common, time_prior, turns)
    applied = applied_priors(bm, time_prior, prior)
    passes, said = describe_passes(bm, part.axes, flips, plan.axis_names(), turns)
    notes = [said, *prior_notes(applied, prior, why_not, checked=lines is not None)]
    return finish_prediction(gen, bm, plan, part.region, part.sub_axis,
                             path_out if write_later else None, out_dtype, chunks, overwrite, notes,
                             applied, passes)


def _orientations(bm: BundleModel, orientations: Any, plan: PredictionPlan, ndim: int) -> Any:
    """The asked orientations as axes of the input, checked against the model (None: the
    card's, or the single section of a 2D image)."""
    orient = resolve_orientations(orientations, plan.geometry, ndim)
    if orient is not None and not bm.is_section_model:
        raise SeisSegError(
            f"Orientations apply to section models; '{bm.name}' is a 3D model that predicts "
            "3D windows (leave the orientations out)."
        )
    return None if plan.squeeze else orient


@dataclass
class _Part:
    """The part of the training-order view a prediction sweeps, and where it sits."""

    view: Any                            # what the sweep reads (the view, or a slab of it)
    dead_view: np.ndarray | None         # dead traces of ``view``
    region: tuple[slice, ...]            # the predicted part of the input image
    axes: tuple[int, ...]                # section axes of ``view`` (section models)
    sub_axis: tuple[int, int] | None = None  # quick look: (view axis, slice within ``view``)
    sample_offset: int = 0               # first sample of ``view`` along the sample axis
    origin: tuple[int, ...] = (0, 0, 0)  # where ``view`` starts in the training-order view


def _normalizer(bm: BundleModel, plan: PredictionPlan, statistics: str, pipeline_applied: bool) -> Any:
    """The card's normaliser, or one refitted on the image / without the applied pipeline."""
    if statistics == "stored" and not pipeline_applied:
        return bm.normalizer
    live = None
    if plan.geometry is not None and plan.geometry.live is not None:
        live = np.asarray(plan.geometry.live)
    return input_normalizer(bm, plan.view, statistics=statistics, pipeline_applied=pipeline_applied,
                            dt=interval_ms(plan.geometry), live=live)


def _whole_image(bm: BundleModel, plan: PredictionPlan, view: Any, orient: Any) -> _Part:
    """The whole image, along the chosen orientations (trained ones only)."""
    axes_view = _view_axes(orient, plan, bm) if bm.is_section_model else ()
    if bm.is_section_model and not plan.squeeze:
        allowed = set(bm.section_axes)
        odd = [a for a in axes_view if a not in allowed]
        if odd and len(allowed) < 3:
            names = (bm.input.get("axis_names") or ["axis 0", "axis 1", "axis 2"])
            raise SeisSegError(
                f"The model was trained on sections along {', '.join(names[a] for a in sorted(allowed))} "
                f"only; predicting along {', '.join(names[a] for a in odd)} would show it sections "
                "it never saw. Choose a trained orientation."
            )
    return _Part(view, plan.dead_view, (slice(None),) * len(plan.perm), axes_view)


def _quick_look(
    bm: BundleModel, plan: PredictionPlan, view: Any, slice_index: Any, slice_axis: Any, window: Any
) -> _Part:
    """One slice of the image: the slab of slices (or the window) around it that the model reads."""
    ndim = len(plan.perm)
    in_axis = _slice_axis(slice_axis, plan.geometry, ndim)
    n = int(plan.view.shape[plan.perm.index(in_axis)])
    if isinstance(slice_index, bool) or not isinstance(slice_index, int | np.integer) or not 0 <= slice_index < n:
        raise SeisSegError(f"Slice {slice_index!r} is outside the image (0..{n - 1} along axis {in_axis}).")
    slice_index = int(slice_index)
    region: list[slice] = [slice(None)] * ndim
    region[in_axis] = slice(slice_index, slice_index + 1)
    va = plan.perm.index(in_axis)
    if bm.is_section_model:
        axes_view = (va,)
        lo, hi = max(0, slice_index - bm.context), min(n, slice_index + bm.context + 1)
    else:
        axes_view = ()
        w = min(window_3d(bm, window, tuple(view.shape))[va], n)
        lo = int(np.clip(slice_index - w // 2, 0, n - w))
        hi = lo + w
    dead_view = plan.dead_view
    if dead_view is not None:
        dead_view = mask_slices(check_dead_mask(dead_view, tuple(plan.view.shape)), axis_key(va, lo, hi, 3))
    view = view[axis_key(va, lo, hi, 3)] if isinstance(view, np.ndarray) else Slab(view, va, lo, hi)
    origin = tuple(lo if k == va else 0 for k in range(3))
    return _Part(view, dead_view, tuple(region), axes_view, (va, slice_index - lo),
                 lo if va == bm.sample_axis else 0, origin)


def _sweep(
    bm: BundleModel, part: _Part, window: Any, batch_size: int | None, common: dict[str, Any],
    time_prior: bool = True, turns: tuple[int, ...] = (),
) -> Generator[PredictionEvent, None, Any]:
    """The core generator: sections along ``part.axes`` (section models, with the card's time
    prior when ``time_prior``, the orientations ``turns`` also transposed) or 3D windows."""
    view_shape = tuple(int(s) for s in part.view.shape)
    if not bm.is_section_model:
        return predict_volume(
            bm.model, part.view, window=window_3d(bm, window, view_shape), batch_size=batch_size or 2,
            **common,
        )
    tile = window if window is not None else _section_tile(view_shape, part.axes)
    if isinstance(tile, int | np.integer):
        tile = (int(tile), int(tile))
    return predict_sections(
        with_time_prior(bm.model, bm.card) if time_prior else bm.model, part.view, axes=part.axes, context=bm.context, tile=tile,
        batch_size=batch_size or 4, layout="slab" if bm.kind == "slab" else "channels",
        min_tile=bm.patch_size, pad=bm.pad_mode,
        position=None if bm.position is None else (bm.position, bm.sample_axis, part.sample_offset),
        weights=bm.orientation_weights(part.axes), turn_axes=turns, **common,
    )


def _lines(plan: PredictionPlan) -> dict[int, np.ndarray] | None:
    """Line numbers of the training-order view's inline and crossline axes (from the geometry)."""
    g = plan.geometry
    if g is None or is_guessed(g):  # lines counted from 0 are no survey's line numbers
        return None
    if g.kind == "section":  # a 2D line, seen as (1, trace, sample)
        return {1: np.asarray(g.traces)} if plan.squeeze else None
    return {0: np.asarray(g.ilines), 1: np.asarray(g.xlines)}


def _slice_axis(axis: Any, geometry: SurveyGeometry | None, ndim: int) -> int:
    if axis is None:
        if geometry is not None and "inline" in geometry.axes:
            return geometry.axes.index("inline")
        return 0
    return resolve_orientations([axis], geometry, ndim)[0]


