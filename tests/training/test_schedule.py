"""The training run's rules: cosine schedule, kept-model score, early stopping."""

from __future__ import annotations

import numpy as np
import pytest

from napari_seisseg.errors import SeisSegError
from napari_seisseg.training import TrainConfig
from napari_seisseg.training.schedule import cosine_lr


def _constant_metrics(n_predicted, score=0.45):
    classes = [
        {"index": i, "name": n, "value": i + 1, "iou": iou, "recall": rec, "support": 100,
         "predicted": 100 if i < n_predicted else 0}
        for i, (n, iou, rec) in enumerate([("a", 0.9, 0.95), ("b", 0.0, 0.0)])
    ]
    return {"mean_iou": score, "painted_mean_iou": score, "n_predicted": n_predicted,
            "accuracy": 0.5, "voxels": 200, "classes": classes, "threshold": 0.5}


def test_cosine_schedule_warms_up_then_decays_to_a_hundredth():
    assert cosine_lr(1.0, 0.0) == pytest.approx(0.01)
    assert cosine_lr(1.0, 0.03) == pytest.approx(1.0)
    assert cosine_lr(1.0, 1.0) == pytest.approx(0.01)
    mid = cosine_lr(1.0, 0.515)
    assert mid == pytest.approx(0.505, abs=1e-3)
    values = [cosine_lr(2e-3, d) for d in np.linspace(0.03, 1.0, 50)]
    assert all(a >= b for a, b in zip(values, values[1:], strict=False))
    with pytest.raises(SeisSegError, match="lr_schedule"):
        TrainConfig(lr_schedule="steps").validate()


def test_time_budget_patience_is_a_share_of_the_budget():
    from napari_seisseg.training.schedule import PATIENCE_SHARE, stop_early

    cfg = TrainConfig(minutes=10, early_stopping=10)
    good = _constant_metrics(2)
    budget = 600.0
    assert not stop_early(cfg, 50, PATIENCE_SHARE * budget - 1, budget, good)
    assert stop_early(cfg, 2, PATIENCE_SHARE * budget, budget, good)
    assert not stop_early(cfg, 50, budget, budget, _constant_metrics(1))  # degenerate
    cfg.early_stopping = None
    assert not stop_early(cfg, 50, budget, budget, good)
    epochs = TrainConfig(epochs=30, early_stopping=3)
    assert stop_early(epochs, 3, 1.0, None, good) and not stop_early(epochs, 2, 1e9, None, good)
