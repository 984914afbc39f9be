"""Masks in the training convention, normalised entropy, slice ranking."""

from __future__ import annotations

import numpy as np
import pytest

from napari_seisseg.errors import SeisSegError
from napari_seisseg.inference import (
    probabilities_to_mask,
    rank_slices,
    slice_uncertainty,
    to_stored,
    uncertainty,
)


def test_mask_is_argmax_plus_one_and_dead_zero():
    p = np.zeros((3, 2, 4), np.float32)
    p[0, 0], p[1, 1, :2], p[2, 1, 2:] = 1, 1, 1
    dead = np.array([False, True])
    mask = probabilities_to_mask(p, dead_mask=np.broadcast_to(dead[:, None], (2, 4)))
    np.testing.assert_array_equal(mask, [[1, 1, 1, 1], [0, 0, 0, 0]])
    np.testing.assert_array_equal(probabilities_to_mask(p)[1], [2, 2, 3, 3])
    assert mask.dtype == np.uint8


def test_binary_threshold_gives_classes_one_and_two():
    p = np.array([[[0.1, 0.5, 0.7, 0.95]]], np.float32)
    np.testing.assert_array_equal(probabilities_to_mask(p), [[1, 2, 2, 2]])
    np.testing.assert_array_equal(probabilities_to_mask(p, threshold=0.8), [[1, 1, 1, 2]])
    np.testing.assert_array_equal(probabilities_to_mask(to_stored(p, "uint8"), threshold=0.8), [[1, 1, 1, 2]])
    two = np.concatenate([1 - p, p])
    np.testing.assert_array_equal(probabilities_to_mask(two, threshold=0.8), [[1, 1, 1, 2]])
    with pytest.raises(SeisSegError, match="threshold"):
        probabilities_to_mask(np.ones((3, 2, 2)), threshold=0.5)


def test_uncertainty_is_normalised_entropy():
    p = np.stack([np.full((2, 2), 1 / 3), np.full((2, 2), 1 / 3), np.full((2, 2), 1 / 3)])
    p[:, 0, 0] = [1, 0, 0]
    u = uncertainty(p)
    assert u[0, 0] == pytest.approx(0, abs=1e-5)
    np.testing.assert_allclose(u.ravel()[1:], 1, atol=1e-5)
    binary = uncertainty(np.array([[[0.5, 0.0, 1.0]]]))
    np.testing.assert_allclose(binary, [[1, 0, 0]], atol=1e-5)
    assert uncertainty(p, dead_mask=np.array([[False, True], [False, False]]))[0, 1] == 0


def test_rank_slices_ignores_dead_traces_and_spreads_out():
    unc = np.full((10, 6, 5), 0.1, np.float32)
    unc[3] = 0.9
    unc[4] = 0.8
    unc[7, :2] = 1.0  # high, but only on dead traces
    dead = np.zeros((10, 6), bool)
    dead[7, :2] = True
    np.testing.assert_array_equal(rank_slices(unc, 0, 2, dead_mask=dead), [3, 4])
    np.testing.assert_array_equal(rank_slices(unc, 0, 2, dead_mask=dead, min_gap=1)[:1], [3])
    assert 4 not in rank_slices(unc, 0, 3, dead_mask=dead, min_gap=1)
    assert rank_slices(unc, 0, 1)[0] == 3
    dead_all = np.zeros((10, 6), bool)
    dead_all[:, 0] = True
    scores = slice_uncertainty(unc, 1, dead_mask=dead_all)
    assert np.isnan(scores[0]) and 0 not in rank_slices(unc, 1, 6, dead_mask=dead_all)


def test_mask_with_label_values():
    p = np.zeros((3, 1, 3), np.float32)
    p[0, 0, 0] = p[1, 0, 1] = p[2, 0, 2] = 1
    np.testing.assert_array_equal(probabilities_to_mask(p, values=[5, 7, 300]), [[5, 7, 300]])
    with pytest.raises(SeisSegError, match="one label value"):
        probabilities_to_mask(p, values=[1, 2])
