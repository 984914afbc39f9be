"""The time prior: what was painted at each sample, recorded in the card, added at prediction."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from napari_seisseg.bundle.position import PositionSpec
from napari_seisseg.bundle.time_prior import (
    MIN_RATIO,
    TimePrior,
    TimePriorModel,
    count_along_samples,
    painted_time_prior,
    with_time_prior,
)
from napari_seisseg.training.data import prepare_data, split_data


class _Flat(nn.Module):
    """A 'network' that has no opinion: zero logits for every class."""

    n_classes = 3
    context = 0

    def __init__(self, n_out: int = 3) -> None:
        super().__init__()
        self.n_out = n_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.zeros((x.shape[0], self.n_out, *x.shape[2:]))


def _labels() -> np.ndarray:
    """Two painted inlines of a (4, 10, 12) cube, three flat layers (classes 1-3)."""
    labels = np.zeros((4, 10, 12), np.uint8)
    layers = np.repeat(np.array([1, 2, 3], np.uint8), 4)
    labels[[0, 3]] = layers
    return labels


def test_counts_run_length_code_round_trips_through_the_card():
    counts = np.array([[0, 0, 5, 5, 5, 1], [7, 7, 7, 7, 0, 0]], np.int64)
    entry = TimePrior(counts).to_dict()
    assert entry["counts"][0] == [0, 2, 5, 3, 1, 1]
    back = TimePrior.from_card(entry)
    np.testing.assert_array_equal(back.counts, counts)
    assert TimePrior.from_card(None) is None


def test_counts_are_per_class_and_sample_along_the_sample_axis():
    labels = _labels()
    counts = count_along_samples(labels, 2, 3)
    assert counts.shape == (3, 12)
    np.testing.assert_array_equal(counts[0], [20] * 4 + [0] * 8)  # 2 inlines x 10 traces
    np.testing.assert_array_equal(counts[2], [0] * 8 + [20] * 4)
    # the same labels with time first
    np.testing.assert_array_equal(count_along_samples(np.moveaxis(labels, 2, 0), 0, 3), counts)


def test_the_ratio_is_one_where_nothing_was_painted_and_for_classes_painted_alike():
    counts = np.array([[8, 0], [0, 0]], np.int64)
    ratio = np.exp(TimePrior(counts).log_prior())
    # overall (8+1)/(8+2) = 0.9 and 0.1; at sample 0: (8+2*0.9)/(8+2) = 0.98 and 0.02
    np.testing.assert_allclose(ratio[:, 0], [0.98 / 0.9, 0.2], atol=1e-6)
    np.testing.assert_allclose(ratio[:, 1], [1.0, 1.0], atol=1e-6)  # nothing painted there
    # a rare class painted alike at every sample (a fault) is neither pushed down nor up
    alike = np.array([[95] * 6, [5] * 6], np.int64)
    np.testing.assert_allclose(TimePrior(alike).log_prior(), 0.0, atol=0.05)  # within 5 %
    # a layer painted at some samples only: far likelier there, far less elsewhere
    layered = np.array([[50, 50, 0, 0], [0, 0, 50, 50]], np.int64)
    lp = TimePrior(layered).log_prior()
    assert (lp[0, :2] > 0.6).all() and (lp[0, 2:] < -3).all()
    # however much was painted, a class is never made impossible
    many = np.array([[10**6, 0], [0, 10**6]], np.int64)
    np.testing.assert_allclose(TimePrior(many).log_prior().min(), np.log(MIN_RATIO), atol=1e-6)


def test_the_held_out_band_counts_as_painted():
    labels = _labels()
    data = prepare_data(np.zeros(labels.shape, np.float32), labels)
    held = split_data(data, kind="2d", fraction=0.2, seed=0)
    assert held is not None and held.n_voxels > 0
    target = data.target
    prior = painted_time_prior(target, 2, 3, held)
    # every painted voxel but the gaps beside the bands (used by neither set)
    gaps = np.count_nonzero(labels) - np.count_nonzero(target) - held.n_voxels
    assert prior.counts.sum() == np.count_nonzero(labels) - gaps
    assert (prior.counts.argmax(0) == np.repeat([0, 1, 2], 4)).all()


def test_held_out_time_slices_add_to_their_sample():
    target = np.zeros((3, 4, 5), np.uint8)

    class Held:
        axis, indices, sections = 2, [1], [np.full((3, 4), 2, np.uint8)]

    prior = painted_time_prior(target, 2, 2, Held())
    np.testing.assert_array_equal(prior.counts, [[0] * 5, [0, 12, 0, 0, 0]])


def test_wrapper_adds_the_log_prior_of_each_pixel_sample():
    counts = np.array([[9, 0, 0, 0], [0, 9, 0, 0], [0, 0, 9, 0]], np.int64)  # sample 3: nothing
    model = TimePriorModel(_Flat(), TimePrior(counts), PositionSpec(4), channel=1)
    spec = PositionSpec(4)
    # one section (traces, samples) with samples -1..4: padding beyond the trace included
    ramp = spec.value(np.arange(-1, 5))[None].repeat(2, 0)
    x = torch.from_numpy(np.stack([np.zeros_like(ramp), ramp])[None])
    p = torch.softmax(model(x), 1)[0].numpy()
    assert p.shape == (3, 2, 6)
    np.testing.assert_allclose(p[:, 0, 1], [10 / 12, 1 / 12, 1 / 12], atol=1e-6)
    np.testing.assert_allclose(p[:, 0, 3], [1 / 12, 1 / 12, 10 / 12], atol=1e-6)
    for j in (0, 4, 5):  # no prior beyond the trace, none where nothing was painted
        np.testing.assert_allclose(p[:, 1, j], [1 / 3] * 3, atol=1e-6)
    assert model.context == 0 and model.n_classes == 3  # the network's attributes


def test_binary_models_get_the_log_odds():
    counts = np.array([[3, 0], [0, 3]], np.int64)
    model = TimePriorModel(_Flat(n_out=1), TimePrior(counts), PositionSpec(2), channel=1)
    x = torch.tensor(np.stack([np.zeros((1, 2)), [[-1.0, 1.0]]])[None], dtype=torch.float32)
    got = model(x)[0, 0, 0].numpy()
    np.testing.assert_allclose(got, [np.log(1 / 4), np.log(4)], atol=1e-6)


def test_cards_without_a_prior_or_a_position_leave_the_model_alone():
    net = _Flat()
    prior = TimePrior(np.ones((3, 4), np.int64)).to_dict()
    position = PositionSpec(4).to_dict()
    assert with_time_prior(net, {"input": {"position": position}}) is net
    assert with_time_prior(net, {"input": {"time_prior": prior}}) is net
    assert with_time_prior(net, {"input": {"time_prior": prior, "position": position,
                                           "kind": "slab"}}) is net
    wrapped = with_time_prior(net, {"input": {"time_prior": prior, "position": position,
                                              "context": 2}})
    assert isinstance(wrapped, TimePriorModel) and wrapped.channel == 5


@pytest.mark.parametrize("sample_axis", [0, 2])
def test_counts_of_a_large_array_are_read_in_blocks(sample_axis):
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 4, size=(70, 80, 9), dtype=np.uint8)  # 5,600 traces > one block
    labels = np.moveaxis(labels, 2, sample_axis)
    counts = count_along_samples(labels, sample_axis, 3)
    moved = np.moveaxis(labels, sample_axis, -1)
    for k in range(3):
        np.testing.assert_array_equal(counts[k], (moved == k + 1).sum(axis=(0, 1)))


def test_the_wrapper_keeps_the_models_mode_and_negative_labels_are_not_counted():
    inner = _Flat().eval()
    wrapped = TimePriorModel(inner, TimePrior(np.ones((2, 4), np.int64)), PositionSpec(4),
                             channel=1)
    assert not wrapped.training  # a prediction's train()/eval() bracket gives it back as it was
    wrapped.train(wrapped.training)
    assert not inner.training
    labels = np.array([[0, 1, -1, 2], [2, 2, 0, -3]], dtype=np.int16)
    counts = count_along_samples(labels, 1, 2)
    np.testing.assert_array_equal(counts, [[0, 1, 0, 0], [1, 1, 0, 1]])
