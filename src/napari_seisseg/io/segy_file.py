"""Low-level access to one SEG-Y file: headers, byte order, trace layout, memory map.

:class:`SegyFile` validates the file up front (size, byte order, sample format, samples per
trace) and raises :class:`~napari_seisseg.errors.SegyError` with a message that says what
is wrong and what to do.  It reads nothing but the 3600-byte file header until asked:
header words and traces come from a read-only memory map, so huge files open instantly.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import SegyError
from .segy_formats import FORMATS, SampleFormat, decode, get_format, raw_dtype

TEXT_HEADER_SIZE = 3200
BINARY_HEADER_SIZE = 400
FILE_HEADER_SIZE = TEXT_HEADER_SIZE + BINARY_HEADER_SIZE
TRACE_HEADER_SIZE = 240

# Binary header byte positions (1-based, absolute in the file).
BIN_DT = 3217
BIN_NS = 3221
BIN_FORMAT = 3225
BIN_MEASUREMENT = 3255
BIN_EXT_NS = 3269
BIN_BYTE_ORDER = 3297
BIN_REVISION = 3501
BIN_EXT_HEADERS = 3505

# Trace header byte positions (1-based within the 240-byte header).
TR_OFFSET = 37
TR_SCALCO = 71
TR_DELAY = 109
TR_NS = 115
TR_DT = 117
TR_CDP_X = 181
TR_CDP_Y = 185

#: Bytes (1-based) that hold 2-byte words in the standard trace header; all others used
#: here are 4-byte words.
_TWO_BYTE_FIELDS = frozenset(
    [29, 31, 33, 35, 69, 71] + list(range(89, 181, 2))
    + [203, 205, 207, 209, 211, 213, 215, 217, 219, 221, 223, 225, 227, 229, 231, 233, 235, 237]
)


#: Traces spread evenly through a file that opening reads (header checks, value checks):
#: the same traces for both, so a cold open touches each of their disk pages once.
SAMPLE_TRACES = 32


def spread_traces(n: int, k: int = SAMPLE_TRACES) -> np.ndarray:
    """Indices of ``k`` traces spread evenly over ``n`` (the first and last included)."""
    return np.unique(np.linspace(0, n - 1, min(n, k)).astype(np.int64))


def field_width(byte: int) -> int:
    """Width in bytes (2 or 4) of the standard trace-header word starting at ``byte``."""
    return 2 if byte in _TWO_BYTE_FIELDS else 4


def text_header_encoding(raw: bytes) -> str:
    """``"ascii"`` or ``"cp037"`` (EBCDIC): the encoding of a textual header.

    An EBCDIC blank (0x40) is a printable ASCII ``@``, so a mostly blank EBCDIC header
    would pass an "is it printable ASCII" test: more 0x40 than 0x20 bytes, or a first byte
    that is an EBCDIC ``C`` (0xC3, the start of ``C 1``), says EBCDIC.

    Parameters
    ----------
    raw : bytes
        The 3200 bytes.

    Returns
    -------
    str
        A Python codec name.
    """
    if raw[:1] == b"\xc3" or raw.count(0x40) > raw.count(0x20):
        return "cp037"
    printable = sum(1 for c in raw if c in (10, 13) or 32 <= c < 127)
    return "ascii" if printable >= 0.9 * len(raw) else "cp037"


def decode_text_header(raw: bytes) -> str:
    """Decode a 3200-byte textual header (ASCII or EBCDIC) to 40 lines of 80 characters."""
    text = raw.decode(text_header_encoding(raw), errors="replace")
    text = text.replace("\x00", " ")
    lines = [text[i : i + 80].rstrip() for i in range(0, len(text), 80)]
    return "\n".join(lines)


@dataclass
class SegyFile:
    """One SEG-Y file, validated, with lazy access to its trace headers and samples.

    Parameters
    ----------
    path : path
        The file.
    sample_format : int, optional
        Override the binary header's sample format code (when the header is wrong).
    endian : {"big", "little"}, optional
        Override byte-order detection.
    """

    path: Path
    sample_format: int | None = None
    endian: str | None = None
    text_header: str = field(init=False, default="")
    binary_header: bytes = field(init=False, repr=False, default=b"")
    n_samples: int = field(init=False, default=0)
    dt_raw: int = field(init=False, default=0)
    n_traces: int = field(init=False, default=0)
    data_offset: int = field(init=False, default=FILE_HEADER_SIZE)
    fmt: SampleFormat | None = field(init=False, default=None)
    notes: list[str] = field(init=False, default_factory=list)

    def __post_init__(self) -> None:
        self.path = Path(self.path)
        self._mm: np.memmap | None = None
        self._open()

    # ------------------------------------------------------------------ validation
    def _open(self) -> None:
        p = self.path
        if not p.exists():
            raise SegyError(f"{p} does not exist. Check the path.")
        if p.is_dir():
            raise SegyError(f"{p} is a folder, not a SEG-Y file.")
        size = p.stat().st_size
        if size == 0:
            raise SegyError(f"{p} is empty (0 bytes); it holds no SEG-Y data. Re-export or re-copy it.")
        if size < FILE_HEADER_SIZE + TRACE_HEADER_SIZE:
            raise SegyError(
                f"{p} is too short to be SEG-Y ({size} bytes; the file header alone is 3600 bytes "
                "and each trace adds a 240-byte header). The file is truncated or not SEG-Y."
            )
        with open(p, "rb") as f:
            head = f.read(FILE_HEADER_SIZE)
        self.text_header = decode_text_header(head[:TEXT_HEADER_SIZE])
        self.binary_header = head[TEXT_HEADER_SIZE:]
        self.endian = self.endian or self._detect_endian(head)
        order = ">" if self.endian == "big" else "<"

        def word(byte: int, fmt: str) -> int:
            return struct.unpack(order + fmt, head[byte - 1 : byte - 1 + struct.calcsize(fmt)])[0]

        code = self.sample_format if self.sample_format is not None else word(BIN_FORMAT, "h")
        self.fmt = get_format(code)
        self.sample_format = self.fmt.code
        self.dt_raw = word(BIN_DT, "H")
        n_ext = word(BIN_EXT_HEADERS, "h")
        self.data_offset = FILE_HEADER_SIZE + self._extended_headers_size(p, n_ext, size)

        with open(p, "rb") as f:
            f.seek(self.data_offset)
            first_header = f.read(TRACE_HEADER_SIZE)
        if len(first_header) < TRACE_HEADER_SIZE:
            raise SegyError(f"{p} has a file header but no complete trace; it is truncated.")
        trace_ns = struct.unpack(order + "H", first_header[TR_NS - 1 : TR_NS + 1])[0]
        if self.dt_raw == 0:
            self.dt_raw = struct.unpack(order + "H", first_header[TR_DT - 1 : TR_DT + 1])[0]
        candidates = [word(BIN_NS, "H"), word(BIN_EXT_NS, "i"), trace_ns]
        self.n_samples = self._pick_n_samples(p, size, candidates)
        self._trace_delay = struct.unpack(order + "h", first_header[TR_DELAY - 1 : TR_DELAY + 1])[0]
        self.measurement_system = word(BIN_MEASUREMENT, "h")

    def _detect_endian(self, head: bytes) -> str:
        const = head[BIN_BYTE_ORDER - 1 : BIN_BYTE_ORDER + 3]
        if const == b"\x01\x02\x03\x04":
            return "big"
        if const == b"\x04\x03\x02\x01":
            return "little"
        be = struct.unpack(">h", head[BIN_FORMAT - 1 : BIN_FORMAT + 1])[0]
        le = struct.unpack("<h", head[BIN_FORMAT - 1 : BIN_FORMAT + 1])[0]
        valid = set(FORMATS) | {4}
        if be in valid:
            return "big"
        if le in valid:
            return "little"
        if self.sample_format is not None:
            ns_be = struct.unpack(">H", head[BIN_NS - 1 : BIN_NS + 1])[0]
            ns_le = struct.unpack("<H", head[BIN_NS - 1 : BIN_NS + 1])[0]
            return "big" if 0 < ns_be <= ns_le or ns_le == 0 else "little"
        raise SegyError(
            f"{self.path} does not look like SEG-Y: its sample format code (bytes 3225-3226) "
            f"reads {be} big-endian and {le} little-endian, neither a SEG-Y format. If it is "
            "SEG-Y with a damaged binary header, pass the sample format explicitly "
            "(--format / 'sample format')."
        )

    def _extended_headers_size(self, p: Path, n_ext: int, size: int) -> int:
        if n_ext == 0:
            return 0
        if n_ext > 0:
            if FILE_HEADER_SIZE + n_ext * TEXT_HEADER_SIZE >= size:
                raise SegyError(
                    f"{p}: the binary header announces {n_ext} extended textual headers, more "
                    "than the file holds. The header is damaged or the file is not SEG-Y."
                )
            return n_ext * TEXT_HEADER_SIZE
        # -1: a variable number, the last one holding ((SEG: EndText)).
        offset = FILE_HEADER_SIZE
        with open(p, "rb") as f:
            for i in range(100):
                f.seek(offset + i * TEXT_HEADER_SIZE)
                block = f.read(TEXT_HEADER_SIZE)
                if len(block) < TEXT_HEADER_SIZE:
                    break
                text = decode_text_header(block)
                if "ENDTEXT" in text.upper().replace(" ", ""):
                    return (i + 1) * TEXT_HEADER_SIZE
        raise SegyError(f"{p}: the extended textual headers never end with ((SEG: EndText)).")

    def _pick_n_samples(self, p: Path, size: int, candidates: list[int]) -> int:
        body = size - self.data_offset
        item = self.fmt.itemsize
        for ns in candidates:
            if 0 < ns < 10_000_000 and body % (TRACE_HEADER_SIZE + ns * item) == 0:
                if ns != candidates[0]:
                    self.notes.append(
                        f"samples per trace taken as {ns} (the binary header says {candidates[0]}, "
                        "which does not fit the file size)"
                    )
                self.n_traces = body // (TRACE_HEADER_SIZE + ns * item)
                return ns
        ns = next((c for c in candidates if 0 < c < 10_000_000), 0)
        if ns == 0:
            raise SegyError(
                f"{p}: the number of samples per trace is 0 in both the binary header and the "
                "first trace header. The headers are damaged or the file is not SEG-Y."
            )
        trace = TRACE_HEADER_SIZE + ns * item
        n_full, rest = divmod(body, trace)
        hint = ""
        for other in sorted({f.itemsize for f in FORMATS.values()} - {item}):
            if body % (TRACE_HEADER_SIZE + ns * other) == 0:
                codes = [c for c, f in FORMATS.items() if f.itemsize == other]
                hint = (
                    f" The size fits {other}-byte samples instead: the sample format code "
                    f"({self.fmt.code}, {item}-byte) is probably wrong; try --format "
                    f"{' or '.join(str(c) for c in codes[:2])}."
                )
                break
        if not hint:
            hint = (
                " Re-copy or re-export the file; if the trace length varies between traces, "
                "it is not a fixed-length SEG-Y file and cannot be read."
            )
        raise SegyError(
            f"{p} is truncated or damaged: with {ns} samples of {item} bytes per trace, the data "
            f"({body} bytes) holds {n_full} full traces and {rest} extra bytes.{hint}"
        )

    # ------------------------------------------------------------------ properties
    @property
    def trace_size(self) -> int:
        """Bytes per trace, header included."""
        return TRACE_HEADER_SIZE + self.n_samples * self.fmt.itemsize

    @property
    def trace_delay(self) -> int:
        """Delay recording time of the first trace (byte 109), in ms (or depth units)."""
        return self._trace_delay

    @property
    def raw_dtype(self) -> np.dtype:
        """Stored dtype of one sample."""
        return raw_dtype(self.fmt.code, self.endian)

    @property
    def memmap(self) -> np.memmap:
        """Read-only structured memory map: one record (``header``, ``data``) per trace."""
        if self._mm is None:
            rd = self.raw_dtype
            data_field = (rd.base, (self.n_samples, *rd.shape)) if rd.shape else (rd, (self.n_samples,))
            dtype = np.dtype([("header", "V240"), ("data", *data_field)])
            assert dtype.itemsize == self.trace_size
            self._mm = np.memmap(
                self.path, dtype=dtype, mode="r", offset=self.data_offset, shape=(self.n_traces,)
            )
        return self._mm

    def header_word(self, byte: int, index: np.ndarray | slice | None = None) -> np.ndarray:
        """Trace-header word starting at ``byte`` (1-based) for the selected traces, as int64.

        Parameters
        ----------
        byte : int
            1-based byte position within the 240-byte trace header.
        index : array or slice, optional
            Traces to read (default: all).
        """
        width = field_width(byte)
        if not 1 <= byte <= TRACE_HEADER_SIZE - width + 1:
            raise SegyError(f"Trace-header byte {byte} is outside the 240-byte trace header.")
        order = ">" if self.endian == "big" else "<"
        dtype = np.dtype(
            {"names": ["v"], "formats": [order + ("i2" if width == 2 else "i4")],
             "offsets": [byte - 1], "itemsize": self.trace_size}
        )
        mm = np.memmap(self.path, dtype=dtype, mode="r", offset=self.data_offset, shape=(self.n_traces,))
        sel = mm["v"] if index is None else mm["v"][index]
        return np.asarray(sel, dtype=np.int64)

    def raw_headers(self, index: np.ndarray | slice) -> np.ndarray:
        """Raw 240-byte trace headers of the selected traces, shape (n, 240) uint8."""
        h = np.ascontiguousarray(self.memmap["header"][index])
        return h.view(np.uint8).reshape(-1, TRACE_HEADER_SIZE)

    def read_traces(self, index: np.ndarray | slice, samples: slice | np.ndarray | int = slice(None)) -> np.ndarray:
        """Decoded samples of the selected traces (rows) and samples (columns)."""
        data = self.memmap["data"]
        if _is_full(samples):
            raw = data[index]
        elif isinstance(samples, slice) or np.ndim(samples) == 0:
            raw = data[index, samples]
        else:
            raw = data[index][:, samples]
        return decode(raw, self.fmt.code, self.endian)

    def close(self) -> None:
        """Drop the memory map (the file is reopened on the next access)."""
        self._mm = None

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_mm"] = None
        return state

    def file_size(self) -> int:
        """Size of the file in bytes."""
        return os.path.getsize(self.path)


def _is_full(s: object) -> bool:
    return isinstance(s, slice) and s == slice(None)
