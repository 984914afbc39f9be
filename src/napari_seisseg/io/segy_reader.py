"""Read SEG-Y files (one, several, or a folder) as a survey-coordinate volume."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..errors import SegyError
from .geometry import SurveyGeometry
from .segy_file import SegyFile, spread_traces
from .segy_layout import detect_layout
from .trace_array import LazyTraceArray
from .volume import Volume

SEGY_SUFFIXES = (".sgy", ".segy")
#: Files up to this size (decoded) are read into memory by default; larger ones stay lazy.
EAGER_LIMIT_BYTES = 256 << 20


def is_segy_path(path: str | os.PathLike) -> bool:
    """True for a path with a SEG-Y suffix (.sgy, .segy in any case)."""
    return Path(path).suffix.lower() in SEGY_SUFFIXES


def segy_files_in(paths: str | os.PathLike | Sequence[str | os.PathLike]) -> list[Path]:
    """Expand a file, a folder of SEG-Y files, or a list of them into a sorted file list."""
    if isinstance(paths, str | os.PathLike):
        paths = [paths]
    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            found = sorted(q for q in p.iterdir() if q.is_file() and is_segy_path(q))
            if not found:
                raise SegyError(f"The folder {p} holds no .sgy or .segy files.")
            files.extend(found)
        else:
            files.append(p)
    if not files:
        raise SegyError("No SEG-Y file given.")
    return files


def read_segy(
    paths: str | os.PathLike | Sequence[str | os.PathLike],
    *,
    iline_byte: int | None = None,
    xline_byte: int | None = None,
    sample_format: int | None = None,
    endian: str | None = None,
    domain: str | None = None,
    lazy: bool | str = "auto",
) -> Volume:
    """Read SEG-Y data as a cube ``(inline, crossline, sample)`` or a section ``(trace, sample)``.

    Parameters
    ----------
    paths : path, folder, or sequence of paths
        One file, a folder of files, or several files holding parts of one survey (for
        example one inline per file); traces of all files are assembled into one grid.
    iline_byte, xline_byte : int, optional
        Trace-header bytes of the inline and crossline numbers; detected when omitted
        (189/193 first, then 9/21, 5/21, 9/17, 5/17, then CDP numbering at byte 21).
    sample_format : int, optional
        Override the sample format code of the binary header.
    endian : {"big", "little"}, optional
        Override byte-order detection.
    domain : {"time", "depth"}, optional
        Vertical domain; guessed from the file name and textual header when omitted.
    lazy : bool or "auto"
        Return a lazy array that reads on demand (True), read everything now (False), or
        stay lazy only when the data exceed 256 MB ("auto").

    Returns
    -------
    Volume
        ``data`` (numpy array or :class:`LazyTraceArray`) and its ``geometry``.

    Raises
    ------
    SegyError
        The file is missing, empty, truncated, not SEG-Y, uses an unsupported format, or
        the given header bytes do not describe a grid.
    """
    files_paths = segy_files_in(paths)
    files = [SegyFile(p, sample_format=sample_format, endian=endian) for p in files_paths]
    first = files[0]
    for f in files[1:]:
        if f.n_samples != first.n_samples:
            raise SegyError(
                f"{f.path.name} has {f.n_samples} samples per trace but {first.path.name} has "
                f"{first.n_samples}; files assembled into one volume must share the sample axis."
            )
        if f.dt_raw != first.dt_raw:
            raise SegyError(
                f"{f.path.name} has a sample interval of {f.dt_raw} us but {first.path.name} has "
                f"{first.dt_raw} us; files assembled into one volume must share the sample axis."
            )
    layout = detect_layout(files, iline_byte, xline_byte)
    notes = [n for f in files for n in f.notes] + layout.notes
    notes += _check_samples(files)

    dom = domain or guess_domain(first)
    if dom not in ("time", "depth"):
        raise SegyError(f"Domain must be 'time' or 'depth', not {dom!r}.")
    unit = "ms" if dom == "time" else ("ft" if first.measurement_system == 2 else "m")
    dt = first.dt_raw / 1000.0
    if dt <= 0:
        notes.append("the sample interval is 0 in the headers; samples are numbered instead")
        dt, unit = 1.0, "sample"
    geometry = SurveyGeometry(
        kind=layout.kind,
        n_samples=first.n_samples,
        dt=dt,
        t0=float(first.trace_delay),
        unit=unit,
        domain=dom,
        ilines=layout.ilines,
        xlines=layout.xlines,
        traces=layout.traces,
        trace_key=layout.trace_key,
        line_number=layout.line_number,
        live=layout.trace_map >= 0,
        iline_byte=layout.iline_byte,
        xline_byte=layout.xline_byte,
        sample_format=first.fmt.code,
        endian=first.endian,
        text_header=first.text_header,
        sources=[str(f.path.resolve()) for f in files],
        notes=notes,
    )
    data: np.ndarray | LazyTraceArray = LazyTraceArray(files, layout.trace_map, first.n_samples)
    if lazy is False or (lazy == "auto" and data.nbytes <= EAGER_LIMIT_BYTES):
        data = np.asarray(data)
    return Volume(data, geometry)


#: First words of the textual-header card that states the vertical domain of an export
#: (written where the file's name and header would read as another domain).
DOMAIN_CARD = "SEISSEG DOMAIN"
_DOMAIN_LINE = re.compile(rf"{DOMAIN_CARD} (TIME|DEPTH)\b")


def guess_domain(f: SegyFile) -> str:
    """``"depth"`` when the textual header's :data:`DOMAIN_CARD`, the file name or the
    header's words say so, else ``"time"`` (:func:`domain_from`)."""
    return domain_from(f.path.name, f.text_header)


def domain_from(name: str, text: str, card: bool = True) -> str:
    """The vertical domain a SEG-Y file of this name and textual header reads as.

    Parameters
    ----------
    name : str
        The file's name.
    text : str
        Its textual header, decoded.
    card : bool
        Read a :data:`DOMAIN_CARD` first (an export's: it outranks the name and the
        words); False: the name and the words alone.

    Returns
    -------
    str
        ``"depth"`` when the card, else the name (depth, psdm, dep...), else the header's
        words (PSDM, DEPTH MIGRATED, IN DEPTH, TVDSS...) say so; else ``"time"``.
    """
    text = text.upper()
    stated = _DOMAIN_LINE.search(text)
    if card and stated:
        return stated.group(1).lower()
    if re.search(r"(^|[^a-z])(depth|psdm|presdm|dep)([^a-z]|$)", Path(name).stem.lower()):
        return "depth"
    text = re.sub(r"TIME\s*/\s*DEPTH|DEPTH\s*/\s*TIME|" + DOMAIN_CARD + r" \w+", " ", text)
    if re.search(r"\b(PSDM|PRESDM|DEPTH MIGRATED|DEPTH DOMAIN|DEPTH VOLUME|IN DEPTH|TVDSS)\b", text):
        return "depth"
    return "time"


def _check_samples(files: Sequence[SegyFile]) -> list[str]:
    """Decode a spread of traces and refuse values that contradict the format code.

    Returns notes for doubtful but possible cases; raises :class:`SegyError` when the
    decoded values are garbage for the declared format.
    """
    notes: list[str] = []
    for f in files:
        if f.fmt.code not in (1, 5, 6):
            continue
        idx = spread_traces(f.n_traces)
        raw = np.asarray(f.memmap["data"][idx])
        values = f.read_traces(idx).astype(np.float64)
        n = values.size
        bad = ~np.isfinite(values) | (np.abs(values) > 1e30)
        tiny = (values != 0) & (np.abs(values) < 1e-30)
        share = (np.count_nonzero(bad) + np.count_nonzero(tiny)) / max(n, 1)
        if share > 0.05:
            hint = ""
            if f.fmt.code == 5:
                from .segy_formats import ibm_to_float32

                order = ">" if f.endian == "big" else "<"
                ibm = ibm_to_float32(np.ascontiguousarray(raw).view(order + "u4"), f.endian)
                if np.all(np.isfinite(ibm)) and np.max(np.abs(ibm)) < 1e30:
                    hint = " They decode sensibly as IBM floats: try --format 1."
            raise SegyError(
                f"{f.path.name}: {100 * share:.0f}% of the sampled values are NaN, infinite or "
                f"absurdly large/small when decoded as {f.fmt.name} (format {f.fmt.code}, "
                f"{f.endian}-endian), so the format code or byte order in the binary header is "
                f"wrong.{hint} Pass the right --format (or 'sample format' in the widget)."
            )
        if f.fmt.code == 1:
            words = raw.astype(np.uint32).ravel()
            nonzero = (words & 0x7FFFFFFF) != 0
            unnormalised = nonzero & ((words & 0x00F00000) == 0)
            if nonzero.sum() > 100 and unnormalised.sum() > 0.1 * nonzero.sum():
                notes.append(
                    f"{f.path.name}: {100 * unnormalised.sum() / nonzero.sum():.0f}% of the "
                    "samples are not normalised IBM floats; the format code (1, IBM) may be "
                    "wrong - if the amplitudes look odd, try format 5 (IEEE)"
                )
        if np.count_nonzero(bad):
            notes.append(f"{f.path.name}: some sampled values are NaN or infinite")
    return notes
