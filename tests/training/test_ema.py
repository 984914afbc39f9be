"""The weight average: exact lerp updates, warm-up, buffers, and training with it."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from training_helpers import TINY, sections_only, toy_cube

from napari_seisseg.errors import SeisSegError
from napari_seisseg.jobs import drain
from napari_seisseg.training import TrainConfig, train
from napari_seisseg.training.ema import WeightAverage


def test_update_is_an_exponential_average_with_warm_up():
    model = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.BatchNorm1d(2))
    avg = WeightAverage(model, 0.5)
    w0 = model[0].weight.detach().clone()
    with torch.no_grad():
        model[0].weight.add_(1.0)
        model[1].num_batches_tracked.fill_(7)
    avg.update(model)  # warm-up decay min(0.5, 2/11) = 2/11
    d = 2 / 11
    assert torch.allclose(avg.module[0].weight, d * w0 + (1 - d) * (w0 + 1))
    assert int(avg.module[1].num_batches_tracked) == 7  # integer buffers are copied
    for _ in range(50):
        avg.update(model)
    assert torch.allclose(avg.module[0].weight, w0 + 1, atol=1e-6)  # converges to the weights
    assert not any(p.requires_grad for p in avg.module.parameters())


def test_the_average_lags_the_model_by_its_decay():
    model = torch.nn.Linear(1, 1, bias=False)
    avg = WeightAverage(model, 0.9)
    for step in range(1, 201):
        with torch.no_grad():
            model.weight.fill_(float(step))
        avg.update(model)
    # an average over ~10 steps of a weight growing by 1 per step lags by about 9
    assert 190.0 < float(avg.module.weight) < 192.0


def test_decay_outside_zero_one_is_refused():
    with pytest.raises(ValueError):
        WeightAverage(torch.nn.Linear(1, 1), 1.0)
    with pytest.raises(SeisSegError, match="ema"):
        TrainConfig(ema=1.0).validate()


def test_training_keeps_the_averaged_weights():
    image, truth = toy_cube()
    labels = sections_only(truth, 0, [1, 4, 7, 10])
    cfg = TrainConfig(model="unet2d", model_kwargs=dict(TINY), patch_size=24, batch_size=4,
                      epochs=3, steps_per_epoch=8, ema=0.9)
    result = drain(train(image, labels, cfg))
    assert result.card["training"]["config"]["ema"] == 0.9
    assert result.best_metrics["mean_iou"] > 0.5
    plain = drain(train(image, labels, TrainConfig(**{**cfg.to_dict(), "ema": 0.0})))
    a = np.concatenate([t.numpy().ravel() for t in result.model.state_dict().values()])
    b = np.concatenate([t.numpy().ravel() for t in plain.model.state_dict().values()])
    assert a.shape == b.shape and not np.allclose(a, b)  # the kept weights are the average
