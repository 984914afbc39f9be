"""``seisseg preprocess`` end to end on real files."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from napari_seisseg.cli import main
from napari_seisseg.io import read_volume
from napari_seisseg.preprocess import Pipeline


@pytest.fixture
def cube_npy(tmp_path):
    rng = np.random.default_rng(11)
    cube = (rng.standard_t(4, size=(16, 12, 90)) * 500).astype(np.float32)
    cube[0, 0] = 0.0  # a dead trace
    cube[5, 5, 40] = np.nan  # a bad sample
    path = tmp_path / "cube.npy"
    np.save(path, cube)
    return path, cube


def test_clip_standardize_on_npy_end_to_end(cube_npy, tmp_path, capsys):
    src, cube = cube_npy
    out, pipe = tmp_path / "out.npy", tmp_path / "pipe.json"
    argv = ["preprocess", str(src), str(out), "--clip", "0.5,99.5", "--standardize",
            "--save-pipeline", str(pipe), "--sample-traces", "100", "--seed", "3", "--quiet"]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "dead traces: 1 of 192" in text and "NaN/inf samples in live traces: 1 in 1" in text
    assert "statistics from 100 live traces" in text
    result = np.load(out)
    assert result.dtype == np.float32 and result.shape == cube.shape
    saved = Pipeline.load(pipe)
    assert [s.kind for s in saved.steps] == ["clip_percentile", "standardize"]
    assert saved.fit_info["seed"] == 3 and saved.fit_info["n_traces_live"] == 100
    np.testing.assert_array_equal(result, saved.apply(cube))
    assert not result[0, 0].any() and result[5, 5, 40] == 0 and np.isfinite(result).all()
    assert abs(result.mean()) < 0.05 and abs(result[1:].std() - 1) < 0.05


def test_steps_are_applied_in_command_line_order(cube_npy, tmp_path):
    src, _ = cube_npy
    for order, kinds in (
        (["--standardize", "--clip", "1,99"], ["standardize", "clip_percentile"]),
        (["--clip-std", "3", "--robust", "--agc-samples", "11", "--log-uint8", "1,99"],
         ["clip_std", "robust_scale", "agc", "log_uint8"]),
    ):
        pipe = tmp_path / "p.json"
        assert main(["preprocess", str(src), str(tmp_path / "o.npy"), *order, "--overwrite",
                     "--save-pipeline", str(pipe), "--quiet"]) == 0
        d = json.loads(pipe.read_text())
        assert [s["kind"] for s in d["steps"]] == kinds
    assert d["steps"][3]["lower"] == 1.0 and np.load(tmp_path / "o.npy").dtype == np.uint8


def test_saved_pipeline_is_reapplied_with_stored_or_refitted_statistics(cube_npy, tmp_path):
    src, cube = cube_npy
    pipe = tmp_path / "p.json"
    assert main(["preprocess", str(src), str(tmp_path / "a.npy"), "--clip", "1,99",
                 "--standardize", "--save-pipeline", str(pipe), "--quiet"]) == 0
    other = tmp_path / "other.npy"
    np.save(other, cube * 10)  # another survey: ten times the amplitude
    assert main(["preprocess", str(other), str(tmp_path / "b.npy"), "--pipeline", str(pipe),
                 "--quiet"]) == 0
    stored = Pipeline.load(pipe)
    np.testing.assert_array_equal(np.load(tmp_path / "b.npy"), stored.apply(cube * 10))
    assert main(["preprocess", str(other), str(tmp_path / "c.npy"), "--pipeline", str(pipe),
                 "--refit", "--save-pipeline", str(tmp_path / "q.json"), "--quiet"]) == 0
    refit = Pipeline.load(tmp_path / "q.json")
    assert refit.steps[1].scale == pytest.approx(stored.steps[1].scale * 10, rel=0.02)
    np.testing.assert_allclose(np.load(tmp_path / "c.npy"), np.load(tmp_path / "a.npy"), atol=1e-3)


def test_segy_in_with_agc_in_ms_keeps_geometry(segy_dir, tmp_path, capsys):
    out = tmp_path / "f3.npy"
    assert main(["preprocess", str(segy_dir / "f3-withdead.sgy"), str(out), "--agc", "40",
                 "--log-uint8", "--save-pipeline", str(tmp_path / "p.json")]) == 0
    text = capsys.readouterr().out
    assert "AGC window 40 ms (10 samples)" in text and "dead traces: 175 of 414" in text
    vol = read_volume(out)
    assert vol.data.dtype == np.uint8 and vol.geometry is not None
    assert vol.geometry.n_live == 239 and vol.geometry.dt == 4.0
    data = np.asarray(vol.data)
    assert (data[~vol.geometry.live] == 128).all()  # dead traces: the code of zero amplitude
    assert data[vol.geometry.live].min() >= 1
    # SEG-Y out as well (uint8 samples, format 16, the input's headers)
    assert main(["preprocess", str(segy_dir / "f3-withdead.sgy"), str(tmp_path / "f3.sgy"),
                 "--pipeline", str(tmp_path / "p.json"), "--quiet"]) == 0
    back = read_volume(tmp_path / "f3.sgy")
    assert back.geometry.sample_format == 16
    live = back.geometry.live
    np.testing.assert_array_equal(np.asarray(back.data)[live], data[live])


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--clip", "99,1"], "upper percentile (1) must be above the lower one (99)"),
        (["--agc-samples", "500"], "window of 500 samples is longer than the trace (90 samples)"),
        (["--agc", "100"], "needs the sample interval"),
        (["--log-uint8", "--standardize"], "must be the last step"),
        ([], "No preprocessing step given"),
        (["--standardize", "--pipeline", "p.json"], "either --pipeline or step options"),
        (["--pipeline", "missing.json"], "does not exist"),
    ],
)
def test_user_errors_are_one_line_with_exit_status_2(cube_npy, tmp_path, capsys, extra, message):
    src, _ = cube_npy
    out = tmp_path / "out.npy"
    assert main(["preprocess", str(src), str(out), *extra, "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("seisseg preprocess: error:") and message in err[0]
    assert not out.exists()


def test_output_without_a_format_suffix_is_refused_before_reading(cube_npy, tmp_path, capsys):
    src, _ = cube_npy
    assert main(["preprocess", str(src), str(tmp_path / "out"), "--standardize", "--quiet"]) == 2
    assert "end it in .sgy or .segy (SEG-Y), .npy or .zarr" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_refuses_to_overwrite_without_flag_and_runs_as_a_command(cube_npy, tmp_path):
    src, _ = cube_npy
    out = tmp_path / "out.npy"
    out.write_bytes(b"keep me")
    r = subprocess.run([sys.executable, "-m", "napari_seisseg.cli", "preprocess", str(src),
                        str(out), "--standardize"], capture_output=True, text=True)
    assert r.returncode == 2 and "Traceback" not in r.stderr and out.read_bytes() == b"keep me"
    r = subprocess.run([sys.executable, "-m", "napari_seisseg.cli", "preprocess", str(src),
                        str(out), "--standardize", "--overwrite", "--quiet"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert np.load(out).shape == (16, 12, 90)


def test_save_pipeline_never_replaces_the_input_or_an_existing_file(cube_npy, tmp_path, capsys):
    # --save-pipeline onto the input used to replace the cube with 500 bytes of JSON, exit 0
    src, cube = cube_npy
    out = tmp_path / "out.npy"
    base = ["preprocess", str(src), str(out), "--standardize", "--quiet"]
    assert main([*base, "--save-pipeline", str(src)]) == 2
    assert "source file" in capsys.readouterr().err
    np.testing.assert_array_equal(np.load(src), cube)
    assert not out.exists()  # refused before any work
    keep = tmp_path / "keep.json"
    keep.write_text("{}")
    assert main([*base, "--save-pipeline", str(keep)]) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert keep.read_text() == "{}" and not out.exists()
    assert main([*base, "--save-pipeline", str(keep), "--overwrite"]) == 0
    assert Pipeline.load(keep).steps[0].kind == "standardize"
