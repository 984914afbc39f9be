"""A fitted, serialisable sequence of preprocessing steps, applied chunk by chunk.

>>> from napari_seisseg.preprocess import Pipeline, PercentileClip, Standardize
>>> pipe = Pipeline([PercentileClip(0.5, 99.5), Standardize()])
>>> pipe.fit(cube, axis=-1)                      # reads ~2000 random traces only
>>> out = pipe.apply(cube[10:20], axis=-1)       # any block of whole traces
>>> text = pipe.to_json()                        # parameters + statistics, versioned
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import SeisSegError
from .functions import clean_traces, zero_traces
from .steps import AGC, LogUint8, Step
from .trace_sample import DEFAULT_SAMPLE_TRACES, TraceSample, sample_traces

if TYPE_CHECKING:
    from .apply import PreprocessedArray

#: ``format`` field of pipeline JSON.
PIPELINE_FORMAT = "napari-seisseg.preprocess"
#: Version of the JSON layout written; files with a higher version are refused.
PIPELINE_VERSION = 1


@dataclass
class Pipeline:
    """Preprocessing steps applied in order, with the statistics they were fitted on.

    Parameters
    ----------
    steps : list of Step
        Operations in the order they are applied.  A :class:`LogUint8` step can only be last.
    fit_info : dict, optional
        How the statistics were obtained (sample counts, seed, sample interval, output range),
        set by :meth:`fit`.
    """

    steps: list[Step] = field(default_factory=list)
    fit_info: dict[str, Any] | None = None

    # ------------------------------------------------------------------ properties
    @property
    def is_fitted(self) -> bool:
        """True when every step has its statistics."""
        return all(s.is_fitted for s in self.steps)

    @property
    def output_dtype(self) -> np.dtype:
        """uint8 when the pipeline ends with :class:`LogUint8`, float32 otherwise."""
        if self.steps and self.steps[-1].output_dtype is not None:
            return np.dtype(self.steps[-1].output_dtype)
        return np.dtype(np.float32)

    @property
    def dead_value(self) -> float:
        """Output value of dead traces and NaN/inf samples (0, or the uint8 code of zero)."""
        last = self.steps[-1] if self.steps else None
        return float(last.zero_code) if isinstance(last, LogUint8) else 0.0

    @property
    def halo(self) -> tuple[int, int]:
        """Samples before and after a time range that the steps look at (AGC windows)."""
        before = after = 0
        for s in self.steps:
            if isinstance(s, AGC) and s.window_samples is not None:
                w = int(s.window_samples)
                before += w // 2
                after += w - w // 2 - 1
        return before, after

    def reset(self) -> Pipeline:
        """A copy with the same parameters and no statistics (to refit on another cube)."""
        return Pipeline([s.reset() for s in self.steps])

    def same_parameters(self, other: Pipeline) -> bool:
        """True when ``other`` has the same steps with the same parameters (statistics aside)."""
        return [(s.kind, s.params()) for s in self.steps] == [(s.kind, s.params()) for s in other.steps]

    # ------------------------------------------------------------------ checks and fitting
    def validate(self, n_samples: int | None = None, dt: float | None = None) -> None:
        """Raise :class:`SeisSegError` when a parameter cannot work on traces of ``n_samples``.

        Parameters
        ----------
        n_samples : int, optional
            Trace length; checks that AGC windows fit.
        dt : float, optional
            Sample interval in ms, needed for AGC windows given in ms.
        """
        for i, s in enumerate(self.steps):
            if s.output_dtype is not None and i != len(self.steps) - 1:
                raise SeisSegError(
                    f"{s.title} must be the last step: it stores uint8 codes that later steps "
                    "cannot work on. Move it to the end."
                )
            s.validate(n_samples, dt)

    def fit(
        self,
        data: Any,
        axis: int = -1,
        *,
        n_traces: int = DEFAULT_SAMPLE_TRACES,
        seed: int = 0,
        dt: float | None = None,
        live: np.ndarray | None = None,
    ) -> Pipeline:
        """Fit every step on a random sample of live traces of ``data`` (reads only those).

        Parameters
        ----------
        data : array-like
            numpy, memmap, dask, zarr or lazy SEG-Y array.
        axis : int
            Time axis of ``data``.
        n_traces, seed, live
            See :func:`~napari_seisseg.preprocess.trace_sample.sample_traces`.
        dt : float, optional
            Sample interval in ms (for AGC windows in ms).

        Returns
        -------
        Pipeline
            ``self``, fitted.
        """
        self.validate(int(data.shape[axis]), dt)
        sample = sample_traces(data, axis, n_traces=n_traces, seed=seed, live=live)
        return self.fit_sample(sample, dt=dt)

    def fit_sample(self, sample: TraceSample, dt: float | None = None) -> Pipeline:
        """Fit the steps in order, each on the sample as transformed by the steps before it.

        Dead traces were left out when sampling; NaN/inf samples are excluded from every
        statistic (and count as zeros inside AGC windows, as they do when applied).
        """
        ns = sample.n_samples
        self.validate(ns, dt)
        valid = np.isfinite(sample.traces)
        x = np.where(valid, sample.traces, 0.0)
        for s in self.steps:
            s.fit(x[valid], n_samples=ns, dt=dt)
            x = s.apply(x, axis=-1)
        out = x[valid].astype(np.float64)
        lo, hi = np.percentile(out, [0.5, 99.5]) if out.size else (0.0, 0.0)
        self.fit_info = {
            **sample.info(),
            "n_samples": ns,
            "dt": dt,
            "output_range": [float(lo), float(hi)],
        }
        return self

    # ------------------------------------------------------------------ applying
    def transform(self, chunk: Any, axis: int = -1) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Apply the pipeline to a block of whole traces and say what was found in it.

        Parameters
        ----------
        chunk : array-like
            Any number of whole traces (the full time axis).
        axis : int
            Time axis of ``chunk``.

        Returns
        -------
        out : numpy.ndarray
            float32 (uint8 after :class:`LogUint8`), same shape.  Dead traces and NaN/inf
            samples hold :attr:`dead_value`.
        dead : numpy.ndarray of bool
            Per trace: every sample zero or non-finite.
        nonfinite : numpy.ndarray of int or None
            Per live trace count of NaN/inf samples (0 for dead traces; None when the
            block holds no NaN/inf).
        """
        x, dead, bad = clean_traces(chunk, axis)
        axis = axis % x.ndim
        nonfinite = None
        if bad is not None:  # counted in live traces only: dead traces are reported as dead
            nonfinite = bad.sum(axis=axis, dtype=np.int64)
            nonfinite[dead] = 0
        for s in self.steps:
            x = s.apply(x, axis=axis)
        value = self.dead_value
        zero_traces(x, dead, axis, value)
        if bad is not None:
            np.copyto(x, np.asarray(value, dtype=x.dtype), where=bad)
        return x, dead, nonfinite

    def apply(self, chunk: Any, axis: int = -1) -> np.ndarray:
        """Apply the pipeline to a block of whole traces (see :meth:`transform`)."""
        return self.transform(chunk, axis)[0]

    def inverse(self, y: Any) -> np.ndarray:
        """Undo the steps in reverse order (float64): decode uint8, unscale, ...

        Clipping passes values through (what was clipped stays clipped); AGC cannot be
        undone and raises :class:`SeisSegError`.
        """
        x = np.asarray(y)
        for s in reversed(self.steps):
            x = s.inverse(x)
        return np.asarray(x, dtype=np.float64)

    def lazy(self, data: Any, axis: int = -1) -> PreprocessedArray:
        """A lazy array that applies the pipeline to whatever part of ``data`` is indexed."""
        from .apply import PreprocessedArray

        return PreprocessedArray(data, self, axis)

    def apply_dask(self, data: Any, axis: int = -1, chunks: Any = None):
        """The pipeline applied lazily with :func:`dask.array.map_blocks`.

        Parameters
        ----------
        data : array-like
            A dask array, or any array (wrapped with ``chunks``).
        axis : int
            Time axis; rechunked to one chunk so every block holds whole traces.
        chunks : optional
            Chunks for wrapping a non-dask array (default: about 64 MB blocks).
        """
        import dask.array as da

        ndim = len(data.shape)
        axis = axis % ndim
        if not isinstance(data, da.Array):
            if chunks is None:
                chunks = {a: ("auto" if a != axis else -1) for a in range(ndim)}
            data = da.from_array(data, chunks=chunks, asarray=False)
        data = data.rechunk({axis: -1})
        return data.map_blocks(self.apply, axis=axis, dtype=self.output_dtype,
                               meta=np.empty((0,) * ndim, dtype=self.output_dtype))

    # ------------------------------------------------------------------ JSON
    def to_dict(self) -> dict[str, Any]:
        """JSON-compatible dictionary: format, version, steps with statistics, fit info."""
        from .. import __version__

        return {
            "format": PIPELINE_FORMAT,
            "version": PIPELINE_VERSION,
            "written_by": f"napari-seisseg {__version__}",
            "steps": [s.to_dict() for s in self.steps],
            "fit": self.fit_info,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Pipeline:
        """Inverse of :meth:`to_dict`; raises :class:`SeisSegError` on unknown content."""
        if not isinstance(d, dict) or "steps" not in d:
            raise SeisSegError(
                "This is not a preprocessing pipeline (no 'steps'). Use a file written by "
                "'seisseg preprocess --save-pipeline' or the Preprocess widget."
            )
        if d.get("format", PIPELINE_FORMAT) != PIPELINE_FORMAT:
            raise SeisSegError(f"This JSON holds {d.get('format')!r}, not a preprocessing pipeline.")
        version = int(d.get("version", PIPELINE_VERSION))
        if version > PIPELINE_VERSION:
            raise SeisSegError(
                f"The pipeline was written in format version {version}, newer than this "
                f"napari-seisseg reads ({PIPELINE_VERSION}). Upgrade napari-seisseg."
            )
        return cls([Step.from_dict(s) for s in d["steps"]], fit_info=d.get("fit"))

    def to_json(self) -> str:
        """JSON text of :meth:`to_dict`."""
        return json.dumps(self.to_dict(), indent=1)

    @classmethod
    def from_json(cls, text: str) -> Pipeline:
        """Inverse of :meth:`to_json`."""
        try:
            d = json.loads(text)
        except ValueError as exc:
            raise SeisSegError(f"The pipeline is not valid JSON ({exc}). Check the file.") from exc
        return cls.from_dict(d)

    def save(self, path: str | os.PathLike) -> Path:
        """Write :meth:`to_json` to ``path`` (atomically)."""
        from ..io.atomic import atomic_write_text

        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(p, self.to_json())
        return p

    @classmethod
    def load(cls, path: str | os.PathLike) -> Pipeline:
        """Read a pipeline written by :meth:`save`."""
        p = Path(path)
        if not p.exists():
            raise SeisSegError(f"The pipeline file {p} does not exist. Check the path.")
        return cls.from_json(p.read_text())

    def then(self, other: Pipeline) -> Pipeline:
        """One pipeline doing ``self`` and then ``other`` (each keeping its statistics).

        This is what a cube preprocessed twice went through, as one record that can be applied
        to the original amplitudes (by prediction, or ``seisseg preprocess``). ``other`` was
        fitted on the output of ``self``; its fit information is kept, with this one's under
        ``"after"``.

        Raises
        ------
        SeisSegError
            When ``self`` ends with uint8 codes (:class:`LogUint8`), which no step may follow.
        """
        if self.steps and self.steps[-1].output_dtype is not None:
            raise SeisSegError(
                f"This data was already preprocessed ending with {self.steps[-1].title}, which "
                "stores uint8 codes no further step can follow. Preprocess the original "
                "amplitudes instead, with all the steps in one pipeline."
            )
        fit_info = None
        if other.fit_info is not None:
            fit_info = {**other.fit_info, "after": self.fit_info}
        return Pipeline([*self.steps, *other.steps], fit_info=fit_info)

    def describe(self) -> str:
        """Numbered steps with their parameters and statistics, one per line."""
        if not self.steps:
            return "(no steps)"
        return "\n".join(f"{i + 1}. {s.describe()}" for i, s in enumerate(self.steps))


@dataclass
class PreprocessReport:
    """What a run met: dead traces and NaN/inf samples, and how statistics were fitted."""

    shape: tuple[int, ...]
    output_dtype: str
    n_traces: int
    n_traces_seen: int
    n_dead_traces: int
    n_nonfinite_samples: int
    n_traces_with_nonfinite: int
    fit: dict[str, Any] | None = None
    steps: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """A few lines for the CLI and the widget."""
        lines = list(self.steps)
        f = self.fit or {}
        if f:
            lines.append(
                f"statistics from {f.get('n_traces_live', '?')} live traces sampled "
                f"(seed {f.get('seed')}, {f.get('n_traces_dead_skipped', 0)} dead skipped, "
                f"{f.get('n_nonfinite_skipped', 0)} NaN/inf samples excluded)"
            )
        shape = " x ".join(map(str, self.shape))
        lines.append(f"output: {self.output_dtype}, {shape}")
        seen = "" if self.n_traces_seen == self.n_traces else f" (of {self.n_traces_seen} traces read)"
        lines.append(
            f"dead traces: {self.n_dead_traces} of {self.n_traces}{seen}, kept dead; "
            f"NaN/inf samples in live traces: {self.n_nonfinite_samples} in "
            f"{self.n_traces_with_nonfinite} traces, set to zero amplitude"
        )
        return "\n".join(lines)


def steps_from_specs(specs: Iterable[tuple[str, dict[str, Any]]]) -> list[Step]:
    """Steps from ``(kind, parameters)`` pairs, as the CLI and widget collect them."""
    out = []
    for kind, params in specs:
        out.append(Step.from_dict({"kind": kind, **params}))
    return out
