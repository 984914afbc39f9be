"""``seisseg pretrain`` end to end on a real SEG-Y file."""

from __future__ import annotations

import pytest

from napari_seisseg.cli import main
from napari_seisseg.store import pretrained_dir
from napari_seisseg.training.pretrain_store import load_pretrained

TINY = ["--width", "4", "--model-depth", "1", "--patch", "16", "--batch", "2", "--seed", "0",
        "--quiet"]


def test_the_hybrid_pretrains_on_f3_caches_and_writes_its_file(tmp_f3, tmp_path, capsys):
    out = tmp_path / "hybrid.safetensors"
    argv = ["pretrain", "--image", str(tmp_f3), "--minutes", "0.02", "--model", "hybrid",
            "--context", "1", "--out", str(out), *TINY]
    assert main(argv) == 0
    assert "Pretrained hybrid" in capsys.readouterr().out
    state, card = load_pretrained(out)
    assert card["model"]["name"] == "hybrid" and card["model"]["context"] == 1 and state
    assert len(list(pretrained_dir().glob("*.safetensors"))) == 1  # cached for this survey
    # the file is never replaced unasked
    assert main(argv) == 2
    assert "already exists" in capsys.readouterr().err
    # a 3D model is not among the choices
    with pytest.raises(SystemExit) as stop:
        main(["pretrain", "--image", str(tmp_f3), "--minutes", "0.02", "--model", "unet3d"])
    assert stop.value.code == 2


def test_auto_pretrains_as_training_will_choose_for_the_paint(tmp_f3, tmp_path, capsys):
    # f3.sgy reads as (inline, crossline, sample) = (23, 18, 75); 3 time slices painted
    import numpy as np

    painted = np.zeros((23, 18, 75), np.uint8)
    painted[:, :, [20, 40, 60]] = 1
    painted[5:12, 4:9, [20, 40, 60]] = 2
    labels = tmp_path / "ts.npy"
    np.save(labels, painted)
    out = tmp_path / "auto.safetensors"
    argv = ["pretrain", "--image", str(tmp_f3), "--minutes", "0.02", "--labels", str(labels),
            "--context", "1", "--out", str(out), *TINY]
    assert main(argv) == 0
    assert "model auto: hybrid" in capsys.readouterr().out
    assert load_pretrained(out)[1]["model"]["name"] == "hybrid"
    # paint training would refuse: a warning on stderr, and sections are pretrained
    np.save(labels, np.zeros_like(painted))
    assert main([*argv, "--overwrite"]) == 0
    captured = capsys.readouterr()
    assert "warning: The labels did not choose the model" in captured.err
    assert "model auto: unet2d" in captured.out
    # --labels with a model named: said, and the model asked for is pretrained
    assert main([*argv, "--overwrite", "--model", "unet2d"]) == 0
    assert "note: --labels chooses the model for --model auto only" in capsys.readouterr().out
    # labels of another shape: refused before any pretraining, naming both files
    np.save(labels, painted[:, :, :-1])
    assert main([*argv, "--overwrite"]) == 2
    err = capsys.readouterr().err
    assert "shape (23, 18, 74)" in err and "f3.sgy" in err
    # --zero-is-background describes labels: refused without them
    assert main(["pretrain", "--image", str(tmp_f3), "--zero-is-background", *TINY]) == 2
    assert "give --labels too" in capsys.readouterr().err
