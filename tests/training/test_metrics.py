"""Scores on labeled voxels and binary threshold tuning."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from napari_seisseg.training.metrics import (
    MetricAccumulator,
    confusion_matrix,
    scores_from_confusion,
    tune_threshold,
)


def test_scores_exact_on_a_hand_made_case():
    target = np.array([0, 0, 0, 1, 1, 2, -1, -1])
    pred = np.array([0, 0, 1, 1, 2, 2, 2, 0])
    cm = confusion_matrix(pred, target, 3)
    assert cm.tolist() == [[2, 1, 0], [0, 1, 1], [0, 0, 1]]
    s = scores_from_confusion(cm, ["a", "b", "c"], [1, 2, 3])
    c0, c1, c2 = s["classes"]
    assert c0["iou"] == pytest.approx(2 / 3) and c0["dice"] == pytest.approx(4 / 5)
    assert c0["precision"] == 1.0 and c0["recall"] == pytest.approx(2 / 3)
    assert c1["iou"] == pytest.approx(1 / 3) and c1["precision"] == 0.5 and c1["recall"] == 0.5
    assert c2["iou"] == 0.5 and c2["precision"] == 0.5 and c2["recall"] == 1.0
    assert s["accuracy"] == pytest.approx(4 / 6)
    assert s["mean_iou"] == pytest.approx((2 / 3 + 1 / 3 + 1 / 2) / 3)
    assert s["voxels"] == 6 and c2["support"] == 1 and c2["name"] == "c" and c2["value"] == 3


def test_absent_class_is_left_out_of_the_mean():
    cm = confusion_matrix(np.array([0, 1, 1]), np.array([0, 1, 1]), 3)
    s = scores_from_confusion(cm)
    assert math.isnan(s["classes"][2]["iou"])
    assert s["mean_iou"] == 1.0


def test_accumulator_multiclass_matches_numpy():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(2, 3, 5, 5, generator=g)
    target = torch.randint(-1, 3, (2, 5, 5), generator=g)
    acc = MetricAccumulator(3)
    acc.update(logits[:1], target[:1])
    acc.update(logits[1:], target[1:])
    ref = confusion_matrix(logits.argmax(1).numpy(), target.numpy(), 3)
    assert np.array_equal(acc.cm, ref)
    assert acc.result()["mean_iou"] == scores_from_confusion(ref)["mean_iou"]


def test_threshold_tuning_finds_the_separating_threshold():
    # positives have probability 0.30..0.39, negatives 0.05..0.24: any cut in (0.24, 0.30] is perfect
    p_pos = np.linspace(0.30, 0.39, 50)
    p_neg = np.linspace(0.05, 0.24, 200)
    prob = np.concatenate([p_pos, p_neg])
    target = np.concatenate([np.ones(50, int), np.zeros(200, int)])
    logits = torch.logit(torch.tensor(prob, dtype=torch.float64)).float().reshape(1, 1, -1)
    acc = MetricAccumulator(2, binary=True)
    acc.update(logits, torch.tensor(target).reshape(1, -1))
    thr, iou = tune_threshold(acc.pos_hist, acc.neg_hist)
    assert 0.24 < thr <= 0.30 and iou == 1.0
    res = acc.result()
    assert res["threshold"] == thr
    assert res["classes"][1]["iou"] == 1.0 and res["mean_iou"] == 1.0
    # at 0.5 every positive would be missed
    assert (prob[:50] < 0.5).all()


def test_threshold_without_positives_defaults_to_half():
    thr, iou = tune_threshold(np.zeros(100, int), np.ones(100, int))
    assert thr == 0.5 and iou == 0.0
    thr, iou = tune_threshold(np.zeros(100, int), np.zeros(100, int))
    assert thr == 0.5 and math.isnan(iou)
