"""Amplitude normalisation of the network input, fitted once and stored in the model card.

The model always sees ``clip((pipeline(raw) - center) / scale, -clip, clip)``:

* ``pipeline`` is the user's optional preprocessing (:mod:`napari_seisseg.preprocess`),
  applied to every block read from the raw image (its steps work trace by trace, along the
  sample axis; blocks are read with the pipeline's :attr:`~Normalizer.halo` of extra
  samples, so a patch gets exactly the values the whole cube would);
* ``center`` and ``scale`` are robust statistics (median, half the 16-84 percentile
  spread) of a sample of the pipeline's output, so the input is standardised whatever the
  pipeline does (a no-op when it already standardises).

Prediction rebuilds the same function from the card with :meth:`Normalizer.from_dict`.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..errors import SeisSegError
from ..preprocess import Pipeline

__all__ = ["Normalizer", "fit_normalizer", "nonfinite_message"]

#: Values kept when estimating the statistics.
_MAX_VALUES = 2_000_000
#: Slices read along axis 0 when the image is too large to read whole.
_SAMPLE_SLICES = 12


def nonfinite_message(count: int | None = None) -> str:
    """The message for non-finite amplitudes."""
    n = "" if count is None else f"{count:,} "
    return (
        f"The image holds {n}NaN or infinite values. Replace them before training: in napari "
        "run Preprocess with 'replace non-finite values' (or np.nan_to_num on the array), "
        "then train on the cleaned image."
    )


class Normalizer:
    """Optional pipeline, then robust standardisation and clipping.

    Parameters
    ----------
    center, scale : float
        Subtracted, then divided by.
    clip : float
        Values beyond ``+-clip`` (after standardising) are clipped.
    pipeline : object, optional
        Fitted preprocessing pipeline with ``apply(array[, axis])`` and ``to_dict()``.
    """

    def __init__(
        self, center: float = 0.0, scale: float = 1.0, clip: float = 10.0, pipeline: Any = None
    ):
        if not scale > 0 or not np.isfinite(scale) or not np.isfinite(center):
            raise SeisSegError(f"Invalid normalisation statistics center={center}, scale={scale}.")
        self.center = float(center)
        self.scale = float(scale)
        self.clip = float(clip)
        self.pipeline = pipeline
        self._pipeline_axis = False
        if pipeline is not None:
            try:
                self._pipeline_axis = "axis" in inspect.signature(pipeline.apply).parameters
            except (TypeError, ValueError):
                self._pipeline_axis = False

    @property
    def halo(self) -> tuple[int, int]:
        """Samples before and after a block that the pipeline looks at (AGC windows)."""
        if self.pipeline is None:
            return (0, 0)
        before, after = getattr(self.pipeline, "halo", (0, 0))
        return int(before), int(after)

    def apply_pipeline(self, block: np.ndarray, axis: int = -1) -> np.ndarray:
        """Apply only the preprocessing pipeline (identity without one)."""
        block = np.asarray(block, dtype=np.float32)
        if self.pipeline is None:
            return block
        out = (
            self.pipeline.apply(block, axis=axis)
            if self._pipeline_axis
            else self.pipeline.apply(block)
        )
        return np.asarray(out, dtype=np.float32)

    def __call__(self, block: Any, axis: int = -1) -> np.ndarray:
        """Normalise a block of raw amplitudes.

        Parameters
        ----------
        block : array-like
            Raw amplitudes, any shape.
        axis : int
            Sample (trace) axis of ``block``, for the pipeline.

        Returns
        -------
        numpy.ndarray
            float32 network input.

        Raises
        ------
        SeisSegError
            If the block holds NaN or infinite values.
        """
        x = self.apply_pipeline(block, axis)
        if not np.all(np.isfinite(x)):
            raise SeisSegError(nonfinite_message(int(np.count_nonzero(~np.isfinite(x)))))
        x = (x - np.float32(self.center)) * np.float32(1.0 / self.scale)
        np.clip(x, -self.clip, self.clip, out=x)
        return x

    def to_dict(self) -> dict[str, Any]:
        """JSON-able description for the model card."""
        return {
            "pipeline": None if self.pipeline is None else self.pipeline.to_dict(),
            "standardize": {"center": self.center, "scale": self.scale, "clip": self.clip},
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Normalizer:
        """Rebuild from :meth:`to_dict` output (the pipeline through ``Pipeline.from_dict``)."""
        pipeline = None
        if d.get("pipeline"):
            pipeline = Pipeline.from_dict(d["pipeline"])
        s = d.get("standardize") or {}
        return cls(s.get("center", 0.0), s.get("scale", 1.0), s.get("clip", 10.0), pipeline)


def _sample_blocks(image: Any) -> list[np.ndarray]:
    shape = tuple(image.shape)
    rest = (slice(None),) * (len(shape) - 1)
    n = int(np.prod(shape, dtype=np.int64))
    if n <= 4 * _MAX_VALUES:
        return [np.asarray(image[(slice(None), *rest)])]
    picks = np.unique(np.linspace(0, shape[0] - 1, _SAMPLE_SLICES).round().astype(int))
    return [np.asarray(image[(slice(int(i), int(i) + 1), *rest)]) for i in picks]


def fit_normalizer(
    image: Any, *, pipeline: Any = None, sample_axis: int = -1, seed: int = 0
) -> Normalizer:
    """Fit the standardisation on a sample of ``image`` (after ``pipeline``).

    Parameters
    ----------
    image : array-like
        Raw amplitudes (numpy, memmap, dask, lazy SEG-Y...); a small image is read whole,
        a large one through a dozen slices along axis 0.
    pipeline : object, optional
        Fitted preprocessing pipeline (``apply``, ``to_dict``).
    sample_axis : int
        Sample axis of ``image``, passed to the pipeline.
    seed : int
        Seed of the subsampling.

    Returns
    -------
    Normalizer
    """
    raw = Normalizer(pipeline=pipeline)
    values = []
    for block in _sample_blocks(image):
        x = raw.apply_pipeline(block, sample_axis).ravel()
        if not np.all(np.isfinite(x)):
            raise SeisSegError(nonfinite_message())
        values.append(x)
    v = np.concatenate(values) if values else np.zeros(1, np.float32)
    if v.size > _MAX_VALUES:
        v = np.random.default_rng(seed).choice(v, _MAX_VALUES, replace=False)
    center = float(np.median(v))
    lo, hi = np.percentile(v, [15.865, 84.135])
    scale = float(hi - lo) / 2.0
    if not scale > 0:
        scale = float(np.std(v)) or 1.0
    return Normalizer(center, scale, 10.0, pipeline)
