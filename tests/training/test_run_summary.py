"""A training run in words."""

from __future__ import annotations

import math
from types import SimpleNamespace

from napari_seisseg.training.run_summary import (
    epoch_line,
    finished_message,
    fmt_score,
    measured_when,
    validation_score,
)


def test_fmt_score():
    assert fmt_score(0.91234) == "0.912"
    assert fmt_score(None) == fmt_score(math.nan) == "–"


def test_validation_score_adds_the_spread_when_there_is_one():
    assert validation_score({"painted_mean_iou": 0.81234}) == "validation mean IoU 0.812"
    assert validation_score({"painted_mean_iou": 0.81234, "spread": 0.0345}) == (
        "validation mean IoU 0.812 ± 0.035")
    # the formatter writes the score: the default shows a missing one as a dash
    assert validation_score({"spread": 0.1}) == "validation mean IoU – ± 0.100"
    assert validation_score({"mean_iou": math.nan}, "{:.3f}".format) == "validation mean IoU nan"


def test_epoch_line_marks_the_best_epoch():
    event = SimpleNamespace(epoch=3, train_loss=0.123456, is_best=True,
                            metrics={"painted_mean_iou": 0.8})
    assert epoch_line(event) == "epoch 3: loss 0.1235, validation mean IoU 0.800 (best)"
    event.metrics = None
    assert epoch_line(event) == "epoch 3: loss 0.1235"


def test_finished_message_says_score_reason_and_where_saved():
    result = SimpleNamespace(best_metrics={"painted_mean_iou": 0.75, "spread": 0.02},
                             best_epoch=4, stop_reason="time")
    assert finished_message(result, "unet2d · labels", "/m/a.safetensors") == (
        "model 'unet2d · labels' ready, validation mean IoU 0.750 ± 0.020 (epoch 4); "
        "time budget spent; saved automatically to /m/a.safetensors")
    result = SimpleNamespace(best_metrics=None, best_epoch=None, stop_reason="stopped")
    assert finished_message(result, "m", None) == "model 'm' ready; stopped"


def test_a_validation_measured_before_its_bands_joined_training_says_so():
    metrics = {"painted_mean_iou": 0.6, "before_joining": 7}
    assert measured_when(metrics) == " at epoch 7, before the held-out paint joined training"
    assert measured_when({"painted_mean_iou": 0.6}) == measured_when(None) == ""
    result = SimpleNamespace(best_metrics=metrics, best_epoch=12, stop_reason="time")
    assert finished_message(result, "m", None) == (
        "model 'm' ready, validation mean IoU 0.600 at epoch 7, before the held-out paint "
        "joined training (kept epoch 12); time budget spent")
