"""The geology of synthetic cubes: labels and impedance on the fine grid."""

from __future__ import annotations

import numpy as np

from napari_seisseg.synthetic_geology import (
    FAULT,
    SALT,
    SEDIMENT,
    ModelGrid,
    earth_model,
)


def _model(salt, n_faults, seed=0):
    seq = np.random.SeedSequence(seed)
    gens = [np.random.default_rng(s) for s in seq.spawn(4)]
    rngs = dict(zip(("layers", "fold", "faults", "salt"), gens, strict=True))
    info = {}
    z, labels = earth_model(ModelGrid(20, 18, 32), rngs, n_faults, salt, (0, seq), info)
    return z, labels, info


def test_the_fine_grid_has_margins_and_oversampling():
    grid = ModelGrid(20, 18, 32)
    assert grid.tf.shape == (grid.ntf,) and grid.tf[0] < 0 < grid.tf[-1]
    z, labels, info = _model(False, 0)
    assert z.shape == labels.shape == (20, 18, grid.ntf) and z.dtype == np.float32
    assert set(np.unique(labels)) == {SEDIMENT} and info["faults"] == []


def test_salt_wins_over_faults_and_the_same_seed_gives_the_same_model():
    z, labels, info = _model(True, 2)
    assert {SEDIMENT, SALT, FAULT} <= set(np.unique(labels))
    assert len(info["faults"]) == 2 and "salt" in info and "folding" in info
    z2, labels2, _ = _model(True, 2)
    assert np.array_equal(z, z2) and np.array_equal(labels, labels2)
