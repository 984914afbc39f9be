"""The geology of synthetic cubes: labels and impedance on the fine grid."""

from __future__ import annotations

import numpy as np

from napari_seisseg.synthetic_geology import (
    ANOMALY,
    FAULT,
    OVERSAMPLE,
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
    z, labels = earth_model(ModelGrid(20, 18, 32), rngs, n_faults, salt, (0, 0, seq), info)
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


def _gas_model(n_anomalies):
    seq = np.random.SeedSequence(4)
    gens = [np.random.default_rng(s) for s in seq.spawn(4)]
    rngs = dict(zip(("layers", "fold", "faults", "salt"), gens, strict=True))
    info = {}
    z, labels = earth_model(ModelGrid(40, 36, 48), rngs, 1, False, (0, n_anomalies, seq), info)
    return z, labels, info


def test_gas_sands_are_low_impedance_bodies_inside_one_layer_under_faults():
    z, labels, info = _gas_model(3)
    gas = labels == ANOMALY
    assert info["anomalies"] == 3 and 0 < gas.mean() < 0.1
    # one impedance, far below the layers' (the brightest reflections of the cube)
    assert np.unique(z[gas]).size == 1 and z[gas][0] < np.quantile(z[~gas], 0.05)
    # a trace crosses each of the 3 sands at most once, a few samples thick (fine grid: x4)
    runs = np.diff(gas.astype(np.int8), axis=-1)
    assert (runs == 1).sum(axis=-1).max() <= 3
    thick = gas.sum(axis=-1)[gas.any(axis=-1)] / OVERSAMPLE
    assert thick.max() <= 10.0 * 1.6  # at most 10 samples of stratigraphy, stretched
    # faults cut the sands: the fault zone is where it is without them, the sands only
    # replace sediment
    _, plain, _ = _gas_model(0)
    assert np.array_equal(plain == FAULT, labels == FAULT) and (labels == FAULT).any()
    assert set(np.unique(plain[gas])) == {SEDIMENT}
