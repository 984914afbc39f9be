"""SEG-Y sample formats: decoding raw trace bytes to numbers and encoding them back.

Every format of SEG-Y rev 2.0 except the obsolete fixed-point-with-gain format (4) is
decoded here, in both byte orders, with vectorised numpy.  IBM floats are converted with
segyio's C routine where it applies (big-endian input) and with numpy otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import SegyError


@dataclass(frozen=True)
class SampleFormat:
    """One SEG-Y sample format code."""

    code: int
    name: str
    itemsize: int
    #: numpy type character for formats numpy reads directly, else "" (IBM, 24-bit ints)
    numpy_char: str
    #: native dtype of decoded values
    native: str


FORMATS: dict[int, SampleFormat] = {
    f.code: f
    for f in (
        SampleFormat(1, "4-byte IBM float", 4, "", "float32"),
        SampleFormat(2, "4-byte signed integer", 4, "i4", "int32"),
        SampleFormat(3, "2-byte signed integer", 2, "i2", "int16"),
        SampleFormat(5, "4-byte IEEE float", 4, "f4", "float32"),
        SampleFormat(6, "8-byte IEEE float", 8, "f8", "float64"),
        SampleFormat(7, "3-byte signed integer", 3, "", "int32"),
        SampleFormat(8, "1-byte signed integer", 1, "i1", "int8"),
        SampleFormat(9, "8-byte signed integer", 8, "i8", "int64"),
        SampleFormat(10, "4-byte unsigned integer", 4, "u4", "uint32"),
        SampleFormat(11, "2-byte unsigned integer", 2, "u2", "uint16"),
        SampleFormat(12, "8-byte unsigned integer", 8, "u8", "uint64"),
        SampleFormat(15, "3-byte unsigned integer", 3, "", "uint32"),
        SampleFormat(16, "1-byte unsigned integer", 1, "u1", "uint8"),
    )
}

#: Formats the writer produces (chosen by the user; IEEE float is the default).
WRITABLE_FORMATS = (1, 2, 3, 5, 6, 8, 11, 16)


def format_name(code: int) -> str:
    """Readable name of a format code (``"unknown"`` for codes outside the standard)."""
    if code == 4:
        return "4-byte fixed point with gain (obsolete)"
    f = FORMATS.get(int(code))
    return f.name if f else "unknown"


def get_format(code: int) -> SampleFormat:
    """The :class:`SampleFormat` of ``code``, or a :class:`SegyError` saying what to do."""
    code = int(code)
    if code == 4:
        raise SegyError(
            "This SEG-Y file uses sample format 4 (fixed point with gain), obsolete since 2002 "
            "and not supported. Convert it with the software that wrote it to IEEE float (5)."
        )
    if code not in FORMATS:
        raise SegyError(
            f"Unknown SEG-Y sample format code {code} in the binary header (bytes 3225-3226). "
            f"Valid codes are {sorted(FORMATS)}; if you know the format, pass it explicitly "
            "(--format in the CLI, 'sample format' in the Open with options widget)."
        )
    return FORMATS[code]


def raw_dtype(code: int, endian: str) -> np.dtype:
    """numpy dtype of one stored sample (``V3``-like for 24-bit formats, ``u4`` for IBM)."""
    f = get_format(code)
    order = ">" if endian == "big" else "<"
    if code == 1:
        return np.dtype(order + "u4")
    if f.numpy_char:
        return np.dtype(order + f.numpy_char) if f.itemsize > 1 else np.dtype(f.numpy_char)
    return np.dtype(("u1", 3))


def decode(raw: np.ndarray, code: int, endian: str) -> np.ndarray:
    """Decode samples stored as ``raw_dtype(code, endian)`` to native numbers.

    Parameters
    ----------
    raw : numpy.ndarray
        Stored samples, of dtype :func:`raw_dtype` (24-bit formats: trailing axis of 3 bytes).
    code : int
        SEG-Y format code.
    endian : {"big", "little"}
        Byte order of the file.

    Returns
    -------
    numpy.ndarray
        Values in the format's native dtype (float32 for IBM).
    """
    f = get_format(code)
    if code == 1:
        return ibm_to_float32(raw, endian)
    if code in (7, 15):
        b = np.asarray(raw, dtype=np.uint8).astype(np.uint32)
        if endian == "big":
            v = (b[..., 0] << 16) | (b[..., 1] << 8) | b[..., 2]
        else:
            v = (b[..., 2] << 16) | (b[..., 1] << 8) | b[..., 0]
        if code == 7:
            v = v.astype(np.int32)
            v = np.where(v >= 1 << 23, v - (1 << 24), v).astype(np.int32)
        return v
    return np.asarray(raw).astype(f.native, copy=True)


def ibm_to_float32(raw: np.ndarray, endian: str = "big") -> np.ndarray:
    """Convert IBM System/360 single-precision floats (as unsigned 32-bit words) to float32."""
    raw = np.asarray(raw)
    if endian == "big" and raw.size:
        try:
            import segyio

            # one private contiguous copy, converted in place by segyio's C routine
            words = np.array(raw, dtype=">u4", order="C", copy=True)
            return segyio.tools.native(words.view(np.float32).reshape(raw.shape), 1, copy=False)
        except (ImportError, AttributeError, TypeError, ValueError):  # pragma: no cover
            pass
    w = raw.astype(np.uint32)
    sign = np.where(w >> 31, -1.0, 1.0)
    exponent = ((w >> 24) & 0x7F).astype(np.int32)
    mantissa = (w & 0x00FFFFFF).astype(np.float64)
    out = sign * np.ldexp(mantissa, 4 * exponent - 280)
    return out.astype(np.float32)


def float_to_ibm(values: np.ndarray) -> np.ndarray:
    """Encode floats as IBM System/360 single precision, returned as native uint32 words.

    Values are truncated towards zero to 24-bit hexadecimal mantissas, as the IBM format
    does; NaN and infinities raise :class:`SegyError` (IBM floats cannot hold them).
    """
    x = np.asarray(values, dtype=np.float64)
    if not np.all(np.isfinite(x)):
        raise SegyError(
            "IBM float (format 1) cannot store NaN or infinite samples. Replace them "
            "(e.g. with 0) or write IEEE float (format 5)."
        )
    sign = (x < 0).astype(np.uint32) << 31
    a = np.abs(x)
    out = np.zeros(x.shape, dtype=np.uint32)
    nz = a > 0
    if np.any(nz):
        m, e = np.frexp(a[nz])  # a = m * 2**e, 0.5 <= m < 1
        # IBM: a = f * 16**(E-64), 1/16 <= f < 1; choose E = ceil(e / 4)
        e16 = np.ceil(e / 4.0).astype(np.int64)
        frac = np.ldexp(m, (e - 4 * e16).astype(np.int64))  # in [1/16, 1)
        mant = np.floor(frac * (1 << 24)).astype(np.int64)
        expo = e16 + 64
        over = expo > 127
        under = expo < 0
        mant = np.where(over, 0xFFFFFF, np.where(under, 0, mant))
        expo = np.clip(expo, 0, 127)
        out[nz] = (expo.astype(np.uint32) << 24) | mant.astype(np.uint32)
    return out | np.where(nz, sign, 0).astype(np.uint32)


def encode(values: np.ndarray, code: int, endian: str) -> np.ndarray:
    """Encode values for writing as format ``code`` in byte order ``endian``.

    Integer formats are range-checked: values that do not fit raise :class:`SegyError`
    rather than wrapping around silently.
    """
    f = get_format(code)
    if code not in WRITABLE_FORMATS:
        raise SegyError(
            f"Writing SEG-Y format {code} ({f.name}) is not supported; choose one of "
            f"{', '.join(f'{c} ({FORMATS[c].name})' for c in WRITABLE_FORMATS)}."
        )
    dt = raw_dtype(code, endian)
    values = np.asarray(values)
    if code == 1:
        return float_to_ibm(values).astype(dt)
    if np.dtype(f.native).kind in "iu":
        info = np.iinfo(f.native)
        if values.size and values.dtype.kind == "f" and not np.all(np.isfinite(values)):
            raise SegyError(
                f"Cannot write NaN or infinite samples as {f.name} (format {code}); "
                "write IEEE float (format 5) instead."
            )
        if values.size and (values.min() < info.min or values.max() > info.max):
            raise SegyError(
                f"Sample values {values.min()}..{values.max()} do not fit {f.name} (format {code}, "
                f"{info.min}..{info.max}); write IEEE float (format 5) or rescale first."
            )
        if values.dtype.kind == "f":
            rounded = np.rint(values)
            if not np.array_equal(rounded, values):
                k = int(np.flatnonzero((rounded != values).ravel())[0])
                raise SegyError(
                    f"Sample values are not whole numbers (e.g. {values.ravel()[k]:.6g}), and "
                    f"{f.name} (format {code}) would round them. Write IEEE float (format 5), "
                    "or scale and round the data first."
                )
            values = rounded
    return values.astype(dt)
