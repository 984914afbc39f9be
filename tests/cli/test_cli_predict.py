"""``seisseg predict`` end to end: a bundle trained here, .npy / Zarr / SEG-Y in and out."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
import torch

from napari_seisseg.bundle import BundleModel
from napari_seisseg.cli import main
from napari_seisseg.inference import predict_bundle
from napari_seisseg.io import read_volume, write_volume
from napari_seisseg.jobs import drain
from napari_seisseg.synthetic import make_synthetic_cube


@pytest.fixture(autouse=True)
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A synthetic cube as .npy (+ geometry), SEG-Y and Zarr, and a tiny bundle trained on it."""
    from napari_seisseg.training import AugmentConfig, TrainConfig, train

    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("predict")
    cube = make_synthetic_cube(shape=(24, 32, 40), seed=0)
    cube.seismic[3, 4] = 0.0  # a dead trace, marked in the geometry
    cube.geometry.live[3, 4] = False
    config = TrainConfig(model="unet2d", model_kwargs={"width": 4, "depth": 2}, epochs=1,
                         steps_per_epoch=3, patch_size=32, batch_size=2, val_fraction=0.0,
                         augment=AugmentConfig.none(), device="cpu")
    result = drain(train(cube.seismic, cube.sparse_labels(), config, geometry=cube.geometry,
                                class_names=list(cube.class_names), class_colors=cube.class_colors))
    paths = {
        "model": result.save(root / "facies.safetensors"),
        "npy": write_volume(root / "cube.npy", cube.seismic, cube.geometry),
        "sgy": write_volume(root / "cube.sgy", cube.seismic, cube.geometry),
        "zarr": write_volume(root / "cube.zarr", cube.seismic, cube.geometry, chunks=(8, 16, 40)),
    }
    reference = drain(predict_bundle(BundleModel.load(paths["model"]), cube.seismic,
                                                 geometry=cube.geometry, device="cpu"))
    return paths, cube, reference


def run_cli(*argv) -> int:
    return main(["predict", *map(str, argv), "--quiet", "--device", "cpu"])


def test_npy_outputs_are_disk_backed_and_described(files, tmp_path, capsys):
    paths, cube, ref = files
    out = {k: tmp_path / f"{k}.npy" for k in ("probs", "mask", "unc")}
    assert run_cli("--model", paths["model"], "--image", paths["npy"], "--out-probs", out["probs"],
                   "--out-mask", out["mask"], "--out-uncertainty", out["unc"]) == 0
    text = capsys.readouterr().out
    assert "voxels/s" in text and "sediment, salt, fault" in text and text.count("wrote") == 3
    n_traces = len(BundleModel.load(paths["model"]).input["lateral_prior"]["positions"])
    assert f"combined with the nearest of {n_traces:,} painted traces" in text
    probs = np.load(out["probs"])
    assert probs.shape == (3, 24, 32, 40) and probs.dtype == np.float16
    np.testing.assert_allclose(probs, ref.probabilities, atol=2e-3)
    desc = json.loads((tmp_path / "probs.prediction.json").read_text())
    assert desc["axes"] == ["class", "inline", "crossline", "sample"]
    assert [c["name"] for c in desc["channels"]] == ["sediment", "salt", "fault"]
    from napari_seisseg.bundle.time_prior import time_prior_applies

    card = BundleModel.load(paths["model"]).card
    assert desc["priors"] == {"time": time_prior_applies(card), "lateral": True}
    # what was averaged, said and written: inlines and crosslines were painted, so both are
    # averaged and each section's traces flipped by default (never time)
    assert desc["passes"]["orientations"] == ["inline", "crossline"]
    assert desc["passes"]["flips"] == ["inline", "crossline"] and desc["passes"]["sweeps"] == 4
    assert "inline and crossline sections, each averaged over test-time flips" in text
    assert "--no-tta to turn off" in text
    mask = read_volume(out["mask"])
    assert mask.geometry is not None and mask.data.dtype == np.uint8
    agree = np.mean(np.asarray(mask.data) == ref.mask())
    assert agree > 0.999 and (np.asarray(mask.data)[3, 4] == 0).all()  # float16 ties aside
    unc = np.load(out["unc"])
    assert unc.dtype == np.float32 and 0 <= unc.min() and unc.max() <= 1
    assert not list(tmp_path.glob(".seisseg-predict.*"))  # scratch removed
    # read back: the classes, geometry and values; a volume reader says what the file is
    from napari_seisseg.errors import SeisSegError
    from napari_seisseg.io.probabilities import read_probabilities

    back = read_probabilities(out["probs"])
    assert [c["name"] for c in back.channels] == ["sediment", "salt", "fault"]
    assert back.geometry is not None and back.geometry.shape == (24, 32, 40) and back.scale == 1
    np.testing.assert_array_equal(back.channel(1), probs[1])
    with pytest.raises(SeisSegError, match="holds class probabilities written by seisseg predict"):
        read_volume(out["probs"])
    assert main(["info", str(out["probs"])]) == 0
    text = capsys.readouterr().out
    assert "class probabilities of 3 classes (1=sediment, 2=salt, 3=fault)" in text
    assert "24 x 32 x 40" in text


def test_another_survey_is_told_the_lateral_prior_does_not_apply(files, tmp_path, capsys):
    paths, cube, _ = files
    np.save(tmp_path / "part.npy", cube.seismic[:, :20])
    for flag, told in (((), True), (("--no-lateral-prior",), False)):
        assert run_cli("--model", paths["model"], "--image", tmp_path / "part.npy", "--out-mask",
                       tmp_path / "m.npy", "--out-probs", tmp_path / "p.npy", "--overwrite", *flag) == 0
        text = capsys.readouterr().out
        assert ("lateral prior not applied: this image (24 x 20 x 40) is not the grid the model "
                "was painted on (24 x 32 x 40)" in text) is told
        assert not json.loads((tmp_path / "p.prediction.json").read_text())["priors"]["lateral"]
    assert run_cli("--model", paths["model"], "--image", paths["npy"], "--out-probs", tmp_path / "p.npy",
                   "--overwrite", "--no-lateral-prior", "--no-time-prior") == 0
    assert json.loads((tmp_path / "p.prediction.json").read_text())["priors"] == {"time": False, "lateral": False}


def test_segy_in_and_out_with_the_input_as_template(files, tmp_path):
    paths, cube, ref = files
    assert run_cli("--model", paths["model"], "--image", paths["sgy"], "--out-probs",
                   tmp_path / "p.sgy", "--out-mask", tmp_path / "m.sgy", "--out-uncertainty",
                   tmp_path / "u.zarr", "--probs-dtype", "float32") == 0
    assert sorted(p.name for p in tmp_path.glob("*.sgy")) == ["m.sgy", "p_fault.sgy", "p_salt.sgy",
                                                              "p_sediment.sgy"]
    salt = read_volume(tmp_path / "p_salt.sgy")
    assert salt.geometry.n_live == 24 * 32 - 1
    np.testing.assert_allclose(np.asarray(salt.data), ref.probabilities[1], atol=1e-5)
    mask = read_volume(tmp_path / "m.sgy")
    assert mask.geometry.sample_format == 8  # 1-byte integers
    np.testing.assert_array_equal(np.asarray(mask.data), ref.mask())
    unc = read_volume(tmp_path / "u.zarr")
    np.testing.assert_allclose(np.asarray(unc.data), ref.uncertainty(), atol=1e-5)


def test_zarr_uint8_orientations_and_tta(files, tmp_path):
    import zarr

    paths, cube, ref = files
    assert run_cli("--model", paths["model"], "--image", paths["zarr"], "--out-probs",
                   tmp_path / "p.zarr", "--probs-dtype", "uint8", "--axes", "inline,crossline",
                   "--tta", "--overlap", "0.25") == 0
    arr = zarr.open_array(store=str(tmp_path / "p.zarr"), mode="r")
    assert arr.dtype == np.uint8 and arr.shape == (3, 24, 32, 40)
    assert arr.attrs["seisseg_prediction"]["uint8_scale"] == 255
    sums = np.asarray(arr[:, 5]).astype(int).sum(axis=0)
    assert np.abs(sums - 255).max() <= 2  # probabilities sum to one
    from napari_seisseg.io.probabilities import read_probabilities

    back = read_probabilities(tmp_path / "p.zarr")
    assert back.scale == 255 and back.geometry is not None and len(back.channels) == 3
    np.testing.assert_array_equal(np.asarray(back.channel(2)[5]), np.asarray(arr[2, 5]))


def test_dask_cluster_with_a_3d_bundle(files, tmp_path):
    distributed = pytest.importorskip("distributed")
    from napari_seisseg.bundle import save_bundle
    from napari_seisseg.models import create_model, model_spec

    paths, cube, _ = files
    torch.manual_seed(0)
    model = create_model("unet3d", n_classes=2, width=2, depth=1)
    card = {"model": model_spec(model), "input": {"kind": "3d", "patch_size": [16, 16, 16],
                                                   "sample_axis": 2},
            "n_outputs": 2, "binary": False,
            "classes": [{"value": 1, "name": "rock", "color": [1, 1, 0, 1]},
                        {"value": 2, "name": "salt", "color": [1, 0, 1, 1]}]}
    bundle = save_bundle(tmp_path / "m3.seisseg", model, card)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster:
        assert run_cli("--model", bundle, "--image", paths["zarr"], "--out-probs",
                       tmp_path / "p.zarr", "--out-mask", tmp_path / "m.npy", "--dask-scheduler",
                       cluster.scheduler_address) == 0
    local = drain(predict_bundle(BundleModel.load(bundle), cube.seismic,
                                             geometry=cube.geometry, device="cpu"))
    import zarr

    got = np.asarray(zarr.open_array(store=str(tmp_path / "p.zarr"), mode="r")[:])
    np.testing.assert_allclose(got, local.probabilities, atol=2e-3)
    assert np.mean(np.load(tmp_path / "m.npy") == local.mask()) > 0.999


@pytest.mark.parametrize(
    "extra, message",
    [
        ([], "Nothing to write"),
        (["--out-mask", "{tmp}/m.txt"], "Cannot tell the format"),
        (["--out-mask", "{tmp}/m.npy", "--axes", "diagonal"], "Unknown orientation"),
        (["--out-mask", "{tmp}/m.npy", "--threshold", "0.3"], "two-class models"),
        (["--out-probs", "{tmp}/p.npy", "--dask-scheduler", "tcp://127.0.0.1:1"], "Zarr"),
        (["--out-mask", "{tmp}/m.npy", "--dask-scheduler", "tcp://127.0.0.1:1"], "Convert it first"),
        (["--out-mask", "{tmp}/exists.npy"], "already exists"),
        (["--out-probs", "{tmp}/exists_p.npy"], "exists_p.prediction.json already exists"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(files, tmp_path, capsys, extra, message):
    paths, _, _ = files
    (tmp_path / "exists.npy").write_bytes(b"")
    (tmp_path / "exists_p.prediction.json").write_text("mine")  # a description from before
    argv = ["--model", paths["model"], "--image", paths["npy"],
            *(a.replace("{tmp}", str(tmp_path)) for a in extra)]
    assert run_cli(*argv) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and err.count("\n") == 0 and err.startswith("seisseg predict: error:")
    assert not (tmp_path / "m.npy").exists() and not (tmp_path / "exists_p.npy").exists()
    assert (tmp_path / "exists_p.prediction.json").read_text() == "mine"


def test_bad_files_exit_2(files, tmp_path, capsys):
    paths, cube, _ = files
    np.save(tmp_path / "four.npy", np.zeros((2, 4, 4, 4), np.float32))
    np.save(tmp_path / "plain.npy", cube.seismic)  # no geometry sidecar
    (tmp_path / "broken.safetensors").write_bytes(paths["model"].read_bytes()[:-500])
    (tmp_path / "pickle.pt").write_bytes(b"\x80\x04\x95" + b"\x00" * 64)
    cases = [
        (["--model", tmp_path / "broken.safetensors", "--image", paths["npy"]], "damaged|do not fit"),
        (["--model", tmp_path / "pickle.pt", "--image", paths["npy"]], "Python pickle"),
        (["--model", tmp_path / "none.safetensors", "--image", paths["npy"]], "does not exist"),
        (["--model", paths["model"], "--image", tmp_path / "four.npy"], "4-D"),
        (["--model", paths["model"], "--image", tmp_path / "plain.npy", "--out-probs",
          tmp_path / "p.sgy"], "needs the survey geometry"),
    ]
    for argv, message in cases:
        if "--out-probs" not in argv:
            argv = [*argv, "--out-mask", tmp_path / "m.npy"]
        assert run_cli(*argv) == 2
        err = capsys.readouterr().err.strip()
        assert err.count("\n") == 0 and err.startswith("seisseg predict: error:"), err
        assert re.search(message, err), err
    assert not list(tmp_path.glob("m.*")) and not list(tmp_path.glob("p*.sgy"))


def test_a_killed_runs_scratch_is_removed_by_the_next_run(files, tmp_path):
    """kill -9 leaves the scratch folder and temporary outputs; the next prediction into the
    same folder removes them, and keeps another running process's (issue 21)."""
    import os
    import subprocess
    import sys

    from napari_seisseg.io.atomic import owned_prefix

    paths, _, _ = files
    dead = int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True, check=True).stdout)
    host = owned_prefix("x").split("@")[1].rstrip("-")
    scratch = tmp_path / f".seisseg-predict.p{dead}@{host}-abc"
    (scratch / "probabilities.npy").mkdir(parents=True)
    half = tmp_path / f".mask.sgy.p{dead}@{host}-def.tmp"
    half.write_bytes(b"half a file")
    running = tmp_path / f".seisseg-predict.p{os.getpid()}@{host}-ghi"
    running.mkdir()
    assert run_cli("--model", paths["model"], "--image", paths["sgy"],
                   "--out-mask", tmp_path / "mask.sgy") == 0
    assert not scratch.exists() and not half.exists() and running.exists()
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".")) == [
        "mask.sgy"]


def test_a_time_slice_model_flips_its_maps_unless_told_not_to(files, tmp_path):
    from napari_seisseg.bundle import save_bundle

    paths, cube, _ = files
    bm = BundleModel.load(paths["model"])
    card = {**bm.card, "input": {**bm.card["input"], "predict_axes": [2, 0, 1]}}
    model = save_bundle(tmp_path / "ts.safetensors", bm.model, card)
    for flag, tta in (((), None), (("--no-tta",), False)):
        out = tmp_path / f"p{len(flag)}.npy"
        assert run_cli("--model", model, "--image", paths["npy"], "--out-probs", out,
                       "--probs-dtype", "float32", *flag) == 0
        ref = drain(predict_bundle(BundleModel.load(model), cube.seismic, geometry=cube.geometry,
                                   device="cpu", tta=tta))
        np.testing.assert_allclose(np.load(out), ref.probabilities, atol=1e-5)
    assert np.abs(np.load(tmp_path / "p0.npy") - np.load(tmp_path / "p1.npy")).max() > 1e-4
