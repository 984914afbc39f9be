"""Amplitude preprocessing: clipping, scaling, AGC and uint8 log compression (pure numpy).

A :class:`Pipeline` is a list of steps applied in order.  It is fitted on a seeded random
sample of live traces (so it works on lazy cubes larger than memory), applied to any block
of whole traces with the same result as on the whole cube, and stored as versioned JSON
with its statistics so that training and prediction condition data identically.

Modules
-------
functions
    The numpy operations (``agc``, ``signed_log1p``, ``log_uint8_encode``/``decode``, ...).
sampling
    :func:`sample_traces`: read only a random sample of traces.
steps
    The step dataclasses: :class:`PercentileClip`, :class:`StdClip`, :class:`Standardize`,
    :class:`RobustScale`, :class:`AGC`, :class:`LogUint8`.
pipeline
    :class:`Pipeline` (fit, apply, JSON) and :class:`PreprocessReport`.
lazy
    The lazy :class:`PreprocessedArray`, the :func:`apply_blocks` generator and
    :func:`preprocess_job`, the preprocessing job of the widget and the CLI.
"""

from __future__ import annotations

from .apply import BLOCK_BYTES, PreprocessedArray, apply_blocks, preprocess_job
from .functions import (
    agc,
    log_uint8_decode,
    log_uint8_encode,
    log_uint8_zero_code,
    signed_expm1,
    signed_log1p,
)
from .pipeline import PIPELINE_VERSION, Pipeline, PreprocessReport, steps_from_specs
from .steps import (
    AGC,
    STEP_TYPES,
    LogUint8,
    PercentileClip,
    RobustScale,
    Standardize,
    StdClip,
    Step,
)
from .trace_sample import DEFAULT_SAMPLE_TRACES, TraceSample, read_traces, sample_traces

__all__ = [
    "AGC",
    "BLOCK_BYTES",
    "DEFAULT_SAMPLE_TRACES",
    "PIPELINE_VERSION",
    "STEP_TYPES",
    "LogUint8",
    "PercentileClip",
    "Pipeline",
    "PreprocessReport",
    "PreprocessedArray",
    "RobustScale",
    "Standardize",
    "StdClip",
    "Step",
    "TraceSample",
    "agc",
    "apply_blocks",
    "log_uint8_decode",
    "log_uint8_encode",
    "log_uint8_zero_code",
    "preprocess_job",
    "read_traces",
    "sample_traces",
    "signed_expm1",
    "signed_log1p",
    "steps_from_specs",
]
