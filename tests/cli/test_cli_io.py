"""``seisseg info`` and ``seisseg convert`` as a user runs them."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np

from napari_seisseg.cli import main
from napari_seisseg.io import read_volume


def test_info_text_and_json(segy_dir, capsys):
    assert main(["info", str(segy_dir / "f3.sgy"), "--stats"]) == 0
    out = capsys.readouterr().out
    assert "111..133" in out and "875..892" in out and "4..300 ms" in out
    assert "mean 25.13" in out and "std 2160" in out
    assert main(["info", str(segy_dir / "f3-withdead.sgy"), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["shape"] == [23, 18, 75]
    assert info["geometry"]["live"]["n_live"] == 239


def test_convert_folder_of_inlines_to_segy_and_npy(segy_dir, tmp_path, capsys):
    out = tmp_path / "f3.sgy"
    assert main(["convert", str(segy_dir / "f3-ilines"), str(out), "--quiet"]) == 0
    assert main(["convert", str(out), str(tmp_path / "f3.npy"), "--quiet"]) == 0
    assert main(["convert", str(tmp_path / "f3.npy"), str(tmp_path / "f3.zarr"), "--quiet"]) == 0
    a = np.asarray(read_volume(segy_dir / "f3-ilines").data)
    for p in ("f3.sgy", "f3.npy", "f3.zarr"):
        np.testing.assert_array_equal(np.asarray(read_volume(tmp_path / p).data), a)


def test_convert_several_files_with_byte_override(segy_dir, tmp_path):
    files = [str(segy_dir / "f3-ilines" / f"f3-iline-{i}.sgy") for i in (111, 112, 113)]
    out = tmp_path / "three.npy"
    assert main(["convert", *files, str(out), "--iline-byte", "189", "--xline-byte", "193", "--quiet"]) == 0
    assert np.load(out).shape == (3, 18, 75)


def test_errors_are_one_line_on_stderr_with_nonzero_exit(tmp_path, segy_dir):
    empty = tmp_path / "empty.sgy"
    empty.write_bytes(b"")
    cases = [
        ["info", str(empty)],
        ["info", str(tmp_path / "missing.sgy")],
        ["info", str(segy_dir / "f3.sgy"), "--iline-byte", "17", "--xline-byte", "13"],
        ["convert", str(segy_dir / "f3.sgy"), str(segy_dir / "f3.sgy")],
    ]
    for argv in cases:
        r = subprocess.run([sys.executable, "-m", "napari_seisseg.cli", *argv],
                           capture_output=True, text=True)
        assert r.returncode != 0, argv
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("seisseg") and "Traceback" not in r.stderr


def test_convert_refuses_existing_output(tmp_path, segy_dir, capsys):
    out = tmp_path / "o.npy"
    out.write_bytes(b"mine")
    assert main(["convert", str(segy_dir / "f3.sgy"), str(out), "--quiet"]) == 2
    assert "already exists" in capsys.readouterr().err
    assert out.read_bytes() == b"mine"


def test_convert_output_without_a_format_suffix_is_refused(tmp_path, segy_dir, capsys, monkeypatch):
    import napari_seisseg.io as io

    def no_reading(*_a, **_k):
        raise AssertionError("the input was read before the output name was checked")

    monkeypatch.setattr(io, "read_volume", no_reading)
    for name in ("out", "out.tif"):
        assert main(["convert", str(segy_dir / "f3.sgy"), str(tmp_path / name), "--quiet"]) == 2
        err = capsys.readouterr().err
        assert "Cannot tell the format of the output" in err and ".npy or .zarr" in err
    assert list(tmp_path.iterdir()) == []


def test_info_stats_leave_out_dead_traces_and_nan(segy_dir, tmp_path, capsys):
    from napari_seisseg.io import read_segy, write_volume

    vol = read_segy(segy_dir / "f3-withdead.sgy")
    data = np.asarray(vol.data, np.float64)
    live = data[vol.geometry.live]
    assert main(["info", str(segy_dir / "f3-withdead.sgy"), "--stats", "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)["stats"]
    assert stats["n"] == live.size and stats["n_dead_traces"] == 175
    np.testing.assert_allclose([stats["mean"], stats["std"]], [live.mean(), live.std()], rtol=1e-9)
    with_nan = data.astype(np.float32)
    with_nan[2, 3, 5] = np.nan
    path = write_volume(tmp_path / "nan.npy", with_nan, vol.geometry)
    assert main(["info", str(path), "--stats"]) == 0
    text = capsys.readouterr().out
    assert "nan" not in text.split("values:")[1].split("\n")[0].lower()
    assert "1 NaN/inf samples left out" in text and f"over {live.size - 1:,} samples" in text


def test_convert_names_damaged_trace_headers_on_stderr(segy_dir, tmp_path, capsys):
    """A SEG-Y with a damaged trace header opens as the survey; the CLI says which trace
    was left out, as the viewer's notification does (issue 21)."""
    import shutil

    import segyio

    damaged = tmp_path / "d.sgy"
    shutil.copy(segy_dir / "f3.sgy", damaged)
    with segyio.open(damaged, "r+", ignore_geometry=True) as f:
        for byte in (189, 9, 5):
            f.header[65][byte] = 1_375_731_823
    assert main(["convert", str(damaged), str(tmp_path / "d.npy"), "--quiet"]) == 0
    captured = capsys.readouterr()
    assert "(23 x 18 x 75)" in captured.out
    assert "note: 1 trace header(s) look damaged: trace 66 has inline 1,375,731,823" in captured.err


def test_a_reader_that_goes_away_ends_info_quietly(segy_dir, capsys, monkeypatch):
    class ClosedPipe:  # `seisseg info F | head -1` once head has exited
        def write(self, _text):
            raise BrokenPipeError(32, "Broken pipe")

        def flush(self):
            pass

    monkeypatch.setattr(sys, "stdout", ClosedPipe())
    assert main(["info", str(segy_dir / "f3.sgy")]) == 141
    assert capsys.readouterr().err == ""
