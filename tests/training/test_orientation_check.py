"""Time-slice paint: the three orientations are averaged only where validation says so."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from training_helpers import TINY, sections_only, toy_cube

from napari_seisseg.bundle.model import BundleModel
from napari_seisseg.bundle.storage import save_bundle
from napari_seisseg.jobs import drain
from napari_seisseg.training import TrainConfig, train
from napari_seisseg.training import orientation_check as oc
from napari_seisseg.training.split import HeldOut


def _trained(shape=(24, 40, 32), times=(4, 12, 20, 28), classes=2, **kw):
    image, truth = toy_cube(shape, seed=2)
    if classes == 3:
        truth[image > np.quantile(image, 0.8)] = 3
    labels = sections_only(truth, 2, times)
    cfg = TrainConfig(model="unet2d", model_kwargs=dict(TINY), patch_size=16, batch_size=4,
                      epochs=1, steps_per_epoch=2, seed=0, **kw)
    events = []
    result = drain(train(image, labels, cfg), events.append)
    return image, truth, result, [e.text for e in events if type(e).__name__ == "Note"]


def _fake_predict(vertical_right: bool):
    """Probabilities read off an image whose values are the classes (1..K): right along time
    slices but not sure (0.8), and along the other axes sure, and right or shifted to the
    next class."""

    def predict(bm, crop, axis):
        predict.crops.append((axis, crop.shape))
        cls = np.rint(crop).astype(np.int64) - 1
        n = max(bm.n_outputs, 2)
        if axis != 2 and not vertical_right:
            cls = (cls + 1) % n
        sure = 1.0 if axis != 2 else 0.8
        if bm.binary:
            return np.where(cls == 1, sure, 1 - sure)[None].astype(np.float32)
        probs = np.stack([cls == c for c in range(n)]).astype(np.float32)
        return probs * sure + (1 - probs) * (1 - sure) / (n - 1)

    predict.crops = []
    return predict


def test_the_densest_block_is_chosen():
    assert oc._block(np.array([0, 1, 5, 5, 0, 9]), 2) == slice(2, 4)
    assert oc._block(np.array([3, 1]), 32) == slice(0, 2)  # capped at the axis
    assert oc._widened(slice(10, 20), 25, 8) == (slice(2, 25), slice(8, 18))


@pytest.mark.parametrize("n_classes", [2, 3])
def test_the_average_is_kept_only_when_it_scores_at_least_as_well(monkeypatch, n_classes):
    shape = (50, 60, 32)
    rng = np.random.default_rng(n_classes)
    truth = rng.integers(1, n_classes + 1, size=shape).astype(np.uint8)
    _, _, result, _ = _trained(shape, classes=n_classes)
    card = dict(result.card, input={**result.card["input"], "predict_axes": [2, 0, 1]},
                threshold=0.5)
    assert BundleModel.from_model(result.model, card).binary == (n_classes == 2)
    # the image holds the classes, so the fake predictions are right or wrong by construction
    classes = truth.astype(np.float32)
    times = [5, 11, 17, 30]
    # validation voxels away from the origin: both blocks start inside the axes
    window = np.zeros(shape[:2], bool)
    window[20:33, 12:48] = True
    held = HeldOut(shape, 2, times, [np.where(window, truth[:, :, t], 0) for t in times], "bands")
    fake = _fake_predict(vertical_right=False)
    monkeypatch.setattr(oc, "_predict", fake)
    axes, record, why_not = oc.check_orientations(result.model, card, classes, held)
    # blocks of 32: rows 1..33 (around 20..33), columns 12..44 (32 of 12..48), read with 16
    # (the patch) of margin inside the cube: rows 0..49, columns 0..60
    assert fake.crops == [(2, (49, 60, 4)), (0, (32, 60, 32)), (1, (49, 32, 32))]
    # every voxel bookkept right: time slices alone are right; the others, sure and shifted,
    # outvote them although the time slices weigh as much as both together
    assert record["painted_axis"] == 1.0 and record["averaged"] == 0.0 and why_not is None
    assert axes == [2] and record["chosen"] == "painted_axis"
    assert record["voxels"] == 4 * 13 * 32  # the block along axis 1 is capped at 32 of 36
    assert record["slices"] == 4 and record["painted_axis_better"] == 1.0  # on every resample
    assert record["weights"] == [0.5, 0.25, 0.25]
    assert oc.describe(record).startswith("Prediction runs along time slices alone")
    # the same lead on three slices only: too few to tell, the average stays, and says why
    three = HeldOut(shape, 2, times[:3], held.sections[:3], "bands")
    axes, record, _ = oc.check_orientations(result.model, card, classes, three)
    assert axes == [2, 0, 1] and record["painted_axis_better"] == 1.0 and record["slices"] == 3
    assert "only 3 validation slice(s), too few to tell" in oc.describe(record)
    # a validation slice with nothing inside the blocks is not a unit of the comparison
    empty = np.zeros(shape[:2], np.uint8)
    empty[0, 59] = 1
    five = HeldOut(shape, 2, [*times, 24], [*held.sections, empty], "bands")
    assert oc.check_orientations(result.model, card, classes, five)[1]["slices"] == 4
    monkeypatch.setattr(oc, "_predict", _fake_predict(vertical_right=True))
    axes, record, _ = oc.check_orientations(result.model, card, classes, held)
    assert axes == [2, 0, 1] and record["chosen"] == "averaged"  # a tie keeps the average


def test_time_slices_alone_must_be_better_beyond_the_noise_of_the_validation_slices():
    n = 3  # classes; per-slice confusion matrices, rows the prediction, columns the truth
    right, wrong = np.eye(n, dtype=np.int64) * 50, np.full((n, n), 10) + np.eye(n, dtype=np.int64) * 20
    # better alone on one slice of five, alike elsewhere: not sure, the average stays
    alone = np.stack([right, *[wrong] * 4])
    averaged = np.stack([wrong] * 5)
    assert 0.5 < oc._share_better(alone, averaged) < oc.SURE
    # better alone on every slice: sure
    assert oc._share_better(np.stack([right] * 5), averaged) == 1.0
    assert oc._share_better(averaged, averaged) == 0.0  # a tie is no win
    assert oc._painted_mean_iou(np.stack([right] * 5)) == 1.0
    record = {"painted_axis": 0.647, "averaged": 0.613, "voxels": 7328, "slices": 8,
              "painted_axis_better": 0.84, "chosen": "averaged"}
    text = oc.describe(record)
    assert text.startswith("Prediction averages time slices, inlines and crosslines")
    assert "0.613 mean IoU against 0.647" in text and "higher on only 84%" in text
    assert oc.describe({**record, "averaged": 0.7}).endswith("for time slices alone.")


def test_nothing_is_compared_without_validation_or_with_too_few_voxels():
    image, truth, result, _ = _trained()
    card = dict(result.card, input={**result.card["input"], "predict_axes": [2, 0, 1]})
    assert oc.check_orientations(result.model, card, image, None)[2].startswith("there are no")
    assert not oc.will_compare(result.model, card, None)  # returns at once: no line before it
    few = HeldOut(truth.shape, 2, [5], [np.where(np.arange(24 * 40).reshape(24, 40) < 50,
                                                 truth[:, :, 5], 0)], "50 voxels")
    assert oc.check_orientations(result.model, card, image, few)[:2] == (None, None)
    inline = {**card, "input": {**card["input"], "predict_axes": [0]}}
    held = HeldOut(truth.shape, 2, [5], [truth[:, :, 5]], "one slice")
    assert oc.check_orientations(result.model, inline, image, held) == (None, None, None)
    # validation labels of the user's own are stored along axis 0: read back along time
    across = HeldOut(truth.shape, 0, [3, 4], [truth[3], truth[4]], "two validation inlines")
    axes, record, why_not = oc.check_orientations(result.model, card, image, across)
    assert why_not is None and record["voxels"] == 2 * 32 * 32  # 2 inlines x 32 of 40 x 32 times
    assert oc.will_compare(result.model, card, across)
    assert not oc.will_compare(result.model, card, few) and not oc.will_compare(
        result.model, inline, held)
    two_and_a_half_d = SimpleNamespace(context=2, position=None, normalizer=None)
    assert "vertical context" in oc._why_not(two_and_a_half_d, held)


def test_a_time_slice_run_records_the_comparison_and_says_what_prediction_does(tmp_path):
    image, _, result, notes = _trained()
    orient = result.card["validation"]["orientations"]
    assert set(orient) == {"painted_axis", "averaged", "weights", "voxels", "slices", "painted_axis_better",
                           "chosen"}
    assert 0.0 <= orient["painted_axis"] <= 1.0 and 0.0 <= orient["averaged"] <= 1.0
    assert 0.0 <= orient["painted_axis_better"] <= 1.0 and orient["slices"] >= 1
    expected = [2, 0, 1] if orient["chosen"] == "averaged" else [2]
    assert result.card["input"]["predict_axes"] == expected
    assert any(n.startswith("Prediction ") and f"{orient['voxels']:,} validation voxels" in n
               for n in notes)
    # a line says the comparison runs (it predicts the validation voxels three ways)
    assert notes.count("Comparing the prediction orientations on validation…") == 1
    save_bundle(tmp_path / "m.safetensors", result.model, result.card)
    loaded = BundleModel.load(tmp_path / "m.safetensors")
    assert loaded.predict_axes == tuple(expected)  # what seisseg predict and the widget use
    assert loaded.card["validation"]["orientations"] == orient


def test_mixed_paint_led_by_inlines_averages_the_painted_inlines_and_crosslines_unchecked():
    # two inlines, two crosslines and a time slice (19 % of the paint) painted: the inlines
    # and crosslines are predicted (the most painted first), without the time-slice check,
    # and the user is told
    image, truth = toy_cube((24, 40, 32), seed=2)
    labels = np.zeros_like(truth)
    labels[[6, 18]] = truth[[6, 18]]
    labels[:, [10, 30]] = truth[:, [10, 30]]
    labels[:, :, 16] = truth[:, :, 16]
    cfg = TrainConfig(model="unet2d", model_kwargs=dict(TINY), patch_size=16, batch_size=4,
                      epochs=1, steps_per_epoch=2, seed=0)
    events = []
    result = drain(train(image, labels, cfg), events.append)
    notes = [e.text for e in events if type(e).__name__ == "Note"]
    assert result.card["input"]["predict_axes"] == [0, 1]
    assert "orientations" not in result.card["validation"]
    assert any(n.startswith("Prediction averages along axis 0 and axis 1 sections by default, "
                            "each averaged over test-time flips of axis 0 and axis 1") for n in notes), notes
    card = dict(result.card, input={**result.card["input"], "predict_axes": [0, 1, 2]})
    assert oc.check_orientations(result.model, card, image, None) == (None, None, None)


@pytest.mark.parametrize("shape, inlines, crosslines, times, keep, predicted", [
    # 2 time slices lead (41 % of the paint) and hold the validation bands: kept last; the
    # painted crosslines and inline are predicted
    ((24, 40, 32), [12], [10, 30], [8, 24], "last", [1, 0]),
    # 2 time slices lead (45 %), but 3 inlines and 3 crosslines are more sections, so
    # validation holds out bands of them: the best model by validation is kept
    ((40, 40, 16), [10, 20, 30], [8, 20, 32], [4, 12], "best", [0, 1]),
    # 3 time slices hold most of the paint (68 %), an inline the rest: still mixed, unchecked;
    # the inlines and the (unpainted) crosslines are predicted
    ((24, 40, 32), [12], [], [8, 16, 24], "last", [0, 1]),
])
def test_mixed_paint_led_by_time_slices_is_never_checked_and_keeps_by_where_validation_is(
    shape, inlines, crosslines, times, keep, predicted
):
    image, truth = toy_cube(shape, seed=2)
    labels = np.zeros_like(truth)
    labels[inlines] = truth[inlines]
    labels[:, crosslines] = truth[:, crosslines]
    labels[:, :, times] = truth[:, :, times]
    cfg = TrainConfig(model="unet2d", model_kwargs=dict(TINY), patch_size=16, batch_size=4,
                      epochs=1, steps_per_epoch=2, seed=0, position=False)  # checkable
    events = []
    result = drain(train(image, labels, cfg), events.append)
    card = result.card
    assert card["input"]["predict_axes"] == predicted  # never checked along time slices alone
    # the run says what prediction averages by default: weights and flips included
    notes = [e.text for e in events if type(e).__name__ == "Note"]
    words = " and ".join([", ".join(f"axis {a}" for a in predicted[:-1]), f"axis {predicted[-1]}"])
    assert any(n.startswith(f"Prediction averages along {words} sections by default, each "
                            "averaged over test-time flips of axis 0 and axis 1; not along the painted time "
                            "slices") for n in notes), notes
    assert any("not along the painted time slices" in n for n in notes), notes
    # the bands in the time slices (kept last) measured time slices, which are not predicted:
    # the run says its validation figure says little of the mask; bands of inlines and
    # crosslines (kept best) measured what is predicted
    assert not [n for n in notes if n.startswith("Comparing the prediction orientations")]
    told = any("validation measured on its bands: the validation reported says little of the "
               "mask" in n for n in notes)
    assert told == (result.card["validation"]["split"]["axis"] == 2), notes
    assert told == (keep == "last")
    assert "orientations" not in card["validation"]
    assert card["training"]["config"]["keep"] == keep
    augment = card["training"]["config"]["augment"]
    assert augment["elastic"] > 0 and augment["scale"] > 0  # the time-slice recipe


@pytest.mark.parametrize("inline", [False, True])
def test_runs_trained_on_time_slices_and_inlines_only_keep_both_and_flip_their_maps(inline):
    # trained along time slices and inlines only (axes 2 and 0): the check needs the three
    # orientations, so it does not run; painted on time slices, or mostly on them with an
    # inline (68 %), prediction averages the two trained orientations, time first, maps
    # flipped (the crosslines that time-led paint with one inline would add were not trained)
    image, truth = toy_cube((24, 40, 32), seed=2)
    labels = np.zeros_like(truth)
    labels[:, :, [8, 16, 24]] = truth[:, :, [8, 16, 24]]
    if inline:
        labels[12] = truth[12]
    cfg = TrainConfig(model="unet2d", model_kwargs=dict(TINY), patch_size=16, batch_size=4,
                      epochs=1, steps_per_epoch=2, seed=0, position=False, axes=(2, 0))
    events = []
    result = drain(train(image, labels, cfg), events.append)
    assert result.card["input"]["predict_axes"] == [2, 0]
    notes = [e.text for e in events if type(e).__name__ == "Note"]
    assert any(n.startswith("Prediction averages along axis 2 and axis 0 sections by default, "
                            "each averaged over test-time flips of axis 0 and axis 1, axis 2 slices over all "
                            "8 turns and mirrors (seisseg predict --axes "
                            "and --no-tta") for n in notes), notes


def test_a_failing_check_is_a_warning_and_the_trained_model_is_kept(monkeypatch):
    """The question whether the check will predict fails too (a bundle check, the held-out
    labels' reading): a warning, the card's orientations, the run's model all the same."""
    from napari_seisseg.errors import SeisSegError
    from napari_seisseg.training import run as run_module

    def broken(*_args):
        raise SeisSegError("the held-out labels could not be read")

    monkeypatch.setattr(run_module, "will_compare", broken)
    _, _, result, notes = _trained()
    assert result.model is not None and "orientations" not in result.card["validation"]
    assert any(n.startswith("Could not compare the prediction orientations on validation "
                            "(the held-out labels could not be read)") for n in notes), notes
