"""The lateral prior: what painted traces say about their neighbours, measured on the paint."""

from __future__ import annotations

import json

import numpy as np
import pytest

from napari_seisseg.bundle.lateral_prior import LateralPrior, painted_lateral_prior
from napari_seisseg.bundle.prior_application import combine, fitting_prior, lateral_finalize
from napari_seisseg.training.split import HeldOut

SHAPE = (8, 64, 48)  # (inline, crossline, sample)
FAULT = 4  # class index of the fault (label 5)


def _survey(shape=SHAPE):
    """Four layers whose boundaries tilt gently, cut by a thin dipping fault (label 5)."""
    i, x, t = np.meshgrid(*(np.arange(n) for n in shape), indexing="ij")
    depth = t + 0.1 * x + 0.3 * i
    labels = (1 + np.clip(depth // 14, 0, 3)).astype(np.uint8)
    fault = np.abs(x - (10 + 3 * i + t // 2)) < 1  # one trace wide, moves 3 traces per inline
    labels[fault] = 5
    return labels


def _painted(truth, inlines=(1, 6)):
    kept = np.zeros_like(truth)
    kept[list(inlines)] = truth[list(inlines)]
    return kept


def test_layers_carry_sideways_and_a_crossing_fault_does_not():
    truth = _survey()
    prior = painted_lateral_prior(_painted(truth), 2, 5)
    assert len(prior.positions) == 2 * SHAPE[1]
    ratios = prior.log_ratios()
    along = ratios[1]  # crossline pairs inside the painted inlines: bins 0 (1 trace) .. 6 (33-63)
    assert sorted(along) == list(range(7))
    far = along[6]
    for layer in range(4):
        assert far[layer, layer] > np.log(2.0), far.round(2)
    # a layer at the painted trace says little about the fault far away (ratio 0.5 here, at
    # the edges of a small grid), while the fault itself does not persist 33-63 traces away
    assert np.all(np.abs(far[:4, FAULT]) < np.log(3.0)), far.round(2)
    assert far[FAULT, FAULT] < np.log(0.1)
    # across inlines: measured between the two painted inlines (5 apart: bin 3)
    assert sorted(ratios[0]) == [3]


def test_the_ratio_of_a_region_is_that_region_of_the_whole_and_follows_the_nearest_trace():
    truth = _survey()
    kept = _painted(truth)
    kept[6, :, 40:] = 0  # the deep part of inline 6 is not painted
    prior = painted_lateral_prior(kept, 2, 5)
    whole = prior.ratio((slice(None),) * 3)
    assert whole.shape == (5, *SHAPE) and whole.dtype == np.float32
    part = prior.ratio((slice(2, 3), slice(10, 40), slice(5, 30)))
    np.testing.assert_array_equal(part, whole[:, 2:3, 10:40, 5:30])
    # inline 5's nearest painted trace is on inline 6: deep samples unpainted there -> ratio 1
    assert (whole[:, 5, :, 40:] == 1).all()
    assert (whole[:, 5, :, :40] != 1).any()
    # on the painted traces the network decides alone; next to them the ratio is tempered
    assert (whole[:, 1] == 1).all() and (whole[:, 6] == 1).all()
    far = painted_lateral_prior(kept, 2, 5)
    rows, offset = far._nearest()
    far._cache["nearest"] = (rows, offset * 4)  # every trace 4x further from the paint
    full = far.ratio((slice(2, 3), slice(None), slice(0, 40)))  # 8 traces and more away: full ratio
    np.testing.assert_allclose(whole[:, 2:3, :, :40] ** 4, full, rtol=1e-4)  # 2 traces: ratio ** (2/8)


def test_far_traces_follow_the_class_of_the_nearest_painted_trace():
    truth = _survey()
    kept = np.zeros_like(truth)
    kept[[1, 6], :16] = truth[[1, 6], :16]  # the first 16 crosslines of two inlines
    prior = painted_lateral_prior(kept, 2, 5)
    ratio = prior.ratio((slice(None), slice(40, 64), slice(None)))  # 24-48 traces away
    favoured = (ratio * prior.overall()[:, None, None, None]).argmax(0)  # the prior alone: T(k | j, d)
    nearest = np.where(np.arange(8)[:, None] < 4, kept[1, 15][None], kept[6, 15][None])[:, None, :] - 1
    assert (favoured == np.broadcast_to(nearest, favoured.shape)).mean() > 0.9


def test_the_prior_round_trips_through_json():
    prior = painted_lateral_prior(_painted(_survey()), 2, 5)
    again = LateralPrior.from_card(json.loads(json.dumps(prior.to_dict())))
    assert again.shape == prior.shape and again.line_axis == 2 and again.n_classes == 5
    np.testing.assert_array_equal(again.positions, prior.positions)
    np.testing.assert_array_equal(again.columns, prior.columns)
    np.testing.assert_array_equal(again.ratio((slice(None),) * 3), prior.ratio((slice(None),) * 3))
    assert LateralPrior.from_card(None) is None


def test_time_slices_and_dots_paint_no_trace():
    truth = _survey()
    kept = np.zeros_like(truth)
    kept[:, :, [5, 21, 37]] = truth[:, :, [5, 21, 37]]  # time slices: three samples per trace
    kept[3, 7, :10] = truth[3, 7, :10]  # and a short stroke down one trace
    assert painted_lateral_prior(kept, 2, 5) is None
    kept[3, 7, :16] = truth[3, 7, :16]  # 16 samples: a painted trace
    assert len(painted_lateral_prior(kept, 2, 5).positions) == 1


def test_held_out_validation_labels_count_as_painted():
    truth = _survey()
    kept = _painted(truth)
    train = kept.copy()
    train[6, 20:30] = 0  # a band of inline 6 held out for validation
    section = np.zeros_like(kept[6])
    section[20:30] = kept[6, 20:30]
    held = HeldOut(SHAPE, 0, [6], [section])
    with_held = painted_lateral_prior(train, 2, 5, held)
    np.testing.assert_array_equal(with_held.columns, painted_lateral_prior(kept, 2, 5).columns)


def test_combine_renormalises_and_leaves_dead_voxels_at_zero():
    p = np.array([[0.5, 0.0], [0.5, 0.0]], np.float32)[:, :, None]  # 2 classes, 2 voxels
    q = combine(p, np.array([[3.0, 1.0], [1.0, 1.0]], np.float32)[:, :, None])
    np.testing.assert_allclose(q[:, 0, 0], [0.75, 0.25], atol=1e-6)
    assert not q[:, 1].any()
    # a binary output: the odds of the second class times the ratio of the two
    b = combine(np.array([[0.5]], np.float32), np.array([[1.0], [3.0]], np.float32))
    np.testing.assert_allclose(b, [[0.75]], atol=1e-6)


def test_the_prior_is_applied_to_its_own_survey_only():
    prior = painted_lateral_prior(_painted(_survey()), 2, 5)
    card = {"input": {"lateral_prior": prior.to_dict()}}
    prior2, why = fitting_prior(card, (8, 64, 40))  # another survey's shape
    assert prior2 is None and why == "this image (8 x 64 x 40) is not the grid the model was painted on (8 x 64 x 48)"
    assert fitting_prior({"input": {}}, SHAPE) == (None, None)
    fitted, why = fitting_prior(card, SHAPE)
    assert why is None
    fin = lateral_finalize(fitted, SHAPE, (3, 0, 0))  # a slab starting at inline 3
    p = np.full((5, 1, 64, 48), 0.2, np.float32)
    got = fin((slice(0, 1), slice(None), slice(None)), p)
    whole = prior.ratio((slice(3, 4), slice(None), slice(None)))
    np.testing.assert_allclose(got, combine(p, whole), atol=1e-6)


def test_large_blocks_are_finalized_in_parts_with_the_same_result(monkeypatch):
    from napari_seisseg.bundle import prior_application

    prior = painted_lateral_prior(_painted(_survey()), 2, 5)
    p = np.random.default_rng(0).dirichlet(np.ones(5), size=(5, 64, 48)).transpose(3, 0, 1, 2).astype(np.float32)
    index = (slice(2, 7), slice(None), slice(None))
    whole = lateral_finalize(prior, SHAPE, (0, 0, 0))(index, p)
    monkeypatch.setattr(prior_application, "BLOCK_VOXELS", 5 * 64 * 48 * 2)  # two inlines at a time
    np.testing.assert_allclose(lateral_finalize(prior, SHAPE, (0, 0, 0))(index, p), whole, atol=1e-7)
    np.testing.assert_allclose(whole, combine(p, prior.ratio(index)), atol=1e-6)


def test_a_section_with_a_leading_axis_uses_the_prior_of_its_2d_training():
    truth = _survey()[0]  # (crossline, sample)
    kept = np.zeros_like(truth)
    kept[:20] = truth[:20]
    prior = painted_lateral_prior(kept, 1, 5)
    assert prior.lateral_shape == (64,)
    fitted, why = fitting_prior({"input": {"lateral_prior": prior.to_dict()}}, (1, 64, 48))
    assert why is None
    fin = lateral_finalize(fitted, (1, 64, 48), (0, 0, 0))
    p = np.full((5, 1, 64, 48), 0.2, np.float32)
    got = fin((slice(0, 1), slice(None), slice(None)), p)
    np.testing.assert_allclose(got[:, 0], combine(p[:, 0], prior.ratio((slice(None),) * 2)), atol=1e-6)


@pytest.mark.parametrize("sample_axis", [0, 1])
def test_the_sample_axis_may_come_first(sample_axis):
    kept = _painted(_survey())
    last = painted_lateral_prior(kept, 2, 5).ratio((slice(None),) * 3)
    moved = np.moveaxis(kept, 2, sample_axis)
    prior = painted_lateral_prior(moved, sample_axis, 5)
    assert prior.line_axis == sample_axis and prior.lateral_shape == SHAPE[:2]
    np.testing.assert_allclose(prior.ratio((slice(None),) * 3), np.moveaxis(last, 3, 1 + sample_axis), rtol=1e-6)


def test_the_survey_is_recognised_by_its_lines_when_both_have_a_geometry():
    coords = {0: np.arange(100, 108), 1: np.arange(500, 564) * 2, 2: np.arange(48) * 4.0}
    prior = painted_lateral_prior(_painted(_survey()), 2, 5, coordinates=coords)
    assert prior.lines == {0: (100.0, 107.0), 1: (1000.0, 1126.0)}  # not the sample axis
    card = {"input": {"lateral_prior": json.loads(json.dumps(prior.to_dict()))}}
    assert fitting_prior(card, SHAPE, {0: coords[0], 1: coords[1]})[1] is None
    assert fitting_prior(card, SHAPE)[1] is None  # a plain array: the grid's shape decides
    other, why = fitting_prior(card, SHAPE, {0: coords[0] + 40, 1: coords[1]})
    assert other is None and why == ("this image's lines along axis 0 140-147 are not those of the survey "
                                     "the model was painted on (100-107)")


def test_pairs_are_counted_line_by_line():
    """Only traces on the same line along the axis pair up, at the distances that occur there."""
    positions = np.array([[0, 0], [5, 3], [7, 0], [7, 3]])
    columns = np.ones((4, 20), np.uint16)
    prior = LateralPrior((8, 4, 20), 2, positions, columns, 2)
    along0 = [(d, sorted(zip(r1.tolist(), r2.tolist(), strict=True))) for d, r1, r2 in prior._pairs(0)]
    assert along0 == [(2, [(1, 3)]), (7, [(0, 2)])]
    along1 = [(d, sorted(zip(r1.tolist(), r2.tolist(), strict=True))) for d, r1, r2 in prior._pairs(1)]
    assert along1 == [(3, [(2, 3)])]


def test_a_model_whose_outputs_do_not_match_the_painted_classes_gets_no_prior():
    prior = painted_lateral_prior(_painted(_survey()), 2, 5)
    card = {"n_outputs": 3, "input": {"lateral_prior": prior.to_dict()}}
    assert fitting_prior(card, SHAPE) == (None, "the model has 3 outputs for 5 painted classes")
    two = painted_lateral_prior(np.minimum(_painted(_survey()), 2), 2, 2)
    binary = {"n_outputs": 1, "binary": True, "input": {"lateral_prior": two.to_dict()}}
    assert fitting_prior(binary, SHAPE)[1] is None


def test_a_2d_image_is_named_by_its_own_shape():
    prior = painted_lateral_prior(_painted(_survey()), 2, 5)
    card = {"input": {"lateral_prior": prior.to_dict()}}
    assert fitting_prior(card, (1, 64, 48))[1] == ("this image (64 x 48) is not the grid the model was "
                                                   "painted on (8 x 64 x 48)")
