"""The paint held out for validation joining training for the end of a run (``TrainConfig.val_join``)."""

from __future__ import annotations

import numpy as np
import pytest
from training_helpers import TINY, sections_only, toy_cube

from napari_seisseg.errors import SeisSegError
from napari_seisseg.jobs import drain
from napari_seisseg.training import EpochEnd, Finished, TrainConfig, train
from napari_seisseg.training import run as run_module
from napari_seisseg.training.orientation_check import check_orientations
from napari_seisseg.training.patch_sampler import PatchSampler


def _config(**kw):
    base = dict(model="unet2d", model_kwargs=dict(TINY), patch_size=24, batch_size=4,
                epochs=4, steps_per_epoch=4)
    return TrainConfig(**{**base, **kw})


def _run(labels, image, **kw):
    events = []
    result = drain(train(image, labels, _config(**kw.pop("config", {})), **kw), events.append)
    notes = [e.text for e in events if type(e).__name__ == "Note"]
    validated = [e.metrics is not None for e in events if isinstance(e, EpochEnd)]
    return events, result, notes, validated


def test_time_slice_paint_trains_on_its_validation_bands_for_the_second_half(monkeypatch):
    image, truth = toy_cube((24, 24, 24))
    labels = sections_only(truth, 2, [2, 8, 14, 20])  # four painted time slices
    trained, checked = [], []
    recount = PatchSampler.recount

    def spy(self):
        recount(self)
        trained.append(int(np.count_nonzero(self.target)))

    def check(model, card, image, held):  # the orientation check sees the paint held out
        checked.append(len(trained))
        return check_orientations(model, card, image, held)

    monkeypatch.setattr(PatchSampler, "recount", spy)
    monkeypatch.setattr(run_module, "check_orientations", check)
    events, result, notes, validated = _run(labels, image)
    # sampled from every painted voxel after epoch 2 of 4 (bands and gaps given back)
    assert trained[-1] == np.count_nonzero(labels) and trained[0] < trained[-1]
    assert validated == [True, True, False, False]
    assert any(n.startswith("Time slices are painted most: the model at the end of the run is "
                            "kept") and "; the paint held out for validation joins training "
               "after 50% of the budget" in n and n.endswith("(--val-join 1 to keep it out, "
                                                             "--keep best to choose by it).")
               for n in notes)
    joined = next(n for n in notes if "joins training after epoch" in n)
    assert "after epoch 2 (50% of the budget)" in joined
    # the last model is kept, its validation is epoch 2's and says so everywhere
    assert result.best_epoch == 4 and result.best_metrics["before_joining"] == 2
    val = result.card["validation"]
    assert val["measured_epoch"] == 2 and val["joined_training"] is True
    assert result.card["training"]["config"]["val_join"] == 0.5
    assert result.card["training"]["config"]["keep"] == "last"
    assert "at epoch 2, before the held-out paint joined training" in events[-1].message()
    assert isinstance(events[-1], Finished)
    assert "Validation per class at epoch 2, before the held-out paint joined training:" in notes
    # the orientations were compared on the model of epoch 2, before the bands were learned
    assert any("measured on the model of epoch 2" in n for n in notes)
    # once, before the paint was given back (the sampler's first count), none at the end
    assert checked == [1] and len(trained) == 2
    assert "orientations" in val


def test_the_loss_weights_are_counted_again_when_the_paint_joins(monkeypatch):
    from napari_seisseg.training.labels import value_counts
    from napari_seisseg.training.losses import class_weights
    from napari_seisseg.training.session import Session

    image, truth = toy_cube((24, 24, 24))
    labels = sections_only(truth, 2, [2, 8, 14, 20])
    seen = []
    recount = Session.recount

    def spy(self):
        before = list(self.loss_fn.class_weights)
        recount(self)
        seen.append((before, list(self.loss_fn.class_weights), self))

    monkeypatch.setattr(Session, "recount", spy)
    _run(labels, image)
    (before, after, s), = seen  # once, when the bands and gaps are given back
    counts = value_counts(s.data.target, len(s.data.classes) + 1)[1:]
    assert counts.sum() == np.count_nonzero(labels) and np.array_equal(s.train_counts, counts)
    assert after == class_weights(s.config, counts, s.data.classes) and after != before


def test_validation_stays_out_where_it_chooses_the_model_or_the_user_gave_it():
    image, truth = toy_cube((24, 24, 24))
    inlines = sections_only(truth, 0, [2, 8, 14, 20])
    _, result, notes, validated = _run(inlines, image)  # keep best: validation chooses
    assert all(validated) and not any("joins training" in n for n in notes)
    assert result.card["training"]["config"]["val_join"] is None
    assert "before_joining" not in result.best_metrics
    times = sections_only(truth, 2, [2, 8, 14, 20])
    _, _, notes, validated = _run(times, image, config={"val_join": 1.0})
    assert all(validated) and not any("joins training" in n for n in notes)
    # mixed paint led by time slices is not measured joining: it keeps validation out
    mixed = times.copy()
    mixed[12] = truth[12]
    _, result, notes, validated = _run(mixed, image)
    assert all(validated) and result.card["training"]["config"]["val_join"] is None
    # nothing held out: auto stays auto and says nothing of joining
    _, result, notes, _ = _run(times, image, config={"val_fraction": 0.0})
    assert result.card["training"]["config"]["val_join"] is None
    assert not any("joins training" in n for n in notes)
    # validation labels of the user's own never join, even when asked, and it is said
    own = sections_only(truth, 2, [5])
    _, result, notes, validated = _run(times, image, config={"val_join": 0.5}, val_labels=own)
    assert all(validated) and "before_joining" not in result.best_metrics
    assert any(n.endswith("val_join (--val-join) is ignored.") for n in notes)
    assert result.card["training"]["config"]["val_join"] == 1.0
    assert result.card["training"]["config"]["keep"] == "best"


def test_val_join_on_inline_paint_keeps_the_last_model_and_counts_the_paint_once():
    image, truth = toy_cube((24, 24, 24))
    inlines = sections_only(truth, 0, [2, 8, 14, 20])
    _, result, notes, validated = _run(inlines, image, config={"val_join": 0.75})
    assert validated == [True, True, True, False]
    assert any(n.startswith("The paint held out for validation joins training after 75% of "
                            "the budget: the model at the end of the run is kept") for n in notes)
    assert result.card["training"]["config"]["keep"] == "last" and result.best_epoch == 4
    assert result.best_metrics["before_joining"] == 3
    # the card's priors count every painted voxel once, as a run that held nothing out
    _, whole, _, _ = _run(inlines, image, config={"val_fraction": 0.0, "epochs": 1})
    for prior in ("time_prior", "lateral_prior"):
        assert result.card["input"][prior] == whole.card["input"][prior]
    assert result.card["input"]["lateral_prior"] is not None


def test_whole_held_out_sections_join_too():
    image, truth = toy_cube((24, 24, 48))
    times = sections_only(truth, 2, range(1, 48, 4))  # 12 painted time slices: whole ones held out
    _, result, notes, validated = _run(times, image)
    assert "held out 2 of 12" in result.card["validation"]["split"]["description"]
    assert validated == [True, True, False, False]
    joined = next(n for n in notes if "joins training after epoch" in n)
    assert f"({2 * 24 * 24:,} voxels)" in joined  # the two slices, whole


@pytest.mark.parametrize("kw, match", [({"val_join": 0.0}, "above 0 and at most 1"),
                                       ({"val_join": 1.5}, "above 0 and at most 1"),
                                       ({"val_join": 0.5, "keep": "best"}, "keeps the last model")])
def test_bad_val_join_is_refused_with_what_to_do(kw, match):
    with pytest.raises(SeisSegError, match=match):
        _config(**kw).validate()
