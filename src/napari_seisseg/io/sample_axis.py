"""Which axis of a plain array holds time (or depth): read from the amplitudes.

A ``.npy`` or Zarr array without a geometry is taken to be in the canonical order, time
(or depth) last: ``(inline, crossline, sample)`` or ``(trace, sample)``.  Arrays made
elsewhere often come time first (``(sample, inline, crossline)``) or in the order sections
are shown (``(inline, sample, crossline)``, as the Penobscot and TGS files are stored).
Taking a lateral axis for time then trains on the wrong sections, puts the position
channel and the time prior along a lateral axis and shows the cube on its side.

A seismic trace is a band-limited wiggle: along time the amplitudes oscillate (their
spectrum has little energy at the lowest frequencies and a peak above them), while along a
line of traces they change slowly (most energy at the lowest frequencies) and across a
stack of unrelated tiles they do not correlate at all.  :func:`guess_sample_axis` measures
both on a central block of the array; :func:`guessed_geometry` gives a geometry without
survey coordinates (line and sample numbers counted from 0) that names the array's own
order, so the data is never copied or reordered on disk, outputs keep the input's layout,
and napari shows time downwards.

Measured on real and synthetic data (the band ratio, the rule below):

=========================================  ==================  ======================
array                                      ratio per axis      guess
=========================================  ==================  ======================
Penobscot stack (inline, time, crossline)  1.4 / 7.0 / 1.1     axis 1
TGS tiles (tile, depth, x)                 - / 2.4 / 1.0       axis 1 (tiles unrelated)
Viking Graben 2D line (trace, sample)      8.9 / 3500          axis 1 (the last: as now)
synthetic cubes, time first                23-1700 / 1.0-1.4   axis 0
F3 crop (23 x 18 x 75)                     - / - / 2.9         axis 2 (short axes left out)
Volve velocity model (smooth, no wiggle)   - / 1.5 / 1.4       none (the last axis)
white noise                                - / - / -           none
=========================================  ==================  ======================
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .geometry import SurveyGeometry

__all__ = [
    "FILE_AXES_KEY", "GUESSED_NOTE", "SampleAxisGuess", "file_axes", "guess_sample_axis",
    "guessed_geometry", "image_shape", "is_guessed", "layout_like", "laid_out_apart",
    "neighbour_correlation", "plain_array_geometry", "time_last_geometry",
]

#: Start of the note a guessed geometry carries (it marks the geometry as guessed).
GUESSED_NOTE = "no survey geometry"
#: Layer metadata key: the axes of a plain array's file, in the file's order (napari shows
#: the layer in display order; labels opened beside it and plain exports take the file's).
FILE_AXES_KEY = "seisseg_file_axes"
#: Edge of the central block the guess reads (at most this many values along each axis).
BLOCK_EDGE = 128
#: Axes shorter than this are not candidates (too few frequencies to tell).
MIN_LENGTH = 32
#: A candidate's neighbouring values must correlate at least this much (not a stack of
#: unrelated tiles or noise).
MIN_CORRELATION = 0.3
#: The winner's band ratio must reach this...
MIN_RATIO = 1.5
#: ...and this many times every other candidate's ratio (and 1).
MIN_LEAD = 1.5


@dataclass(frozen=True)
class SampleAxisGuess:
    """What the amplitudes say about the vertical axis.

    Attributes
    ----------
    axis : int or None
        The axis that holds time or depth, or None when the amplitudes do not say.
    ratios : tuple of float
        Per axis, the spectrum's peak over its two lowest non-zero frequencies (NaN for an
        axis that is no candidate: too short, or its neighbours uncorrelated).
    correlations : tuple of float
        Per axis, the correlation of neighbouring values.
    ungated : tuple of float
        Per axis, the band ratio whatever the correlation (NaN: too short or constant): a
        time axis sampled coarsely (neighbours correlating below the gate) still peaks well
        above its lowest frequencies, a stack of unrelated tiles does not.
    """

    axis: int | None
    ratios: tuple[float, ...]
    correlations: tuple[float, ...]
    ungated: tuple[float, ...] = ()

    def describe(self) -> str:
        """The evidence in words: ``"spectral band ratio per axis 1.4 / 7.0 / 1.1"`` (- : none)."""
        parts = ["-" if np.isnan(r) else f"{r:.1f}" for r in self.ratios]
        return "spectral band ratio per axis " + " / ".join(parts)


def _central_block(data: Any) -> np.ndarray:
    region = tuple(slice(max(0, n // 2 - BLOCK_EDGE // 2), max(0, n // 2 - BLOCK_EDGE // 2) + BLOCK_EDGE)
                   for n in data.shape)
    block = np.nan_to_num(np.asarray(data[region], dtype=np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    return block - block.mean() if block.size else block


def _looks_like_classes(block: np.ndarray, dtype: np.dtype) -> bool:
    if dtype.kind == "b":
        return True
    return dtype.kind in "iu" and np.unique(block).size <= 32


def _axis_measures(block: np.ndarray, axis: int) -> tuple[float, float, float]:
    """``(band ratio or NaN, lag-1 correlation, band ratio whatever the correlation)`` along ``axis``.

    The ratios are NaN for an axis too short to measure or constant (rounding noise only);
    the first also for neighbours that do not correlate.
    """
    y = np.moveaxis(block, axis, -1)
    n = y.shape[-1]
    y = y - y.mean(axis=-1, keepdims=True)
    energy = float((y * y).sum())
    r1 = float((y[..., 1:] * y[..., :-1]).sum()) / energy if energy > 0 and n > 1 else 0.0
    if energy <= 1e-9 * float((block * block).sum()) or n < MIN_LENGTH:
        return float("nan"), 0.0, float("nan")
    power = (np.abs(np.fft.rfft(y * np.hanning(n), axis=-1)) ** 2).reshape(-1, n // 2 + 1).mean(0)
    ratio = float(power[1:].max() / max(float(power[1:3].mean()), 1e-30))
    return (ratio if r1 >= MIN_CORRELATION else float("nan")), r1, ratio


def neighbour_correlation(data: Any, axis: int) -> float:
    """Lag-1 correlation of neighbouring values along ``axis`` on the array's central block.

    Neighbouring inlines of a survey correlate strongly (Penobscot 0.87, a synthetic cube
    0.92); a stack of unrelated tiles does not (TGS -0.03, below :data:`MIN_CORRELATION`).

    Parameters
    ----------
    data : array-like
        The array.
    axis : int
        The axis.

    Returns
    -------
    float
        The correlation: 1 where the block does not change along ``axis`` (identical
        neighbours, e.g. a layer cake), 0 for an axis of one value or an all-constant block.
    """
    block = _central_block(data)
    y = np.moveaxis(block, int(axis), -1)
    peak = float(np.abs(block).max(initial=0.0))
    if y.shape[-1] > 1 and peak > 0 and float(np.ptp(y, axis=-1).max()) <= 1e-9 * peak:
        return 1.0  # every neighbour the same
    return _axis_measures(block, int(axis))[1]


def guess_sample_axis(data: Any) -> SampleAxisGuess:
    """Guess which axis of a 2D or 3D seismic array holds time (or depth).

    Parameters
    ----------
    data : array-like
        Amplitudes (numpy, memory map, dask, Zarr); only a central block of at most
        :data:`BLOCK_EDGE` values per axis is read (NaN and infinite values count as 0).

    Returns
    -------
    SampleAxisGuess
        ``axis`` None when no axis stands out: not 2D or 3D, not numbers, class labels
        (whole numbers with at most 32 values), a constant or noise-like array, or two axes
        alike.
    """
    ndim = len(data.shape)
    nan = (float("nan"),) * ndim
    dtype = np.dtype(data.dtype)
    if ndim not in (2, 3) or min(data.shape) < 1 or dtype.kind not in "iufb":
        return SampleAxisGuess(None, nan, nan)
    block = _central_block(data)
    if _looks_like_classes(block, dtype) or not np.any(block):
        return SampleAxisGuess(None, nan, nan)
    ratios, correlations, ungated = zip(*(_axis_measures(block, a) for a in range(ndim)), strict=True)
    r = np.nan_to_num(np.asarray(ratios), nan=0.0)
    best = int(np.argmax(r))
    others = np.delete(r, best)
    ok = r[best] >= MIN_RATIO and r[best] >= MIN_LEAD * max(float(others.max(initial=0.0)), 1.0)
    return SampleAxisGuess(best if ok else None, tuple(ratios), tuple(correlations), tuple(ungated))


def guessed_geometry(shape: tuple[int, ...], sample_axis: int, why: str = "") -> SurveyGeometry:
    """A geometry without survey coordinates for an array whose vertical axis is ``sample_axis``.

    Parameters
    ----------
    shape : tuple of int
        The array's shape (2D: traces and samples; 3D: a cube).
    sample_axis : int
        The axis holding time or depth; the others are, in order, inline and crossline (or
        the traces of a section).
    why : str
        How the axis was chosen, for the note (``"the amplitudes oscillate along it ..."``).

    Returns
    -------
    SurveyGeometry
        Lines, traces and samples numbered from 0, the vertical unit ``"sample"``, the axes
        in the array's own order, and a note starting with :data:`GUESSED_NOTE`.
    """
    ndim = len(shape)
    axis = int(sample_axis) % ndim
    lateral = [n for i, n in enumerate(shape) if i != axis]
    names = ["inline", "crossline"] if ndim == 3 else ["trace"]
    axes = list(names)
    axes.insert(axis, "sample")
    # the axis by its length: the note travels with the geometry into other axis orders
    note = (f"{GUESSED_NOTE}: time or depth taken along the axis of {shape[axis]} values"
            + (f" ({why})" if why else "")
            + "; lines and samples are counted from 0 (another axis: --sample-axis N in seisseg "
            "commands, 'time axis' in napari's Open with options)")
    common = {"n_samples": shape[axis], "dt": 1.0, "t0": 0.0, "unit": "sample", "domain": "unknown",
              "axes": tuple(axes), "notes": [note]}
    if ndim == 3:
        return SurveyGeometry(kind="cube", ilines=np.arange(lateral[0]), xlines=np.arange(lateral[1]),
                              **common)
    return SurveyGeometry(kind="section", traces=np.arange(lateral[0]), trace_key="trace", **common)


def time_last_geometry(shape: tuple[int, ...]) -> SurveyGeometry | None:
    """The geometry napari shows a plain array in seisseg's own order by (time last).

    ``seisseg`` reads a plain array as ``(inline, crossline, sample)`` (or ``(trace,
    sample)``) without a geometry; napari gets this one, so that the array is shown as a
    survey is, time downwards, and what is painted or predicted on it is written back in the
    file's order (``segyio.tools.cube`` makes such arrays).

    Parameters
    ----------
    shape : tuple of int
        The array's shape.

    Returns
    -------
    SurveyGeometry or None
        A :func:`guessed_geometry` along the last axis; None for arrays that are not 2-D or
        3-D, or whose last axis is shorter than :data:`MIN_LENGTH` (no trace is that short:
        an RGB image, a stack of a few channels), which napari shows as stored.
    """
    if len(shape) not in (2, 3) or int(shape[-1]) < MIN_LENGTH:
        return None
    return guessed_geometry(tuple(int(n) for n in shape), len(shape) - 1,
                            "the last axis, as seisseg reads a plain array")


def is_guessed(geometry: SurveyGeometry | None) -> bool:
    """Whether ``geometry`` was made by :func:`guessed_geometry` (no survey behind it)."""
    return (geometry is not None and not geometry.sources and geometry.unit == "sample"
            and any(n.startswith(GUESSED_NOTE) for n in geometry.notes))


def _last_axis_is_not_time(guess: SampleAxisGuess) -> bool:
    """Whether the last axis was measured and does not wiggle (so the guess may overrule it).

    Measured: a candidate that lost, or long enough and wiggling less than a winner must
    whatever its correlation (unrelated tiles); not a last axis too short or constant to
    measure, nor a finely wiggling time axis sampled coarsely (its neighbours correlate
    below the gate, its band ratio is high).
    """
    last, ungated = guess.ratios[-1], guess.ungated[-1] if guess.ungated else float("nan")
    return not np.isnan(last) or (not np.isnan(ungated) and ungated < MIN_RATIO)


def plain_array_geometry(data: Any, sample_axis: int | str | None = "auto") -> SurveyGeometry | None:
    """The geometry of a plain array (no sidecar), or None for the canonical order.

    Parameters
    ----------
    data : array-like
        The array as stored.
    sample_axis : {"auto"} or int or None
        ``"auto"``: :func:`guess_sample_axis`, trusted only against a last axis measured
        not to wiggle (:func:`_last_axis_is_not_time`); an axis number: that axis (the last
        one included, so that what is written from the array says so); None: the last axis,
        no geometry.

    Returns
    -------
    SurveyGeometry or None
        A :func:`guessed_geometry`, or None (the canonical order, as before any guess).

    Raises
    ------
    SeisSegError
        ``sample_axis`` is neither ``"auto"`` nor an axis of ``data``.
    """
    from ..errors import SeisSegError

    ndim = len(data.shape)
    if sample_axis is None or ndim not in (2, 3):
        return None
    if isinstance(sample_axis, str) and sample_axis != "auto":
        raise SeisSegError(f"sample_axis must be 'auto', an axis number or None, not {sample_axis!r}.")
    if sample_axis == "auto":
        guess = guess_sample_axis(data)
        if guess.axis is None or guess.axis == ndim - 1 or not _last_axis_is_not_time(guess):
            return None
        return guessed_geometry(tuple(data.shape), guess.axis,
                                f"the amplitudes oscillate along it: {guess.describe()}")
    axis = int(sample_axis)
    if not -ndim <= axis < ndim:
        raise SeisSegError(f"Time axis {axis} is not an axis of the {ndim}-D array of shape "
                           f"{tuple(data.shape)}: name one of 0..{ndim - 1} (--sample-axis, or "
                           "'time axis' in Open with options).")
    return guessed_geometry(tuple(data.shape), axis % ndim, "as given")


def layout_like(shape: tuple[int, ...], geometry: SurveyGeometry | None,
                prefer: tuple[str, ...] | None = None) -> SurveyGeometry | None:
    """``geometry`` (guessed) in the axis order that gives ``shape``, when only one order does.

    A plain labels file beside an image whose time axis was guessed has no geometry of its
    own (labels do not wiggle); it is taken to be stored as the image's file is (``prefer``)
    when its shape fits that order, else when its shape fits exactly one order of the
    image's axes (inline before crossline, as :func:`guessed_geometry` names them).

    Parameters
    ----------
    shape : tuple of int
        Shape of the plain array.
    geometry : SurveyGeometry or None
        The image's geometry, in any axis order.
    prefer : tuple of str, optional
        The axes of the image's file in its order (the layer's :data:`FILE_AXES_KEY`): a
        labels file saved beside an image is stored as the image is, whatever else its
        shape fits (square sections, a stack of square tiles).

    Returns
    -------
    SurveyGeometry or None
        A copy naming the matching order; None when ``geometry`` is not guessed, or no order
        or several orders fit (and ``prefer`` does not).
    """
    from dataclasses import replace
    from itertools import permutations

    if not is_guessed(geometry) or len(shape) != len(geometry.axes):
        return None
    if prefer is not None and sorted(prefer) == sorted(geometry.axes) and \
            tuple(geometry.axis_length(a) for a in prefer) == tuple(shape):
        return replace(geometry, axes=tuple(prefer))
    fits = []
    for axes in permutations(geometry.canonical_axes):
        if "inline" in axes and axes.index("inline") > axes.index("crossline"):
            continue
        if tuple(geometry.axis_length(a) for a in axes) == tuple(shape):
            fits.append(axes)
    return replace(geometry, axes=fits[0]) if len(fits) == 1 else None


def file_axes(metadata: Any, geometry: SurveyGeometry | None) -> tuple[str, ...] | None:
    """The axes of a plain array layer's file (:data:`FILE_AXES_KEY`), in the file's order.

    Parameters
    ----------
    metadata : dict or None
        The layer's metadata.
    geometry : SurveyGeometry or None
        The layer's geometry (in any order).

    Returns
    -------
    tuple of str or None
        None when the layer records none, or axes that are not the geometry's.
    """
    axes = (metadata or {}).get(FILE_AXES_KEY)
    if not axes or geometry is None or sorted(axes) != sorted(geometry.axes):
        return None
    return tuple(axes)


def _file_layout(metadata: Any) -> tuple[tuple[str, ...], tuple[int, ...], SurveyGeometry] | None:
    """A plain array layer's file axes, the shape its file stores and its geometry (None: not
    such a layer)."""
    from ..errors import SeisSegError

    try:
        geometry = SurveyGeometry.from_metadata(metadata)
    except (SeisSegError, TypeError, ValueError):
        return None
    axes = file_axes(metadata, geometry)
    return None if axes is None else (axes, tuple(geometry.axis_length(a) for a in axes), geometry)


def laid_out_apart(image_metadata: Any, labels_metadata: Any,
                   image_shape: tuple[int, ...] | None = None) -> bool:
    """Whether two plain arrays' files have one shape but were read in different orders.

    Labels opened before their image, or without it, are taken as seisseg reads a plain
    array (time last); an image whose time axis was read elsewhere (a stack of tiles stored
    ``(tile, depth, x)``) is laid out by it, and an image without any geometry (a 2-D map,
    an array another reader opened) is shown as stored.  Files of one shape are stored
    alike: shown in different orders, the labels lie transposed over the image, which
    napari cannot show and training must not take.

    Parameters
    ----------
    image_metadata, labels_metadata : dict
        The two layers' metadata.
    image_shape : tuple of int, optional
        The image layer's shape, for an image without a geometry (shown as stored).

    Returns
    -------
    bool
        True when the labels are a plain array's layer (:data:`FILE_AXES_KEY`) whose file
        holds the image file's shape, and the two were laid out in different orders.
    """
    a, b = _file_layout(image_metadata), _file_layout(labels_metadata)
    if b is None:
        return False
    if a is None and image_shape is not None and _has_no_geometry(image_metadata):
        return b[1] == tuple(int(n) for n in image_shape) and b[0] != b[2].display_axes
    return a is not None and a[1] == b[1] and a[0] != b[0]


def image_shape(layer: Any) -> tuple[int, ...] | None:
    """An image layer's shape without an RGB(A) picture's colour axis (None: no data)."""
    shape = getattr(getattr(layer, "data", None), "shape", None)
    if shape is None:
        return None
    shape = tuple(int(n) for n in shape)
    return shape[:-1] if getattr(layer, "rgb", False) else shape


def _has_no_geometry(metadata: Any) -> bool:
    """Whether a layer's metadata holds no survey geometry (a layer shown as stored)."""
    from ..errors import SeisSegError

    try:
        return SurveyGeometry.from_metadata(metadata) is None
    except (SeisSegError, TypeError, ValueError):
        return False
