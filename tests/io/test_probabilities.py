"""Telling probability files of seisseg predict from volumes (io.probabilities)."""

from __future__ import annotations

import json

import numpy as np

from napari_seisseg.cli import main
from napari_seisseg.io.probabilities import description_path, is_probabilities


def test_a_stale_description_beside_a_volume_does_not_make_it_probabilities(tmp_path, capsys):
    path = tmp_path / "out.npy"
    desc = {"channels": [{"name": "a", "value": 1}, {"name": "b", "value": 2}], "geometry": None}
    description_path(path).write_text(json.dumps(desc))
    np.save(path, np.zeros((2, 3, 4, 5), np.float32))
    assert is_probabilities(path)
    np.save(path, np.ones((3, 4, 5), np.float32))  # written over with a volume later
    assert not is_probabilities(path)
    assert main(["info", str(path)]) == 0 and "(3, 4, 5)" in capsys.readouterr().out
    assert not is_probabilities(tmp_path / "missing.npy")
