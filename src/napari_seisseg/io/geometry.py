"""Survey geometry: where every sample of a seismic array sits in the survey.

A :class:`SurveyGeometry` travels with the data everywhere: in ``layer.metadata`` in napari,
in a JSON sidecar beside ``.npy`` files, in Zarr attributes, and into the SEG-Y writer, which
uses it (and the source file named in it) to reproduce the input's headers.

Two kinds of data are described:

``cube``
    3D post-stack data on a regular inline x crossline grid.  The canonical array order is
    ``(inline, crossline, sample)``, the order ``segyio.tools.cube`` uses.
``section``
    Traces without a regular 3D grid: a 2D line, a single inline or crossline, pre-stack
    gathers.  The canonical order is ``(trace, sample)``.

napari shows the last two axes of a layer as rows and columns, and interpreters expect time
(or depth) to increase downwards, so layers hold a transposed view: ``(inline, sample,
crossline)`` for cubes and ``(sample, trace)`` for sections.  :attr:`SurveyGeometry.axes`
names the axis order of the array the geometry is attached to, and
:meth:`SurveyGeometry.transpose_to` moves between orders.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import GeometryError

CUBE_AXES = ("inline", "crossline", "sample")
CUBE_DISPLAY_AXES = ("inline", "sample", "crossline")
SECTION_AXES = ("trace", "sample")
SECTION_DISPLAY_AXES = ("sample", "trace")

#: Key that marks a metadata dictionary as holding a seisseg geometry.
METADATA_KEY = "seisseg_geometry"
#: Layer-metadata key of the display settings (:meth:`SurveyGeometry.napari_kwargs`).
DISPLAY_KEY = "seisseg_display"
#: The automatic vertical exaggeration makes the longer section this many times as wide as
#: it is tall, within :data:`EXAGGERATION_RANGE`.
SECTION_ASPECT = 1.5
EXAGGERATION_RANGE = (0.02, 20.0)
SIDECAR_SUFFIX = ".geometry.json"
_FORMAT_VERSION = 1


@dataclass
class SurveyGeometry:
    """Geometry of a post-stack cube or of a section of traces.

    Parameters
    ----------
    kind : {"cube", "section"}
        Regular 3D grid, or traces along one axis.
    n_samples : int
        Samples per trace.
    dt : float
        Sample interval in ``unit`` (ms for time, m or ft for depth).
    t0 : float
        Time or depth of the first sample, in ``unit``.
    unit : str
        ``"ms"``, ``"m"``, ``"ft"`` or ``"sample"``.
    domain : {"time", "depth", "unknown"}
        What the vertical axis measures.
    ilines, xlines : numpy.ndarray, optional
        Line numbers of a cube's grid (regularly spaced).
    traces : numpy.ndarray, optional
        Coordinate of each trace of a section (inline, crossline, CDP or trace number).
    trace_key : str
        What ``traces`` counts: ``"inline"``, ``"crossline"``, ``"cdp"`` or ``"trace"``.
    live : numpy.ndarray, optional
        Boolean mask of traces present in the file, ``(n_il, n_xl)`` or ``(n_traces,)``.
        Missing traces are padded with zeros in the array and written back as absent.
    iline_byte, xline_byte : int, optional
        Trace-header byte positions (1-based) the line numbers were read from.
    sample_format : int, optional
        SEG-Y sample format code of the source file.
    endian : {"big", "little"}, optional
        Byte order of the source file.
    text_header : str
        Textual (EBCDIC or ASCII) header of the source file, decoded.
    sources : list of str
        Source file(s) the data came from; the first is the SEG-Y template for export.
    axes : tuple of str
        Axis names of the array this geometry is attached to, in order.
    line_number : int, optional
        For a single inline or crossline of a 3D survey: the number of that line.
    notes : list of str
        Assumptions made while reading (shown to the user).
    """

    kind: str
    n_samples: int
    dt: float
    t0: float = 0.0
    unit: str = "ms"
    domain: str = "time"
    ilines: np.ndarray | None = None
    xlines: np.ndarray | None = None
    traces: np.ndarray | None = None
    trace_key: str = "trace"
    live: np.ndarray | None = None
    iline_byte: int | None = None
    xline_byte: int | None = None
    sample_format: int | None = None
    endian: str | None = None
    text_header: str = ""
    sources: list[str] = field(default_factory=list)
    axes: tuple[str, ...] = ()
    line_number: int | None = None
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.kind not in ("cube", "section"):
            raise GeometryError(f"Geometry kind must be 'cube' or 'section', not {self.kind!r}.")
        for name in ("ilines", "xlines", "traces"):
            value = getattr(self, name)
            if value is not None:
                setattr(self, name, np.asarray(value, dtype=np.int64))
        if self.kind == "cube" and (self.ilines is None or self.xlines is None):
            raise GeometryError("A cube geometry needs inline and crossline numbers.")
        if self.kind == "section" and self.traces is None:
            raise GeometryError("A section geometry needs its trace coordinates.")
        if self.live is None:
            self.live = np.ones(self.grid_shape, dtype=bool)
        else:
            self.live = np.asarray(self.live, dtype=bool)
            if self.live.shape != self.grid_shape:
                raise GeometryError(
                    f"Live-trace mask has shape {self.live.shape}, expected {self.grid_shape}."
                )
        if not self.axes:
            self.axes = self.canonical_axes
        self.axes = tuple(self.axes)
        if sorted(self.axes) != sorted(self.canonical_axes):
            raise GeometryError(f"Axes {self.axes} do not fit a {self.kind} geometry.")
        self.n_samples = int(self.n_samples)
        self.dt = float(self.dt)
        self.t0 = float(self.t0)
        self.sources = [str(s) for s in self.sources]

    # ------------------------------------------------------------------ shapes and axes
    @property
    def canonical_axes(self) -> tuple[str, ...]:
        """Axis order of files written by the CLI: ``(inline, crossline, sample)`` or ``(trace, sample)``."""
        return CUBE_AXES if self.kind == "cube" else SECTION_AXES

    @property
    def display_axes(self) -> tuple[str, ...]:
        """Axis order of napari layers, with the vertical axis shown downwards."""
        return CUBE_DISPLAY_AXES if self.kind == "cube" else SECTION_DISPLAY_AXES

    @property
    def grid_shape(self) -> tuple[int, ...]:
        """Shape of the trace grid: ``(n_il, n_xl)`` or ``(n_traces,)``."""
        if self.kind == "cube":
            return (len(self.ilines), len(self.xlines))
        return (len(self.traces),)

    @property
    def samples(self) -> np.ndarray:
        """Time or depth of every sample, in :attr:`unit`."""
        return self.t0 + self.dt * np.arange(self.n_samples, dtype=np.float64)

    def axis_length(self, name: str) -> int:
        """Length of the named axis."""
        return len(self.axis_values(name))

    def axis_values(self, name: str) -> np.ndarray:
        """Coordinates along the named axis (line numbers, trace keys or sample times)."""
        if name == "inline":
            return self.ilines
        if name == "crossline":
            return self.xlines
        if name == "trace":
            return self.traces
        if name == "sample":
            return self.samples
        raise GeometryError(f"Unknown axis {name!r}.")

    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of the array this geometry describes, in :attr:`axes` order."""
        return tuple(self.axis_length(a) for a in self.axes)

    @property
    def n_live(self) -> int:
        """Number of traces present in the source."""
        return int(np.count_nonzero(self.live))

    def check_shape(self, shape: Sequence[int], what: str = "array") -> None:
        """Raise :class:`GeometryError` unless ``shape`` is the shape this geometry describes."""
        if tuple(shape) != self.shape:
            raise GeometryError(
                f"The {what} has shape {tuple(shape)} but its survey geometry describes "
                f"{self.shape} ({', '.join(self.axes)}). Use data read from the same survey, "
                "or drop the geometry to write a plain array."
            )

    def permutation_to(self, axes: Sequence[str]) -> tuple[int, ...]:
        """Axis permutation taking an array in :attr:`axes` order to ``axes`` order."""
        axes = tuple(axes)
        if sorted(axes) != sorted(self.axes):
            raise GeometryError(f"Cannot reorder axes {self.axes} as {axes}.")
        return tuple(self.axes.index(a) for a in axes)

    def transpose_to(self, data: Any, axes: Sequence[str]) -> tuple[Any, SurveyGeometry]:
        """Transpose ``data`` (in :attr:`axes` order) to ``axes`` order.

        Parameters
        ----------
        data : array-like
            Any object with a numpy-style ``transpose`` (numpy, memmap, dask, lazy SEG-Y).
        axes : sequence of str
            Wanted axis order.

        Returns
        -------
        data, geometry
            The transposed view and a copy of this geometry with ``axes`` updated.
        """
        perm = self.permutation_to(axes)
        if perm != tuple(range(len(perm))):
            data = data.transpose(perm)
        return data, replace(self, axes=tuple(axes))

    # ------------------------------------------------------------------ napari
    @property
    def sample_label(self) -> str:
        """Label of the vertical axis, e.g. ``"time (ms)"`` or ``"depth (m)"``."""
        if self.unit == "sample":
            return "sample"
        name = "depth" if self.domain == "depth" else "time"
        return f"{name} ({self.unit})"

    def _axis_step(self, name: str) -> float:
        if name == "sample":
            return self.dt if self.dt > 0 else 1.0
        values = self.axis_values(name)
        if len(values) > 1:
            step = float(values[1] - values[0])
            return step if step != 0 else 1.0
        return 1.0

    def _axis_label(self, name: str) -> str:
        if name == "sample":
            return self.sample_label
        if name == "trace":
            return self.trace_key
        return name

    def auto_exaggeration(self) -> float:
        """Vertical exaggeration that makes the longer section fill a landscape view.

        Exaggeration 1 shows one sample as tall as one trace is wide (square pixels).  The
        automatic value makes the longer section about :data:`SECTION_ASPECT` times as wide
        as tall, rounded to 1, 1.5, 2, 2.5, 3, 4, 5 or 7.5 times a power of ten: 0.2 for
        the F3 crop (23 traces of 75 samples), 1 for 1500 traces of 1000 samples.

        Returns
        -------
        float
        """
        plain = self.unit == "sample" and not self.sources  # no survey: axis 0 may be a stack of tiles
        traces = (self.grid_shape[-1] if plain else max(self.grid_shape)) if self.grid_shape else 1
        wanted = traces / (SECTION_ASPECT * max(self.n_samples, 1))
        return nice_number(float(np.clip(wanted, *EXAGGERATION_RANGE)))

    def napari_kwargs(
        self, coordinates: str = "survey", exaggeration: float | None = None
    ) -> dict[str, Any]:
        """Layer keyword arguments placing the array in survey coordinates.

        Parameters
        ----------
        coordinates : {"survey", "samples"}
            ``"survey"``: world coordinates along the trace axes are line numbers (so
            "go to inline 122" is world position 122), and the vertical axis is stretched by
            the vertical exaggeration (world = sample index x exaggeration x trace step,
            from ``t0``); the true time or depth is world x :meth:`world_to_vertical`.
            ``"samples"``: one world unit per trace and per sample (square pixels), the
            geometry still travels in metadata.
        exaggeration : float, optional
            Vertical exaggeration (``"survey"`` only): 1 = square pixels; None: automatic
            (:meth:`auto_exaggeration`).

        Returns
        -------
        dict
            ``scale``, ``translate``, ``axis_labels``, ``units`` and ``metadata`` for a napari
            layer holding an array in :attr:`axes` order.  ``metadata[DISPLAY_KEY]`` holds
            the coordinates, the exaggeration and ``vertical_per_world`` (true units per
            world unit along the vertical axis), which every derived layer copies.
        """
        if coordinates not in ("survey", "samples"):
            raise GeometryError(f"coordinates must be 'survey' or 'samples', not {coordinates!r}")
        labels = [self._axis_label(a) for a in self.axes]
        metadata = self.to_metadata()
        if coordinates == "samples":
            metadata[DISPLAY_KEY] = {"coordinates": "samples", "exaggeration": 1.0,
                                     "vertical_per_world": None}
            return {
                "scale": [1.0] * len(self.axes),
                "translate": [0.0] * len(self.axes),
                "axis_labels": [lab.split(" (")[0] + " (index)" for lab in labels],
                "units": ["pixel"] * len(self.axes),
                "metadata": metadata,
            }
        e = float(exaggeration) if exaggeration else self.auto_exaggeration()
        if not e > 0:
            raise GeometryError(f"The vertical exaggeration must be positive, not {e}.")
        width = self.trace_width()
        dt = self._axis_step("sample")
        scale, translate = [], []
        for a in self.axes:
            if a == "sample":
                scale.append(e * width)
                translate.append(self.t0 / dt * e * width)
            else:
                scale.append(self._axis_step(a))
                translate.append(float(self.axis_values(a)[0]) if self.axis_length(a) else 0.0)
        metadata[DISPLAY_KEY] = {"coordinates": "survey", "exaggeration": e,
                                 "vertical_per_world": dt / (e * width)}
        return {
            "scale": scale,
            "translate": translate,
            "axis_labels": labels,
            "units": ["pixel"] * len(self.axes),
            "metadata": metadata,
        }

    def trace_width(self) -> float:
        """World width of one trace: the smaller line step (1 for a section's traces)."""
        steps = [abs(self._axis_step(a)) for a in self.axes if a != "sample"]
        return min(steps) if steps else 1.0

    # ------------------------------------------------------------------ serialisation
    def to_metadata(self) -> dict[str, Any]:
        """Flat dictionary for ``layer.metadata`` (numpy arrays kept as arrays)."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["samples"] = self.samples
        out[METADATA_KEY] = _FORMAT_VERSION
        return out

    @classmethod
    def from_metadata(cls, metadata: dict[str, Any] | None) -> SurveyGeometry | None:
        """Geometry stored by :meth:`to_metadata`, or None when ``metadata`` holds none."""
        if not metadata or METADATA_KEY not in metadata:
            return None
        names = {f.name for f in fields(cls)}
        kwargs = {k: v for k, v in metadata.items() if k in names}
        kwargs["notes"] = list(kwargs.get("notes") or [])
        kwargs["sources"] = list(kwargs.get("sources") or [])
        return cls(**kwargs)

    def to_json_dict(self) -> dict[str, Any]:
        """JSON-compatible dictionary (the live mask packed as base64 bits)."""
        d = asdict(self)
        for name in ("ilines", "xlines", "traces"):
            if d[name] is not None:
                d[name] = _compact_ints(np.asarray(d[name]))
        d["live"] = {
            "shape": list(self.live.shape),
            "bits": base64.b64encode(np.packbits(self.live.ravel())).decode("ascii"),
            "n_live": self.n_live,
        }
        d["axes"] = list(self.axes)
        d["format_version"] = _FORMAT_VERSION
        d["written_by"] = "napari-seisseg"
        return d

    @classmethod
    def from_json_dict(cls, d: dict[str, Any]) -> SurveyGeometry:
        """Inverse of :meth:`to_json_dict`."""
        d = dict(d)
        d.pop("format_version", None)
        d.pop("written_by", None)
        for name in ("ilines", "xlines", "traces"):
            if d.get(name) is not None:
                d[name] = _expand_ints(d[name])
        live = d.get("live")
        if isinstance(live, dict):
            shape = tuple(live["shape"])
            bits = np.frombuffer(base64.b64decode(live["bits"]), dtype=np.uint8)
            d["live"] = np.unpackbits(bits, count=int(np.prod(shape))).astype(bool).reshape(shape)
        d["axes"] = tuple(d.get("axes") or ())
        names = {f.name for f in fields(cls)}
        unknown = set(d) - names
        for k in unknown:
            d.pop(k)
        return cls(**d)

    def to_json(self) -> str:
        """JSON text of :meth:`to_json_dict`."""
        return json.dumps(self.to_json_dict(), indent=1)

    def save_sidecar(self, array_path: str | os.PathLike) -> Path:
        """Write the JSON sidecar beside ``array_path`` (atomically) and return its path."""
        from .atomic import atomic_write_text

        path = sidecar_path(array_path)
        atomic_write_text(path, self.to_json())
        return path

    @classmethod
    def load_sidecar(cls, array_path: str | os.PathLike) -> SurveyGeometry | None:
        """Geometry from the sidecar beside ``array_path``, or None when there is none."""
        path = sidecar_path(array_path)
        if not path.exists():
            return None
        try:
            d = json.loads(path.read_text())
            return cls.from_json_dict(d)
        except (ValueError, KeyError, TypeError) as exc:
            raise GeometryError(
                f"The geometry sidecar {path} is not valid ({exc}). Delete or fix it to open "
                "the array without survey coordinates."
            ) from exc

    # ------------------------------------------------------------------ description
    def describe(self) -> str:
        """Human-readable summary, as printed by ``seisseg info``."""
        lines = []
        shape = " x ".join(str(n) for n in self.shape)
        lines.append(f"kind:        {self.kind} ({', '.join(self.axes)}), shape {shape}")
        if self.kind == "cube":
            for name, values, byte in (("inlines:    ", self.ilines, self.iline_byte),
                                       ("crosslines: ", self.xlines, self.xline_byte)):
                lines.append(f"{name} {_range_text(values)}" + (f"  (byte {byte})" if byte else ""))
        else:
            lines.append(f"traces:      {_range_text(self.traces)}  ({self.trace_key})")
            if self.line_number is not None:
                other = "crossline" if self.trace_key == "inline" else "inline"
                lines.append(f"line:        {other} {self.line_number}")
        total = int(np.prod(self.grid_shape))
        lines.append(f"live traces: {self.n_live} of {total}")
        lines.append(
            f"samples:     {self.n_samples}, {self.sample_label.split(' ')[0]} "
            f"{self.t0:g}..{self.samples[-1] if self.n_samples else self.t0:g} {self.unit}, "
            f"interval {self.dt:g} {self.unit}"
        )
        if self.sample_format is not None:
            from .segy_formats import format_name

            lines.append(
                f"format:      {self.sample_format} ({format_name(self.sample_format)}), "
                f"{self.endian}-endian"
            )
        if self.sources:
            lines.append("source:      " + ", ".join(self.sources[:3]) + (" ..." if len(self.sources) > 3 else ""))
        for note in self.notes:
            lines.append(f"note:        {note}")
        return "\n".join(lines)


def sidecar_path(array_path: str | os.PathLike) -> Path:
    """Path of the geometry sidecar of an array file: ``cube.npy`` -> ``cube.geometry.json``."""
    p = Path(array_path)
    return p.with_name(p.stem + SIDECAR_SUFFIX) if p.suffix else p.with_name(p.name + SIDECAR_SUFFIX)


def _compact_ints(a: np.ndarray) -> dict[str, int] | list[int]:
    if len(a) > 1 and np.all(np.diff(a) == a[1] - a[0]) and a[1] != a[0]:
        return {"start": int(a[0]), "step": int(a[1] - a[0]), "count": len(a)}
    return [int(v) for v in a]


def _expand_ints(v: Any) -> np.ndarray:
    if isinstance(v, dict):
        return v["start"] + v["step"] * np.arange(v["count"], dtype=np.int64)
    return np.asarray(v, dtype=np.int64)


def _range_text(a: np.ndarray) -> str:
    if len(a) == 0:
        return "none"
    if len(a) == 1:
        return f"{a[0]} (1)"
    step = a[1] - a[0]
    return f"{a[0]}..{a[-1]} step {step} ({len(a)})"


def nice_number(x: float) -> float:
    """``x`` rounded to 1, 1.5, 2, 2.5, 3, 4, 5 or 7.5 times a power of ten."""
    if not x > 0:
        raise GeometryError(f"Expected a positive number, got {x}.")
    power = 10.0 ** np.floor(np.log10(x))
    steps = np.array([1, 1.5, 2, 2.5, 3, 4, 5, 7.5, 10])
    best = steps[np.argmin(np.abs(np.log(steps * power / x)))]
    return float(round(best * power, 10))
