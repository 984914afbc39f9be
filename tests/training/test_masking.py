"""The pretraining task: hidden traces and blocks, patches drawn anywhere."""

from __future__ import annotations

import numpy as np
import torch

from napari_seisseg.bundle.normalize import fit_normalizer
from napari_seisseg.training.augment import Augmenter
from napari_seisseg.training.config import AugmentConfig
from napari_seisseg.training.masking import (
    BLOCKS,
    TRACE_MASK,
    AnywhereSampler,
    hide_traces_and_blocks,
    masked_batch,
)
from napari_seisseg.training.patches import make_layout


def test_whole_traces_are_hidden_along_time():
    img = np.zeros((1, 40, 64), np.float32)
    mask = hide_traces_and_blocks(img, 1, np.random.default_rng(0))
    assert mask.shape == (40, 64)
    whole = mask.all(axis=1)  # traces run along the second axis
    assert whole.mean() >= TRACE_MASK


def test_a_time_slice_gets_blocks_only():
    img = np.zeros((1, 48, 48), np.float32)
    mask = hide_traces_and_blocks(img, None, np.random.default_rng(1))
    assert 0 < mask.mean() < 1  # up to BLOCKS blocks, no whole traces
    assert BLOCKS >= 1 and not mask.all(axis=0).any() and not mask.all(axis=1).any()


def test_masked_batch_is_seeded_and_scores_only_hidden_live_voxels():
    rng = np.random.default_rng(2)
    image = rng.standard_normal((12, 20, 32)).astype(np.float32)
    layout = make_layout("2d", image.shape, 16, axes=(0, 1), sample_axis=2)
    normalizer = fit_normalizer(image, sample_axis=2, seed=0)

    def batch(seed):
        aug = Augmenter(AugmentConfig(flip=True, gain=0.0, noise=0.0),
                        np.random.default_rng(seed), 0)
        sampler = AnywhereSampler(image, layout, normalizer, np.random.default_rng(seed), aug)
        return masked_batch(sampler, layout, np.random.default_rng(seed), 3, image.shape)

    x, y, m = batch(0)
    assert x.shape[0] == y.shape[0] == m.shape[0] == 3
    assert y.shape == m.shape and m.dtype == torch.bool
    assert all(np.array_equal(a.numpy(), b.numpy()) for a, b in zip(batch(0), (x, y, m), strict=True))


def test_a_hybrid_slab_is_hidden_through_all_its_slices():
    # the neighbouring slices of a slab would give the hidden part of its centre away;
    # inline slabs: whole traces (along time, the last axis) and blocks hidden
    rng = np.random.default_rng(3)
    image = rng.standard_normal((20, 24, 32)).astype(np.float32)
    layout = make_layout("slab", image.shape, 16, context=2, axes=(0,), sample_axis=2)
    normalizer = fit_normalizer(image, sample_axis=2, seed=0)
    aug = Augmenter(AugmentConfig(flip=False, gain=0.0, noise=0.0), np.random.default_rng(0), 1)
    sampler = AnywhereSampler(image, layout, normalizer, np.random.default_rng(0), aug)
    x, y, m = masked_batch(sampler, layout, np.random.default_rng(0), 2, image.shape)
    assert x.shape == (2, 1, 5, 16, 16) and y.shape == m.shape == (2, 16, 16)
    for i in range(2):
        hidden = m[i].numpy()
        assert hidden.all(axis=1).mean() >= TRACE_MASK  # whole traces
        assert (x[i, 0][:, hidden] == 0).all()  # in every slice of the slab
        assert (x[i, 0][:, ~hidden] != 0).all()
        # the target is the centre slice, which the input shows (with noise) where not hidden
        # (at the cube's first or last inline, the slices beyond it repeat the edge one)
        diff = [np.abs((x[i, 0, k] - y[i]).numpy()[~hidden]).mean() for k in range(5)]
        assert diff[2] < 0.1 < max(diff)  # noise of 0.1 (std) on the centre slice
