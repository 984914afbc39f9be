"""Write SEG-Y with the geometry and headers of the source survey.

With a template (by default the SEG-Y the data came from) every textual, binary and trace
header is copied byte for byte, traces are written in the template's order, and traces the
template lacks stay absent (dead traces stay dead).  Only the sample format code changes, and
the textual-header cards the caller asks for (``cards``: the class names of a mask).
Without a template, standard headers are made from the geometry (inline/crossline at the
geometry's bytes, 189/193 by default).
"""

from __future__ import annotations

import os
import re
import struct
from collections.abc import Generator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .. import __version__
from ..errors import GeometryError, SegyError
from ..jobs import drain
from .atomic import atomic_path, check_target
from .geometry import SurveyGeometry
from .segy_file import (
    BIN_DT,
    BIN_FORMAT,
    BIN_MEASUREMENT,
    BIN_NS,
    BIN_REVISION,
    FILE_HEADER_SIZE,
    TEXT_HEADER_SIZE,
    TR_DELAY,
    TR_DT,
    TR_NS,
    TRACE_HEADER_SIZE,
    SegyFile,
    decode_text_header,
    field_width,
    text_header_encoding,
)
from .segy_formats import encode, get_format, raw_dtype
from .segy_layout import detect_layout

#: Traces written per block.
_BLOCK_TRACES = 8192


def write_segy(
    path: str | os.PathLike,
    data: Any,
    geometry: SurveyGeometry | None,
    **options: Any,
) -> Path:
    """Write ``data`` as SEG-Y at once: :func:`write_segy_job` drained.

    Parameters
    ----------
    path, data, geometry, **options
        As for :func:`write_segy_job` (``template``, ``sample_format``, ``overwrite``,
        ``cards``).

    Returns
    -------
    pathlib.Path
    """
    return drain(write_segy_job(path, data, geometry, **options))


def write_segy_job(
    path: str | os.PathLike,
    data: Any,
    geometry: SurveyGeometry | None,
    *,
    template: str | os.PathLike | Sequence[str | os.PathLike] | None = None,
    sample_format: int = 5,
    overwrite: bool = True,
    cards: Mapping[str, str | None] | None = None,
) -> Generator[float, None, Path]:
    """Write ``data`` as SEG-Y, atomically, never over its source file, yielding the fraction done.

    A job (:mod:`napari_seisseg.jobs`): drain it with :func:`~napari_seisseg.jobs.drain`, or
    run it in a napari worker; :func:`write_segy` does it at once.

    Parameters
    ----------
    path : path
        Output file.
    data : array-like
        Samples in ``geometry.axes`` order (numpy, memmap, dask, zarr or lazy SEG-Y).
    geometry : SurveyGeometry or None
        Geometry of ``data``; when None, the template's geometry is used and ``data`` must be
        in canonical order.
    template : path or paths, optional
        SEG-Y file(s) whose headers are copied.  Default: the geometry's source files if they
        still exist; otherwise headers are made from the geometry.
    sample_format : int
        Sample format code of the output (default 5, IEEE float).
    overwrite : bool
        Replace an existing output file (the source and template files are never replaced).
    cards : mapping, optional
        Textual-header lines by their first words (``{"SEISSEG CLASSES": "SEISSEG CLASSES
        1=salt"}``), see :func:`put_text_card`: each replaces the card that starts with its
        key, or goes on the last blank card before C39; None blanks the key's card.

    Yields
    ------
    float
        The fraction written, after each block of traces.

    Returns
    -------
    pathlib.Path
        The file written (the generator's return value).
    """
    from .sample_axis import is_guessed
    from .segy_reader import DOMAIN_CARD, is_segy_path, read_segy, segy_files_in

    get_format(sample_format)
    templates = segy_files_in(template) if template is not None else []
    if geometry is not None and is_guessed(geometry) and templates:
        data = geometry.transpose_to(data, geometry.canonical_axes)[0]
        geometry = None  # a guessed order, no survey: the template's geometry describes it
    if geometry is None or is_guessed(geometry):
        if not templates:
            what = ("has only an axis order (read from its amplitudes or given with --sample-axis; "
                    "no line numbers, coordinates or sample interval)") if geometry is not None else "has none"
            raise GeometryError(
                f"Writing SEG-Y needs the survey geometry of the data, and this array {what}. "
                "Open the data from SEG-Y (or a .npy/.zarr written with its geometry), or give a "
                "template SEG-Y of the same survey (--template on the command line; in the Export "
                "widget, choose a layer opened from SEG-Y under 'geometry from')."
            )
        geometry = read_segy(templates, lazy=True).geometry
        geometry.axes = geometry.canonical_axes
    geometry.check_shape(data.shape)
    data, geometry = geometry.transpose_to(data, geometry.canonical_axes)
    if not templates:
        templates = [Path(s) for s in geometry.sources if is_segy_path(s) and Path(s).exists()]
        if templates:
            try:
                _template_files(templates, geometry)
            except SegyError:
                templates = []  # the source changed since: make headers instead
    protect = [*geometry.sources, *templates]
    out = Path(path)
    check_target(out, protect=protect, overwrite=overwrite)
    # a class-names card copied from a mask's template must not follow an image: given
    # no class card, it is blanked (it would make the file re-open as that mask's labels)
    from .label_classes import HEADER_KEY

    cards = {HEADER_KEY: None, **(cards or {})}
    files = _template_files(templates, geometry) if templates else []
    text = (files[0][0].text_header if files else decode_text_header(_text_header(
        geometry, geometry.iline_byte or 189, geometry.xline_byte or 193, sample_format)))
    cards.setdefault(DOMAIN_CARD, _domain_card(out, geometry, text))
    # stale cards blanked first: the card they free may be the only one left for a new line
    cards = dict(sorted(cards.items(), key=lambda card: card[1] is not None))
    with atomic_path(out, protect=protect, overwrite=overwrite) as tmp, open(tmp, "wb") as fh:
        if files:
            yield from _write_from_template(fh, data, geometry, files, sample_format, cards)
        else:
            yield from _write_synthesized(fh, data, geometry, sample_format, cards)
    return out


def _domain_card(out: Path, geometry: SurveyGeometry, text: str) -> str | None:
    """The :data:`~.segy_reader.DOMAIN_CARD` line an export needs: always for depth (a depth
    cube's mask written as ``mask.sgy`` under a header that never says depth read back in
    ms, and a name that says depth may be changed), for time where the output's name or
    textual header (``text``, a template's or the one made) would read as depth; else None
    (a copied one is blanked)."""
    from .segy_reader import DOMAIN_CARD, domain_from

    if geometry.domain == "depth" or (
            geometry.domain == "time" and domain_from(out.name, text, card=False) == "depth"):
        return f"{DOMAIN_CARD} {geometry.domain.upper()} (samples in {geometry.unit})"
    return None


#: Cards :func:`put_text_card` may fill, last first (C39 and C40 are the standard's).
_FREE_CARDS = range(38, 1, -1)
_CARD_LABEL = re.compile(r"^C\s*\d*\s*")


def put_text_card(head: bytearray, key: str, text: str | None) -> int | None:
    """Write one line of a 3200-byte textual header in place, in the header's encoding.

    Parameters
    ----------
    head : bytearray
        Starts with the textual header (ASCII or EBCDIC, told as
        :func:`~napari_seisseg.io.segy_file.decode_text_header` tells it).
    key : str
        First words of the line (``"SEISSEG CLASSES"``).  The card that already starts with
        them is rewritten; otherwise the last blank card from C38 up is used, so the lines
        of the source survey are never overwritten.
    text : str or None
        The line (cut to 76 characters, after ``Cnn``); None blanks the key's card.

    Returns
    -------
    int or None
        The card number written, or None when there was no card to write on (every card
        holds text) or nothing to blank.
    """
    raw = bytes(head[:TEXT_HEADER_SIZE])
    encoding = text_header_encoding(raw)
    lines = [raw[i * 80 : (i + 1) * 80].decode(encoding, errors="replace").replace("\x00", " ")
             for i in range(40)]
    bodies = [_CARD_LABEL.sub("", line, count=1).strip() for line in lines]
    mine = [k for k in range(1, 41) if bodies[k - 1].upper().startswith(key.upper())]
    if mine:
        card = mine[0]
    elif text is None:
        return None
    else:
        card = next((k for k in _FREE_CARDS if not bodies[k - 1]), None)
        if card is None:
            return None
    line = f"C{card:2d} {text or ''}"[:80].ljust(80)
    head[(card - 1) * 80 : card * 80] = line.encode(encoding, errors="replace")
    return card


def _template_files(paths: Sequence[Path], geometry: SurveyGeometry) -> list[tuple[SegyFile, np.ndarray]]:
    """Template files with, for each, the flat grid position of each of its traces."""
    files = [SegyFile(p) for p in paths]
    for f in files:
        if f.n_samples != geometry.n_samples:
            raise SegyError(
                f"The template {f.path.name} has {f.n_samples} samples per trace but the data "
                f"has {geometry.n_samples}. Use a template from the same survey and sample axis."
            )
    if geometry.kind == "cube" and geometry.iline_byte and geometry.xline_byte:
        layout = detect_layout(files, geometry.iline_byte, geometry.xline_byte)
    else:
        layout = detect_layout(files)
    same = layout.kind == geometry.kind and (
        (geometry.kind == "cube" and np.array_equal(layout.ilines, geometry.ilines)
         and np.array_equal(layout.xlines, geometry.xlines))
        or (geometry.kind == "section" and np.array_equal(layout.traces, geometry.traces))
    )
    if not same:
        raise SegyError(
            f"The template {files[0].path.name} does not have the data's geometry "
            f"({geometry.kind} of shape {geometry.shape}). Use a template of the same survey, or "
            "none to write headers made from the geometry."
        )
    tm = layout.trace_map.ravel()
    pos_of_trace = np.empty(int(np.count_nonzero(tm >= 0)), dtype=np.int64)
    cells = np.flatnonzero(tm >= 0)
    pos_of_trace[tm[cells]] = cells
    out = []
    start = 0
    for f in files:
        out.append((f, pos_of_trace[start : start + f.n_traces]))
        start += f.n_traces
    return out


def _record_dtype(code: int, endian: str, n_samples: int) -> np.dtype:
    rd = raw_dtype(code, endian)
    data_field = (rd.base, (n_samples, *rd.shape)) if rd.shape else (rd, (n_samples,))
    return np.dtype([("header", "u1", (TRACE_HEADER_SIZE,)), ("data", *data_field)])


def _gather(data: Any, geometry: SurveyGeometry, flat_pos: np.ndarray) -> np.ndarray:
    """Samples of the traces at flat grid positions (read through one bounding block)."""
    if geometry.kind == "section":
        lo, hi = int(flat_pos.min()), int(flat_pos.max()) + 1
        block = np.asarray(data[lo:hi])
        return block[flat_pos - lo]
    n_xl = len(geometry.xlines)
    ii, jj = np.divmod(flat_pos, n_xl)
    i0, i1, j0, j1 = int(ii.min()), int(ii.max()) + 1, int(jj.min()), int(jj.max()) + 1
    block = np.asarray(data[i0:i1, j0:j1])
    return block[ii - i0, jj - j0]


#: Sample formats SEG-Y rev 1 defines; the others came with rev 2.0.
REV1_FORMATS = frozenset({1, 2, 3, 4, 5, 8})


def _upgrade_to_rev2(head: bytearray, order: str) -> None:
    """Make a rev-0/1 binary header a rev-2.0 one (for a sample format rev 1 lacks).

    Bytes rev 1 left unassigned have a meaning in rev 2, so they are cleared (3261-3296
    extended counts, 3507-3512 extra trace headers and time basis), and the byte-order
    constant 16909060 is written in the file's order: a rev-2 reader takes a zero there for
    big-endian, which would misread a little-endian file.
    """
    head[3260:3296] = bytes(36)
    head[3296:3300] = struct.pack(order + "I", 0x01020304)
    head[3506:3512] = bytes(6)
    head[BIN_REVISION - 1 : BIN_REVISION + 1] = bytes((2, 0))


def _write_from_template(fh, data, geometry, templates, code,
                         cards=None) -> Generator[float, None, None]:
    first = templates[0][0]
    with open(first.path, "rb") as src:
        head = bytearray(src.read(first.data_offset))
    for key, text in (cards or {}).items():
        put_text_card(head, key, text)
    order = ">" if first.endian == "big" else "<"
    head[BIN_FORMAT - 1 : BIN_FORMAT + 1] = struct.pack(order + "h", code)
    if code not in REV1_FORMATS and head[BIN_REVISION - 1] < 2:
        _upgrade_to_rev2(head, order)
    fh.write(bytes(head))
    rec = _record_dtype(code, first.endian, geometry.n_samples)
    total = sum(f.n_traces for f, _ in templates)
    done = 0
    for f, positions in templates:
        for a in range(0, f.n_traces, _BLOCK_TRACES):
            b = min(f.n_traces, a + _BLOCK_TRACES)
            block = np.empty(b - a, dtype=rec)
            block["header"] = f.raw_headers(slice(a, b))
            block["data"] = encode(_gather(data, geometry, positions[a:b]), code, first.endian)
            fh.write(block.tobytes())
            done += b - a
            yield done / total


def _text_header(geometry: SurveyGeometry, il_b: int, xl_b: int, code: int) -> bytes:
    lines = [f"SEG-Y written by napari-seisseg {__version__} from survey geometry (no template)"]
    if geometry.kind == "cube":
        lines += [
            f"3D post-stack cube: inlines {geometry.ilines[0]}..{geometry.ilines[-1]}, "
            f"crosslines {geometry.xlines[0]}..{geometry.xlines[-1]}",
            f"inline number at trace header bytes {il_b}-{il_b + 3}, crossline at {xl_b}-{xl_b + 3}",
        ]
    else:
        lines += [f"section of {len(geometry.traces)} traces numbered by {geometry.trace_key}"]
    lines += [
        f"{geometry.n_samples} samples, {geometry.sample_label.split(' ')[0]} from {geometry.t0:g} "
        f"{geometry.unit}, interval {geometry.dt:g} {geometry.unit}",
        f"sample format {code} ({get_format(code).name}), big-endian",
        f"live traces {geometry.n_live}; missing traces are not written",
    ]
    if geometry.sources:
        lines.append("from: " + Path(geometry.sources[0]).name)
    cards = [f"C{i + 1:2d} {t}"[:80].ljust(80) for i, t in enumerate(lines)]
    cards += [f"C{i + 1:2d}".ljust(80) for i in range(len(cards), 39)]
    cards.append("C40 END TEXTUAL HEADER".ljust(80))
    return "".join(cards).encode("cp037")


def _put(hdr: np.ndarray, byte: int, values: Any) -> None:
    width = field_width(byte)
    vals = np.broadcast_to(np.asarray(values, dtype=np.int64), (hdr.shape[0],))
    hdr[:, byte - 1 : byte - 1 + width] = (
        vals.astype(">i2" if width == 2 else ">i4").view(np.uint8).reshape(-1, width)
    )


def _sample_interval_us(geometry: SurveyGeometry) -> int:
    """The sample interval in microseconds for the headers; refused when it does not fit."""
    dt_us = int(round(geometry.dt * 1000)) if geometry.unit != "sample" else 0
    if not 0 <= dt_us <= 65535:
        raise SegyError(
            f"A sample interval of {geometry.dt:g} {geometry.unit} does not fit a SEG-Y header "
            "(at most 65.535 ms or m). Resample or use a template."
        )
    if geometry.n_samples > 65535:
        raise SegyError(f"{geometry.n_samples} samples per trace do not fit a SEG-Y header (65535 at most).")
    return dt_us


def _binary_header(geometry: SurveyGeometry, code: int, dt_us: int) -> bytes:
    """A big-endian binary file header made from the geometry."""
    binary = bytearray(FILE_HEADER_SIZE - TEXT_HEADER_SIZE)

    def put_bin(byte: int, fmt: str, value: int) -> None:
        o = byte - 1 - TEXT_HEADER_SIZE
        binary[o : o + struct.calcsize(fmt)] = struct.pack(">" + fmt, value)

    put_bin(BIN_DT, "H", dt_us)
    put_bin(BIN_NS, "H", geometry.n_samples)
    put_bin(BIN_FORMAT, "h", code)
    put_bin(3229, "h", 4)  # trace sorting: horizontally stacked
    put_bin(BIN_MEASUREMENT, "h", 2 if geometry.unit == "ft" else 1)
    # rev 1.0, or rev 2.0 for the sample formats rev 1 does not have (uint8, uint16, ...)
    put_bin(BIN_REVISION, "H", 0x0100 if code in REV1_FORMATS else 0x0200)
    if code not in REV1_FORMATS:
        put_bin(3297, "I", 0x01020304)  # rev 2 byte-order constant (big-endian here)
    put_bin(3503, "h", 1)  # fixed trace length
    return bytes(binary)


def _put_trace_keys(hdr: np.ndarray, geometry: SurveyGeometry, pos: np.ndarray,
                    il_b: int, xl_b: int) -> None:
    """Write the inline/crossline (or trace) numbers of the traces at grid positions ``pos``."""
    if geometry.kind == "cube":
        ii, jj = np.divmod(pos, len(geometry.xlines))
        _put(hdr, il_b, geometry.ilines[ii])
        _put(hdr, xl_b, geometry.xlines[jj])
        if 21 not in (il_b, xl_b):
            _put(hdr, 21, geometry.xlines[jj])
        return
    keys = geometry.traces[pos]
    if geometry.trace_key == "inline":
        _put(hdr, il_b, keys)
        if geometry.line_number is not None:
            _put(hdr, xl_b, geometry.line_number)
    elif geometry.trace_key == "crossline":
        _put(hdr, xl_b, keys)
        if geometry.line_number is not None:
            _put(hdr, il_b, geometry.line_number)
    elif geometry.trace_key == "cdp":
        _put(hdr, 21, keys)


def _write_synthesized(fh, data, geometry: SurveyGeometry, code: int,
                       cards: Mapping[str, str | None] | None = None) -> Generator[float, None, None]:
    """Write headers made from the geometry and the live traces, yielding the fraction done."""
    il_b = geometry.iline_byte or 189
    xl_b = geometry.xline_byte or 193
    dt_us = _sample_interval_us(geometry)
    text = bytearray(_text_header(geometry, il_b, xl_b, code))
    for key, line in (cards or {}).items():
        put_text_card(text, key, line)
    fh.write(bytes(text) + _binary_header(geometry, code, dt_us))

    live = geometry.live.ravel()
    cells = np.flatnonzero(live)
    rec = _record_dtype(code, "big", geometry.n_samples)
    for a in range(0, len(cells), _BLOCK_TRACES):
        pos = cells[a : a + _BLOCK_TRACES]
        block = np.zeros(len(pos), dtype=rec)
        hdr = block["header"]
        seq = np.arange(a + 1, a + 1 + len(pos))
        _put(hdr, 1, seq)
        _put(hdr, 5, seq)
        _put(hdr, TR_NS, geometry.n_samples)
        _put(hdr, TR_DT, dt_us)
        _put(hdr, TR_DELAY, int(round(geometry.t0)))
        _put(hdr, 29, 1)  # trace identification: seismic data
        _put_trace_keys(hdr, geometry, pos, il_b, xl_b)
        block["data"] = encode(_gather(data, geometry, pos), code, "big")
        fh.write(block.tobytes())
        yield min(1.0, (a + len(pos)) / max(1, len(cells)))
