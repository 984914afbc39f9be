"""``seisseg demo`` (what ``make demo`` runs), with a short training budget, as CI proof."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from napari_seisseg.io import read_segy, read_volume

ROOT = Path(__file__).resolve().parents[2]


def _seisseg(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, OMP_NUM_THREADS="2")
    return subprocess.run([sys.executable, "-m", "napari_seisseg.cli", *args], cwd=cwd,
                          capture_output=True, text=True, env=env, timeout=600)


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_demo_runs_seisseg_demo():
    dry = subprocess.run(["make", "-n", "demo"], cwd=ROOT, capture_output=True, text=True)
    assert dry.returncode == 0, dry.stderr
    assert re.search(r"\.venv/bin/seisseg demo --out demo_output\s*$", dry.stdout, re.M)


def test_demo_trains_predicts_exports_reopens_and_scores(tmp_path):
    out = tmp_path / "demo out"
    # class-balanced sampling needs about 100 steps before the background gets its share; a step
    # budget (not minutes) gives the same training on a busy machine
    run = _seisseg("demo", "--out", str(out), "--steps", "120", "--quiet", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    text = run.stdout
    for name in (".seisseg-demo", "f3_export.sgy", "synthetic.sgy", "labels_used.npy", "model.safetensors",
                 "mask.sgy", "mask.npy", "probabilities.npy", "uncertainty.npy", "demo_inline.png"):
        assert (out / name).is_file(), name
    assert f"outputs in {out.resolve()}" in text
    assert "identical to the prediction = True" in text and "geometry kept = True" in text
    # the printed table: per-class IoU on every voxel and on never-labeled voxels
    rows = dict(re.findall(r"^(sediment|salt|fault|mean)\s+([\d.]+)\s+[\d.]+$", text, re.M))
    assert set(rows) == {"sediment", "salt", "fault", "mean"}
    assert float(rows["mean"]) > 0.5  # chance is about 0.33 for three classes
    # the exports agree with each other and carry the synthetic survey's geometry
    mask_sgy, mask_npy = read_segy(out / "mask.sgy"), read_volume(out / "mask.npy")
    np.testing.assert_array_equal(np.asarray(mask_sgy.data), np.asarray(mask_npy.data))
    np.testing.assert_array_equal(mask_sgy.geometry.ilines, mask_npy.geometry.ilines)
    assert set(np.unique(np.asarray(mask_npy.data))) <= {1, 2, 3}
    probs = np.load(out / "probabilities.npy")
    assert probs.shape == (3, *mask_npy.data.shape)
    from napari_seisseg.io.probabilities import read_probabilities

    described = read_probabilities(out / "probabilities.npy")  # opens in napari by class
    assert [c["name"] for c in described.channels] == ["sediment", "salt", "fault"]
    assert described.geometry is not None
    np.testing.assert_allclose(probs.astype(np.float32).sum(0), 1.0, atol=5e-3)
    png = (out / "demo_inline.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 50_000


def test_demo_bad_output_folder_is_one_line_and_non_zero(tmp_path):
    target = tmp_path / "a file"
    target.write_text("keep me")
    run = _seisseg("demo", "--out", str(target), cwd=tmp_path)
    assert run.returncode != 0
    assert run.stderr.count("\n") == 1 and "is a file" in run.stderr
    assert target.read_text() == "keep me"
    run = _seisseg("demo", "--minutes", "0", cwd=tmp_path)
    assert run.returncode == 2 and "must be positive" in run.stderr


def test_demo_refuses_a_folder_it_did_not_make(tmp_path):
    from napari_seisseg.cli.demo import MARKER, check_out
    from napari_seisseg.errors import SeisSegError

    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "model.safetensors").write_text("my model")
    run = _seisseg("demo", "--out", str(mine), "--minutes", "0.01", cwd=tmp_path)
    assert run.returncode == 2 and "did not make" in run.stderr and "--overwrite" in run.stderr
    assert (mine / "model.safetensors").read_text() == "my model"
    check_out(mine, overwrite=True)  # allowed when asked
    check_out(tmp_path / "new", overwrite=False)  # a new folder
    (tmp_path / "empty").mkdir()
    check_out(tmp_path / "empty", overwrite=False)
    (mine / MARKER).write_text("")  # an earlier demo's folder is refreshed
    check_out(mine, overwrite=False)
    (mine / MARKER).unlink()
    with pytest.raises(SeisSegError, match="did not make"):
        check_out(mine, overwrite=False)
