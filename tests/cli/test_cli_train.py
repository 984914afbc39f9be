"""``seisseg train`` end to end on a tiny synthetic cube saved as .npy."""

from __future__ import annotations

import signal

import numpy as np
import pytest
import torch

from napari_seisseg.bundle import load_bundle, read_card
from napari_seisseg.cli import main
from napari_seisseg.synthetic import make_synthetic_cube

TINY = ["--model", "unet2d", "--width", "4", "--model-depth", "2", "--patch", "16",
        "--batch", "2", "--steps-per-epoch", "3", "--quiet"]


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def cube_files(tmp_path_factory):
    """Image, sparse labels and dense truth of a small synthetic cube, as .npy files."""
    folder = tmp_path_factory.mktemp("cube")
    cube = make_synthetic_cube(shape=(24, 32, 40))
    paths = {}
    for name, data in (("image", cube.seismic), ("labels", cube.sparse_labels()),
                       ("truth", cube.labels)):
        paths[name] = folder / f"{name}.npy"
        np.save(paths[name], data)
    return paths


def _train(files, out, *extra):
    return main(["train", "--image", str(files["image"]), "--labels", str(files["labels"]),
                 "--out", str(out), *TINY, *extra])


def test_bundle_written_at_exactly_out_and_loadable(cube_files, tmp_path, capsys):
    out = tmp_path / "models" / "salt model.bin"  # any name, a folder made for it
    code = _train(cube_files, out, "--epochs", "2", "--class-names", "sediment,salt,fault",
                  "--seed", "3", "--run-dir", str(tmp_path / "run"))
    text = capsys.readouterr().out
    assert code == 0
    assert out.exists() and [p.name for p in out.parent.iterdir()] == ["salt model.bin"]
    assert text.startswith("device: CPU")
    epochs = [line for line in text.splitlines() if line.startswith("epoch")]
    assert len(epochs) == 2 and "val mIoU" in epochs[0] and "sediment" in epochs[0]
    assert f"model saved to {out}" in text
    card = read_card(out)
    assert [c["name"] for c in card["classes"]] == ["sediment", "salt", "fault"]
    assert [c["value"] for c in card["classes"]] == [1, 2, 3]
    assert card["model"]["name"] == "unet2d" and card["training"]["config"]["seed"] == 3
    assert card["training"]["stop_reason"] == "epochs"
    model, _ = load_bundle(out)
    with torch.no_grad():
        channels = card["input"]["input_channels"]  # amplitude, and position along time
        assert model(torch.zeros(1, channels, 24, 40)).shape == (1, 3, 24, 40)
    assert (tmp_path / "run" / "metrics.csv").exists()


def test_run_dir_of_an_earlier_run_is_kept_without_overwrite(cube_files, tmp_path, capsys):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "metrics.csv").write_text("earlier run")
    out = tmp_path / "m.safetensors"
    assert _train(cube_files, out, "--epochs", "1", "--run-dir", str(run_dir)) == 2
    err = capsys.readouterr().err
    assert "already holds metrics.csv" in err and "--overwrite" in err
    assert (run_dir / "metrics.csv").read_text() == "earlier run" and not out.exists()
    assert _train(cube_files, out, "--epochs", "1", "--run-dir", str(out)) == 2
    assert "the same path" in capsys.readouterr().err and not out.exists()
    assert _train(cube_files, out, "--epochs", "1", "--run-dir", str(run_dir), "--overwrite") == 0
    assert (run_dir / "metrics.csv").read_text().startswith("epoch,steps")
    as_file = tmp_path / "notes.txt"
    as_file.write_text("mine")
    assert _train(cube_files, tmp_path / "n.safetensors", "--epochs", "1",
                  "--run-dir", str(as_file)) == 2
    assert "is a file" in capsys.readouterr().err and as_file.read_text() == "mine"


def test_fine_tune_and_overwrite(cube_files, tmp_path, capsys):
    first = tmp_path / "m.safetensors"
    assert _train(cube_files, first, "--epochs", "1") == 0
    before = first.stat().st_mtime_ns
    code = _train(cube_files, first, "--epochs", "1", "--init", str(first), "--overwrite",
                  "--labels", str(cube_files["truth"]), "--axes", "0")
    assert code == 0, capsys.readouterr().err
    card = read_card(first)
    assert card["fine_tuned_from"]["source"] == str(first) and first.stat().st_mtime_ns != before
    assert card["input"]["axes"] == [0]


def test_ctrl_c_stops_and_saves_the_best_model(cube_files, tmp_path, capsys, monkeypatch):
    from napari_seisseg.cli import printer

    original = printer.epoch_line

    def press_ctrl_c(event):
        if event.epoch == 2:
            signal.raise_signal(signal.SIGINT)  # as if the user pressed Ctrl-C now
        return original(event)

    monkeypatch.setattr(printer, "epoch_line", press_ctrl_c)
    out = tmp_path / "stopped.safetensors"
    before = signal.getsignal(signal.SIGINT)  # SIG_IGN when the suite runs in the background
    # saved, but the exit status says the run was interrupted (as shells expect of Ctrl-C)
    assert _train(cube_files, out, "--epochs", "500", "--early-stopping", "0") == 130
    text = capsys.readouterr().out
    assert "Ctrl-C: stopping after this step" in text
    assert "Stopped by Ctrl-C: saved the best model so far" in text
    card = read_card(out)
    assert card["training"]["stop_reason"] == "stopped" and card["training"]["epochs"] <= 3
    assert signal.getsignal(signal.SIGINT) is before  # handler restored


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("other shape", "have shape (24, 32, 41) but image"),
        ("no labels", "No labels are painted"),
        ("one class", "Only one class"),
        ("fractional", "whole numbers"),
        ("exists", "already exists"),
        ("missing image", "does not exist"),
        ("budget", "must be positive"),
        ("class names", "given twice"),
    ],
)
def test_bad_input_exits_2_with_one_line(cube_files, tmp_path, capsys, case, message):
    labels = np.load(cube_files["labels"])
    bad = tmp_path / "bad.npy"
    out = tmp_path / "out.safetensors"
    argv = ["train", "--image", str(cube_files["image"]), "--labels", str(bad), "--out",
            str(out), *TINY, "--epochs", "1"]
    if case == "other shape":
        np.save(bad, np.ones((24, 32, 41), np.uint8))
    elif case == "no labels":
        np.save(bad, np.zeros_like(labels))
    elif case == "one class":
        np.save(bad, (labels > 0).astype(np.uint8))
    elif case == "fractional":
        np.save(bad, labels + 0.5)
    else:
        np.save(bad, labels)
    if case == "exists":
        out.write_bytes(b"keep me")
    if case == "missing image":
        argv[2] = str(tmp_path / "nope.npy")
    if case == "class names":
        argv += ["--class-names", "salt, sediment, Salt"]
    if case == "budget":
        argv[-1] = "0"
        with pytest.raises(SystemExit) as exc:  # argparse: exit 2 with usage
            main(argv)
        assert exc.value.code == 2 and message in capsys.readouterr().err
        return
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("seisseg train: error:") and message in err
    assert len(err.strip().splitlines()) == 1
    if case == "exists":
        assert out.read_bytes() == b"keep me"
    else:
        assert not out.exists()


def test_resunet_options_reach_the_model(cube_files, tmp_path, capsys):
    out = tmp_path / "res.safetensors"
    argv = ["train", "--image", str(cube_files["image"]), "--labels", str(cube_files["labels"]),
            "--out", str(out), "--model", "resunet", "--width", "4", "--model-depth", "2",
            "--encoder", "resnet34", "--output-stride", "4", "--loss",
            "ce_lovasz", "--patch", "32", "--batch", "2", "--steps-per-epoch", "2",
            "--epochs", "1", "--quiet"]
    assert main(argv) == 0
    card = read_card(out)
    assert card["model"]["encoder"] == "resnet34"
    assert card["model"]["output_stride"] == 4
    assert card["training"]["config"]["loss"] == "ce_lovasz"
    model, _ = load_bundle(out)
    assert model.output_stride == 4 and model.full_res is None


def test_resunet_options_refused_for_other_models(cube_files, tmp_path, capsys):
    argv = ["train", "--image", str(cube_files["image"]), "--labels", str(cube_files["labels"]),
            "--out", str(tmp_path / "x.safetensors"), *TINY, "--output-stride", "2"]
    assert main(argv) == 2
    assert "--output-stride applies to --model resunet" in capsys.readouterr().err
    assert not (tmp_path / "x.safetensors").exists()


def test_augmentation_and_circular_options_reach_the_run(cube_files, tmp_path, capsys):
    out = tmp_path / "aug.safetensors"
    assert _train(cube_files, out, "--epochs", "1", "--augment", "zoom, rotate90,polarity",
                  "--circular-axis", "1") == 0
    card = read_card(out)
    aug = card["training"]["config"]["augment"]
    assert aug["scale"] == 0.15 and aug["rotate"] == 5.0 and aug["rotate90"] and aug["transpose"]
    assert aug["polarity"] == 0.5 and aug["roll_axis"] == 1 and aug["elastic"] == 0.0
    assert card["model"]["circular_axis"] == 1
    model, _ = load_bundle(out)
    assert model.circular_axis == 1


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--augment", "zoom,sharpen"], "Unknown augmentation 'sharpen'; choose from rotate90"),
        (["--augment", "zoom", "--no-augment"], "--no-augment turns every augmentation off"),
        (["--circular-axis", "2"], "circular_axis"),
    ],
)
def test_bad_augmentation_options_exit_2(cube_files, tmp_path, capsys, extra, message):
    out = tmp_path / "x.safetensors"
    assert _train(cube_files, out, "--epochs", "1", *extra) == 2
    err = capsys.readouterr().err
    assert err.startswith("seisseg train: error:") and message in err
    assert not out.exists()


def test_retrain_from_corrections_of_a_predicted_mask(cube_files, tmp_path, capsys):
    """train -> predict -> correct the mask -> train --corrections --predicted --init."""
    first = tmp_path / "first.safetensors"
    assert _train(cube_files, first, "--epochs", "1") == 0
    mask_path = tmp_path / "mask.npy"
    assert main(["predict", "--model", str(first), "--image", str(cube_files["image"]),
                 "--out-mask", str(mask_path), "--quiet", "--device", "cpu"]) == 0
    predicted = np.load(mask_path)
    truth = np.load(cube_files["truth"])
    corrected = predicted.copy()
    corrected[10] = truth[10]  # inline 10 reviewed and corrected
    corrected[11, :4, :4] = 0  # and a little erased
    np.save(tmp_path / "corrected.npy", corrected)
    changed = int(((corrected != predicted) & (corrected != 0)).sum())
    assert changed > 0
    capsys.readouterr()
    out = tmp_path / "second.safetensors"
    code = _train(cube_files, out, "--epochs", "1", "--init", str(first),
                  "--corrections", str(tmp_path / "corrected.npy"), "--predicted", str(mask_path))
    text = capsys.readouterr().out
    assert code == 0
    assert f"labels: {changed:,} corrected voxels of" in text and "erased voxels left out" in text
    card = read_card(out)
    painted = np.load(cube_files["labels"])
    take = (corrected != predicted) & (corrected != 0)
    assert card["labels"]["n_labeled"] == int(((painted != 0) | take).sum())  # painted + changed
    assert card["fine_tuned_from"]["source"] == str(first)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--corrections", "{truth}"], "go together"),
        (["--corrections", "{truth}", "--predicted", "{truth}"], "nothing was corrected"),
        (["--corrections", "{truth}", "--predicted", "{bad}"], "have shape (24, 32, 41)"),
    ],
)
def test_bad_corrections_exit_2(cube_files, tmp_path, capsys, extra, message):
    bad = tmp_path / "bad.npy"
    np.save(bad, np.ones((24, 32, 41), np.uint8))
    out = tmp_path / "out.safetensors"
    extra = [e.format(truth=cube_files["truth"], bad=bad) for e in extra]
    assert _train(cube_files, out, "--epochs", "1", *extra) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1 and not out.exists()


def test_segy_options_describe_the_image_not_the_labels(segy_dir, tmp_path, capsys):
    from napari_seisseg.io import read_segy, write_segy

    image = segy_dir / "f3-lsb.sgy"  # little-endian: --endian little is for it only
    survey = read_segy(image, endian="little")
    data = np.asarray(survey.data)
    labels = np.zeros(data.shape, np.float32)
    labels[[3, 15]] = np.where(data[[3, 15]] > 0, 1, 2)  # two painted inlines
    mask = tmp_path / "labels.sgy"
    write_segy(mask, labels, survey.geometry, sample_format=5)  # big-endian float
    out = tmp_path / "m.safetensors"
    code = main(["train", "--image", str(image), "--labels", str(mask), "--out", str(out),
                 "--endian", "little", "--format", "3", *TINY, "--epochs", "1"])
    assert code == 0, capsys.readouterr().err
    assert read_card(out)["classes"][0]["value"] == 1


def test_val_join_trains_on_the_validation_at_the_end_and_says_when_it_was_measured(
        cube_files, tmp_path, capsys):
    out = tmp_path / "joined.safetensors"
    assert _train(cube_files, out, "--epochs", "2", "--val-join", "0.5") == 0
    text = capsys.readouterr().out
    assert f"model saved to {out} (kept epoch 2, validation mean IoU " in text
    assert "at epoch 1, before the held-out paint joined training)" in text
    assert read_card(out)["validation"]["measured_epoch"] == 1
    assert _train(cube_files, tmp_path / "no.safetensors", "--epochs", "2", "--val-join", "0.5",
                  "--keep", "best") == 2
    err = capsys.readouterr().err
    assert "val_join below 1 keeps the last model" in err and len(err.strip().splitlines()) == 1
