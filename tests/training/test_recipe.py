"""model="auto": the recipe follows the kind of task and says why."""

from __future__ import annotations

import numpy as np
from training_helpers import toy_cube

from napari_seisseg.jobs import drain
from napari_seisseg.training import TrainConfig, train
from napari_seisseg.training.recipe import hybrid_fits, is_tile_stack, resolve_model


def test_a_stack_of_small_tiles_gets_the_tile_recipe_and_a_survey_unet2d():
    assert is_tile_stack((2400, 101, 101), (0,))
    assert not is_tile_stack((2400, 101, 101), None)  # sections of a cube: every axis
    assert not is_tile_stack((36, 512, 1536), (0,))  # large sections
    assert not is_tile_stack((10, 101, 101), (0,))  # too few to call a stack
    cfg, note = resolve_model(TrainConfig(), (2400, 101, 101), (0,))
    assert cfg.model == "resunet" and cfg.model_kwargs["output_stride"] == 4
    # whole tiles, as prediction sees them (TGS fold 3: 0.779 / 0.773 against 0.746 / 0.737 on
    # 96-pixel crops, seeds 0 / 1)
    assert cfg.patch_size == 101 and cfg.batch_size == 32 and cfg.lr == 1.5e-3
    assert not cfg.augment.flip_time and "whole tiles in batches of 32" in note
    cfg, note = resolve_model(TrainConfig(), (500, 80, 120), (0,))
    assert cfg.patch_size == 120 and "whole tiles" in note
    cfg, note = resolve_model(TrainConfig(), (500, 128, 128), (0,))
    assert cfg.patch_size == 128 and "whole tiles" in note
    cfg, note = resolve_model(TrainConfig(), (500, 129, 100), (0,))  # larger tiles: crops
    assert cfg.patch_size == 96 and "96-pixel crops" in note
    # a patch the user gave: crops, or whole tiles where it covers them
    assert "64-pixel crops" in resolve_model(TrainConfig(patch_size=64), (2400, 101, 101), (0,))[1]
    assert "whole tiles" in resolve_model(TrainConfig(patch_size=(128, 128)), (2400, 101, 101),
                                          (0,))[1]
    assert "64 x 96-pixel crops" in resolve_model(TrainConfig(patch_size=(64, 96)),
                                                  (2400, 101, 101), (0,))[1]
    assert "whole tiles" in resolve_model(TrainConfig(patch_size=np.int64(101)),
                                          (2400, 101, 101), (0,))[1]
    # what the user set is kept
    mine = TrainConfig(patch_size=64, lr=5e-4, model_kwargs={"width": 16})
    cfg, _ = resolve_model(mine, (2400, 101, 101), (0,))
    assert cfg.patch_size == 64 and cfg.lr == 5e-4 and cfg.model_kwargs["width"] == 16
    cfg, note = resolve_model(TrainConfig(), (36, 512, 1536), None)
    assert cfg.model == "unet2d" and "survey" in note
    explicit = TrainConfig(model="resunet")
    assert resolve_model(explicit, (36, 512, 1536), None) == (explicit, None)


def test_time_slice_paint_gets_the_hybrid_with_slices_above_and_below():
    cfg, note = resolve_model(TrainConfig(), (160, 200, 174), None, time_slices=True)
    assert cfg.model == "hybrid" and cfg.model_kwargs == {"context": 2}
    assert "time slices" in note and "--model unet2d" in note
    mine, _ = resolve_model(TrainConfig(model_kwargs={"context": 4, "width": 8}), (160, 200, 174),
                            None, time_slices=True)
    assert mine.model_kwargs == {"context": 4, "width": 8}  # what the user set is kept
    # tiles stay tiles, an explicit model stays
    assert resolve_model(TrainConfig(), (2400, 101, 101), (0,), time_slices=True)[0].model == "resunet"
    explicit = TrainConfig(model="unet2d")
    assert resolve_model(explicit, (160, 200, 174), None, time_slices=True) == (explicit, None)


def test_the_hybrid_is_chosen_only_where_nothing_asks_for_a_section_model(tmp_path):
    from napari_seisseg.training.data import prepare_data
    image, truth = toy_cube()
    on_time = np.zeros_like(truth)
    on_time[:, :, [4, 12, 20]] = truth[:, :, [4, 12, 20]]
    on_inlines = np.zeros_like(truth)
    on_inlines[[2, 8]] = truth[[2, 8]]
    data = prepare_data(image, on_time)
    assert hybrid_fits(TrainConfig(), data)
    assert not hybrid_fits(TrainConfig(position=True), data)  # the position channel asked for
    assert not hybrid_fits(TrainConfig(model_kwargs={"context": 0}), data)  # single sections
    assert not hybrid_fits(TrainConfig(pretrained=str(tmp_path / "p.safetensors")), data)
    assert not hybrid_fits(TrainConfig(model="unet2d"), data)
    assert not hybrid_fits(TrainConfig(), prepare_data(image, on_inlines))
    assert not hybrid_fits(TrainConfig(), prepare_data(image, on_time, axes=(0,)))


def test_auto_is_resolved_in_the_run_and_the_card_names_the_model():
    image, truth = toy_cube()
    labels = np.zeros_like(truth)
    labels[[2, 8]] = truth[[2, 8]]
    cfg = TrainConfig(model_kwargs={"width": 4, "depth": 2}, patch_size=16, epochs=1,
                      steps_per_epoch=1, batch_size=2)
    events = []
    result = drain(train(image, labels, cfg), events.append)
    assert result.card["model"]["name"] == "unet2d"
    assert result.card["training"]["config"]["model"] == "unet2d"
    assert any(getattr(e, "text", "").startswith("model auto: unet2d") for e in events)
    # painted on time slices: the hybrid, reading two slices above and below each, and the
    # bundle predicts with it
    labels = np.zeros_like(truth)
    labels[:, :, [4, 12, 20]] = truth[:, :, [4, 12, 20]]
    events = []
    result = drain(train(image, labels, cfg), events.append)
    assert result.card["model"]["name"] == "hybrid" and result.card["input"]["context"] == 2
    assert any(getattr(e, "text", "").startswith("model auto: hybrid") for e in events)
    from napari_seisseg.bundle import BundleModel
    from napari_seisseg.inference import predict_bundle

    bm = BundleModel.from_model(result.model, result.card)
    out = drain(predict_bundle(bm, image))
    assert out.probabilities.shape[1:] == image.shape and out.passes["orientations"] == [
        "axis 2", "axis 0", "axis 1"]


def _shuffled_tiles():
    """A small survey's 60 sections (neighbours correlate), the same shuffled into unrelated
    tiles, the labels of the first 40 tiles, and the shuffle."""
    cube, truth = toy_cube((60, 16, 16))
    order = np.random.default_rng(0).permutation(60)
    image, truth = cube[order], truth[order]
    labels = np.where(np.arange(60)[:, None, None] < 40, truth, 0).astype(np.uint8)
    return cube, image, labels, order


def test_a_tile_stack_is_predicted_without_the_nearest_painted_trace_of_another_tile():
    cube, image, labels, order = _shuffled_tiles()
    assert is_tile_stack(image.shape, (0,), image) and not is_tile_stack(cube.shape, (0,), cube)
    cfg = TrainConfig(model_kwargs={"width": 4}, epochs=1, steps_per_epoch=1, batch_size=2,
                      axes=(0,))
    result = drain(train(image, labels, cfg))
    assert result.card["model"]["name"] == "resunet"  # the tile recipe
    assert result.card["input"]["lateral_prior"] is None
    from napari_seisseg.inference import predict_bundle

    out = drain(predict_bundle((result.model, result.card), image))
    assert out.priors["lateral"] is False and not any("painted traces" in n for n in out.notes)
    # the same shape as a survey trained along its inlines alone: sections, painted traces
    survey = drain(train(cube, labels[np.argsort(order)], cfg))
    assert survey.card["model"]["name"] == "unet2d"
    assert survey.card["input"]["lateral_prior"] is not None


def test_a_run_asks_once_whether_its_image_is_a_tile_stack(monkeypatch):
    from napari_seisseg.io import sample_axis

    _, image, labels, _ = _shuffled_tiles()
    calls = []
    measure = sample_axis.neighbour_correlation
    monkeypatch.setattr(sample_axis, "neighbour_correlation",
                        lambda data, axis: calls.append(axis) or measure(data, axis))
    cfg = TrainConfig(model_kwargs={"width": 4}, epochs=2, steps_per_epoch=1, batch_size=2,
                      axes=(0,))
    result = drain(train(image, labels, cfg))
    # the recipe and the card's priors (made at every kept epoch) share the one answer
    assert result.card["model"]["name"] == "resunet" and result.card["input"]["lateral_prior"] is None
    assert calls == [0]


def test_mixed_paint_gets_the_hybrid_when_time_slices_are_painted_most():
    from napari_seisseg.training.data import prepare_data

    image, truth = toy_cube((16, 16, 32))
    # 3 time slices (768 voxels), an inline and a crossline (512 each, 32 shared): time
    # slices lead with under half of the paint
    mixed = np.zeros_like(truth)
    mixed[:, :, [4, 16, 28]] = truth[:, :, [4, 16, 28]]
    mixed[5], mixed[:, 9] = truth[5], truth[:, 9]
    data = prepare_data(image, mixed)
    assert not data.painted_on_time_slices and data.time_slices_painted_most
    assert hybrid_fits(TrainConfig(), data)
    # led by inlines (three of them), the same time slices do not choose the hybrid
    led = mixed.copy()
    led[[2, 8, 12]] = truth[[2, 8, 12]]
    data = prepare_data(image, led)
    assert not data.time_slices_painted_most and not hybrid_fits(TrainConfig(), data)


def test_pretraining_chooses_from_the_paint_as_training_will():
    from napari_seisseg.training.recipe import paint_wants_hybrid

    image, truth = toy_cube()
    on_time = np.zeros_like(truth)
    on_time[:, :, [4, 12, 20]] = truth[:, :, [4, 12, 20]]
    on_inlines = np.zeros_like(truth)
    on_inlines[[2, 8]] = truth[[2, 8]]
    assert paint_wants_hybrid(TrainConfig(), image, on_time) == (True, None)
    assert paint_wants_hybrid(TrainConfig(), image, on_inlines) == (False, None)
    assert paint_wants_hybrid(TrainConfig(), image, None) == (False, None)  # no paint given
    assert paint_wants_hybrid(TrainConfig(model="unet2d"), image, on_time) == (False, None)
    assert paint_wants_hybrid(TrainConfig(position=True), image, on_time) == (False, None)
    # a pretraining to start from does not count: this is the run that makes it
    assert paint_wants_hybrid(TrainConfig(pretrained="x.safetensors"), image, on_time)[0]
    # paint training would refuse: not used, and the note says why
    fits, note = paint_wants_hybrid(TrainConfig(), image, np.zeros_like(truth))
    assert not fits and note.startswith("The labels did not choose the model") and "Why: No labels" in note
    fits, note = paint_wants_hybrid(TrainConfig(), image, on_time[:, :, :-1])
    assert not fits and "shape" in note and "--model hybrid" in note
    # labels read as training reads them: with zero as a class, one painted value is two classes
    one = (on_time > 1).astype(np.uint8)
    assert "Only one class" in paint_wants_hybrid(TrainConfig(), image, one)[1]
    assert paint_wants_hybrid(TrainConfig(zero_is_background=True), image, one) == (False, None)
