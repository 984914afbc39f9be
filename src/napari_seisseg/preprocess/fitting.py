"""Fitting a pipeline on a volume as the Preprocess widget does (no napari import).

The rules the widget follows, as plain functions: which axis the traces run along, what may
be preprocessed, when the statistics stored in a loaded pipeline are reused instead of
refitted, the trace sample kept between refits (a preview refits at every change of a
parameter), and whether a result is computed into memory or left lazy.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..errors import SeisSegError
from ..io.geometry import SurveyGeometry
from ..io.layers import check_image_layer
from .pipeline import Pipeline
from .trace_sample import TraceSample, sample_traces

__all__ = [
    "AUTO_MEMORY_BYTES",
    "RESULT_MODES",
    "SampleCache",
    "check_preprocessable",
    "fit_pipeline",
    "interval_ms",
    "result_mode",
    "sample_axis_of",
    "trace_axis",
]

#: How Apply delivers its result: the choices of the Preprocess widget.
RESULT_MODES = ["auto", "in memory", "lazy"]
#: Largest output computed into memory by the "auto" result mode for a lazy source.
AUTO_MEMORY_BYTES = 2 << 30


def interval_ms(geometry: SurveyGeometry | None, axis: int | None = None) -> float | None:
    """The sample interval a pipeline's windows in ms are measured with, or None.

    Parameters
    ----------
    geometry : SurveyGeometry or None
        The volume's geometry.
    axis : int, optional
        The axis traces are taken along; None: the geometry's sample axis.

    Returns
    -------
    float or None
        ``geometry.dt`` for time traces sampled in ms along ``axis``; None without a
        geometry, for depth, for numbered samples (no sample interval known) or another axis.
    """
    if geometry is None or geometry.unit != "ms":
        return None
    return geometry.dt if axis is None or geometry.axes[axis] == "sample" else None


def sample_axis_of(geometry: SurveyGeometry | None, ndim: int) -> int:
    """The axis traces run along: the geometry's sample axis, else the last of ``ndim``."""
    return geometry.axes.index("sample") if geometry is not None else ndim - 1


def trace_axis(metadata: Any, ndim: int,
               chosen: int | None = -1) -> tuple[SurveyGeometry | None, int, float | None]:
    """Geometry, trace axis and sample interval of a volume.

    Parameters
    ----------
    metadata : mapping
        The layer's metadata (its survey geometry, if any).
    ndim : int
        Number of axes of the volume.
    chosen : int or None
        The axis the user chose; -1 or None: the geometry's sample axis, else the last one.

    Returns
    -------
    geometry : SurveyGeometry or None
        The geometry, when it describes an array of ``ndim`` axes.
    axis : int
        The axis traces run along.
    dt : float or None
        Sample interval in ms when the traces are time traces of known interval, else None.
    """
    g = SurveyGeometry.from_metadata(metadata)
    if g is not None and len(g.axes) != ndim:
        g = None
    if chosen is not None and 0 <= chosen < ndim:
        axis = chosen
    else:
        axis = sample_axis_of(g, ndim)
    return g, axis, interval_ms(g, axis)


def check_preprocessable(layer: Any, n_steps: int) -> None:
    """Refuse a missing or multiscale layer, or a pipeline without steps.

    Raises
    ------
    SeisSegError
        Saying what to do instead.
    """
    check_image_layer(layer, "No Image layer chosen. Open a cube or choose a layer.", "preprocess")
    if not n_steps:
        raise SeisSegError("The pipeline has no steps. Add a step first.")


class SampleCache:
    """The last trace sample drawn, reused while the volume, axis, size and seed are the same."""

    def __init__(self) -> None:
        self._key: tuple | None = None
        self._sample: TraceSample | None = None

    def clear(self) -> None:
        """Forget the sample (another volume was chosen)."""
        self._key, self._sample = None, None

    def sample(self, owner: Any, data: Any, axis: int, geometry: SurveyGeometry | None,
               n_traces: int, seed: int) -> TraceSample:
        """A seeded sample of live traces of ``data`` (``owner``: the layer holding it)."""
        key = (id(owner), id(data), axis, n_traces, seed)
        if self._sample is None or self._key != key:
            grid = tuple(n for a, n in enumerate(data.shape) if a != axis)
            live = geometry.live if geometry is not None and geometry.live.shape == grid else None
            self._sample = sample_traces(data, axis, n_traces=n_traces, seed=seed, live=live)
            self._key = key
        return self._sample


def fit_pipeline(pipe: Pipeline, shape: tuple[int, ...], axis: int, dt: float | None,
                 sample: Callable[[], TraceSample], stored: Pipeline | None = None) -> Pipeline:
    """``pipe`` checked against a volume of ``shape`` and fitted, or ``stored``'s statistics.

    Parameters
    ----------
    pipe : Pipeline
        The composed pipeline (not fitted).
    shape : tuple of int
        Shape of the volume; traces run along ``axis``, sampled every ``dt`` ms (or None).
    sample : callable
        Returns the trace sample to fit on (called only when fitting).
    stored : Pipeline, optional
        A loaded pipeline whose statistics are to be used; used only when it has the same
        steps and parameters as ``pipe``.

    Raises
    ------
    SeisSegError
        Bad parameters for this volume.
    """
    ns = int(shape[axis])
    pipe.validate(ns, dt)
    if stored is not None and stored.same_parameters(pipe):
        pipe = Pipeline.from_dict(stored.to_dict())
        pipe.validate(ns, dt)
        return pipe
    return pipe.fit_sample(sample(), dt=dt)


def result_mode(mode: str, data: Any, pipe: Pipeline) -> str:
    """"in memory" or "lazy": ``mode``, or for "auto" in memory unless ``data`` is lazy and
    the result would be over :data:`AUTO_MEMORY_BYTES`."""
    if mode != "auto":
        return mode
    out_bytes = int(np.prod(data.shape, dtype=np.int64)) * pipe.output_dtype.itemsize
    in_memory = isinstance(data, np.ndarray) and not isinstance(data, np.memmap)
    return "in memory" if in_memory or out_bytes <= AUTO_MEMORY_BYTES else "lazy"
