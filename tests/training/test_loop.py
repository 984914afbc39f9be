"""The training generator: learns, stops, reproduces, saves, fine-tunes, refuses bad input."""

from __future__ import annotations

import csv
import json
import threading

import numpy as np
import pytest
import torch
from training_helpers import TINY, LazyArray, sections_only, toy_cube

from napari_seisseg.bundle import Normalizer, load_bundle
from napari_seisseg.errors import SeisSegError
from napari_seisseg.jobs import drain
from napari_seisseg.training import (
    EpochEnd,
    Finished,
    Started,
    Step,
    TrainConfig,
    train,
)
from napari_seisseg.training.run_summary import epoch_line


def _config(**kw):
    base = dict(
        model="unet2d",
        model_kwargs=dict(TINY),
        patch_size=24,
        batch_size=4,
        epochs=2,
        steps_per_epoch=4,
    )
    base.update(kw)
    return TrainConfig(**base)


def _collect(gen):
    events = []
    result = drain(gen, events.append)
    return events, result


def _predict_section(model, card, section):
    norm = Normalizer.from_dict(card["preprocessing"])
    x = torch.from_numpy(norm(section)[None, None])
    with torch.no_grad():
        logits = model(x)[0]
    values = [c["value"] for c in card["classes"]]
    if card["binary"]:
        idx = (torch.sigmoid(logits[0]) >= card["threshold"]).long().numpy()
    else:
        idx = logits.argmax(0).numpy()
    return np.asarray(values)[idx]


def test_short_run_beats_chance_on_held_out_voxels():
    image, truth = toy_cube()
    labels = sections_only(truth, 0, [1, 4, 7, 10])
    events, result = _collect(train(image, labels, _config(epochs=4, steps_per_epoch=10)))
    assert isinstance(events[0], Started) and isinstance(events[-1], Finished)
    assert events[0].device == "cpu" and "CPU" in events[0].device_description
    # a band of each of the 4 painted inlines (20 % of its 24 crosslines) is held out
    assert events[0].binary and events[0].n_val_voxels == 4 * 5 * 24
    steps = [e for e in events if isinstance(e, Step)]
    assert [s.global_step for s in steps] == list(range(1, 41))
    assert steps[-1].progress == 1.0
    assert len([e for e in events if isinstance(e, EpochEnd)]) == 4
    assert result.stop_reason == "epochs"
    # validation (a held-out inline) and a never-labeled inline: chance is ~0.33 IoU / 0.5 accuracy
    assert result.best_metrics["mean_iou"] > 0.6
    pred = _predict_section(result.model, result.card, image[6])
    assert (pred == truth[6]).mean() > 0.75
    card = result.card
    assert card["input"]["kind"] == "2d" and card["binary"] and 0 < card["threshold"] < 1
    assert card["validation"]["split"]["axis"] == 0 and card["labels"]["axes"][0]["sections"] == [
        1,
        4,
        7,
        10,
    ]
    assert card["training"]["steps"] == 40 and card["classes"][1]["value"] == 2


def test_same_seed_same_losses():
    image, truth = toy_cube(seed=1)
    labels = sections_only(truth, 1, [3, 12, 20])
    cfg = _config(epochs=1, steps_per_epoch=5, seed=3)
    runs = []
    for _ in range(2):
        events, _ = _collect(train(image, labels, cfg))
        runs.append([e.loss for e in events if isinstance(e, Step)])
    assert runs[0] == runs[1]
    events, _ = _collect(train(image, labels, _config(epochs=1, steps_per_epoch=5, seed=4)))
    assert [e.loss for e in events if isinstance(e, Step)] != runs[0]


def test_plateau_decay_stops_at_a_hundredth_of_the_rate():
    """Without validation the noisy training loss drives the plateau; the rate has a floor."""
    image, truth = toy_cube(seed=2)
    labels = sections_only(truth, 1, [3, 12, 20])
    cfg = _config(epochs=12, steps_per_epoch=2, val_fraction=0.0, lr=1e-3, lr_patience=0,
                  lr_factor=0.1, early_stopping=None)
    events, _ = _collect(train(image, labels, cfg))
    rates = [e.lr for e in events if isinstance(e, EpochEnd)]
    assert len(rates) == 12 and min(rates) == pytest.approx(1e-5)
    assert rates[0] == pytest.approx(1e-3) or rates[0] == pytest.approx(1e-4)


def test_stop_keeps_a_loadable_bundle_and_run_folder(tmp_path):
    image, truth = toy_cube()
    labels = sections_only(truth, 0, [2, 6, 9])
    stop = threading.Event()

    def on_event(e):
        if isinstance(e, Step) and e.global_step == 3:
            stop.set()

    cfg = _config(epochs=50, run_dir=str(tmp_path / "run"))
    result = drain(train(image, labels, cfg, stop=stop), on_event)
    assert result.stop_reason == "stopped" and result.card["training"]["steps"] == 3
    assert result.best_metrics is not None  # scored once more when stopped
    path = result.save(tmp_path / "stopped.safetensors")
    model, card = load_bundle(path)
    x = torch.randn(1, 1, 24, 24)
    with torch.no_grad():
        assert torch.equal(model(x), result.model(x))
    assert card["training"]["stop_reason"] == "stopped"
    run = tmp_path / "run"
    assert (run / "model.safetensors").exists()
    assert json.loads((run / "config.json").read_text())["card"]["n_classes"] == 2
    rows = list(csv.DictReader(open(run / "metrics.csv")))
    assert len(rows) == 1 and rows[0]["steps"] == "3" and float(rows[0]["val_mean_iou"]) >= 0


def test_multiclass_hybrid_and_3d_models_train(tmp_path):
    image, truth = toy_cube(shape=(10, 20, 20))
    three = np.digitize(image, np.quantile(image, [1 / 3, 2 / 3])).astype(np.uint8) + 1
    labels = sections_only(three, 0, [2, 5, 8])
    for model, kw in (("hybrid", {"context": 1}), ("unet3d", {}), ("resunet", {"context": 1})):
        cfg = _config(
            model=model,
            model_kwargs={**TINY, **kw},
            epochs=1,
            steps_per_epoch=2,
            batch_size=2,
            patch_size=16,
        )
        result = drain(train(image, labels, cfg, class_names=["low", "mid", "high"]))
        card = result.card
        assert not card["binary"] and card["n_outputs"] == 3
        assert [c["name"] for c in card["classes"]] == ["low", "mid", "high"]
        assert card["input"]["kind"] == {"hybrid": "slab", "unet3d": "3d", "resunet": "2d"}[model]
        path = result.save(tmp_path / f"{model}.safetensors")
        assert load_bundle(path)[1]["model"]["name"] == model


def test_fine_tuning_keeps_classes_and_takes_an_edited_prediction(tmp_path):
    image, truth = toy_cube()
    labels = sections_only(truth, 0, [1, 5, 9])
    first = drain(train(image, labels, _config(epochs=1, steps_per_epoch=3)))
    path = first.save(tmp_path / "first.safetensors")
    more = labels.copy()
    more[3, :4] = 3
    with pytest.raises(
        SeisSegError, match=r"value\(s\) \[3\].*model being fine-tuned.*from scratch"
    ):
        next(train(image, more, _config(), init_bundle=path))
    with pytest.raises(SeisSegError, match="zero_is_background"):
        next(train(image, labels, _config(zero_is_background=True), init_bundle=path))
    # the predicted mask, corrected, is a valid labels layer
    mask = np.stack(
        [_predict_section(first.model, first.card, image[i]) for i in range(image.shape[0])]
    )
    mask[:, :3] = truth[:, :3]
    events, second = _collect(
        train(image, mask.astype(np.uint8), _config(epochs=1, steps_per_epoch=2), init_bundle=path)
    )
    assert second.card["fine_tuned_from"]["source"] == str(path)
    assert second.card["classes"] == first.card["classes"]
    assert second.card["model"] == first.card["model"]
    # a result in memory (the widget's last model) works as a starting point too
    before = {k: v.clone() for k, v in first.model.state_dict().items()}
    third = drain(
        train(image, labels, _config(epochs=1, steps_per_epoch=1), init_bundle=first)
    )
    assert third.card["fine_tuned_from"]["source"] == "a model in memory"
    after = first.model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)  # copied, not trained further


def test_bad_inputs_and_small_images():
    image, truth = toy_cube()
    labels = sections_only(truth, 0, [2, 6])
    with pytest.raises(SeisSegError, match="shape"):
        next(train(image, labels[:, :, :5], _config()))
    with pytest.raises(SeisSegError, match="No labels"):
        next(train(image, np.zeros_like(labels), _config()))
    with pytest.raises(SeisSegError, match="Only one class"):
        next(train(image, np.where(labels > 0, 1, 0).astype(np.uint8), _config()))
    nan = image.copy()
    nan[0, 0, 0] = np.nan
    with pytest.raises(SeisSegError, match="NaN"):
        next(train(nan, labels, _config()))
    lazy = LazyArray(nan)  # on-disk images are checked patch by patch
    with pytest.raises(SeisSegError, match="NaN"):
        drain(train(lazy, labels, _config(epochs=1, steps_per_epoch=50)))
    with pytest.raises(SeisSegError, match="3D model needs a volume"):
        next(train(image[0], labels[2], _config(model="unet3d")))
    with pytest.raises(SeisSegError, match="steps_per_epoch"):
        next(train(image, labels, _config(steps_per_epoch=0)))
    # an image smaller than the patch is padded, not refused; a 2D image trains as one section
    result = drain(
        train(
            image[:3, :10, :7],
            labels[:3, :10, :7],
            _config(patch_size=128, epochs=1, steps_per_epoch=2),
        )
    )
    assert result.card["input"]["patch_size"] == [10, 10]
    section = drain(train(image[2], labels[2], _config(epochs=1, steps_per_epoch=2)))
    assert section.card["input"]["axes"] == [0] and section.card["validation"]["split"] is not None


def test_out_of_memory_halves_the_batch(monkeypatch):
    import napari_seisseg.training.run as run

    real = run._optimise
    sizes = []

    def fake(s, opt, scaler, x, y, epoch, aux):
        sizes.append(x.shape[0])
        if x.shape[0] > 2:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return real(s, opt, scaler, x, y, epoch, aux)

    monkeypatch.setattr(run, "_optimise", fake)
    image, truth = toy_cube()
    labels = sections_only(truth, 0, [2, 6, 9])
    events, result = _collect(
        train(image, labels, _config(batch_size=8, epochs=1, steps_per_epoch=3))
    )
    notes = [e.text for e in events if e.kind == "note" and "validation" not in e.text]
    assert notes == [
        "Out of memory: batch size lowered to 4.",
        "Out of memory: batch size lowered to 2.",
    ]
    assert sizes == [8, 4, 2, 2, 2] and result.card["training"]["batch_size"] == 2
    monkeypatch.setattr(
        run, "_optimise", lambda *a: (_ for _ in ()).throw(torch.OutOfMemoryError("out of memory"))
    )
    with pytest.raises(SeisSegError, match="even with one patch"):
        drain(train(image, labels, _config(batch_size=1)))


def _constant_metrics(n_predicted, score=0.45):
    classes = [
        {"index": i, "name": n, "value": i + 1, "iou": iou, "recall": rec, "support": 100,
         "predicted": 100 if i < n_predicted else 0}
        for i, (n, iou, rec) in enumerate([("a", 0.9, 0.95), ("b", 0.0, 0.0)])
    ]
    return {"mean_iou": score, "painted_mean_iou": score, "n_predicted": n_predicted,
            "accuracy": 0.5, "voxels": 200, "classes": classes, "threshold": 0.5}


@pytest.mark.parametrize("n_predicted", [1, 2])
def test_ties_keep_the_later_model_and_a_constant_model_never_stops_early(monkeypatch, n_predicted):
    from napari_seisseg.training.validation import ValidationSet

    calls = []

    def falling(self, *a, **k):  # every epoch scores worse than the first
        calls.append(1)
        return _constant_metrics(n_predicted, 0.5 - 0.01 * len(calls))

    image, truth = toy_cube()
    labels = sections_only(truth, 0, [1, 4, 7, 10])
    monkeypatch.setattr(ValidationSet, "evaluate", falling)
    _, result = _collect(train(image, labels, _config(epochs=5, early_stopping=2)))
    if n_predicted == 1:  # one class predicted everywhere: budget remains, so go on
        assert result.stop_reason == "epochs" and result.best_epoch == 1
    else:
        assert result.stop_reason == "early_stopping" and len(calls) == 3
    # equal scores: the later model is kept (an early perfect score must not freeze it),
    # but a tie is no improvement: patience still runs out (unless the model is constant)
    monkeypatch.setattr(ValidationSet, "evaluate",
                        lambda self, *a, **k: _constant_metrics(n_predicted))
    events, result = _collect(train(image, labels, _config(epochs=5, early_stopping=2)))
    if n_predicted == 1:
        assert result.stop_reason == "epochs" and result.best_epoch == 5
    else:
        assert result.stop_reason == "early_stopping" and result.best_epoch == 3
    notes = [e.text for e in events if type(e).__name__ == "Note"]
    # what was learned, per class: b is never found
    assert any(n.startswith("a: validation IoU 0.90, found 95%") for n in notes)
    assert any(n.startswith("b: 0 of 100 validation voxels found") for n in notes)


def test_keep_last_keeps_the_end_of_the_run_and_reports_its_validation(monkeypatch):
    from napari_seisseg.training.validation import ValidationSet

    calls = []

    def falling(self, *a, **k):  # every epoch scores worse than the first
        calls.append(1)
        return _constant_metrics(2, 0.5 - 0.01 * len(calls))

    image, truth = toy_cube()
    labels = sections_only(truth, 0, [1, 4, 7, 10])
    monkeypatch.setattr(ValidationSet, "evaluate", falling)
    events, result = _collect(train(image, labels,
                                    _config(epochs=5, early_stopping=2, keep="last")))
    assert result.stop_reason == "epochs" and result.best_epoch == 5  # never stopped early
    # every epoch's weights are kept, but only the first, the best by validation, says "best"
    ends = [e for e in events if type(e).__name__ == "EpochEnd"]
    assert [e.is_best for e in ends] == [True, False, False, False, False]
    assert [epoch_line(e).endswith("(best)") for e in ends] == [True] + [False] * 4
    assert result.best_metrics["mean_iou"] == pytest.approx(0.45)  # the last epoch's score
    assert result.card["training"]["config"]["keep"] == "last"
    calls.clear()
    _, best = _collect(train(image, labels, _config(epochs=5, early_stopping=2, keep="best")))
    assert best.best_epoch == 1 and best.stop_reason == "early_stopping"
    with pytest.raises(SeisSegError, match="keep must be"):
        _config(keep="first").validate()


def test_a_class_painted_on_few_voxels_is_named_with_its_count():
    image, truth = toy_cube()
    labels = sections_only(truth, 0, [1, 4, 7, 10])
    labels[2, 3, 3:8] = 3  # 5 voxels of a third class
    events, _ = _collect(train(image, labels, _config(epochs=1, steps_per_epoch=1)))
    notes = [e.text for e in events if type(e).__name__ == "Note"]
    assert any("class 3 is painted on only 5 voxels" in n or "3 is painted on only 5 voxels" in n
               for n in notes), notes
    assert not [n for n in notes if "separate patch" in n]  # said once: the voxels
