"""The kept model scored once more at the end of a run, on the held-out windows no epoch read."""

from __future__ import annotations

import numpy as np
from training_helpers import TINY, sections_only, toy_cube

from napari_seisseg.jobs import drain
from napari_seisseg.training import Finished, TrainConfig, train
from napari_seisseg.training.validation import ValidationSet


def _run(image, labels, **kw):
    cfg = TrainConfig(**{**dict(model="unet2d", model_kwargs=dict(TINY), patch_size=16,
                                batch_size=4, epochs=2, steps_per_epoch=2, axes=(0,),
                                seed=0, position=False), **kw})
    events = []
    result = drain(train(image, labels, cfg), events.append)
    notes = [e.text for e in events if type(e).__name__ == "Note"]
    finished = next(e for e in events if isinstance(e, Finished))
    return result, notes, finished


def _tiles(binary: bool):
    """40 labeled tiles of 24 x 24 (whole tiles are held out: four 16-pixel windows each)."""
    image, truth = toy_cube((40, 24, 24), seed=3)
    labels = (truth > 1).astype(np.uint8) + 1 if binary else truth
    return image, labels


def _scored(monkeypatch):
    """Record the windows (and the indices reported) of every end-of-run score."""
    from napari_seisseg.training import final_validation

    calls = []
    evaluate_copy = final_validation._evaluate_copy

    def spy(run, val, model, report=None):
        calls.append((val, report))
        return evaluate_copy(run, val, model, report)

    monkeypatch.setattr(final_validation, "_evaluate_copy", spy)
    return calls


def _read_each_epoch(monkeypatch):
    """Record the windows every epoch's validation reads."""
    from napari_seisseg.training import run as run_module

    read = set()
    evaluate = run_module.evaluate

    def spy(run, val, model, report=None):
        read.update(val.windows)
        return evaluate(run, val, model, report)

    monkeypatch.setattr(run_module, "evaluate", spy)
    return read


def _voxels(val, report):
    return sum(int((val.targets[i] >= 0).sum()) for i in report)


def test_the_kept_model_is_scored_on_the_held_out_windows_no_epoch_read(monkeypatch):
    """Binary tiles (1 sediment, 2 salt, as the TGS benchmark paints them), 8 held out."""
    calls, read = _scored(monkeypatch), _read_each_epoch(monkeypatch)
    image, labels = _tiles(binary=True)
    result, notes, finished = _run(image, labels, max_val_windows=5)
    metrics = result.card["validation"]["metrics"]
    held = result.card["validation"]["split"]["slices"]
    # the 5 windows the checkpoint was chosen on are left out: an untouched sample
    unread = 4 * len(held) - 5
    assert metrics["chosen_on"] == 5 and metrics["windows"] == unread and metrics["apart"]
    (every, report), = calls
    assert len(every) == 4 * len(held) and len(read) == 5
    assert {every.windows[i] for i in report} == set(every.windows) - read
    assert metrics["voxels"] == _voxels(every, report) < every.n_voxels  # what was scored
    assert finished.best_metrics == metrics == result.best_metrics
    # the threshold the card predicts with is the one tuned on every held-out window
    assert result.card["threshold"] == metrics["threshold"]
    said = [n for n in notes if n.startswith(f"The kept model scored on the {unread} held-out "
                                             "windows no epoch read (it was chosen on the 5 "
                                             "each epoch read)")]
    assert len(said) == 1 and "; threshold " in said[0], notes
    # a line says what happens before the score is read (after Stop too: the run is not over)
    before = notes.index(said[0]) - 1
    assert notes[before] == f"Scoring the kept model on {unread} held-out windows no epoch read…"


def test_where_the_last_model_is_kept_every_held_out_window_is_scored(monkeypatch):
    calls = _scored(monkeypatch)
    image, labels = _tiles(binary=True)
    result, notes, _ = _run(image, labels, max_val_windows=5, keep="last")
    metrics = result.card["validation"]["metrics"]
    held = result.card["validation"]["split"]["slices"]
    (every, report), = calls
    assert report is None and metrics["windows"] == len(every) == 4 * len(held)
    assert not metrics["apart"] and metrics["voxels"] == every.n_voxels
    assert any(n.startswith(f"The kept model scored on all {4 * len(held)} held-out windows "
                            "(each epoch read 5):") for n in notes), notes


def test_the_windows_no_epoch_read_are_scored_where_half_as_many_as_each_epoch_read_remain():
    from napari_seisseg.training.final_validation import unread

    def windows(ids):
        return ValidationSet(images=[np.zeros((2, 2), np.float32) for _ in ids],
                             targets=[np.zeros((2, 2), np.int64) for _ in ids],
                             windows=[((0, 0), 0, i) for i in ids], held_axis=0)

    every = windows(range(10))
    assert unread(every, set(windows([1, 3, 5]).windows), 3) == [0, 2, 4, 6, 7, 8, 9]
    assert unread(every, set(windows(range(6)).windows), 6) == [6, 7, 8, 9]  # 4 against 6
    assert unread(every, set(windows(range(7)).windows), 7) is None  # 3 against 7: all
    # windows an earlier epoch read (a live run's split rebuilt since) are left out too
    assert unread(every, set(windows([0, 1, 8, 9]).windows), 2) == [2, 3, 4, 5, 6, 7]


def test_a_binary_threshold_is_tuned_on_every_window_and_the_score_read_on_the_reported_ones():
    import torch

    from napari_seisseg.device import AmpSettings

    class Logit(torch.nn.Module):  # the input is the logit
        def forward(self, x):
            return x

    # window 0: positives at logit 3, negatives at -1; window 1: negatives at logit 1.5
    images = [np.array([[[3.0, 3.0, -1.0, -1.0]]], np.float32),
              np.array([[[1.5, 1.5, 1.5, 1.5]]], np.float32)]
    targets = [np.array([[1, 1, 0, 0]]), np.array([[0, 0, 0, 0]])]
    val = ValidationSet(images=images, targets=targets, windows=[((0,), 0, 0), ((0,), 0, 1)],
                        held_axis=0)
    kw = dict(n_classes=2, binary=True, batch_size=2, amp=AmpSettings(False))
    both = val.evaluate(Logit(), torch.device("cpu"), **kw)
    # over both windows the threshold must lie above sigmoid(1.5) = 0.82 (window 0 alone
    # would take 0.5, the nearest to 0.5 of its many perfect ones)...
    assert 0.81 < both["threshold"] <= 0.95 and both["painted_mean_iou"] == 1.0
    assert val.evaluate(Logit(), torch.device("cpu"), report=[0], **kw)["threshold"] == \
        both["threshold"]
    # ...and window 1 is scored at it: none of its negatives called positive
    second = val.evaluate(Logit(), torch.device("cpu"), report=[1], **kw)
    assert second["threshold"] == both["threshold"] and second["voxels"] == 4
    assert second["classes"][0]["iou"] == 1.0 and second["classes"][1]["predicted"] == 0


def test_never_more_than_final_windows_times_the_subset_are_read(monkeypatch):
    from napari_seisseg.training.final_validation import FINAL_WINDOWS

    calls, read = _scored(monkeypatch), _read_each_epoch(monkeypatch)
    image, labels = _tiles(binary=False)
    result, notes, _ = _run(image, labels, max_val_windows=2)
    metrics = result.card["validation"]["metrics"]
    (every, report), = calls
    assert len(every) == FINAL_WINDOWS * 2  # the capped draw...
    # ...less the (0 to 2) windows of it that each epoch read
    assert {every.windows[i] for i in report} == set(every.windows) - read
    assert metrics["windows"] == len(report) >= FINAL_WINDOWS * 2 - 2
    assert metrics["chosen_on"] == 2 and metrics["apart"]
    assert metrics["spread"] is not None
    assert any(n.startswith(f"The kept model scored on the {metrics['windows']} held-out "
                            "windows no epoch read") for n in notes), notes


def test_nothing_is_rescored_when_validation_read_every_window():
    image, labels = _tiles(binary=False)
    result, notes, _ = _run(image, labels, max_val_windows=1000)
    metrics = result.card["validation"]["metrics"]
    assert "windows" not in metrics and "chosen_on" not in metrics
    assert not any(n.startswith("The kept model scored on") for n in notes)


def test_a_run_whose_held_out_paint_joined_training_is_not_rescored():
    image, truth = toy_cube((24, 24, 24))
    labels = sections_only(truth, 2, [2, 8, 14, 20])  # time slices: the paint joins halfway
    result, notes, _ = _run(image, labels, axes=None, epochs=4, max_val_windows=1,
                            val_join=0.5)
    assert result.card["validation"]["joined_training"]
    assert "windows" not in result.card["validation"]["metrics"]
    assert not any(n.startswith("The kept model scored on") for n in notes)


def test_the_spread_resamples_whole_sections_when_there_are_enough_of_them():
    from napari_seisseg.training.validation import MIN_GROUPS

    val = ValidationSet(windows=[((0, 0), 0, i // 2) for i in range(2 * MIN_GROUPS)],
                        held_axis=0)
    assert val._groups() == [(0, i // 2) for i in range(2 * MIN_GROUPS)]
    # decided on the windows scored: fewer sections among them, the windows are resampled
    assert val._groups(val.windows[: 2 * (MIN_GROUPS - 1)]) is None
    few = ValidationSet(windows=[((0, 0), 0, i % 3) for i in range(2 * MIN_GROUPS)],
                        held_axis=0)
    assert few._groups() is None  # three painted sections' bands: the windows are resampled
    across = ValidationSet(windows=[((0, 0), 1, i // 2) for i in range(2 * MIN_GROUPS)],
                           held_axis=0)
    assert across._groups() is None  # sections across the held-out ones are not units
    assert ValidationSet(windows=[((0, 0, 0), None, None)] * 30, held_axis=0)._groups() is None


def test_a_failure_keeps_the_trained_model_and_the_figures_each_epoch_read(monkeypatch):
    from napari_seisseg.training import final_validation

    def broken(*args, **kwargs):
        raise RuntimeError("no memory left")

    monkeypatch.setattr(final_validation, "_evaluate_copy", broken)
    image, labels = _tiles(binary=True)
    result, notes, finished = _run(image, labels, max_val_windows=5)
    assert any(n.startswith("Could not score the kept model on every held-out window (no "
                            "memory left)") for n in notes), notes
    metrics = result.card["validation"]["metrics"]
    assert "windows" not in metrics and result.card["threshold"] == metrics["threshold"]
    model = result.model
    assert not model.training and all(p.device.type == "cpu" for p in model.parameters())
    assert all(p.is_contiguous() for p in model.parameters())


def test_a_live_run_scores_its_kept_and_its_latest_weights_on_the_same_windows(monkeypatch):
    from napari_seisseg.training import live
    from napari_seisseg.training import run as run_module
    from napari_seisseg.training.live import LiveControl, live_train

    scores = iter([1.0, 0.5, 0.25, 0.1])  # epoch 1 stays the best: the latest weights differ
    monkeypatch.setattr(run_module, "selection_score", lambda metrics: next(scores))
    calls = []
    score_latest = live.score_latest
    monkeypatch.setattr(live, "score_latest",
                        lambda run, model: calls.append(1) or score_latest(run, model))

    image, labels = _tiles(binary=False)
    cfg = TrainConfig(model="unet2d", model_kwargs=dict(TINY), patch_size=16, batch_size=4,
                      epochs=3, steps_per_epoch=2, axes=(0,), seed=0, position=False,
                      max_val_windows=5, keep="best")
    events = []
    result = drain(live_train(image, labels, cfg, control=LiveControl()), events.append)
    held = result.card["validation"]["split"]["slices"]
    best = result.card["validation"]["metrics"]
    assert best["windows"] == 4 * len(held) - 5 and best["chosen_on"] == 5 and best["apart"]
    assert result.best_epoch == 1 and result.latest.best_epoch == 3 and calls == [1]
    latest = result.latest.card["validation"]["metrics"]
    assert latest["windows"] == best["windows"] and latest["chosen_on"] == 5
    assert latest["apart"] and latest["voxels"] == best["voxels"]  # the same windows


def test_after_a_change_of_paint_no_epoch_scored_the_note_compares_nothing(monkeypatch):
    """A live run stopped after a label update, before an epoch scored the new paint: the
    figure each epoch read was on the old windows, so the note does not set it beside."""
    import numpy as np

    from napari_seisseg.training import final_validation
    from napari_seisseg.training import run as run_module

    score = final_validation.score_on_every_window

    def after_a_change(run, model):
        run.restart_judging()  # what a label update does
        return score(run, model)

    monkeypatch.setattr(run_module, "score_on_every_window", after_a_change)
    image, labels = _tiles(binary=False)
    result, notes, _ = _run(image, labels, max_val_windows=5)
    said = [n for n in notes if n.startswith("The kept model scored on")]
    assert len(said) == 1 and " where those " not in said[0], notes
    assert "mean IoU 0." in said[0] and "(its last validation was on the paint before the " \
        "latest change)" in said[0]
    assert np.isfinite(result.card["validation"]["metrics"]["mean_iou"])
