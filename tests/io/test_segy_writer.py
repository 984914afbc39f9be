"""SEG-Y export: template headers copied, dead traces kept dead, atomic, source protected."""

from __future__ import annotations

import os

import numpy as np
import pytest
import segyio

from napari_seisseg.errors import GeometryError, SegyError, SeisSegError
from napari_seisseg.io import read_segy, write_segy


def test_export_copies_template_headers_and_round_trips(tmp_f3, tmp_path):
    vol = read_segy(tmp_f3)
    out = tmp_path / "out.sgy"
    write_segy(out, vol.data, vol.geometry)
    src, dst = tmp_f3.read_bytes(), out.read_bytes()
    assert dst[:3200] == src[:3200]  # textual header
    bin_src, bin_dst = bytearray(src[3200:3600]), bytearray(dst[3200:3600])
    assert int.from_bytes(bin_dst[24:26], "big") == 5
    bin_src[24:26] = bin_dst[24:26]
    assert bin_dst == bin_src  # binary header: only the format code changed
    n_src, n_dst = 240 + 75 * 2, 240 + 75 * 4
    for t in (0, 200, 413):
        assert dst[3600 + t * n_dst : 3600 + t * n_dst + 240] == src[3600 + t * n_src : 3600 + t * n_src + 240]
    back = read_segy(out)
    np.testing.assert_array_equal(np.asarray(back.data), np.asarray(vol.data).astype(np.float32))
    g, h = vol.geometry, back.geometry
    for name in ("ilines", "xlines", "live", "samples"):
        np.testing.assert_array_equal(getattr(h, name), getattr(g, name))
    assert (h.iline_byte, h.xline_byte, h.dt, h.t0) == (g.iline_byte, g.xline_byte, g.dt, g.t0)


def test_dead_traces_stay_dead(tmp_path, segy_dir):
    vol = read_segy(segy_dir / "f3-withdead.sgy")
    labels = np.ones(vol.data.shape, dtype=np.uint8)
    out = tmp_path / "mask.sgy"
    write_segy(out, labels, vol.geometry, sample_format=8)
    back = read_segy(out)
    assert back.geometry.n_live == 239
    np.testing.assert_array_equal(back.geometry.live, vol.geometry.live)
    data = np.asarray(back.data)
    assert data.dtype == np.int8
    assert np.all(data[back.geometry.live] == 1) and np.all(data[~back.geometry.live] == 0)


def test_export_of_display_ordered_layer_data(tmp_f3, tmp_path):
    vol = read_segy(tmp_f3)
    disp = vol.display()
    assert disp.data.shape == (23, 75, 18)
    out = tmp_path / "disp.sgy"
    write_segy(out, disp.data, disp.geometry, sample_format=3)
    np.testing.assert_array_equal(np.asarray(read_segy(out).data), np.asarray(vol.data))


@pytest.mark.parametrize("code", [1, 2, 3, 5, 6, 8])
def test_user_picked_formats_round_trip(tmp_f3, tmp_path, code):
    vol = read_segy(tmp_f3)
    data = np.asarray(vol.data) // (1 if code not in (8,) else 100)
    out = tmp_path / f"out_format{code}.sgy"
    write_segy(out, data, vol.geometry, sample_format=code)
    back = read_segy(out)
    assert back.geometry.sample_format == code
    np.testing.assert_array_equal(np.asarray(back.data), data.astype(back.data.dtype))


def test_rev2_formats_say_rev2_and_rev1_formats_keep_rev1(tmp_f3, tmp_path, segy_dir):
    vol = read_segy(tmp_f3)
    mask = (np.asarray(vol.data) > 0).astype(np.uint8) * 200
    synth = read_segy(segy_dir / "f3-withdead.sgy")
    synth.geometry.sources = []  # headers made from the geometry
    cases = [
        (vol.geometry, 16, (2, 0)), (vol.geometry, 5, None),  # from the template (rev 1)
        (synth.geometry, 16, (2, 0)), (synth.geometry, 11, (2, 0)), (synth.geometry, 8, (1, 0)),
    ]
    for i, (geometry, code, rev) in enumerate(cases):
        data = mask if geometry is vol.geometry else np.asarray(synth.data) > 0
        out = write_segy(tmp_path / f"out{i}.sgy", data.astype(np.float32), geometry,
                         sample_format=code)
        head = out.read_bytes()[3500:3502]
        if rev is None:  # a rev-1 format keeps the template's revision
            assert head == tmp_f3.read_bytes()[3500:3502]
        else:
            assert tuple(head) == rev, (code, tuple(head))
        assert read_segy(out).geometry.sample_format == code
        if rev == (2, 0):  # the rev-2 byte-order constant, in the file's (big-endian) order
            assert out.read_bytes()[3296:3300] == bytes((1, 2, 3, 4))


def test_a_little_endian_template_upgraded_to_rev2_says_its_byte_order(segy_dir, tmp_path):
    vol = read_segy(segy_dir / "f3-lsb.sgy", endian="little")
    out = write_segy(tmp_path / "mask.sgy", (np.asarray(vol.data) > 0).astype(np.float32),
                     vol.geometry, sample_format=16)
    head = out.read_bytes()[:3600]
    assert tuple(head[3500:3502]) == (2, 0) and head[3296:3300] == bytes((4, 3, 2, 1))
    back = read_segy(out)
    assert back.geometry.sample_format == 16
    np.testing.assert_array_equal(np.asarray(back.data), np.asarray(vol.data) > 0)


def test_fractional_values_are_not_rounded_into_integer_formats(tmp_f3, tmp_path):
    vol = read_segy(tmp_f3)
    scaled = np.asarray(vol.data, np.float32) / 3000.0  # standardised amplitudes, say
    out = tmp_path / "int16.sgy"
    with pytest.raises(SegyError, match=r"not whole numbers .*\(format 3\) would round"):
        write_segy(out, scaled, vol.geometry, sample_format=3)
    assert not out.exists()
    write_segy(out, np.round(scaled * 100), vol.geometry, sample_format=3)  # rounded: fine
    assert read_segy(out).geometry.sample_format == 3


def test_headers_made_from_geometry_when_source_is_gone(tmp_path, segy_dir):
    vol = read_segy(segy_dir / "f3-withdead.sgy")
    vol.geometry.sources = [str(tmp_path / "moved-away.sgy")]
    out = tmp_path / "synth.sgy"
    write_segy(out, vol.data, vol.geometry)
    back = read_segy(out)
    np.testing.assert_array_equal(np.asarray(back.data), np.asarray(vol.data))
    np.testing.assert_array_equal(back.geometry.live, vol.geometry.live)
    assert (back.geometry.dt, back.geometry.t0) == (4.0, 4.0)
    with segyio.open(out, ignore_geometry=True) as f:  # segyio agrees on the headers
        assert f.tracecount == 239
        assert f.header[0][segyio.TraceField.INLINE_3D] == 111
        assert "napari-seisseg" in segyio.tools.wrap(f.text[0])


def test_section_export_round_trip(tmp_path, segy_dir):
    vol = read_segy(segy_dir / "penobscot_xl1155.sgy")
    out = tmp_path / "pen.sgy"
    write_segy(out, np.asarray(vol.data) * 2, vol.geometry)
    back = read_segy(out)
    assert back.geometry.kind == "section" and back.geometry.line_number == 1155
    np.testing.assert_array_equal(np.asarray(back.data), np.asarray(vol.data) * 2)


def test_never_overwrites_the_source(tmp_f3):
    vol = read_segy(tmp_f3)
    before = tmp_f3.read_bytes()
    with pytest.raises(SeisSegError, match="Refusing to overwrite the source"):
        write_segy(tmp_f3, vol.data, vol.geometry)
    assert tmp_f3.read_bytes() == before


def test_failed_write_leaves_nothing_behind(tmp_f3, tmp_path):
    vol = read_segy(tmp_f3)
    out = tmp_path / "fail.sgy"
    out.write_bytes(b"previous result")
    with pytest.raises(SegyError, match="do not fit"):
        write_segy(out, np.asarray(vol.data) * 10.0, vol.geometry, sample_format=3)
    assert out.read_bytes() == b"previous result"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_shape_mismatch_and_missing_geometry(tmp_f3, tmp_path):
    vol = read_segy(tmp_f3)
    with pytest.raises(GeometryError, match="shape"):
        write_segy(tmp_path / "x.sgy", np.zeros((3, 3, 3)), vol.geometry)
    with pytest.raises(GeometryError, match="needs the survey geometry"):
        write_segy(tmp_path / "x.sgy", np.zeros((3, 3, 3)), None)
    # with a template, a plain canonical array is enough
    write_segy(tmp_path / "y.sgy", np.asarray(vol.data), None, template=tmp_f3)
    assert os.path.getsize(tmp_path / "y.sgy") == 3600 + 414 * (240 + 300)


@pytest.mark.parametrize("template", [True, False])
def test_a_depth_cube_exported_under_any_name_reads_back_in_depth(tmp_path, segy_dir, template):
    """The Volve cube is depth by its file name alone: its mask, written as mask.sgy with the
    source's headers (or headers made from the geometry), read back in ms before."""
    from napari_seisseg.io.segy_file import decode_text_header

    vol = read_segy(segy_dir / "volve10-migvel-depth-sub3d.sgy")
    assert (vol.geometry.domain, vol.geometry.unit) == ("depth", "m")
    if not template:
        vol.geometry.sources = [str(tmp_path / "moved-away.sgy")]
    mask = (np.asarray(vol.data) > 3000).astype(np.uint8) + 1
    write_segy(tmp_path / "mask.sgy", mask, vol.geometry)
    back = read_segy(tmp_path / "mask.sgy").geometry
    assert (back.domain, back.unit, back.dt, back.t0) == ("depth", "m", 20.0, 0.0)
    lines = decode_text_header((tmp_path / "mask.sgy").read_bytes()[:3200]).splitlines()
    assert [ln[4:].strip() for ln in lines if "SEISSEG DOMAIN" in ln] == [
        "SEISSEG DOMAIN DEPTH (samples in m)"]
    # the card outranks the name: that mask as the template of a time export named "depth"
    g = read_segy(tmp_path / "mask.sgy").geometry
    g.domain, g.unit = "time", "ms"
    write_segy(tmp_path / "depth-mask.sgy", mask, g, template=tmp_path / "mask.sgy")
    assert read_segy(tmp_path / "depth-mask.sgy").geometry.domain == "time"
    # a time export whose name and header say nothing of depth needs no card: a template's
    # is blanked
    write_segy(tmp_path / "plain.sgy", mask, g, template=tmp_path / "mask.sgy")
    text = decode_text_header((tmp_path / "plain.sgy").read_bytes()[:3200])
    assert "SEISSEG DOMAIN" not in text
    assert read_segy(tmp_path / "plain.sgy").geometry.domain == "time"
    # a depth export always says so: a name that says depth may be changed
    write_segy(tmp_path / "mask-depth.sgy", mask, vol.geometry)
    (tmp_path / "mask-depth.sgy").rename(tmp_path / "renamed.sgy")
    assert read_segy(tmp_path / "renamed.sgy").geometry.domain == "depth"


def test_a_stale_domain_card_is_blanked_before_a_new_class_card_looks_for_room(tmp_f3, tmp_path):
    """A template whose only free card holds a stale SEISSEG DOMAIN line: the time export's
    class names take that card (blanked first), not nothing."""
    from napari_seisseg.io.segy_file import decode_text_header, text_header_encoding

    raw = bytearray(tmp_f3.read_bytes())
    encoding = text_header_encoding(bytes(raw[:3200]))
    lines = [f"C{k:2d} SURVEY LINE {k}" for k in range(1, 41)]
    lines[37] = "C38 SEISSEG DOMAIN DEPTH (samples in m)"
    raw[:3200] = "".join(line.ljust(80) for line in lines).encode(encoding)
    template = tmp_path / "full-header.sgy"
    template.write_bytes(bytes(raw))
    vol = read_segy(tmp_f3)
    out = tmp_path / "classes.sgy"
    write_segy(out, np.asarray(vol.data) > 0, vol.geometry, template=template,
               cards={"SEISSEG CLASSES": "SEISSEG CLASSES 1=salt"})
    text = decode_text_header(out.read_bytes()[:3200])
    assert "SEISSEG CLASSES 1=salt" in text and "SEISSEG DOMAIN" not in text
    assert read_segy(out).geometry.domain == "time"
