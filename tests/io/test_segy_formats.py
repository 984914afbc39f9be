"""Every SEG-Y sample format, both byte orders: decode, encode, and whole files."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from napari_seisseg.errors import SegyError
from napari_seisseg.io import read_segy
from napari_seisseg.io.segy_formats import (
    FORMATS,
    decode,
    encode,
    float_to_ibm,
    get_format,
    ibm_to_float32,
    raw_dtype,
)

IBM_KNOWN = {  # value -> IBM word (from the IBM System/360 definition)
    1.0: 0x41100000,
    -1.0: 0xC1100000,
    0.5: 0x40800000,
    118.625: 0x4276A000,
    -118.625: 0xC276A000,
    0.0: 0x00000000,
}


@pytest.mark.parametrize("endian", ["big", "little"])
def test_ibm_known_values(endian):
    values = np.array(list(IBM_KNOWN), dtype=np.float64)
    words = np.array(list(IBM_KNOWN.values()), dtype=np.uint32)
    np.testing.assert_array_equal(float_to_ibm(values), words)
    stored = words.astype(raw_dtype(1, endian))
    np.testing.assert_array_equal(ibm_to_float32(stored, endian), values.astype(np.float32))


def test_ibm_round_trip_random_within_ibm_precision():
    rng = np.random.default_rng(1)
    x = (rng.standard_normal(10_000) * 10.0 ** rng.integers(-5, 6, 10_000)).astype(np.float32)
    back = ibm_to_float32(float_to_ibm(x).astype(">u4"), "big")
    np.testing.assert_allclose(back, x, rtol=2.0**-20)


def _segy_bytes(values: np.ndarray, code: int, endian: str) -> bytes:
    """A minimal, standard SEG-Y file: 3 inlines x 4 crosslines of ``values`` traces."""
    order = ">" if endian == "big" else "<"
    n_tr, ns = values.shape
    binary = bytearray(400)
    binary[16:18] = struct.pack(order + "H", 4000)
    binary[20:22] = struct.pack(order + "H", ns)
    binary[24:26] = struct.pack(order + "h", code)
    out = bytearray(b" " * 3200) + binary
    raw = encode(values, code, endian) if code in (1, 2, 3, 5, 6, 8, 11, 16) else _encode_other(values, code, endian)
    for t in range(n_tr):
        h = bytearray(240)
        h[188:192] = struct.pack(order + "i", 10 + t // 4)
        h[192:196] = struct.pack(order + "i", 100 + t % 4)
        h[114:116] = struct.pack(order + "H", ns)
        out += h + raw[t].tobytes()
    return bytes(out)


def _encode_other(values, code, endian):
    f = get_format(code)
    if code in (7, 15):
        v = values.astype(np.int64) & 0xFFFFFF
        b = np.stack([(v >> 16) & 0xFF, (v >> 8) & 0xFF, v & 0xFF], axis=-1).astype(np.uint8)
        return b if endian == "big" else b[..., ::-1].copy()
    return values.astype(raw_dtype(code, endian)) if f.numpy_char else None


@pytest.mark.parametrize("endian", ["big", "little"])
@pytest.mark.parametrize("code", sorted(FORMATS))
def test_every_format_in_both_byte_orders(tmp_path, code, endian):
    f = FORMATS[code]
    rng = np.random.default_rng(code)
    kind = np.dtype(f.native).kind
    if kind == "f":
        values = rng.standard_normal((12, 7)).astype(np.float32) * 100
        if code == 1:
            values = ibm_to_float32(float_to_ibm(values).astype(">u4"), "big")
    elif kind == "u":
        values = rng.integers(0, 200, (12, 7))
    else:
        values = rng.integers(-100, 100, (12, 7))
    path = tmp_path / f"fmt{code}_{endian}.sgy"
    path.write_bytes(_segy_bytes(values, code, endian))
    vol = read_segy(path)
    assert vol.geometry.sample_format == code and vol.geometry.endian == endian
    assert vol.data.shape == (3, 4, 7)
    assert vol.data.dtype == np.dtype(f.native)
    np.testing.assert_array_equal(np.asarray(vol.data).reshape(12, 7), values.astype(f.native))


def test_int24_sign_extension():
    raw = np.array([[0xFF, 0xFF, 0xFF], [0x80, 0x00, 0x00], [0x00, 0x00, 0x05]], dtype=np.uint8)
    np.testing.assert_array_equal(decode(raw, 7, "big"), [-1, -(1 << 23), 5])
    np.testing.assert_array_equal(decode(raw, 15, "big"), [0xFFFFFF, 0x800000, 5])


def test_obsolete_and_unknown_formats_are_refused():
    with pytest.raises(SegyError, match="obsolete"):
        get_format(4)
    with pytest.raises(SegyError, match="Unknown SEG-Y sample format code 13"):
        get_format(13)


def test_integer_encoding_refuses_overflow_and_nan():
    with pytest.raises(SegyError, match="do not fit"):
        encode(np.array([40000.0]), 3, "big")
    with pytest.raises(SegyError, match="NaN"):
        encode(np.array([np.nan]), 2, "big")
    with pytest.raises(SegyError, match="NaN"):
        encode(np.array([np.inf]), 1, "big")
