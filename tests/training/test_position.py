"""Position along time as an input channel: built the same in training and prediction."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from training_helpers import TINY, smooth_field

from napari_seisseg.bundle import Normalizer, load_bundle
from napari_seisseg.bundle.model import BundleModel
from napari_seisseg.bundle.position import PositionSpec, interleave_position, position_ramp
from napari_seisseg.bundle.time_prior import TimePrior
from napari_seisseg.errors import SeisSegError
from napari_seisseg.inference import predict_bundle
from napari_seisseg.jobs import drain
from napari_seisseg.training import TrainConfig, train
from napari_seisseg.training.patches import make_layout, read_window


def _identity(block, axis=-1):
    return np.asarray(block, dtype=np.float32)


def test_ramp_runs_from_minus_one_to_one_over_the_trace():
    spec = PositionSpec(11)
    ramp = position_ramp(spec, (3, 11), 1, 0)
    np.testing.assert_allclose(ramp[0], np.linspace(-1, 1, 11), atol=1e-6)
    assert (ramp == ramp[0]).all()  # constant across traces
    # a window padded before the trace continues the ramp
    assert position_ramp(spec, (2, 4), 1, -2)[0, 0] == pytest.approx(-1.4)
    # a time slice is one value
    assert np.all(position_ramp(spec, (4, 5), None, 5) == 0.0)


def test_interleave_puts_position_after_every_slice():
    slices = np.arange(2 * 3 * 4, dtype=np.float32).reshape(2, 3, 4)
    out = interleave_position(slices, PositionSpec(4), 1, 0)
    assert out.shape == (4, 3, 4)
    np.testing.assert_array_equal(out[0::2], slices)
    np.testing.assert_allclose(out[1, 0], [-1, -1 / 3, 1 / 3, 1], atol=1e-6)
    out = interleave_position(slices, PositionSpec(5), None, [0, 4])
    assert np.all(out[1] == -1) and np.all(out[3] == 1)


@pytest.mark.parametrize("axis", [0, 1, 2])
def test_patches_carry_the_absolute_sample_index(axis):
    shape = (5, 6, 40)  # inline, crossline, sample
    layout = make_layout("2d", shape, 8, context=1, position=True)
    assert layout.position == PositionSpec(40) and layout.channels == 6
    image = np.zeros(shape, np.float32)
    start = (2, 30) if axis != 2 else (0, 1)
    img, _ = read_window(image, None, layout, _identity, start, axis=axis, index=3)
    assert img.shape == (6, 8, 8)
    spec = layout.position
    if axis == 2:  # time slice 3 with its neighbours 2 and 4
        for k, t in enumerate((2, 3, 4)):
            assert np.all(img[2 * k + 1] == spec.value(t))
    else:  # samples run along the section's second axis, from sample 30
        np.testing.assert_allclose(img[1, 0], spec.value(np.arange(30, 38)), atol=1e-6)
        np.testing.assert_array_equal(img[1], img[3])


def test_position_is_refused_for_slab_and_box_models():
    with pytest.raises(SeisSegError, match="section models"):
        make_layout("3d", (8, 8, 8), 4, position=True)


def _layered(shape=(6, 24, 64), seed=0):
    """Amplitudes that look the same everywhere; the class is the depth band (four layers)."""
    image = smooth_field(shape, seed)
    truth = (1 + np.arange(shape[2]) * 4 // shape[2]).astype(np.uint8)
    return image, np.broadcast_to(truth, shape).copy()


def _cfg(position):
    return TrainConfig(model="unet2d", model_kwargs=dict(TINY), patch_size=16, batch_size=4,
                       epochs=6, steps_per_epoch=15, lr=3e-3, position=position, seed=1,
                       val_fraction=0.0)  # every painted voxel trains: the split is not tested here


def test_position_tells_look_alike_layers_apart_and_prediction_rebuilds_it(tmp_path):
    image, truth = _layered()
    labels = np.zeros_like(truth)
    labels[[1, 4]] = truth[[1, 4]]
    result = drain(train(image, labels, _cfg(True)))
    card = result.card
    assert card["input"]["position"] == {"axis": "sample", "n_samples": 64}
    path = result.save(tmp_path / "m.safetensors")
    model, card2 = load_bundle(path)
    assert card2["input"]["position"] == card["input"]["position"]
    pred = drain(predict_bundle(path, image, orientations=(0,), time_prior=False, lateral_prior=False))
    with_prior = drain(predict_bundle(path, image, orientations=(0,), lateral_prior=False))
    assert pred.priors == {"time": False, "lateral": False}
    assert with_prior.priors == {"time": True, "lateral": False}
    mask = with_prior.mask()
    unseen = np.ones(truth.shape[0], bool)
    unseen[[1, 4]] = False
    acc_with = (mask[unseen] == truth[unseen]).mean()
    # the texture says nothing about the layer: only the position can
    blind = drain(train(image, labels, _cfg(False)))
    assert blind.card["input"]["position"] is None
    blind_mask = drain(predict_bundle(blind, image, orientations=(0,), lateral_prior=False)).mask()
    acc_without = (blind_mask[unseen] == truth[unseen]).mean()
    assert acc_with > 0.6 and acc_with > acc_without + 0.3  # measured: 0.68 vs 0.28
    # the stitched prediction of a whole inline is the model applied to that inline with
    # its position channel, as built by hand
    norm = Normalizer.from_dict(card2["preprocessing"])
    sec = norm(image[2])
    x = np.stack([sec, PositionSpec(64).value(np.arange(64))[None].repeat(24, 0)])
    with torch.no_grad():
        direct = torch.softmax(model(torch.from_numpy(x[None])), 1)[0].numpy()
    got = np.asarray(pred.probabilities[:, 2], dtype=np.float32)
    np.testing.assert_allclose(got, direct, atol=2e-3)


def test_the_card_records_what_was_painted_at_each_sample_and_prediction_adds_it(tmp_path):
    image, truth = _layered(shape=(6, 24, 64))
    labels = np.zeros_like(truth)
    labels[[1, 4], :12] = truth[[1, 4], :12]
    cfg = _cfg(True)
    cfg.epochs, cfg.val_fraction = 1, 0.2
    result = drain(train(image, labels, cfg))
    prior = TimePrior.from_card(result.card["input"]["time_prior"])
    # every painted voxel (the validation band too), but the gaps beside the bands
    assert (prior.counts.argmax(0) == truth[0, 0] - 1).all()
    assert 0.8 * np.count_nonzero(labels) < prior.counts.sum() <= np.count_nonzero(labels)
    path = result.save(tmp_path / "m.safetensors")
    model, card = load_bundle(path)
    assert card["input"]["time_prior"] == result.card["input"]["time_prior"]
    got = np.asarray(drain(predict_bundle(path, image, orientations=(0,), lateral_prior=False)).probabilities[:, 2],
                     np.float32)
    norm = Normalizer.from_dict(card["preprocessing"])
    x = np.stack([norm(image[2]), PositionSpec(64).value(np.arange(64))[None].repeat(24, 0)])
    with torch.no_grad():
        logits = model(torch.from_numpy(x[None]))[0]
    direct = torch.softmax(logits + torch.from_numpy(prior.log_prior())[:, None, :], 0).numpy()
    np.testing.assert_allclose(got, direct, atol=2e-3)
    # without position there is no prior
    blind = drain(train(image, labels, _cfg(False)))
    assert blind.card["input"]["time_prior"] is None


def test_quick_look_on_a_time_slice_uses_that_slice_position():
    image, truth = _layered(shape=(6, 24, 64))
    labels = np.zeros_like(truth)
    labels[[1, 4]] = truth[[1, 4]]
    cfg = _cfg(True)
    cfg.axes = (0, 2)
    result = drain(train(image, labels, cfg))
    full = drain(predict_bundle(result, image, orientations=(2,)))
    for t in (3, 40):
        one = drain(predict_bundle(result, image, slice_index=t, slice_axis=2))
        np.testing.assert_allclose(np.asarray(one.probabilities)[:, :, :, 0],
                                   np.asarray(full.probabilities)[:, :, :, t], atol=2e-3)


def test_auto_position_follows_the_trace_length():
    image, truth = _layered(shape=(4, 12, 64))
    labels = np.zeros_like(truth)
    labels[[0, 3]] = truth[[0, 3]]
    short = TrainConfig(model="unet2d", model_kwargs=dict(TINY), patch_size=16, epochs=1,
                        steps_per_epoch=1, batch_size=2)
    on = drain(train(image, labels, short))
    assert on.card["input"]["position"] is not None  # 64 samples >= 2 x 16
    short.patch_size = 48
    off = drain(train(image, labels, short))
    assert off.card["input"]["position"] is None
    # fine-tuning keeps the bundle's choice and scale
    tuned = drain(train(image, labels, short, init_bundle=on))
    assert tuned.card["input"]["position"] == on.card["input"]["position"]


def test_context_and_position_predict_as_trained_by_hand():
    image, truth = _layered(shape=(6, 24, 64))
    labels = np.zeros_like(truth)
    labels[[1, 4]] = truth[[1, 4]]
    cfg = _cfg(True)
    cfg.epochs, cfg.model_kwargs = 1, {**TINY, "context": 1}
    result = drain(train(image, labels, cfg))
    assert result.card["input"]["input_channels"] == 6  # 3 slices x (amplitude, position)
    pred = drain(predict_bundle(result, image, orientations=(0,), time_prior=False, lateral_prior=False))
    norm = Normalizer.from_dict(result.card["preprocessing"])
    ramp = PositionSpec(64).value(np.arange(64))[None].repeat(24, 0)
    i = 0  # the first inline: its context repeats it (clamped at the border)
    slices = [norm(image[j]) for j in (0, 0, 1)]
    x = np.stack([c for s in slices for c in (s, ramp)])
    with torch.no_grad():
        direct = torch.softmax(result.model(torch.from_numpy(x[None])), 1)[0].numpy()
    np.testing.assert_allclose(np.asarray(pred.probabilities[:, i], np.float32), direct,
                               atol=2e-3)


def test_a_single_2d_section_trains_and_predicts_with_position():
    image, truth = _layered(shape=(1, 40, 64))
    image, truth = image[0], truth[0]
    labels = np.zeros_like(truth)
    labels[:12] = truth[:12]
    result = drain(train(image, labels, _cfg(True)))
    assert result.card["input"]["position"]["n_samples"] == 64
    pred = drain(predict_bundle(result, image, time_prior=False, lateral_prior=False))
    assert pred.mask().shape == (40, 64)
    # the stitched probabilities equal the model on the whole section with its ramp
    norm = Normalizer.from_dict(result.card["preprocessing"])
    x = np.stack([norm(image), PositionSpec(64).value(np.arange(64))[None].repeat(40, 0)])
    with torch.no_grad():
        direct = torch.softmax(result.model(torch.from_numpy(x[None])), 1)[0].numpy()
    np.testing.assert_allclose(np.asarray(pred.probabilities, np.float32), direct, atol=2e-3)


def test_position_turns_off_augmentation_that_would_move_time():
    image, truth = _layered()
    labels = np.zeros_like(truth)
    labels[[1, 4]] = truth[[1, 4]]
    cfg = _cfg(True)
    cfg.epochs, cfg.steps_per_epoch = 1, 1
    cfg.augment.rotate90 = cfg.augment.transpose = True
    events = []
    result = drain(train(image, labels, cfg), events.append)
    aug = result.card["training"]["config"]["augment"]
    assert not aug["rotate90"] and not aug["transpose"] and not aug["flip_time"]
    assert any("90-degree rotations, transposes are turned off" in getattr(e, "text", "")
               for e in events)


def test_labels_on_time_slices_leave_the_position_channel_off():
    image, truth = _layered(shape=(8, 24, 64))
    labels = np.zeros_like(truth)
    labels[:, :, [10, 30, 50]] = truth[:, :, [10, 30, 50]]  # three painted time slices
    cfg = _cfg(None)
    cfg.epochs, cfg.steps_per_epoch = 1, 1
    events = []
    result = drain(train(image, labels, cfg), events.append)
    assert result.card["input"]["position"] is None
    assert any("position-along-time channel is off" in getattr(e, "text", "") for e in events)
    # and the few painted slices are distorted, so they are not learned by heart
    aug = result.card["training"]["config"]["augment"]
    assert aug["elastic"] == 2.0 and aug["scale"] == 0.15 and aug["rotate"] == 5.0
    assert any("elastic distortion and zoom are on" in getattr(e, "text", "") for e in events)
    # and the run keeps its last model (validation inside the slices peaks too early)
    assert result.card["training"]["config"]["keep"] == "last"
    assert any("the model at the end of the run is kept" in getattr(e, "text", "") for e in events)
    cfg.position = True  # asked for: kept
    assert drain(train(image, labels, cfg)).card["input"]["position"] is not None


def test_the_distortion_of_painted_time_slices_leaves_other_choices_alone():
    from napari_seisseg.training import AugmentConfig

    image, truth = _layered(shape=(8, 24, 64))
    sliced = np.zeros_like(truth)
    sliced[:, :, [10, 30, 50]] = truth[:, :, [10, 30, 50]]
    inlines = np.zeros_like(truth)
    inlines[[1, 5]] = truth[[1, 5]]
    for labels, augment, elastic, scale in (
        (inlines, None, 0.0, 0.0),  # painted sections: nothing added
        (sliced, AugmentConfig.none(), 0.0, 0.0),  # augmentation off: stays off
        (sliced, AugmentConfig(elastic=1.0), 1.0, 0.0),  # the user's own choice is kept
    ):
        cfg = _cfg(None)
        cfg.epochs, cfg.steps_per_epoch = 1, 1
        if augment is not None:
            cfg.augment = augment
        config = drain(train(image, labels, cfg)).card["training"]["config"]
        assert (config["augment"]["elastic"], config["augment"]["scale"]) == (elastic, scale)
        assert config["keep"] == ("last" if labels is sliced else "best")
    cfg.keep = "best"  # the user's choice stands
    assert drain(train(image, sliced, cfg)).card["training"]["config"]["keep"] == "best"
    cfg.keep = None  # auto, with the user's own validation labels (an inline): they choose
    val = np.zeros_like(truth)
    val[3] = np.where(np.isin(truth[3], sliced[sliced > 0]), truth[3], 0)  # the painted classes
    assert drain(train(image, sliced, cfg, val_labels=val)).card["training"]["config"]["keep"] == "best"


def test_prediction_defaults_to_the_orientation_the_labels_were_painted_in():
    image, truth = _layered(shape=(8, 24, 64))
    labels = np.zeros_like(truth)
    labels[:, :, [10, 30, 50]] = truth[:, :, [10, 30, 50]]  # painted time slices
    cfg = _cfg(None)
    cfg.epochs, cfg.steps_per_epoch = 1, 1
    result = drain(train(image, labels, cfg))
    # time slices first, then the sections through them, averaged
    assert result.card["input"]["predict_axes"] == [2, 0, 1]
    by_default = drain(predict_bundle(result, image))
    averaged = drain(predict_bundle(result, image, orientations=(2, 0, 1)))
    along_time = drain(predict_bundle(result, image, orientations=(2,)))
    np.testing.assert_array_equal(np.asarray(by_default.probabilities),
                                  np.asarray(averaged.probabilities))
    assert not np.allclose(np.asarray(by_default.probabilities), np.asarray(along_time.probabilities))
    cfg.axes = (2,)  # trained on time slices only: nothing else to average
    only = drain(train(image, labels, cfg))
    assert only.card["input"]["predict_axes"] == [2]
    # painted inlines keep their one orientation
    inl = np.zeros_like(truth)
    inl[[2, 5]] = truth[[2, 5]]
    cfg.axes = None
    assert drain(train(image, inl, cfg)).card["input"]["predict_axes"] == [0]
    # an inline and a crossline: the two painted orientations, the most painted first
    # (unpainted time slices are not averaged in), with their traces flipped by default
    mixed = np.zeros_like(truth)
    mixed[2], mixed[:, 10] = truth[2], truth[:, 10]
    vertical = drain(train(image, mixed, cfg))
    assert vertical.card["input"]["predict_axes"] == [0, 1]
    bm = BundleModel.coerce(vertical)
    assert bm.flips_by_default and bm.test_time_flips(None) == (0, 1)
    assert bm.test_time_flips(True) == (0, 1) and bm.orientation_weights((0, 1)) is None
    # a crossline under a tenth of the painted voxels (6 %) keeps the inlines alone
    lone = np.zeros_like(truth)
    lone[[1, 4, 6]], lone[:, 10] = truth[[1, 4, 6]], truth[:, 10]
    assert drain(train(image, lone, cfg)).card["input"]["predict_axes"] == [0]
    # with two time slices as well (16 % of the paint): still the inlines and crosslines
    mixed[:, :, [20, 40]] = truth[:, :, [20, 40]]
    assert drain(train(image, mixed, cfg)).card["input"]["predict_axes"] == [0, 1]
    # time slices holding most of the paint (74 %), an inline and a crossline the rest (13 %
    # each): the inline and crossline still
    cube, layers = _layered(shape=(24, 24, 16))
    most = np.zeros_like(layers)
    most[5], most[:, 12] = layers[5], layers[:, 12]
    most[:, :, [3, 8, 13]] = layers[:, :, [3, 8, 13]]
    assert drain(train(cube, most, cfg)).card["input"]["predict_axes"] == [0, 1]
    # time slices with inlines alone, the inlines leading (the time slices 12 % of the
    # paint): every orientation averaged alike, the most painted first
    with_time = inl.copy()
    with_time[:, :, [10, 30, 50]] = truth[:, :, [10, 30, 50]]
    events = []
    three = drain(train(image, with_time, cfg), events.append)
    assert three.card["input"]["predict_axes"] == [0, 1, 2]
    # flipped along the inlines and crosslines, never time; the run says so
    assert BundleModel.coerce(three).test_time_flips(None) == (0, 1)
    assert any(e.text.startswith("Prediction averages along axis 0, axis 1 and axis 2 sections "
                                 "by default, each averaged over test-time flips of axis 0 and axis 1 (")
               for e in events if type(e).__name__ == "Note")
    three_way = drain(predict_bundle(three, image))
    assert three_way.passes["sweeps"] == 8
    # time slices leading (52 % of the paint) with one crossline: the crosslines and the
    # unpainted inlines, traces flipped (never the time slices)
    time_led = np.zeros_like(truth)
    time_led[:, 10], time_led[:, :, [10, 30, 50]] = truth[:, 10], truth[:, :, [10, 30, 50]]
    led = drain(train(image, time_led, cfg))
    assert led.card["input"]["predict_axes"] == [1, 0]
    assert BundleModel.coerce(led).test_time_flips(None) == (0, 1)
    # a time slice under a tenth of the painted voxels (6 %) does not make the paint mixed
    few = inl.copy()
    few[:, :, 20] = truth[:, :, 20]
    assert drain(train(image, few, cfg)).card["input"]["predict_axes"] == [0]


def test_dense_labels_are_not_painted_time_slices():
    image, truth = _layered(shape=(80, 12, 64))  # more inlines than samples
    cfg = _cfg(None)
    cfg.epochs, cfg.steps_per_epoch, cfg.axes = 1, 1, (0, 1)
    result = drain(train(image, truth, cfg))  # every voxel labeled
    assert result.card["input"]["position"] is not None
    assert result.card["input"]["predict_axes"] == [0]
