"""Reading every real SEG-Y fixture against the reference geometry in its README."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from napari_seisseg.errors import SegyError
from napari_seisseg.io import read_segy
from napari_seisseg.io.trace_array import LazyTraceArray


def test_f3_matches_reference(segy_dir, f3_reference):
    vol = read_segy(segy_dir / "f3.sgy")
    g = vol.geometry
    data = np.asarray(vol.data)
    assert data.shape == (23, 18, 75)
    assert data.dtype == np.int16
    assert (data.min(), data.max()) == (-10239, 10827)
    assert round(float(data.mean()), 2) == 25.13
    assert round(float(data.std())) == 2160
    np.testing.assert_array_equal(data, f3_reference)
    np.testing.assert_array_equal(g.ilines, np.arange(111, 134))
    np.testing.assert_array_equal(g.xlines, np.arange(875, 893))
    assert (g.dt, g.t0, g.unit, g.domain) == (4.0, 4.0, "ms", "time")
    assert (g.iline_byte, g.xline_byte) == (189, 193)
    assert g.n_live == 414 and g.sample_format == 3 and g.endian == "big"
    assert "Cropped F3" in g.text_header
    assert g.samples[0] == 4.0 and g.samples[-1] == 300.0


@pytest.mark.parametrize(
    "name, fmt, endian",
    [("f3-lsb.sgy", 3, "little"), ("Format1msb.sgy", 1, "big"), ("Format5lsb.sgy", 5, "little")],
)
def test_format_and_byte_order_variants_equal_f3(segy_dir, f3_reference, name, fmt, endian):
    vol = read_segy(segy_dir / name)
    assert (vol.geometry.sample_format, vol.geometry.endian) == (fmt, endian)
    np.testing.assert_array_equal(np.asarray(vol.data), f3_reference.astype(vol.data.dtype))


def test_irregular_survey_is_padded_with_live_mask(segy_dir, f3_reference):
    vol = read_segy(segy_dir / "f3-withdead.sgy")
    g = vol.geometry
    data = np.asarray(vol.data)
    assert data.shape == (23, 18, 75)
    assert g.n_live == 239
    np.testing.assert_array_equal(data[g.live], f3_reference[g.live])
    assert np.all(data[~g.live] == 0)
    assert any("irregular" in n for n in g.notes)


def test_one_inline_per_file_folder_assembles_the_cube(segy_dir, f3_reference):
    vol = read_segy(segy_dir / "f3-ilines")
    data = np.asarray(vol.data)
    assert data.shape == (23, 18, 75)
    assert len(vol.geometry.sources) == 23
    # these files carry f3-withdead's traces, with the missing ones written as zeros
    present = np.any(data != 0, axis=-1)
    withdead = read_segy(segy_dir / "f3-withdead.sgy").geometry.live
    np.testing.assert_array_equal(present, withdead)
    np.testing.assert_array_equal(data[present], f3_reference[present])


def test_single_inline_file_is_a_section(segy_dir):
    vol = read_segy(segy_dir / "f3-ilines" / "f3-iline-111.sgy")
    g = vol.geometry
    assert g.kind == "section" and g.trace_key == "crossline" and g.line_number == 111
    assert vol.data.shape == (18, 75)


def test_ebcdic_header_cube(segy_dir):
    vol = read_segy(segy_dir / "f3-ebcidctest.sgy")
    g = vol.geometry
    assert vol.data.shape == (2, 100, 463)
    assert list(g.ilines) == [105, 106] and g.xlines[0] == 300 and g.xlines[-1] == 399
    assert g.t0 == 0 and g.samples[-1] == 1848
    assert "segysak" in g.text_header


def test_volve_depth_cube_with_step_4(segy_dir):
    vol = read_segy(segy_dir / "volve10-migvel-depth-sub3d.sgy")
    g = vol.geometry
    assert vol.data.shape == (18, 52, 226)
    assert (g.ilines[0], g.ilines[-1], g.ilines[1] - g.ilines[0]) == (10087, 10155, 4)
    assert (g.xlines[0], g.xlines[-1], g.xlines[1] - g.xlines[0]) == (2148, 2352, 4)
    assert (g.domain, g.unit, g.dt) == ("depth", "m", 20.0)
    data = np.asarray(vol.data)
    assert 1480 <= data.min() < 1481 and 4706 <= data.max() < 4707


@pytest.mark.parametrize("bytes_", [(9, 21), (5, 21)])
def test_volve_explicit_alternative_bytes_give_the_same_grid(segy_dir, bytes_):
    vol = read_segy(segy_dir / "volve10-migvel-depth-sub3d.sgy", iline_byte=bytes_[0],
                    xline_byte=bytes_[1])
    assert vol.data.shape == (18, 52, 226)
    assert (vol.geometry.iline_byte, vol.geometry.xline_byte) == bytes_


def test_penobscot_crossline_is_a_section_along_inlines(segy_dir):
    vol = read_segy(segy_dir / "penobscot_xl1155.sgy")
    g = vol.geometry
    assert g.kind == "section" and vol.data.shape == (601, 1501)
    assert g.trace_key == "inline" and g.line_number == 1155
    assert (g.traces[0], g.traces[-1]) == (1000, 1600)
    assert g.samples[-1] == 6000
    assert g.text_header.startswith("C01  Created by: OpendTect")


def test_viking_prestack_opens_as_section_with_note(segy_dir):
    import segyio

    vol = read_segy(segy_dir / "viking_small.segy")
    g = vol.geometry
    assert g.kind == "section" and vol.data.shape == (480, 600)
    assert any("pre-stack" in n for n in g.notes)
    with segyio.open(segy_dir / "viking_small.segy", ignore_geometry=True) as f:
        np.testing.assert_array_equal(np.asarray(vol.data), f.trace.raw[:])


def test_lazy_array_reads_slices_like_the_full_array(segy_dir):
    vol = read_segy(segy_dir / "f3-withdead.sgy", lazy=True)
    lazy = vol.data
    assert isinstance(lazy, LazyTraceArray)
    full = np.asarray(lazy)
    for key in [5, (slice(None), 3), (Ellipsis, 10), (slice(2, 9, 3), slice(None, None, -2), 7),
                (-1, np.array([0, 5, 17]))]:
        np.testing.assert_array_equal(lazy[key], full[key])
    view = lazy.transpose(0, 2, 1)
    np.testing.assert_array_equal(view[4], full[4].T)
    np.testing.assert_array_equal(view[:, 30], full[:, :, 30])
    np.testing.assert_array_equal(np.asarray(lazy.to_dask()), full)


def test_explicit_wrong_bytes_are_refused_clearly(segy_dir):
    with pytest.raises(SegyError, match="do not form an inline/crossline grid"):
        read_segy(segy_dir / "f3.sgy", iline_byte=17, xline_byte=13)
    with pytest.raises(SegyError, match="both the inline and the crossline"):
        read_segy(segy_dir / "f3.sgy", iline_byte=189)


def test_bytes_9_and_21_are_detected_when_189_is_empty(tmp_path, segy_dir):
    """A file with line numbers only at 9/21 (zeros at 189/193) is still a cube."""
    src = (segy_dir / "f3.sgy").read_bytes()
    buf = bytearray(src)
    trace = 240 + 75 * 2
    for t in range(414):
        o = 3600 + t * trace
        buf[o + 188 : o + 196] = bytes(8)
    path = tmp_path / "f3_9_21.sgy"
    path.write_bytes(bytes(buf))
    vol = read_segy(path)
    assert vol.data.shape == (23, 18, 75)
    assert (vol.geometry.iline_byte, vol.geometry.xline_byte) == (9, 21)
    assert any("9/21" in n for n in vol.geometry.notes)


@pytest.mark.parametrize(
    "content, match",
    [
        (b"", "empty"),
        (b"hello, this is not seismic\n" * 10, "too short"),
        (b"x" * 5000, "does not look like SEG-Y"),
    ],
)
def test_bad_files_are_refused_clearly(tmp_path, content, match):
    path = tmp_path / "bad.sgy"
    path.write_bytes(content)
    with pytest.raises(SegyError, match=match):
        read_segy(path)


def test_truncated_file_is_refused(tmp_path, segy_dir):
    path = tmp_path / "cut.sgy"
    path.write_bytes((segy_dir / "f3.sgy").read_bytes()[:50_000])
    with pytest.raises(SegyError, match="truncated"):
        read_segy(path)


def test_wrong_format_code_with_other_sample_size_is_explained(tmp_path, segy_dir):
    buf = bytearray((segy_dir / "Format1msb.sgy").read_bytes())
    buf[3224:3226] = (3).to_bytes(2, "big")  # claims int16, holds 4-byte floats
    path = tmp_path / "lie.sgy"
    path.write_bytes(bytes(buf))
    with pytest.raises(SegyError, match="format code .* is probably wrong"):
        read_segy(path)


def test_format_override_reads_a_misdeclared_file(tmp_path, segy_dir):
    buf = bytearray((segy_dir / "Format1msb.sgy").read_bytes())
    buf[3224:3226] = (5).to_bytes(2, "big")  # says IEEE, holds IBM
    path = tmp_path / "ibm_as_ieee.sgy"
    path.write_bytes(bytes(buf))
    vol = read_segy(path, sample_format=1)
    assert float(np.asarray(vol.data).max()) == 10827.0


def test_garbage_for_the_declared_format_is_refused(tmp_path, segy_dir):
    buf = bytearray((segy_dir / "Format1msb.sgy").read_bytes())
    buf[3224:3226] = (5).to_bytes(2, "big")
    trace = 240 + 75 * 4
    for t in range(414):  # every sample word 0x7FFFFFFF: NaN as IEEE float
        o = 3600 + t * trace + 240
        buf[o : o + 300] = b"\x7f\xff\xff\xff" * 75
    path = tmp_path / "nan.sgy"
    path.write_bytes(bytes(buf))
    with pytest.raises(SegyError, match="NaN, infinite"):
        read_segy(path)


def test_missing_path_is_refused(tmp_path):
    with pytest.raises(SegyError, match="does not exist"):
        read_segy(tmp_path / "nope.sgy")


def test_a_damaged_line_number_allocates_no_grid_for_it(segy_dir, tmp_path):
    """Two bytes of two trace headers of f3-lsb.sgy (issue 21): inline 1,375,731,823 in
    trace 65's header made the reader build a 13 GB grid before refusing it."""
    import tracemalloc

    from napari_seisseg.io import read_volume

    data = bytearray((segy_dir / "f3-lsb.sgy").read_bytes())
    data[29141] = 82
    data[138345] = 19
    damaged = tmp_path / "damaged.sgy"
    damaged.write_bytes(bytes(data))
    tracemalloc.start()
    try:
        vol = read_volume(damaged)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 50e6, f"peak {peak / 1e6:.0f} MB"
    assert vol.data.shape == (23, 18, 75)  # the survey, from its other header words


def _damage_headers(src, dst, changes):
    """Copy ``src`` to ``dst`` and set trace-header words: ``{trace: {byte: value}}``."""
    import shutil

    import segyio

    if Path(src) != Path(dst):
        shutil.copy(src, dst)
    with segyio.open(dst, "r+", ignore_geometry=True) as f:
        for trace, words in changes.items():
            h = f.header[trace]
            for byte, value in words.items():
                h[byte] = value
    return dst


def test_damaged_line_numbers_in_every_header_word_leave_those_traces_dead(segy_dir, tmp_path):
    """A handful of damaged headers opens as the survey, not as a section (issue 21)."""
    from napari_seisseg.io import read_volume

    big = 1_375_731_823
    damaged = _damage_headers(segy_dir / "f3.sgy", tmp_path / "d.sgy", {
        65: {189: big, 9: big, 5: big},
        200: {189: big, 9: big, 5: big},  # the same wrong number twice
        300: {193: 99_999, 21: 99_999, 17: 99_999},
        350: {193: -5, 21: -5, 17: -5},
    })
    reference = np.asarray(read_segy(segy_dir / "f3.sgy").data)
    vol = read_volume(damaged)
    g = vol.geometry
    assert vol.data.shape == (23, 18, 75)
    assert (g.iline_byte, g.xline_byte) == (189, 193)
    data = np.asarray(vol.data)
    dead = ~g.live
    assert dead.sum() == 4
    # trace k of the file is cell divmod(k, 18) of the sorted 23 x 18 grid
    for k in (65, 200, 300, 350):
        assert dead[divmod(k, 18)]
        assert not data[divmod(k, 18)].any()
    assert np.array_equal(data[~dead], reference[~dead])
    note = " ".join(g.notes)
    assert "4 trace header(s) look damaged" in note
    assert "trace 66 has inline 1,375,731,823 (byte 189), outside the survey's 111..133" in note
    assert "trace 301 has crossline 99,999" in note and "--iline-byte" in note


def test_a_trace_moved_onto_a_taken_cell_is_left_out(segy_dir, tmp_path):
    """A damaged crossline number inside the grid repeats a position: the trace that breaks
    the run of its neighbours is the damaged one."""
    from napari_seisseg.io import read_volume

    # trace 40 is inline 113, crossline 879; give it crossline 880 (trace 41's)
    damaged = _damage_headers(segy_dir / "f3.sgy", tmp_path / "d.sgy",
                              {40: {193: 880, 21: 880, 17: 880}})
    vol = read_volume(damaged)
    assert vol.data.shape == (23, 18, 75)
    assert np.flatnonzero(~vol.geometry.live.ravel()).tolist() == [40]
    assert "trace 41 has inline 113, crossline 880" in " ".join(vol.geometry.notes)


def test_many_damaged_headers_are_not_guessed_away(segy_dir, tmp_path):
    """More than a handful of damaged traces: no grid is forced (a section, with a note)."""
    from napari_seisseg.io import read_volume

    changes = {k: {189: 5000 + k, 9: 5000 + k, 5: 5000 + k} for k in range(0, 414, 20)}
    vol = read_volume(_damage_headers(segy_dir / "f3.sgy", tmp_path / "d.sgy", changes))
    assert vol.data.shape == (414, 75)
    assert "opened as a section" in " ".join(vol.geometry.notes)


def test_intact_numbers_at_other_bytes_win_and_given_bytes_keep_every_trace(segy_dir, tmp_path):
    """A damaged inline at byte 189 (250: plausible, but it stretches the grid to 140
    inlines) while 9/21 hold intact numbers: the survey opens from 9/21 with every trace.
    With the bytes given, nothing is left out: the user said the numbers are right."""
    from napari_seisseg.io import read_volume

    damaged = _damage_headers(segy_dir / "f3.sgy", tmp_path / "d.sgy", {40: {189: 250}})
    vol = read_volume(damaged)
    assert vol.data.shape == (23, 18, 75) and vol.geometry.live.all()
    assert (vol.geometry.iline_byte, vol.geometry.xline_byte) == (9, 21)
    given = read_volume(damaged, iline_byte=189, xline_byte=193)
    assert given.data.shape == (140, 18, 75) and given.geometry.n_live == 414


def test_damaged_traces_of_a_folder_of_files_are_named_by_file(segy_dir, tmp_path):
    import shutil

    from napari_seisseg.io import read_volume

    folder = tmp_path / "lines"
    shutil.copytree(segy_dir / "f3-ilines", folder)
    first = sorted(folder.iterdir())[3]
    _damage_headers(first, first, {5: {189: 99_999, 9: 99_999, 5: 99_999}})
    vol = read_volume(folder)
    assert vol.data.shape == (23, 18, 75) and vol.geometry.n_live == 413
    assert f"trace 6 of {first.name} has inline 99,999" in " ".join(vol.geometry.notes)


def test_a_few_odd_offsets_are_damaged_headers_not_gathers(segy_dir, tmp_path):
    from napari_seisseg.io import read_volume

    damaged = _damage_headers(segy_dir / "f3.sgy", tmp_path / "d.sgy", {7: {37: 1200}})
    vol = read_volume(damaged)
    assert vol.data.shape == (23, 18, 75) and vol.geometry.live.all()  # nothing left out
    assert "1 trace(s) have an offset (byte 37) unlike the other 413 (trace 8: 1,200)" in \
        " ".join(vol.geometry.notes)


def test_the_domain_is_read_from_the_card_then_the_name_then_the_words():
    from napari_seisseg.io.segy_reader import domain_from

    assert domain_from("mask.sgy", "C 1 CLIENT\nC38 SEISSEG DOMAIN DEPTH (samples in m)") == "depth"
    assert domain_from("survey_psdm.sgy", "C38 SEISSEG DOMAIN TIME (samples in ms)") == "time"
    assert domain_from("survey_psdm.sgy", "C38 SEISSEG DOMAIN TIME", card=False) == "depth"
    assert domain_from("cube.sgy", "C 5 PRESTACK DEPTH MIGRATED") == "depth"
    assert domain_from("cube.sgy", "C 5 TIME/DEPTH CONVERSION NOT APPLIED") == "time"
    assert domain_from("dependable.sgy", "") == "time"  # "dep" only as a word of the name
