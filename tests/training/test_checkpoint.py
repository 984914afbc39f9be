"""Checkpoints: a killed run leaves its best model, the next run on the cube offers it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path as Path_

import numpy as np
from training_helpers import TINY, sections_only, toy_cube

from napari_seisseg.bundle import load_bundle
from napari_seisseg.jobs import drain
from napari_seisseg.training import TrainConfig, train
from napari_seisseg.training.checkpoint import Checkpointer, find_checkpoints
from napari_seisseg.training.pretrain_store import cube_fingerprint

_KILLED_RUN = """
import sys, numpy as np, torch
sys.path.insert(0, sys.argv[2])
from training_helpers import TINY, sections_only, toy_cube
from napari_seisseg.training import TrainConfig, train
torch.set_num_threads(1)
image, truth = toy_cube()
np.save(sys.argv[1], image)
config = TrainConfig(model="unet2d", model_kwargs=dict(TINY), patch_size=24, batch_size=4,
                     epochs=100000, early_stopping=None, steps_per_epoch=2,
                     checkpoint_minutes=1e-6)
for event in train(image, sections_only(truth, 0, [2, 9]), config, image_name="toy.npy"):
    pass
"""


def test_a_killed_run_leaves_its_best_model_and_the_next_run_offers_it(tmp_path, capsys):
    from pathlib import Path

    here = str(Path(__file__).parent)
    proc = subprocess.Popen([sys.executable, "-c", _KILLED_RUN, str(tmp_path / "toy.npy"), here],
                            env=os.environ.copy())
    folder = Path(os.environ["SEISSEG_MODEL_DIR"]) / "checkpoints"
    try:
        deadline = time.time() + 120
        while time.time() < deadline and not list(folder.glob("*.json")):
            assert proc.poll() is None, "the training process ended early"
            time.sleep(0.2)
        time.sleep(1.0)  # a few more epochs, so a later checkpoint replaces the first
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    image = np.load(tmp_path / "toy.npy")
    assert find_checkpoints(cube_fingerprint(image[::-1].copy())) == []  # another cube
    [info] = find_checkpoints(cube_fingerprint(image))
    assert info.model == "unet2d" and info.image == "toy.npy" and info.epoch >= 1
    assert 0.0 <= info.validation <= 1.0
    assert "a run of unet2d on toy.npy did not finish; its best model (validation" in \
        info.describe() and str(info.path) in info.describe()
    model, card = load_bundle(info.path)  # an ordinary bundle: predict or fine-tune from it
    assert card["validation"]["epoch"] == info.epoch and card["training"]["stop_reason"] == "checkpoint"
    # the CLI's next training on that cube says so, with the option to continue
    from napari_seisseg.cli import main

    _, truth = toy_cube()
    np.save(tmp_path / "labels.npy", sections_only(truth, 0, [2, 9]))
    assert main(["train", "--image", str(tmp_path / "toy.npy"), "--labels",
                 str(tmp_path / "labels.npy"), "--out", str(tmp_path / "m.safetensors"),
                 "--model", "unet2d", "--width", "4", "--model-depth", "2", "--patch", "24",
                 "--epochs", "1", "--steps-per-epoch", "2", "--device", "cpu", "--quiet",
                 "--init", str(info.path)]) == 0
    out = capsys.readouterr().out
    assert "a run of unet2d on toy.npy did not finish" in out and f"--init {info.path}" in out
    # the result was saved: the checkpoint it continued from is retired
    assert not info.path.exists() and find_checkpoints() == []


def test_a_saved_result_removes_its_checkpoint(tmp_path, monkeypatch):
    image, truth = toy_cube()
    config = TrainConfig(model="unet2d", model_kwargs=dict(TINY), patch_size=24, batch_size=4,
                         epochs=3, steps_per_epoch=2, checkpoint_minutes=1e-6)
    monkeypatch.setenv("SEISSEG_MODEL_DIR", str(tmp_path / "store"))
    folder = tmp_path / "store" / "checkpoints"
    seen = []

    def watch(event):
        if getattr(event, "text", "").startswith("Checkpoint:"):
            seen.append(sorted(p.suffix for p in folder.glob("*")))

    result = drain(train(image, sections_only(truth, 0, [2, 9]), config), watch)
    assert seen and seen[0] == [".json", ".safetensors"]
    assert len(list(folder.glob("*.safetensors"))) == 1  # kept until the result is saved
    result.save(tmp_path / "m.safetensors")
    assert list(folder.glob("*")) == [] and result.stop_reason == "epochs"


def test_an_error_that_ends_a_run_names_its_checkpoint(tmp_path, monkeypatch):
    import pytest

    from napari_seisseg.errors import SeisSegError
    from napari_seisseg.training import run

    image, truth = toy_cube()
    config = TrainConfig(model="unet2d", model_kwargs=dict(TINY), patch_size=24, batch_size=4,
                         epochs=4, steps_per_epoch=2, checkpoint_minutes=1e-6)
    real, calls = run._optimise, []

    def diverges(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs) if len(calls) <= 4 else None  # then the loss is NaN

    monkeypatch.setattr(run, "_optimise", diverges)
    with pytest.raises(SeisSegError, match="training diverged.*best model so far is saved at"):
        drain(train(image, sections_only(truth, 0, [2, 9]), config))
    [info] = [c for c in find_checkpoints() if c.survey == cube_fingerprint(image)] or [None]
    assert info is None  # this process still runs: not offered as a killed run
    assert len(list((Path_(os.environ["SEISSEG_MODEL_DIR"]) / "checkpoints").glob("*.json"))) == 1


def test_checkpoint_pruning_keeps_the_newest_and_removes_orphans(tmp_path):
    from napari_seisseg.training.checkpoint import KEEP, prune

    image, truth = toy_cube()
    result = drain(train(image, sections_only(truth, 0, [2, 9]), TrainConfig(
        model="unet2d", model_kwargs=dict(TINY), patch_size=24, batch_size=4, epochs=1,
        steps_per_epoch=2, checkpoint_minutes=None)))
    dead = int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True).stdout)
    for i in range(KEEP + 2):
        c = Checkpointer("unet2d", "toy", "abc", 0.0, folder=tmp_path)
        c.path = tmp_path / f"20261205-12000{i}-unet2d-{dead}.safetensors"
        c.save(result.model.state_dict(), result.card, 1.0, 1, 0.5)
        meta = json.loads(c.path.with_suffix(".json").read_text())
        meta.update(pid=dead, saved=1000.0 + i)
        c.path.with_suffix(".json").write_text(json.dumps(meta))
    orphan = tmp_path / f"20261205-110000-unet2d-{dead}.safetensors"
    orphan.write_bytes(b"half")
    mine = tmp_path / "20261205-110000-my-own-model.safetensors"  # not a checkpoint name
    mine.write_bytes(b"mine")
    removed = prune(tmp_path)  # (each save pruned too)
    assert orphan in removed and mine.exists()
    assert len(list(tmp_path.glob("*.safetensors"))) == KEEP + 1  # + the user's own file
    assert [c.saved for c in find_checkpoints(folder=tmp_path)] == [
        1000.0 + i for i in range(KEEP + 1, 1, -1)]


def test_checkpoints_of_running_processes_and_unreadable_files_are_not_offered(tmp_path):
    image, truth = toy_cube()
    result = drain(train(image, sections_only(truth, 0, [2, 9]), TrainConfig(
        model="unet2d", model_kwargs=dict(TINY), patch_size=24, batch_size=4, epochs=1,
        steps_per_epoch=2, checkpoint_minutes=None)))
    survey = cube_fingerprint(image)
    mine = Checkpointer("unet2d", "toy", survey, 0.0, folder=tmp_path)
    mine.save(result.model.state_dict(), result.card, 1.0, 1, 0.5)
    assert find_checkpoints(survey, folder=tmp_path) == []  # this process is running
    meta = json.loads(mine.path.with_suffix(".json").read_text())
    dead = int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True).stdout)
    mine.path.with_suffix(".json").write_text(json.dumps({**meta, "pid": dead}))
    (tmp_path / "broken.json").write_text("{not json")
    (tmp_path / "orphan.json").write_text(json.dumps({**meta, "pid": dead}))  # no bundle
    [info] = find_checkpoints(survey, folder=tmp_path)
    assert info.path == mine.path and info.validation == 0.5
