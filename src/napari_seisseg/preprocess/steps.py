"""The operations a preprocessing pipeline is made of.

Each step is a small dataclass: its *parameters* (chosen by the user) and its *fitted state*
(statistics learned from a sample of traces, ``None`` until fitted).  ``fit`` learns the
state from the finite values of the sample as transformed by the steps before it; ``apply``
transforms a float array and never looks beyond one trace, so a pipeline gives the same
result on a whole cube and on blocks of traces.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, ClassVar

import numpy as np

from ..errors import SeisSegError
from .functions import (
    agc,
    log_uint8_decode,
    log_uint8_encode,
    log_uint8_zero_code,
    signed_log1p,
)

#: Step classes by their ``kind`` (the name used in JSON, the CLI and the widget).
STEP_TYPES: dict[str, type[Step]] = {}


def _register(cls: type[Step]) -> type[Step]:
    STEP_TYPES[cls.kind] = cls
    return cls


def _check_percentiles(what: str, lower: float, upper: float) -> None:
    if not (0.0 <= lower <= 100.0 and 0.0 <= upper <= 100.0):
        raise SeisSegError(
            f"{what}: percentiles must lie between 0 and 100 (got {lower:g} and {upper:g}). "
            "Use e.g. 0.5 and 99.5."
        )
    if upper <= lower:
        raise SeisSegError(
            f"{what}: the upper percentile ({upper:g}) must be above the lower one ({lower:g}). "
            "Swap them or raise the upper percentile, e.g. 0.5 and 99.5."
        )


@dataclass
class Step:
    """Base class of pipeline steps."""

    kind: ClassVar[str] = ""
    #: Human-readable name (widget, reports).
    title: ClassVar[str] = ""
    #: Names of fields fitted from data (the rest are parameters).
    state: ClassVar[tuple[str, ...]] = ()
    #: Output dtype when the step changes it (None: float32 in, float32 out).
    output_dtype: ClassVar[Any] = None

    # -------------------------------------------------------------- parameters and state
    @classmethod
    def param_names(cls) -> tuple[str, ...]:
        """Names of the user parameters, in order."""
        return tuple(f.name for f in fields(cls) if f.name not in cls.state)

    def params(self) -> dict[str, Any]:
        """The parameters as a dictionary."""
        return {k: getattr(self, k) for k in self.param_names()}

    def fitted(self) -> dict[str, Any] | None:
        """The fitted state as a dictionary, or None when not fitted."""
        if not self.is_fitted:
            return None
        return {k: _plain(getattr(self, k)) for k in self.state}

    @property
    def is_fitted(self) -> bool:
        """True when every piece of state is known (always True for stateless steps)."""
        return all(getattr(self, k) is not None for k in self.state)

    def reset(self) -> Step:
        """A copy with the same parameters and no fitted state."""
        return type(self)(**self.params())

    # -------------------------------------------------------------- behaviour
    def validate(self, n_samples: int | None = None, dt: float | None = None) -> None:
        """Raise :class:`SeisSegError` when the parameters cannot work on this data.

        With ``n_samples`` None only the parameters themselves are checked.
        """

    def fit(self, values: np.ndarray, n_samples: int | None = None, dt: float | None = None) -> None:
        """Learn the state from finite sample ``values`` (1D float64)."""

    def apply(self, x: np.ndarray, axis: int = -1) -> np.ndarray:
        """Transform float array ``x`` (may work in place) and return the result."""
        raise NotImplementedError

    def inverse(self, y: np.ndarray) -> np.ndarray:
        """Undo :meth:`apply` where possible (returns float)."""
        raise SeisSegError(f"{self.title} cannot be undone. Keep the data from before this step.")

    def describe(self) -> str:
        """One line: the step, its parameters and its fitted state."""
        return self.title

    def _need_fit(self) -> None:
        if not self.is_fitted:
            raise SeisSegError(
                f"{self.title} has no statistics yet. Fit the pipeline on the data (or load a "
                "fitted pipeline) before applying it."
            )

    # -------------------------------------------------------------- JSON
    def to_dict(self) -> dict[str, Any]:
        """``{"kind": ..., <parameters>, "fitted": {<state>} or None}``."""
        return {"kind": self.kind, **{k: _plain(v) for k, v in self.params().items()},
                "fitted": self.fitted()}

    @staticmethod
    def from_dict(d: dict[str, Any]) -> Step:
        """Inverse of :meth:`to_dict` for any registered step."""
        d = dict(d)
        kind = d.pop("kind", None)
        cls = STEP_TYPES.get(kind)
        if cls is None:
            raise SeisSegError(
                f"Unknown preprocessing step {kind!r}. Known steps: {', '.join(STEP_TYPES)}; the "
                "pipeline may come from a newer napari-seisseg."
            )
        fitted = d.pop("fitted", None) or {}
        names = set(cls.param_names())
        unknown = set(d) - names
        if unknown:
            raise SeisSegError(
                f"Step {kind!r} has no parameter(s) {', '.join(sorted(unknown))}. Its parameters "
                f"are: {', '.join(cls.param_names()) or 'none'}."
            )
        step = cls(**d)
        for k in cls.state:
            if k in fitted:
                setattr(step, k, fitted[k])
        return step


def _plain(v: Any) -> Any:
    if isinstance(v, np.generic):
        return v.item()
    return v


@_register
@dataclass
class PercentileClip(Step):
    """Clip amplitudes to the ``lower`` and ``upper`` percentiles of the sample."""

    lower: float = 0.5
    upper: float = 99.5
    lo: float | None = None
    hi: float | None = None

    kind: ClassVar[str] = "clip_percentile"
    title: ClassVar[str] = "Percentile clip"
    state: ClassVar[tuple[str, ...]] = ("lo", "hi")

    def validate(self, n_samples=None, dt=None) -> None:
        _check_percentiles(self.title, float(self.lower), float(self.upper))

    def fit(self, values, n_samples=None, dt=None) -> None:
        self.lo, self.hi = (float(v) for v in np.percentile(values, [self.lower, self.upper]))

    def apply(self, x, axis=-1):
        self._need_fit()
        return np.clip(x, self.lo, self.hi, out=x)

    def inverse(self, y):
        return y  # values beyond the range are lost; the rest pass unchanged

    def describe(self) -> str:
        s = f"{self.title} {self.lower:g}..{self.upper:g} %"
        return s + (f" -> [{self.lo:.6g}, {self.hi:.6g}]" if self.is_fitted else "")


@_register
@dataclass
class StdClip(Step):
    """Clip amplitudes to ``mean ± k * std`` of the sample."""

    k: float = 3.0
    mean: float | None = None
    std: float | None = None

    kind: ClassVar[str] = "clip_std"
    title: ClassVar[str] = "Std clip"
    state: ClassVar[tuple[str, ...]] = ("mean", "std")

    def validate(self, n_samples=None, dt=None) -> None:
        if not float(self.k) > 0:
            raise SeisSegError(f"{self.title}: k must be positive (got {self.k:g}). Use e.g. 3.")

    def fit(self, values, n_samples=None, dt=None) -> None:
        self.mean, self.std = float(np.mean(values)), float(np.std(values))

    def apply(self, x, axis=-1):
        self._need_fit()
        return np.clip(x, self.mean - self.k * self.std, self.mean + self.k * self.std, out=x)

    def inverse(self, y):
        return y

    def describe(self) -> str:
        s = f"{self.title} ±{self.k:g} std"
        if self.is_fitted:
            s += f" -> [{self.mean - self.k * self.std:.6g}, {self.mean + self.k * self.std:.6g}]"
        return s


@dataclass
class _Scale(Step):
    """Shared code of standardisation and robust scaling: ``(x - center) / scale``."""

    center: float | None = None
    scale: float | None = None

    state: ClassVar[tuple[str, ...]] = ("center", "scale")

    def _set(self, center: float, scale: float, what: str) -> None:
        if not scale > 0:
            raise SeisSegError(
                f"{self.title}: the sampled amplitudes have zero {what}, so they cannot be "
                "scaled. Remove this step, or check that the cube is not constant."
            )
        self.center, self.scale = float(center), float(scale)

    def apply(self, x, axis=-1):
        self._need_fit()
        x -= x.dtype.type(self.center)
        x /= x.dtype.type(self.scale)
        return x

    def inverse(self, y):
        self._need_fit()
        return np.asarray(y, dtype=np.float64) * self.scale + self.center


@_register
@dataclass
class Standardize(_Scale):
    """Subtract the mean and divide by the standard deviation of the sample."""

    kind: ClassVar[str] = "standardize"
    title: ClassVar[str] = "Standardise"

    def fit(self, values, n_samples=None, dt=None) -> None:
        self._set(np.mean(values), np.std(values), "standard deviation")

    def describe(self) -> str:
        s = f"{self.title} (mean/std)"
        return s + (f" mean {self.center:.6g} std {self.scale:.6g}" if self.is_fitted else "")


@_register
@dataclass
class RobustScale(_Scale):
    """Subtract the median and divide by the interquartile range of the sample."""

    q_low: float = 25.0
    q_high: float = 75.0

    kind: ClassVar[str] = "robust_scale"
    title: ClassVar[str] = "Robust scale"

    def validate(self, n_samples=None, dt=None) -> None:
        _check_percentiles(self.title, float(self.q_low), float(self.q_high))

    def fit(self, values, n_samples=None, dt=None) -> None:
        med, a, b = np.percentile(values, [50.0, self.q_low, self.q_high])
        self._set(med, b - a, "interquartile range")

    def describe(self) -> str:
        s = f"{self.title} (median/IQR {self.q_low:g}..{self.q_high:g} %)"
        return s + (f" median {self.center:.6g} IQR {self.scale:.6g}" if self.is_fitted else "")


@_register
@dataclass
class AGC(Step):
    """Automatic gain control: divide by the RMS amplitude in a sliding window along each trace."""

    window: float = 500.0
    unit: str = "ms"
    window_samples: int | None = None

    kind: ClassVar[str] = "agc"
    title: ClassVar[str] = "AGC"
    state: ClassVar[tuple[str, ...]] = ("window_samples",)

    def __post_init__(self) -> None:
        if self.unit not in ("ms", "samples"):
            raise SeisSegError(f"AGC: the window unit must be 'ms' or 'samples', not {self.unit!r}.")
        if self.unit == "samples" and self.window_samples is None and float(self.window) > 0:
            self.window_samples = int(round(float(self.window)))

    def resolve(self, dt: float | None) -> int:
        """Window length in samples (``dt``: sample interval in ms, needed for ms windows)."""
        if self.unit == "samples":
            return int(round(float(self.window)))
        if dt is None or not dt > 0:
            raise SeisSegError(
                f"AGC: a window of {self.window:g} ms needs the sample interval, but the data "
                "has no time axis in ms (no survey geometry, or depth data). Give the window "
                "in samples instead."
            )
        return max(1, int(round(float(self.window) / dt)))

    def validate(self, n_samples=None, dt=None) -> None:
        if not float(self.window) > 0:
            raise SeisSegError(f"AGC: the window must be positive (got {self.window:g}).")
        if n_samples is None:
            return  # no data yet: the parameters alone are fine
        if self.unit == "ms" and dt is None and self.window_samples is not None:
            w = int(self.window_samples)  # fitted earlier: the stored length is authoritative
        else:
            w = self.resolve(dt)
        if w > n_samples:
            asked = f" ({self.window:g} ms)" if self.unit == "ms" else ""
            length = f", {n_samples * dt:g} ms" if dt else ""
            raise SeisSegError(
                f"AGC: the window of {w} samples{asked} is longer than the trace "
                f"({n_samples} samples{length}). Use a shorter window."
            )

    def fit(self, values, n_samples=None, dt=None) -> None:
        self.validate(n_samples, dt)
        if self.unit == "samples" or dt is not None:
            self.window_samples = self.resolve(dt)

    def apply(self, x, axis=-1):
        self._need_fit()
        return agc(x, self.window_samples, axis=axis)

    def describe(self) -> str:
        s = f"{self.title} window {self.window:g} {self.unit}"
        if self.unit == "ms" and self.is_fitted:
            s += f" ({self.window_samples} samples)"
        return s


@_register
@dataclass
class LogUint8(Step):
    """``sign(x) * log1p(|x|)``, then the fitted robust range mapped linearly onto codes 1..255.

    With ``symmetric`` (the default) the range is ``[-m, m]`` with ``m`` the larger of the
    absolute lower and upper percentiles of ``signed_log1p(x)``, so zero amplitude encodes as
    128 exactly and dead traces (zero) stay at the value of zero amplitude.  Code 0 is never
    produced.  Must be the last step of a pipeline.
    """

    lower: float = 0.5
    upper: float = 99.5
    symmetric: bool = True
    lo: float | None = None
    hi: float | None = None

    kind: ClassVar[str] = "log_uint8"
    title: ClassVar[str] = "Log + uint8"
    state: ClassVar[tuple[str, ...]] = ("lo", "hi")
    output_dtype: ClassVar[Any] = np.uint8

    def validate(self, n_samples=None, dt=None) -> None:
        _check_percentiles(self.title, float(self.lower), float(self.upper))

    def fit(self, values, n_samples=None, dt=None) -> None:
        y = signed_log1p(values)
        lo, hi = (float(v) for v in np.percentile(y, [self.lower, self.upper]))
        if self.symmetric:
            m = max(abs(lo), abs(hi))
            lo, hi = -m, m
        if not hi > lo:
            raise SeisSegError(
                f"{self.title}: the sampled amplitudes are constant between the {self.lower:g} "
                f"and {self.upper:g} percentiles, so there is no range to encode. Widen the "
                "percentiles or remove the step."
            )
        self.lo, self.hi = lo, hi

    def apply(self, x, axis=-1):
        self._need_fit()
        return log_uint8_encode(x, self.lo, self.hi)

    def inverse(self, y):
        self._need_fit()
        return log_uint8_decode(y, self.lo, self.hi, dtype=np.float64)

    @property
    def zero_code(self) -> int:
        """The code of zero amplitude (what dead traces become)."""
        self._need_fit()
        return log_uint8_zero_code(self.lo, self.hi)

    def describe(self) -> str:
        s = f"{self.title} {self.lower:g}..{self.upper:g} %" + (" symmetric" if self.symmetric else "")
        if self.is_fitted:
            s += f" -> log range [{self.lo:.4g}, {self.hi:.4g}], zero = code {self.zero_code}"
        return s
