"""The result of a bundle prediction, brought back to the image's own axis order.

:func:`finish_prediction` drives the core generator (:func:`predict_volume`,
:func:`predict_sections`, or the Dask front) and turns its probabilities, in training
order, into a :class:`BundlePrediction` in the order of the image that was predicted:
probabilities, the mask and the uncertainty (in memory or lazily), and the slices to label
next.
"""

from __future__ import annotations

import time
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..bundle.model import BundleModel
from ..io.geometry import SurveyGeometry
from ..io.layer_axes import axis_word
from ._checks import mask_slices
from .array_views import ChannelView, DerivedArray, transpose_view
from .events import PredictionEvent
from .outputs import from_stored, open_output
from .passes import SECTION
from .postprocess import probabilities_to_mask, rank_slices, uncertainty
from .survey_axes import subset_geometry

__all__ = ["BundlePrediction", "PredictionGenerator", "PredictionPlan", "axis_key", "finish_prediction"]

PredictionGenerator = Generator[PredictionEvent, None, "BundlePrediction | None"]


@dataclass
class BundlePrediction:
    """Probabilities of a bundle over an image, and what derives from them.

    Attributes
    ----------
    probabilities : array-like
        ``(C, *shape)`` in the image's axis order (numpy, or a view of a read-only memmap
        or zarr array), float or uint8 holding ``round(p * 255)``.  ``C`` is one per class,
        or one for a binary model (the probability of its second class).
    bundle : BundleModel
        The model.
    geometry : SurveyGeometry or None
        Geometry of the predicted part of the image (in its order).
    dead_mask : numpy.ndarray or None
        Dead traces, broadcastable to ``shape``.
    region : tuple of slice
        Part of the input image predicted (all of it, or one slice for a quick look).
    seconds : float
        Wall time of the prediction.
    notes : list of str
        For the user: what the prediction averaged (its first line: orientations, weights,
        flips), what it combined the network with (the priors from the paint), or why not.
    priors : dict
        Which priors from the paint were applied: ``{"time": bool, "lateral": bool}``
        (written beside saved probabilities).
    passes : dict
        What the prediction averaged: ``orientations``, their ``weights``, the axes
        flipped (``flips``), the orientations also transposed (``turned``), ``sweeps`` of
        the image and a short ``text``
        (:func:`~napari_seisseg.inference.passes.describe_passes`; written beside saved
        probabilities and into the result layers' metadata).
    """

    probabilities: Any
    bundle: BundleModel
    geometry: SurveyGeometry | None = None
    dead_mask: np.ndarray | None = None
    region: tuple[slice, ...] = ()
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    priors: dict[str, bool] = field(default_factory=lambda: {"time": False, "lateral": False})
    passes: dict[str, Any] = field(default_factory=dict)

    @property
    def shape(self) -> tuple[int, ...]:
        """Spatial shape."""
        return tuple(int(n) for n in self.probabilities.shape[1:])

    @property
    def channel_names(self) -> list[str]:
        """Class name of every probability channel."""
        return [c["name"] for c in self.bundle.channel_classes]

    def _threshold(self, threshold: float | None) -> float | None:
        if self.bundle.binary:
            return self.bundle.threshold if threshold is None else float(threshold)
        return None if threshold is None else float(threshold)

    def mask(self, threshold: float | None = None) -> np.ndarray:
        """Class mask in the training convention (the card's label values, 0 at dead traces).

        Parameters
        ----------
        threshold : float, optional
            Binary models: probability of the second class above which it is chosen
            (default: the card's threshold).  Two-class softmax models: the same on the
            second channel.  Otherwise leave it out (the most probable class wins).
        """
        return probabilities_to_mask(
            self.probabilities, threshold=self._threshold(threshold), dead_mask=self.dead_mask,
            values=self.bundle.class_values,
        )

    def uncertainty(self, dtype: str = "float32") -> np.ndarray:
        """Normalised entropy 0 (sure) .. 1 (uniform), 0 at dead traces."""
        return uncertainty(self.probabilities, dead_mask=self.dead_mask, dtype=dtype)

    def lazy_mask(self, threshold: float | None = None) -> DerivedArray:
        """The mask as a lazy array computed block by block when indexed (for writers)."""
        t, values = self._threshold(threshold), self.bundle.class_values
        dtype = np.uint8 if max(values, default=0) <= 255 else np.uint16

        def fn(p: np.ndarray, dead: np.ndarray | None) -> np.ndarray:
            return probabilities_to_mask(p, threshold=t, dead_mask=dead, values=values)

        return DerivedArray(self.probabilities, fn, dtype, self.dead_mask)

    def lazy_uncertainty(self, dtype: str = "float32") -> DerivedArray:
        """The uncertainty as a lazy array computed block by block when indexed."""

        def fn(p: np.ndarray, dead: np.ndarray | None) -> np.ndarray:
            return uncertainty(p, dead_mask=dead, dtype=dtype)

        return DerivedArray(self.probabilities, fn, np.dtype(dtype), self.dead_mask)

    def channel(self, k: int, raw: bool = False) -> ChannelView:
        """Probability channel ``k`` as a lazy float32 array (``raw``: as stored)."""
        return ChannelView(self.probabilities, k, raw)

    def rank_slices(
        self, axis: int = 0, n: int = 5, *, unc: Any = None, min_gap: int = 0
    ) -> np.ndarray:
        """The ``n`` slices along ``axis`` (of the image) of highest mean uncertainty."""
        unc = self.uncertainty() if unc is None else unc
        return rank_slices(unc, axis, n, dead_mask=self.dead_mask, min_gap=min_gap)


@dataclass
class PredictionPlan:
    """The image seen in training order, and how to come back."""

    view: Any                 # 3D, training order (2D images get a leading axis)
    perm: tuple[int, ...]     # view axis k = input axis perm[k] (input's own axes)
    squeeze: bool             # the input was 2D
    geometry: SurveyGeometry | None
    dead_view: np.ndarray | None
    dead_input: np.ndarray | None

    def axis_names(self) -> list[str]:
        """The view's axes as the widgets name them (``time`` or ``depth`` for the samples,
        ``axis k`` without a geometry; a single section, held as ``(1, trace, sample)``:
        :data:`~.passes.SECTION` and its two axes)."""
        g = self.geometry
        n = len(self.perm)
        names = ([axis_word(g, a) for a in g.axes] if g is not None and len(g.axes) == n
                 else [f"axis {k}" for k in range(n)])
        names = [str(names[p]) for p in self.perm]
        return [SECTION, *names] if self.squeeze else names


def axis_key(axis: int, lo: int, hi: int, ndim: int) -> tuple[slice, ...]:
    """A key taking ``lo:hi`` along ``axis`` and every other axis whole."""
    key = [slice(None)] * ndim
    key[axis] = slice(lo, hi)
    return tuple(key)


def finish_prediction(
    gen: Generator[PredictionEvent, None, Any],
    bm: BundleModel,
    plan: PredictionPlan,
    region: tuple[slice, ...],
    sub_axis: tuple[int, int] | None,
    write_to: Any,
    out_dtype: str,
    chunks: Any,
    overwrite: bool,
    notes: list[str] | None = None,
    priors: dict[str, bool] | None = None,
    passes: dict[str, Any] | None = None,
) -> PredictionGenerator:
    """Drive the core generator, then bring the result back to the input's order."""
    t0 = time.perf_counter()
    probs = yield from gen
    if probs is None:
        return None
    if sub_axis is not None:
        va, i = sub_axis
        probs = probs[axis_key(va + 1, i, i + 1, probs.ndim)]
    if plan.squeeze:
        probs = probs[:, 0]
    inv = tuple(int(a) for a in np.argsort(plan.perm))
    if inv != tuple(range(len(inv))):
        probs = transpose_view(probs, (0, *(1 + a for a in inv)))
    if write_to is not None:
        sink = open_output(write_to, probs.shape, out_dtype, chunks=chunks, overwrite=overwrite)
        try:
            sink.write(tuple(slice(None) for _ in probs.shape[1:]), from_stored(probs))
            probs = sink.commit()
        finally:
            sink.discard()
    geometry = plan.geometry
    dead = plan.dead_input
    if any(s != slice(None) for s in region):
        geometry = subset_geometry(geometry, region) if geometry is not None else None
        if dead is not None:
            dead = mask_slices(dead, region)
    done = BundlePrediction(probs, bm, geometry, dead, region, time.perf_counter() - t0, list(notes or []))
    if priors is not None:
        done.priors = dict(priors)
    done.passes = dict(passes or {})
    return done
