"""Validation split: held-out voxels never stay in the training labels."""

from __future__ import annotations

import numpy as np
import pytest

from napari_seisseg.io.geometry import SurveyGeometry
from napari_seisseg.training.data import prepare_data, split_data
from napari_seisseg.training.split import held_out_from_target

SHAPE = (10, 12, 14)


def _image():
    return np.random.default_rng(0).standard_normal(SHAPE).astype(np.float32)


def _check_partition(labels, data, gap=False):
    """Training and validation voxels are disjoint and together are every labeled voxel
    (``gap``: all but the gaps beside held-out bands, which neither set uses)."""
    held = data.held
    shape = labels.shape
    val = held.read(tuple(slice(0, n) for n in shape))
    train = data.target
    assert not np.any((train > 0) & (val > 0))
    union = (train > 0) | (val > 0)
    if gap:
        assert not np.any(union & (labels == 0))
    else:
        assert np.array_equal(union, labels > 0)
    # classes are kept (target = class index + 1)
    both = np.where(train > 0, train, val)
    assert np.array_equal(both[union], labels[union])
    return train, val


def test_many_sections_hold_out_whole_sections_without_leak():
    rng = np.random.default_rng(1)
    labels = np.zeros(SHAPE, np.uint8)
    for i in range(SHAPE[0]):
        labels[i] = rng.integers(1, 3, size=SHAPE[1:])
    labels[:, 6, :] = rng.integers(1, 3, size=(SHAPE[0], SHAPE[2]))
    data = prepare_data(_image(), labels)
    held = split_data(data, kind="2d", fraction=0.2, seed=0)
    assert held.axis == 0 and len(held.indices) == 2
    train, val = _check_partition(labels, data)
    # a held-out inline is gone from the crossline too (no leak through the crossing)
    assert not train[held.indices[0]].any()
    assert val[held.indices[0]].sum() > 0 and "held out 2 of 10" in held.description
    assert held.counts_along(1)[6] == 2 * SHAPE[2]


def test_few_sections_keep_most_labels_and_hold_out_separate_bands_across_traces():
    shape = (8, 60, 50)  # inline, crossline, sample
    rng = np.random.default_rng(5)
    labels = np.zeros(shape, np.uint8)
    layers = np.repeat(np.arange(1, 6), 10)  # five layers down the trace
    for i in (2, 5):
        labels[i] = layers[None, :]
        labels[i, rng.integers(0, 60, 5)] = 6  # a rare class on a few traces
    image = rng.standard_normal(shape).astype(np.float32)
    data = prepare_data(image, labels)
    held = split_data(data, kind="2d", fraction=0.2, seed=0)
    assert held.axis == 0 and held.indices == [2, 5]
    train, val = _check_partition(labels, data, gap=True)
    painted = np.count_nonzero(labels)
    assert np.count_nonzero(train) >= 0.7 * painted  # most painted voxels are trained on
    assert 0.15 * painted <= np.count_nonzero(val) <= 0.25 * painted
    for i in held.indices:
        cols = np.flatnonzero(val[i].any(axis=1))  # held-out crosslines
        # a band across the traces: whole traces, every layer (depth) of them
        assert np.array_equal(np.flatnonzero(val[i].any(axis=0)), np.arange(50))
        assert np.array_equal(cols, np.arange(cols[0], cols[-1] + 1))
        trained = np.flatnonzero(train[i].any(axis=1))
        assert np.abs(trained[:, None] - cols[None, :]).min() >= 2  # a gap on each side
        for layer in range(1, 6):  # every layer stays in training
            assert (train[i] == layer).any()
    assert "band of crossline" in held.description or "band of axis 1" in held.description


@pytest.mark.parametrize("kind", ["2d", "3d"])
def test_single_section_holds_out_a_band(kind):
    labels = np.zeros(SHAPE, np.uint8)
    labels[4, :, :7] = 1
    labels[4, :, 7:] = 2
    data = prepare_data(_image(), labels)
    held = split_data(data, kind=kind, fraction=0.25, seed=3)
    assert held.indices == [4]
    train, val = _check_partition(labels, data, gap=True)
    share = (val > 0).sum() / (labels > 0).sum()
    assert 0.15 < share < 0.35
    assert train.any()


def test_axes_restriction_picks_the_split_axis():
    rng = np.random.default_rng(2)
    labels = np.zeros(SHAPE, np.uint8)
    for i in range(SHAPE[0]):  # a stack of dense tiles along axis 0 ...
        labels[i] = rng.integers(1, 3, size=SHAPE[1:])
    data = prepare_data(_image(), labels, axes=(0,))
    held = split_data(data, kind="2d", fraction=0.2, seed=0)
    assert held.axis == 0 and len(held.indices) == 2  # ... holds out whole tiles
    _check_partition(labels, data)


def test_explicit_validation_labels_are_removed_from_training():
    labels = np.zeros(SHAPE, np.uint8)
    labels[2] = 1
    labels[2, :, 7:] = 2
    labels[6] = 2
    val_labels = np.zeros(SHAPE, np.uint8)
    val_labels[6, :4] = 2
    val_labels[8] = 1
    data = prepare_data(_image(), labels, val_labels=val_labels)
    held = split_data(data, kind="2d", fraction=0.2, seed=0)
    assert held.indices == [6, 8]
    assert not data.target[6, :4].any() and data.target[6, 4:].all()
    assert "also painted" in held.description


def test_held_out_read_matches_dense():
    rng = np.random.default_rng(4)
    dense = (rng.random(SHAPE) < 0.1) * rng.integers(1, 3, SHAPE)
    held = held_out_from_target(dense.astype(np.uint8), "x")
    region = (slice(2, 7), slice(3, 12), slice(0, 5))
    assert np.array_equal(held.read(region), dense[region])
    for ax in range(3):
        other = tuple(a for a in range(3) if a != ax)
        assert np.array_equal(held.counts_along(ax), np.count_nonzero(dense, axis=other))
    assert held.n_voxels == np.count_nonzero(dense)


def test_no_validation_when_fraction_is_zero():
    labels = np.zeros(SHAPE, np.uint8)
    labels[2], labels[5] = 1, 2
    data = prepare_data(_image(), labels)
    assert split_data(data, kind="2d", fraction=0.0, seed=0) is None
    assert data.target.any()


def test_best_draw_keeps_the_first_best_and_stops_at_a_perfect_score():
    from napari_seisseg.training.split import _DRAWS, _best_draw

    draws = iter(range(100))
    calls = []

    def draw():
        calls.append(1)
        return next(draws)

    assert _best_draw(draw, lambda v: (v % 3,)) == 2  # 2, 5, 8 ... score equally: the first
    assert len(calls) == _DRAWS
    calls.clear()
    assert _best_draw(draw, lambda v: (v - _DRAWS,), perfect=(3,)) == _DRAWS + 3
    assert len(calls) == 4  # stopped at the perfect draw


@pytest.mark.parametrize("domain, word", [("time", "time"), ("depth", "depth")])
def test_split_names_time_slices_as_the_survey_does(domain, word):
    # labels on a few time slices of a cube with a geometry: the sentence says "time slice",
    # not the geometry's internal "sample"; an array without a geometry keeps "axis k"
    shape = (16, 20, 30)  # inline, crossline, sample
    labels = np.zeros(shape, np.uint8)
    for t in (5, 14, 23):
        labels[:, :, t] = 1
        labels[3:9, 4:10, t] = 2
    image = np.random.default_rng(2).standard_normal(shape).astype(np.float32)
    g = SurveyGeometry(kind="cube", n_samples=30, dt=4.0, domain=domain,
                       ilines=np.arange(100, 116), xlines=np.arange(200, 220))
    data = prepare_data(image, labels, geometry=g)
    held = split_data(data, kind="2d", fraction=0.2, seed=0)
    assert held.axis == 2
    assert f"labeled {word} slice(s)" in held.description, held.description
    assert "sample" not in held.description
    plain = prepare_data(image, labels)
    assert "labeled axis 2 slice(s)" in split_data(plain, kind="2d", fraction=0.2, seed=0).description


def test_a_2d_line_names_its_traces_by_the_trace_key():
    # a 2D line gets a leading "section" axis; its words follow the geometry (cdp, depth)
    line = np.random.default_rng(3).standard_normal((60, 40)).astype(np.float32)
    labels = np.zeros(line.shape, np.uint8)
    labels[:, 5:35] = np.where(line[:, 5:35] > 0, 2, 1)
    g = SurveyGeometry(kind="section", n_samples=40, dt=4.0, domain="depth",
                       traces=np.arange(1000, 1060), trace_key="cdp")
    data = prepare_data(line, labels, geometry=g)
    assert data.axis_names == ["section", "trace", "sample"]
    assert data.axis_words == ["section", "cdp", "depth"]


@pytest.mark.parametrize("n_sections", [4, 10])
def test_rejoin_gives_training_back_every_voxel_the_split_took(n_sections):
    shape = (12, 40, 30)
    rng = np.random.default_rng(3)
    labels = np.zeros(shape, np.uint8)
    for i in range(n_sections):
        labels[i] = rng.integers(1, 4, size=shape[1:])
    data = prepare_data(np.zeros(shape, np.float32), labels)
    before = data.target.copy()
    held = split_data(data, kind="2d", fraction=0.2, seed=0)
    whole = "held out 2 of 10" in held.description
    assert whole == (n_sections == 10) and (n_sections == 10 or "band" in held.description)
    assert held.can_rejoin and held.automatic and not np.array_equal(data.target, before)
    taken = int(np.count_nonzero(before) - np.count_nonzero(data.target))
    assert held.rejoin(data.target) == taken  # bands (or whole sections) and their gaps
    assert np.array_equal(data.target, before)


def test_validation_labels_given_by_the_user_never_rejoin():
    held = held_out_from_target(np.ones((2, 3, 4), np.uint8), "given")
    assert not held.can_rejoin and not held.automatic
