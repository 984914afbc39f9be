"""Tests of the synthetic labeled cube (napari_seisseg.synthetic)."""

from __future__ import annotations

import numpy as np
import pytest

from napari_seisseg.io.geometry import SurveyGeometry
from napari_seisseg.synthetic import (
    CLASS_NAMES,
    DEFAULT_SHAPE,
    SyntheticCube,
    make_synthetic_cube,
)

SMALL = (24, 20, 48)


@pytest.fixture(scope="module")
def cube() -> SyntheticCube:
    return make_synthetic_cube(seed=0)


def _best_lags(a: np.ndarray, b: np.ndarray, window: slice, max_lag: int) -> np.ndarray:
    """Lag L maximising the correlation of a[..., t] with b[..., t - L] over ``window``."""
    lags = np.arange(-max_lag, max_lag + 1)
    seg = a[..., window]
    corr = []
    for lag in lags:
        ref = b[..., window.start - lag : window.stop - lag]
        corr.append((seg * ref).sum(-1) / np.sqrt((seg * seg).sum(-1) * (ref * ref).sum(-1)))
    return lags[np.argmax(np.stack(corr), axis=0)]


def test_default_cube_shapes_dtypes_geometry(cube):
    assert cube.seismic.shape == DEFAULT_SHAPE
    assert cube.labels.shape == DEFAULT_SHAPE
    assert cube.seismic.dtype == np.float32
    assert cube.labels.dtype == np.uint8
    assert np.isfinite(cube.seismic).all()
    assert cube.seismic.std() == pytest.approx(1.0, rel=1e-3)
    assert abs(float(cube.seismic.mean())) < 0.1
    assert set(np.unique(cube.labels)) == {1, 2, 3}

    geom = cube.geometry
    assert isinstance(geom, SurveyGeometry)
    assert geom.kind == "cube"
    assert geom.shape == cube.seismic.shape
    assert geom.axes == ("inline", "crossline", "sample")
    assert geom.dt == 4.0 and geom.unit == "ms" and geom.domain == "time"
    assert geom.ilines[0] == 100 and geom.xlines[0] == 300
    assert geom.iline_byte == 189 and geom.xline_byte == 193
    assert "seed=0" in geom.text_header
    assert geom.notes


def test_class_metadata(cube):
    assert cube.class_names == CLASS_NAMES == ("sediment", "salt", "fault")
    assert set(cube.class_colors) == {0, 1, 2, 3}
    assert tuple(cube.class_colors[0]) == (0.0, 0.0, 0.0, 0.0)
    for value in range(1, 4):
        rgba = np.asarray(cube.class_colors[value], dtype=float)
        assert rgba.shape == (4,) and ((rgba >= 0) & (rgba <= 1)).all() and rgba[3] > 0
    colors = {tuple(cube.class_colors[v]) for v in range(4)}
    assert len(colors) == 4
    cmap = cube.label_colormap()
    assert cmap[None] == (0.0, 0.0, 0.0, 0.0)
    assert all(cmap[v] == cube.class_colors[v] for v in range(4))
    table = cube.class_table()
    assert table == {"index": [0, 1, 2, 3], "class": ["unlabeled", "sediment", "salt", "fault"]}


def test_class_fractions(cube):
    fractions = {name: float(np.mean(cube.labels == i + 1)) for i, name in enumerate(CLASS_NAMES)}
    assert 0.05 <= fractions["salt"] <= 0.30
    assert 0.01 <= fractions["fault"] <= 0.10
    assert fractions["sediment"] >= 0.6
    assert sum(fractions.values()) == pytest.approx(1.0)


def test_same_seed_is_bit_identical():
    a = make_synthetic_cube(SMALL, seed=7)
    b = make_synthetic_cube(SMALL, seed=7)
    assert np.array_equal(a.seismic, b.seismic)
    assert np.array_equal(a.labels, b.labels)
    assert np.array_equal(a.sparse_labels(seed=3), b.sparse_labels(seed=3))


def test_different_seeds_differ():
    a = make_synthetic_cube(SMALL, seed=1)
    b = make_synthetic_cube(SMALL, seed=2)
    assert not np.array_equal(a.labels, b.labels)
    assert np.corrcoef(a.seismic.ravel(), b.seismic.ravel())[0, 1] < 0.5


@pytest.mark.parametrize("shape", [(16, 16, 32), (17, 19, 33), (21, 16, 45)])
def test_tiny_and_odd_shapes(shape):
    c = make_synthetic_cube(shape, seed=5)
    assert c.seismic.shape == c.labels.shape == shape
    assert c.geometry.shape == shape
    assert np.isfinite(c.seismic).all()
    assert set(np.unique(c.labels)) <= {1, 2, 3}
    assert 2 in c.labels  # the salt body scales with the cube
    sparse = c.sparse_labels()
    assert sparse.shape == shape and sparse.dtype == np.uint8


@pytest.mark.parametrize(
    "shape", [(15, 16, 32), (16, 16, 31), (16, 16), (16, 16, 32, 2)]
)
def test_bad_shape_raises(shape):
    with pytest.raises(ValueError):
        make_synthetic_cube(shape)


def test_switches_remove_classes():
    c = make_synthetic_cube(SMALL, seed=4, n_faults=0, salt=False, snr=np.inf)
    assert set(np.unique(c.labels)) == {1}
    c = make_synthetic_cube(SMALL, seed=4, n_faults=1, salt=False)
    assert set(np.unique(c.labels)) == {1, 3}
    assert len(c.info["faults"]) == 1


def test_channels_and_gas_sands_add_classes_without_moving_the_rest():
    plain = make_synthetic_cube((40, 36, 64), seed=5, n_faults=1, salt=False)
    both = make_synthetic_cube((40, 36, 64), seed=5, n_faults=1, salt=False, n_channels=3,
                               n_anomalies=4)
    assert both.class_names == (*CLASS_NAMES, "channel", "amplitude anomaly")
    assert set(np.unique(both.labels)) == {1, 3, 4, 5}
    assert 5 in both.class_colors and "5 amplitude anomaly" in both.geometry.notes[1]
    # the faults are where they were; channels and sands only replace sediment
    assert np.array_equal(plain.labels == 3, both.labels == 3)
    assert set(np.unique(plain.labels[both.labels >= 4])) == {1}
    # gas sands without channels keep the label values (5, not 4)
    gas_only = make_synthetic_cube((40, 36, 64), seed=5, salt=False, n_anomalies=4)
    assert set(np.unique(gas_only.labels)) >= {1, 5} and 4 not in gas_only.labels
    assert gas_only.class_names[4] == "amplitude anomaly"


def test_gas_sands_are_bright_spots():
    c = make_synthetic_cube((48, 44, 80), seed=6, n_faults=0, salt=False, n_anomalies=5)
    gas = c.labels == 5
    assert 0.002 < gas.mean() < 0.1
    # within two samples of a sand, the amplitude is far above the cube's
    near = gas.copy()
    for shift in (-2, -1, 1, 2):
        near |= np.roll(gas, shift, axis=-1)
    rms_near = np.sqrt(np.mean(c.seismic[near] ** 2))
    rms_far = np.sqrt(np.mean(c.seismic[~near] ** 2))
    assert rms_near > 2.0 * rms_far


def test_salt_interior_is_dim_and_its_top_bright(cube):
    salt = cube.labels == 2
    sediment = cube.labels == 1
    # salt voxels at least 3 samples and 2 traces away from the edge of the body
    core = salt.copy()
    for axis, reach in ((0, 2), (1, 2), (2, 3)):
        for shift in range(1, reach + 1):
            for sign in (-1, 1):
                core &= np.roll(salt, sign * shift, axis=axis)
    assert core.sum() > 1000
    rms_salt = np.sqrt(np.mean(cube.seismic[core] ** 2))
    rms_sed = np.sqrt(np.mean(cube.seismic[sediment] ** 2))
    assert rms_salt < 0.4 * rms_sed

    # top of salt: the first salt sample of every trace through the crest is a strong event
    has_salt = salt.any(axis=-1)
    top = np.argmax(salt, axis=-1)
    ii, jj = np.nonzero(has_salt & (top > 3))
    kk = top[ii, jj]
    window = np.stack([np.abs(cube.seismic[ii, jj, kk + d]) for d in (-2, -1, 0, 1)])
    assert np.median(window.max(axis=0)) > 1.5 * rms_sed


def test_faults_offset_reflectors():
    # one fault, no salt, no noise: the same seed without the fault is the unfaulted model
    shape = (32, 32, 96)
    plain = make_synthetic_cube(shape, seed=3, n_faults=0, salt=False, snr=np.inf)
    faulted = make_synthetic_cube(shape, seed=3, n_faults=1, salt=False, snr=np.inf)
    fault = faulted.info["faults"][0]
    lo = fault["throw"] * (1 - fault["throw_var"]) - 1
    hi = fault["throw"] * (1 + fault["throw_var"]) + 1
    assert lo >= 2  # several samples
    fault_zone = faulted.labels == 3
    # hanging-wall traces are the unfaulted ones shifted down by the throw, footwall traces
    # are unchanged (checked on windows well clear of where the trace crosses the fault)
    # (the fault dips, so shallow windows are mostly hanging wall, deep ones footwall)
    all_lags = []
    for start in (14, 40, 66):
        window = slice(start, start + 16)
        clear = ~fault_zone[..., start - 12 : start + 28].any(axis=-1)
        assert clear.mean() > 0.3
        all_lags.append(_best_lags(faulted.seismic, plain.seismic, window, 12)[clear])
    lags = np.concatenate(all_lags)
    down = (lags >= lo) & (lags <= hi)
    same = lags == 0
    assert (down | same).mean() > 0.95
    assert down.mean() > 0.2 and same.mean() > 0.2


def test_fault_label_is_a_thin_zone(cube):
    zone = cube.labels == 3
    # along every row of an inline, runs of fault voxels are a few voxels wide
    d = np.diff(np.pad(zone, ((0, 0), (1, 1), (0, 0))).astype(np.int8), axis=1)
    starts = np.argwhere(d == 1)
    ends = np.argwhere(d == -1)
    widths = ends[:, 1] - starts[:, 1]
    assert widths.size > 0
    assert np.median(widths) <= 4
    # the fault zone reaches across most of the cube's height
    assert zone.any(axis=(0, 1)).mean() > 0.8


def test_sparse_labels_default(cube):
    sparse = cube.sparse_labels()
    slices = cube.labeled_slices()
    assert len(slices["inline"]) == 3 and len(slices["crossline"]) == 2
    assert len(slices["sample"]) == 0
    keep = np.zeros(cube.labels.shape, dtype=bool)
    keep[slices["inline"]] = True
    keep[:, slices["crossline"]] = True
    assert sparse.dtype == np.uint8 and sparse.shape == cube.labels.shape
    np.testing.assert_array_equal(sparse[keep], cube.labels[keep])
    assert not sparse[~keep].any()
    assert set(np.unique(sparse)) == {0, 1, 2, 3}
    # slices are spread out, away from the edges
    assert all(0 < i < cube.labels.shape[0] - 1 for i in slices["inline"])
    assert np.all(np.diff(slices["inline"]) > cube.labels.shape[0] // 8)


def test_sparse_labels_options(cube):
    ni, nx, nt = cube.labels.shape
    sparse = cube.sparse_labels(n_inlines=1, n_crosslines=0, n_timeslices=2)
    slices = cube.labeled_slices(n_inlines=1, n_crosslines=0, n_timeslices=2)
    assert len(slices["sample"]) == 2 and len(slices["crossline"]) == 0
    keep = np.zeros(cube.labels.shape, dtype=bool)
    keep[slices["inline"]] = True
    keep[:, :, slices["sample"]] = True
    np.testing.assert_array_equal(sparse[keep], cube.labels[keep])
    assert not sparse[~keep].any()

    jittered = cube.labeled_slices(seed=11)
    assert len(jittered["inline"]) == 3
    assert np.array_equal(jittered["inline"], cube.labeled_slices(seed=11)["inline"])
    assert all(0 <= i < ni for i in jittered["inline"])

    assert not cube.sparse_labels(0, 0, 0).any()
    many = cube.labeled_slices(n_inlines=10 * ni)
    assert len(many["inline"]) == ni
