"""Live training: labels handed in reach the sampler, previews equal the quick look, stop keeps both."""

from __future__ import annotations

import copy
import threading
import time

import numpy as np
import pytest
from training_helpers import TINY, sections_only, toy_cube

from napari_seisseg.bundle import load_bundle
from napari_seisseg.errors import SeisSegError
from napari_seisseg.inference import predict_bundle
from napari_seisseg.jobs import drain
from napari_seisseg.training import TrainConfig
from napari_seisseg.training.events import Finished, Note, Step
from napari_seisseg.training.live import LiveControl, live_train
from napari_seisseg.training.live_events import LabelsUpdated, LiveResult, Preview


def _config(**kw):
    base = dict(model="unet2d", model_kwargs=dict(TINY), patch_size=24, batch_size=4,
                epochs=None, minutes=None, steps_per_epoch=4)
    base.update(kw)
    return TrainConfig(**base)


def _data():
    image, truth = toy_cube()
    return image, truth, sections_only(truth, 0, [2, 6, 9])


def _run(image, labels, control, actions, config=None, **kwargs):
    """Drive a live run; ``actions[step](events)`` runs when that step's event arrives.

    ``kwargs`` go to ``live_train`` (``geometry``, ``val_labels``...)."""
    events = []

    def on_event(e):
        events.append(e)
        if isinstance(e, Step) and e.global_step in actions:
            actions[e.global_step](events)

    result = drain(live_train(image, labels, config or _config(), control=control, **kwargs),
                   on_event)
    return events, result


def _of(events, kind):
    return [e for e in events if isinstance(e, kind)]


def test_painted_labels_reach_the_sampler_and_erased_ones_leave():
    image, truth, labels = _data()
    control = LiveControl()
    stroke = (slice(4, 5), slice(0, 24), slice(0, 24))
    erased = labels.copy()
    erased[2] = 0
    actions = {
        2: lambda ev: control.update_labels(truth[stroke], region=stroke),  # paint section 4
        5: lambda ev: control.update_labels(labels),  # back to the first labels (erases 4)
        8: lambda ev: control.update_labels(erased),  # erase section 2
        11: lambda ev: control.stop(),
    }
    events, result = _run(image, labels, control, actions)
    counts = [e.n_labeled for e in _of(events, LabelsUpdated)]
    assert len(counts) == 4
    first, painted, back, fewer = counts
    assert painted > first  # the stroke reached the sampler
    assert back == first  # erasing it removed it again (same labels, same split)
    assert fewer < first
    steps = [e.step for e in _of(events, LabelsUpdated)]
    assert steps == [0, 2, 5, 8]  # taken up before the next step
    updated = _of(events, LabelsUpdated)
    assert all(e.n_train_voxels == sum(e.class_counts) for e in updated)
    assert updated[1].n_train_voxels + updated[1].n_val_voxels > first
    # the stroke's training voxels are drawn from more often; erased, they leave that too
    assert [e.n_recent for e in updated][::2] == [0, 0]
    assert 0 < updated[1].n_recent <= 24 * 24 and updated[3].n_recent == 0
    assert result.stop_reason == "stopped"


def test_preview_equals_a_plain_prediction_of_the_slice():
    image, _, labels = _data()
    # no period and no share limit: a preview before every step once the weights moved
    control = LiveControl(preview_period_s=0.0, keep_preview_weights=True, max_preview_share=1)
    control.request_preview(0, 5)
    actions = {4: lambda ev: control.request_preview(2, 7), 7: lambda ev: control.stop()}
    events, result = _run(image, labels, control, actions)
    previews = _of(events, Preview)
    # one per step once weights moved; none after Stop (asked at step 7)
    assert [p.step for p in previews] == list(range(1, 7))
    assert {(p.axis, p.index) for p in previews} == {(0, 5), (2, 7)}
    for p in (previews[0], previews[-1]):
        model = copy.deepcopy(result.model)
        model.load_state_dict(p.weights)
        plain = drain(predict_bundle((model, p.card), image, slice_index=p.index,
                                     slice_axis=p.axis, device="cpu", tta=False))
        probs = np.take(np.asarray(plain.probabilities), 0, axis=p.axis + 1)
        np.testing.assert_array_equal(p.probabilities, probs)
        np.testing.assert_array_equal(p.mask, np.take(plain.mask(), 0, axis=p.axis))
        assert p.probabilities.shape[1:] == p.mask.shape
        assert p.weights_age_s >= 0
    assert previews[-1].mask.shape == (12, 24)


def test_previews_keep_their_period_and_skip_slices_outside_the_image():
    image, _, labels = _data()
    control = LiveControl(preview_period_s=0.3)
    control.request_preview(0, 99)  # outside: ignored quietly
    actions = {3: lambda ev: control.request_preview(7, 0),  # no such axis
               6: lambda ev: control.request_preview(1, 10),
               40: lambda ev: control.stop()}
    events, result = _run(image, labels, control, actions)
    previews = _of(events, Preview)
    assert previews and all((p.axis, p.index) == (1, 10) for p in previews)
    assert previews[0].step == 6
    gaps = np.diff([p.weights_elapsed_s for p in previews])
    assert (gaps >= 0.3 - 1e-3).all()
    assert not [e for e in _of(events, Note) if e.level == "error"]
    assert result.stop_reason == "stopped"


def test_stop_returns_the_best_and_the_latest_models(tmp_path):
    image, _, labels = _data()
    control = LiveControl()
    events, result = _run(image, labels, control, {10: lambda ev: control.stop()})
    assert isinstance(result, LiveResult) and isinstance(_of(events, Finished)[0].result, LiveResult)
    assert result.stop_reason == "stopped" and len(result.history) == 3  # 2 epochs + the stop
    latest = result.latest
    assert latest is not None and latest.card["validation"]["epoch"] == 3
    assert latest.card["training"]["kept"] == "latest"
    assert result.card["validation"]["epoch"] == result.best_epoch
    best_model, best_card = load_bundle(result.save(tmp_path / "best.safetensors"))
    latest_model, latest_card = load_bundle(latest.save(tmp_path / "latest.safetensors"))
    assert latest_card["classes"] == best_card["classes"]
    assert set(latest_model.state_dict()) == set(best_model.state_dict())


def test_labels_of_another_shape_stop_the_run_and_keep_the_best_model():
    image, _, labels = _data()
    control = LiveControl()
    actions = {5: lambda ev: control.update_labels(labels[:, :10]), 30: lambda ev: control.stop()}
    events, result = _run(image, labels, control, actions)
    errors = [e for e in _of(events, Note) if e.level == "error"]
    assert len(errors) == 1 and "shape (12, 10, 24)" in errors[0].text
    assert "best model so far is kept" in errors[0].text
    assert result.stop_reason == "bad_labels" and result.best_epoch == 2
    assert max(e.global_step for e in _of(events, Step)) == 5
    assert "labels could not be used" in _of(events, Finished)[0].message()


def test_updates_with_unknown_classes_or_a_bad_region_are_refused():
    image, _, labels = _data()
    control = LiveControl()
    odd = labels.copy()
    odd[4, :3, :3] = 7
    actions = {2: lambda ev: control.update_labels(odd),
               4: lambda ev: control.update_labels(np.zeros((2, 2, 2), np.uint8),
                                                   region=(slice(0, 1),)),
               12: lambda ev: control.stop()}
    events, result = _run(image, labels, control, actions)
    warnings = [e.text for e in _of(events, Note) if e.level == "warning"]
    assert any("value(s) [7]" in w and "ignored" in w for w in warnings)
    errors = [e.text for e in _of(events, Note) if e.level == "error"]
    assert len(errors) == 1 and "instead of (1, 24, 24)" in errors[0]
    assert len(_of(events, LabelsUpdated)) == 1  # only the first
    assert result.stop_reason == "bad_labels"


def test_a_2d_section_with_a_geometry_takes_region_updates():
    from napari_seisseg.io.geometry import SurveyGeometry

    image, truth = toy_cube((3, 24, 24))
    image, truth = image[1].T.copy(), truth[1].T.copy()  # (sample, trace), napari-like order
    labels = np.zeros_like(truth)
    labels[:, 2:5] = truth[:, 2:5]
    geometry = SurveyGeometry(kind="section", n_samples=24, dt=4.0, traces=np.arange(24),
                              axes=("sample", "trace"))
    control = LiveControl(preview_period_s=0.0)
    control.request_preview(0, 0)
    stroke = (slice(0, 24), slice(15, 18))
    actions = {2: lambda ev: control.update_labels(truth[stroke], region=stroke),
               5: lambda ev: control.stop()}
    events, result = _run(image, labels, control, actions, geometry=geometry)
    updated = _of(events, LabelsUpdated)
    assert updated[1].n_labeled > updated[0].n_labeled and updated[1].n_recent > 0
    assert _of(events, Preview)[-1].mask.shape == (24, 24)  # a 2D image is previewed whole
    assert result.latest is not None


def test_the_generator_runs_headless_in_a_thread_driven_from_another():
    image, truth, labels = _data()
    control = LiveControl(preview_period_s=0.0)
    events, out = [], {}
    started = threading.Event()

    def on_event(e):
        events.append(e)
        if isinstance(e, Step):
            started.set()

    worker = threading.Thread(target=lambda: out.setdefault(
        "result", drain(live_train(image, labels, _config(), control=control), on_event)))
    worker.start()
    assert started.wait(60)
    control.request_preview(0, 3)
    control.update_labels(truth)
    deadline = time.monotonic() + 60
    while not any(isinstance(e, Preview) for e in list(events)) and time.monotonic() < deadline:
        worker.join(0.05)
    control.stop()
    worker.join(60)
    assert not worker.is_alive()
    counts = [e.n_labeled for e in _of(events, LabelsUpdated)]
    assert len(counts) == 2 and counts[1] > counts[0]
    assert _of(events, Preview) and out["result"].latest is not None


def test_a_live_budget_may_be_until_stopped_only_for_live_runs():
    image, _, labels = _data()
    with pytest.raises(SeisSegError, match="Give a budget"):
        _config().validate()
    _config().validate(until_stopped=True)
    control = LiveControl()
    events, result = _run(image, labels, control, {}, _config(epochs=1))
    assert result.stop_reason == "epochs" and result.latest is not None


def test_explicit_validation_labels_stay_and_erasing_everything_is_refused():
    image, truth, labels = _data()
    val = sections_only(truth, 0, [11])
    control = LiveControl()
    stroke = (slice(4, 5), slice(0, 24), slice(0, 24))
    actions = {2: lambda ev: control.update_labels(truth[stroke], region=stroke),
               4: lambda ev: control.update_labels(np.zeros_like(labels)),
               8: lambda ev: control.stop()}
    events, result = _run(image, labels, control, actions, val_labels=val)
    updated = _of(events, LabelsUpdated)
    assert len(updated) == 2 and updated[1].n_labeled == updated[0].n_labeled + 24 * 24
    assert updated[0].n_val_voxels == updated[1].n_val_voxels == 24 * 24
    warnings = [e.text for e in _of(events, Note) if e.level == "warning"]
    assert any("nothing to train on" in w for w in warnings)
    assert result.stop_reason == "stopped"


def test_with_a_budget_early_stopping_stays_and_labels_restart_its_judging(monkeypatch):
    import napari_seisseg.training.live as live_module

    runs = []

    class Recorded(live_module.TrainingRun):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            runs.append(self)

    monkeypatch.setattr(live_module, "TrainingRun", Recorded)
    image, truth, labels = _data()
    control = LiveControl()
    seen = {}

    def stroke(ev):
        run = runs[0]
        run.sched.num_bad_epochs, run.stale, run.best_score = 3, 2, 0.9  # a stale run
        stroke_at = (slice(4, 5), slice(0, 24), slice(0, 24))
        control.update_labels(truth[stroke_at], region=stroke_at)

    def after(ev):
        run = runs[0]
        seen.update(bad=run.sched.num_bad_epochs, stale=run.stale, best=run.best_score)
        control.stop()

    events, result = _run(image, labels, control, {5: stroke, 6: after},
                          config=_config(epochs=50, early_stopping=2))
    assert runs[0].config.early_stopping == 2  # a budget: early stopping as configured
    assert "50 epochs" in events[0].message()
    assert seen == {"bad": 0, "stale": 0, "best": -np.inf}  # judged afresh on the new labels
    # until stopped: said so at the start, and early stopping is off
    control = LiveControl()
    events, result = _run(image, labels, control, {30: lambda ev: control.stop()},
                          config=_config(early_stopping=2))
    assert runs[-1].config.early_stopping is None
    assert "until stopped" in events[0].message() and result.stop_reason == "stopped"


def test_a_run_until_stopped_refuses_the_cosine_schedule():
    with pytest.raises(SeisSegError, match="cosine"):
        _config(lr_schedule="cosine").validate(until_stopped=True)
    _config(lr_schedule="cosine", epochs=3).validate()


def test_a_failing_preview_is_a_warning_and_training_goes_on(monkeypatch):
    import napari_seisseg.training.live as live_module

    def broken(*args, **kwargs):
        raise RuntimeError("no memory left")

    monkeypatch.setattr(live_module, "predict_preview", broken)
    image, _, labels = _data()
    control = LiveControl(preview_period_s=0.0)
    control.request_preview(0, 5)
    events, result = _run(image, labels, control, {12: lambda ev: control.stop()})
    warnings = [e.text for e in _of(events, Note) if e.level == "warning"]
    assert any("preview of slice 5 failed" in w and "no memory left" in w for w in warnings)
    assert control.watched() is None  # that slice is no longer asked for
    assert max(e.global_step for e in _of(events, Step)) >= 12 and result.stop_reason == "stopped"


def test_the_distinct_latest_is_none_when_the_best_is_the_last_epoch():
    image, _, labels = _data()
    control = LiveControl()
    _, result = _run(image, labels, control, {10: lambda ev: control.stop()})
    latest = result.latest
    assert latest is not None
    latest.best_epoch = result.best_epoch + 1  # scored after the best: a second model
    assert result.distinct_latest is latest
    latest.best_epoch = result.best_epoch  # the best is the last epoch: one model
    assert result.distinct_latest is None


def test_stop_when_stops_the_control_from_the_run_side():
    flag = threading.Event()
    control = LiveControl(stop_when=flag.is_set)
    assert not control.stopped
    flag.set()
    assert control.stopped
    flag.clear()
    assert control.stopped  # once stopped, stays stopped


def test_previews_never_take_more_than_their_share_of_the_run():
    image, _, labels = _data()
    control = LiveControl(preview_period_s=0.0, max_preview_share=0.25)
    control.request_preview(0, 4)
    events, _ = _run(image, labels, control, {40: lambda ev: control.stop()})
    previews = _of(events, Preview)
    assert len(previews) >= 2
    for a, b in zip(previews, previews[1:], strict=False):
        cost = a.elapsed_s - a.weights_elapsed_s
        # after a preview of cost c, the next starts at least 3 c later (share 1/4)
        assert b.weights_elapsed_s - a.elapsed_s >= 3 * cost - 0.01
    with pytest.raises(ValueError, match="max_preview_share"):
        LiveControl(max_preview_share=0.0)


def test_a_live_run_with_a_budget_gives_its_held_out_paint_to_training_halfway():
    image, truth = toy_cube((24, 24, 24))
    times = sections_only(truth, 2, [2, 8, 14, 20])  # time slices: auto joins halfway
    control = LiveControl()
    later = times.copy()
    later[:, :, 5] = truth[:, :, 5]  # a slice painted after the join

    def paint(_events):
        control.update_labels(later)

    events, result = _run(image, times, control, {13: paint}, _config(epochs=4))
    notes = [e.text for e in _of(events, Note)]
    assert any("joins training after epoch 2 (50% of the budget)" in n for n in notes)
    seen = _of(events, LabelsUpdated)
    assert seen[0].n_val_voxels > 0 and seen[-1].n_val_voxels == 0  # no validation once joined
    assert seen[-1].n_train_voxels == np.count_nonzero(later)  # every painted voxel trains, new too
    assert result.best_metrics["before_joining"] == 2 and result.best_epoch == 4
    assert result.card["validation"]["split"]["voxels"] > 0  # the split before joining
    assert result.card["validation"]["measured_epoch"] == 2
    # the latest weights are the kept ones (the last model): no distinct latest
    assert result.distinct_latest is None
    assert result.latest.best_metrics["before_joining"] == 2


def test_a_join_with_everything_erased_is_a_warning_and_the_run_goes_on():
    image, truth = toy_cube((24, 24, 24))
    times = sections_only(truth, 2, [2, 8, 14, 20])
    control = LiveControl()

    def erase(_events):
        control.update_labels(np.zeros_like(times))

    events, result = _run(image, times, control, {7: erase}, _config(epochs=4))
    notes = [e.text for e in _of(events, Note)]
    # tried after epochs 2 and 3 (not after the last): refused each time, the run goes on
    assert sum(n.startswith("The held-out paint could not join training") for n in notes) == 2
    assert result.stop_reason == "epochs" and "before_joining" not in result.best_metrics
    assert result.card["validation"].get("joined_training") is None


def test_a_live_run_until_stopped_never_joins_and_asking_for_it_is_warned():
    image, truth = toy_cube((24, 24, 24))
    times = sections_only(truth, 2, [2, 8, 14, 20])
    control = LiveControl()
    events, result = _run(image, times, control, {10: lambda _e: control.stop()},
                          _config(val_join=0.5))
    notes = [e.text for e in _of(events, Note)]
    assert any(n.startswith("Validation joins training only in a run with a budget")
               for n in notes)
    assert not any("joins training after epoch" in n for n in notes)
    assert result.card["training"]["config"]["val_join"] == 1.0


def test_a_split_rebuilt_after_an_update_keeps_the_axis_it_was_made_along():
    """Bands held out of painted time slices stay time-slice sections after a stroke (they
    were stored along axis 0 before, so validation read inline windows across the bands)."""
    image, truth = toy_cube((24, 24, 24))
    labels = sections_only(truth, 2, [2, 8, 14, 20])
    control = LiveControl()
    stroke = (slice(0, 24), slice(0, 24), slice(5, 6))
    actions = {3: lambda ev: control.update_labels(truth[stroke], region=stroke)}
    events, result = _run(image, labels, control, actions,
                          _config(epochs=3, val_join=1.0, axes=None))
    assert len(_of(events, LabelsUpdated)) == 2  # the start, then the stroke
    split = result.card["validation"]["split"]
    assert split["axis"] == 2 and split["slices"] == [2, 8, 14, 20], split


def test_a_live_run_on_mixed_paint_still_says_its_time_slice_bands_say_little_after_an_update():
    """Mixed paint led by time slices, validation bands in them: the run's last note says the
    validation figure says little of the mask, also once a stroke rebuilt the (frozen) split."""
    image, truth = toy_cube((24, 40, 32), seed=2)
    labels = np.zeros_like(truth)
    labels[12] = truth[12]
    labels[:, :, [8, 16, 24]] = truth[:, :, [8, 16, 24]]
    control = LiveControl()
    stroke = (slice(18, 19), slice(0, 40), slice(0, 32))  # a second inline
    actions = {3: lambda ev: control.update_labels(truth[stroke], region=stroke)}
    events, result = _run(image, labels, control, actions,
                          _config(epochs=2, axes=None, position=False))
    assert len(_of(events, LabelsUpdated)) == 2  # the start, then the stroke
    assert result.card["validation"]["split"]["axis"] == 2  # bands in the time slices
    notes = [e.text for e in _of(events, Note)]
    assert any("not along the painted time slices, which predicted worse on every such paint "
               "measured, and which validation measured on its bands" in n for n in notes), notes
