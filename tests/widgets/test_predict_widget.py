"""The Predict widget in a real viewer (run under Xvfb), with models trained in the test."""

from __future__ import annotations

import copy
import time

import numpy as np
import pytest
import torch

from napari_seisseg._widgets.predict import PREDICTION_KEY, PredictWidget
from napari_seisseg.inference import predict_bundle
from napari_seisseg.io.geometry import SurveyGeometry
from napari_seisseg.jobs import drain
from napari_seisseg.store import MODEL_STORE, ModelEntry

pytestmark = pytest.mark.gui


def _train(labels, cube, **kw):
    from napari_seisseg.training import AugmentConfig, TrainConfig, train

    config = TrainConfig(model="unet2d", model_kwargs={"width": 4, "depth": 2}, epochs=1,
                         steps_per_epoch=2, patch_size=32, batch_size=2, val_fraction=0.0,
                         augment=AugmentConfig.none(), device="cpu", **kw)
    return drain(train(cube.seismic, labels, config, geometry=cube.geometry,
                              class_names=list(cube.class_names), class_colors=cube.class_colors))


@pytest.fixture(scope="module")
def trained():
    """The synthetic sample cube, a 3-class model and a binary (salt) model trained on it."""
    from napari_seisseg._sample_data import SYNTHETIC_SEED
    from napari_seisseg.synthetic import make_synthetic_cube

    torch.set_num_threads(1)
    cube = make_synthetic_cube(seed=SYNTHETIC_SEED)
    sparse = cube.sparse_labels()
    facies = _train(sparse, cube)
    salt = np.where(sparse == 2, 2, np.where(sparse > 0, 1, 0)).astype(np.uint8)
    binary = _train(salt, cube)
    assert binary.card["binary"]
    return cube, facies, binary


@pytest.fixture
def viewer_with_sample(make_napari_viewer):
    from napari_seisseg._sample_data import synthetic_sample

    viewer = make_napari_viewer()
    for data, kw, kind in synthetic_sample():
        getattr(viewer, f"add_{kind}")(data, **kw)
    return viewer, viewer.layers["synthetic seismic"]


@pytest.fixture
def facies_widget(viewer_with_sample, trained):
    """The viewer, its seismic layer, and a Predict widget on it with the facies model."""
    viewer, src = viewer_with_sample
    facies = trained[1]
    MODEL_STORE.add(ModelEntry("facies", facies.model, facies.card))
    w = PredictWidget(viewer)
    w.source = src
    return viewer, src, w


def _wait(qtbot, w, worker, timeout=30_000):
    assert worker is not None, w.status.value
    qtbot.waitUntil(lambda: w.worker is None, timeout=timeout)


def test_predict_adds_probability_mask_and_uncertainty_layers(viewer_with_sample, trained, qtbot):
    viewer, src = viewer_with_sample
    cube, facies, _ = trained
    MODEL_STORE.add(ModelEntry("facies", facies.model, facies.card))
    w = PredictWidget(viewer)
    assert w.model.value == "facies" and "3 classes" in w.model_info.value
    assert w.layer.value is src
    # painted on inlines and crosslines: those two averaged (the boxes in the viewer's order:
    # inline, time, crossline), their traces flipped
    assert [b.value for b in w.orientation_boxes] == [True, False, True] and w.tta.value
    maps = copy.deepcopy(facies.card)
    maps["input"]["predict_axes"] = [2, 0, 1]  # painted on time slices: all three averaged
    MODEL_STORE.add(ModelEntry("maps", facies.model, maps))
    assert w.model.value == "maps" and all(b.value for b in w.orientation_boxes)
    assert w.tta.value  # its maps flipped by default
    inline_only = copy.deepcopy(facies.card)
    inline_only["input"]["predict_axes"] = [0]  # painted on inlines alone: no flips unless asked
    MODEL_STORE.add(ModelEntry("inlines", facies.model, inline_only))
    assert [b.value for b in w.orientation_boxes] == [True, False, False] and not w.tta.value
    w.model.value = "facies"
    assert [b.value for b in w.orientation_boxes] == [True, False, True] and w.tta.value
    w.model.value = "maps"
    w.tta.value = False  # the user's choice survives a refresh of the model store
    w._on_models_changed()
    assert w.model.value == "maps" and not w.tta.value
    w.model.value = "facies"
    assert all(x.tooltip for x in (w.layer, w.model, w.load_button, w.overlap, w.tta, w.device,
                                   w.current_slice, w.predict_button, w.cancel_button,
                                   w.threshold, w.rank_axis, w.rank_n, w.rank_button, w.ranked,
                                   *w.orientation_boxes))
    before = len(viewer.layers)
    _wait(qtbot, w, w.predict())
    assert w.status.state == "done", w.status.value
    new = list(viewer.layers)[before:]
    assert [layer.name for layer in new] == ["P(sediment)", "P(salt)", "P(fault)", "mask",
                                             "uncertainty"]
    g_src = SurveyGeometry.from_metadata(src.metadata)
    for layer in new:
        assert layer.data.shape == src.data.shape
        for attr in ("scale", "translate"):
            np.testing.assert_array_equal(getattr(layer, attr), getattr(src, attr))
        assert tuple(layer.axis_labels) == tuple(src.axis_labels)
        assert tuple(layer.units) == tuple(src.units)
        g = SurveyGeometry.from_metadata(layer.metadata)
        assert g is not None and g.to_json_dict() == g_src.to_json_dict()
        assert layer.metadata[PREDICTION_KEY]["model"] == "facies"
    ref = drain(predict_bundle((facies.model, facies.card), src.data, geometry=g_src))
    np.testing.assert_allclose(new[1].data, ref.probabilities[1], atol=1e-6)
    assert new[1].blending == "additive" and tuple(new[1].contrast_limits) == (0.0, 1.0)
    assert not new[1].visible and new[3].visible  # several classes: the mask shows them
    mask = new[3]
    assert type(mask).__name__ == "Labels"
    np.testing.assert_array_equal(mask.data, ref.mask())
    assert set(np.unique(mask.data)) <= {1, 2, 3}
    assert list(mask.features["class"]) == ["unlabeled", "sediment", "salt", "fault"]
    np.testing.assert_allclose(mask.colormap.map(np.array([2]))[0], cube.class_colors[2], atol=1e-6)
    assert new[4].visible is False and 0 <= new[4].data.min() and new[4].data.max() <= 1
    assert w._layer_choices() == [("synthetic seismic", src)]  # results are not offered as input


def test_current_slice_rank_and_jump(facies_widget, trained, qtbot):
    viewer, src, w = facies_widget
    facies = trained[1]
    w.jump_to(17, axis=0)  # show inline index 17
    assert round(src.world_to_data(viewer.dims.point)[0]) == 17
    w.current_slice.value = True
    before = len(viewer.layers)
    _wait(qtbot, w, w.predict())
    new = list(viewer.layers)[before:]
    assert len(new) == 5 and all(layer.data.shape == (1, 128, 64) for layer in new)
    assert new[0].name == "P(sediment) · inline 117"  # the line number, not the index
    assert new[0].translate[0] == src.translate[0] + 17 * src.scale[0]
    g = SurveyGeometry.from_metadata(new[3].metadata)
    assert list(g.ilines) == [SurveyGeometry.from_metadata(src.metadata).ilines[17]]
    # the slice on screen along its own orientation (the card averages crosslines in too)
    full = drain(predict_bundle((facies.model, facies.card), src.data, orientations=("inline",),
                                geometry=SurveyGeometry.from_metadata(src.metadata)))
    np.testing.assert_allclose(new[0].data[0], full.probabilities[0, 17], atol=1e-6)
    # where to label next, on a whole-cube prediction
    w.current_slice.value = False
    _wait(qtbot, w, w.predict())
    w.rank_axis.value, w.rank_n.value, w.rank_gap.value = 0, 4, 2
    ranked = w.rank_slices()
    assert len(ranked) == 4 and len(w.ranked.choices) == 4
    assert all(abs(a - b) > 2 for i, a in enumerate(ranked) for b in ranked[:i])
    scores = w.uncertainty.mean(axis=(1, 2))
    assert ranked[0] == int(np.argmax(scores))
    w.ranked.value = ranked[2]  # picking an entry moves the viewer there
    assert round(src.world_to_data(viewer.dims.point)[0]) == ranked[2]


@pytest.fixture
def salt_predicted(viewer_with_sample, trained, qtbot):
    """The sample predicted with the binary (salt) model: viewer, widget and model."""
    viewer, _src = viewer_with_sample
    _, _, binary = trained
    MODEL_STORE.add(ModelEntry("salt", binary.model, binary.card))
    w = PredictWidget(viewer)
    _wait(qtbot, w, w.predict())
    return viewer, w, binary


def test_binary_threshold_rewrites_the_mask_in_place(salt_predicted):
    viewer, w, binary = salt_predicted
    names = [layer.name for layer in viewer.layers]
    assert "P(salt)" in names and "P(sediment)" not in names
    mask = w.layers["mask"]
    assert w.threshold.enabled and w.threshold.value == pytest.approx(binary.card["threshold"], abs=0.01)
    data = mask.data
    w.threshold.value = 0.05
    low = int((mask.data == 2).sum())
    assert mask.data is data  # same array, rewritten
    w.threshold.value = 0.95
    high = int((mask.data == 2).sum())
    assert low >= high and low > 0
    np.testing.assert_array_equal(mask.data, w.result.mask(0.95))
    assert mask.metadata[PREDICTION_KEY]["threshold"] == 0.95
    assert mask.metadata[PREDICTION_KEY]["priors"] == w.result.priors  # what was combined, kept
    assert mask.metadata[PREDICTION_KEY]["passes"] == w.result.passes and w.result.passes["sweeps"] >= 1


def test_cancel_stops_promptly_and_adds_nothing(viewer_with_sample, trained, qtbot):
    viewer, _ = viewer_with_sample
    _, facies, _ = trained
    import copy

    slow = copy.deepcopy(facies.model)
    slow.register_forward_pre_hook(lambda *_: time.sleep(0.05))
    MODEL_STORE.add(ModelEntry("slow", slow, facies.card))
    w = PredictWidget(viewer)
    for box in w.orientation_boxes:
        box.value = True  # three orientations: about 50 batches, several seconds
    w.tta.value = True
    before = [layer.name for layer in viewer.layers]
    worker = w.predict()
    assert worker is not None and w.cancel_button.enabled
    qtbot.waitUntil(lambda: w.progress.value > 0, timeout=10_000)
    t0 = time.perf_counter()
    w.cancel()
    _wait(qtbot, w, worker, timeout=5_000)
    assert time.perf_counter() - t0 < 2.0
    assert w.progress.value < 100
    assert [layer.name for layer in viewer.layers] == before
    assert w.status.state == "idle" and "cancelled" in w.status.value
    assert w.predict_button.enabled and not w.cancel_button.enabled


def test_load_bundle_and_errors(viewer_with_sample, trained, tmp_path, notifications):
    from napari_seisseg.bundle import save_bundle
    from napari_seisseg.models import create_model, model_spec

    viewer, _ = viewer_with_sample
    _, facies, _ = trained
    w = PredictWidget(viewer)
    assert w.predict() is None and w.status.state == "failed"
    assert "No model" in w.status.value
    path = facies.save(tmp_path / "facies.safetensors")
    entry = w.load_bundle(path)
    assert entry is not None and MODEL_STORE.get("facies") is entry and w.model.value == "facies"
    assert entry.path == path
    again = w.load_bundle(path)
    assert again.name == "facies (2)" and w.model.value == "facies (2)"
    (tmp_path / "bad.safetensors").write_bytes(b"\x80\x04not a bundle at all, a pickle")
    assert w.load_bundle(tmp_path / "bad.safetensors") is None
    assert w.status.state == "failed" and "pickle" in w.status.value
    assert any("pickle" in str(getattr(n, "message", n)) for n in notifications)
    model3d = create_model("unet3d", n_classes=2, width=2, depth=1)
    card = {"model": model_spec(model3d), "input": {"kind": "3d", "patch_size": [16, 16, 16]},
            "n_outputs": 2}
    w.load_bundle(save_bundle(tmp_path / "m3.safetensors", model3d, card))
    assert w.model.value == "m3" and not any(b.enabled for b in w.orientation_boxes)
    viewer.add_image(np.zeros((2, 3, 4, 5), np.float32), name="4d")
    w.layer.value = viewer.layers["synthetic seismic"]
    w.model.value = "facies"
    assert all(b.enabled for b in w.orientation_boxes)
    for box in w.orientation_boxes:
        box.value = False
    assert w.predict() is None and "orientation" in w.status.value


def test_rethresholding_keeps_the_voxels_the_user_painted(salt_predicted):
    _viewer, w, _binary = salt_predicted
    mask = w.layers["mask"]
    w.threshold.value = 0.95
    # the user paints salt (2) with the brush at one place and sediment (1) at another
    mask.brush_size = 9
    mask.selected_label = 2
    mask.paint((10, 20, 30), 2)
    mask.selected_label = 1
    mask.paint((40, 40, 100), 1)
    painted = mask.data.copy()
    edited = painted != w.result.mask(0.95)
    assert edited.sum() > 10
    mask.mode = "paint"
    w.threshold.value = 0.05
    assert f"{int(edited.sum()):,} voxels you edited kept" in w.status.value
    assert mask.mode == "paint" and mask.editable  # the brush is still in hand
    np.testing.assert_array_equal(mask.data[edited], painted[edited])
    np.testing.assert_array_equal(mask.data[~edited], w.result.mask(0.05)[~edited])
    # undo after a re-threshold must not bring back the old prediction as fake 'edits'
    mask.undo()
    np.testing.assert_array_equal(mask.data[~edited], w.result.mask(0.05)[~edited])
    w.threshold.value = 0.5  # edits stay edits, even where they matched the 0.05 mask
    assert f"{int(edited.sum()):,} voxels you edited kept" in w.status.value
    np.testing.assert_array_equal(mask.data[edited], painted[edited])


def test_current_slice_outside_the_image_is_refused(facies_widget):
    viewer, src, w = facies_widget
    far = viewer.add_image(np.zeros((4, 8, 8), np.float32), name="elsewhere",
                           translate=(src.translate[0] + 1000 * src.scale[0], 0, 0),
                           scale=src.scale)
    viewer.dims.set_point(0, far.translate[0])  # the slider now shows the other layer only
    w.current_slice.value = True
    before = len(viewer.layers)
    assert w.predict() is None and len(viewer.layers) == before
    assert w.status.state == "failed" and "lies outside 'synthetic seismic'" in w.status.value


def test_names_are_short_numbered_alike_and_the_model_is_in_the_metadata(facies_widget, trained,
                                                                          qtbot):
    viewer, src, w = facies_widget
    binary = trained[2]
    before = len(viewer.layers)
    _wait(qtbot, w, w.predict())
    first = list(viewer.layers)[before:]
    MODEL_STORE.add(ModelEntry("salt", binary.model, binary.card))
    assert w.model.value == "salt"  # a model just added is offered
    _wait(qtbot, w, w.predict())
    assert w.status.state == "done", w.status.value
    second = list(viewer.layers)[before + len(first):]
    assert [layer.name for layer in first] == ["P(sediment)", "P(salt)", "P(fault)", "mask",
                                               "uncertainty"]
    # a second model on the same image: every name of its set gets the same number
    assert [layer.name for layer in second] == ["P(salt) (2)", "mask (2)", "uncertainty (2)"]
    names = [layer.name for layer in viewer.layers]
    assert len(set(names)) == len(names) and not any("[" in n for n in names)
    for layers, model in ((first, "facies"), (second, "salt")):
        for layer in layers:
            info = layer.metadata[PREDICTION_KEY]
            assert info["model"] == model and info["source"] == "synthetic seismic"
            assert time.strptime(info["time"], "%Y-%m-%d %H:%M:%S")
            assert not info["quick_look"] and info["slice"] is None
    # the status line and the selected layer's line say which model made what, and when
    assert "'mask (2)'" in w.status.value and "salt on 'synthetic seismic'" in w.status.value
    assert second[1].metadata[PREDICTION_KEY]["time"].split(" ")[1] in w.status.value
    viewer.layers.selection.active = first[3]
    assert not w.selected.native.isHidden()
    assert w.selected.value.startswith("'mask': facies on 'synthetic seismic', along inline and crossline sections; flips of inline and crossline, 20")
    viewer.layers.selection.active = second[1]
    assert w.selected.value.startswith("'mask (2)': salt on 'synthetic seismic'")
    viewer.layers.selection.active = src
    assert w.selected.native.isHidden()  # not a prediction: nothing to say
    # a third prediction, after the first set was deleted: plain names again
    for layer in first:
        viewer.layers.remove(layer)
    w.model.value = "facies"
    _wait(qtbot, w, w.predict())
    assert [layer.name for layer in list(viewer.layers)[-5:]] == [
        "P(sediment)", "P(salt)", "P(fault)", "mask", "uncertainty"]


def test_a_quick_look_replaces_the_previous_quick_look(facies_widget, trained, qtbot):
    viewer, src, w = facies_widget
    binary = trained[2]
    _wait(qtbot, w, w.predict())  # a whole-cube prediction: kept by quick looks
    whole = list(viewer.layers)
    w.current_slice.value = True
    w.jump_to(17, axis=0)
    _wait(qtbot, w, w.predict())
    first = list(viewer.layers)[len(whole):]
    assert [layer.name for layer in first] == [f"{n} · inline 117" for n in (
        "P(sediment)", "P(salt)", "P(fault)", "mask", "uncertainty")]
    assert all(layer.metadata[PREDICTION_KEY]["quick_look"] for layer in first)
    assert first[0].metadata[PREDICTION_KEY]["slice"] == "inline 117"
    assert w.status.value.startswith("done: quick look of inline 117 (5 layers): facies on ")
    viewer.add_points(np.zeros((1, 3)), name="picks")  # added after the quick look
    first[2].visible = True  # the user shows P(fault) and fades the mask
    first[3].opacity = 0.2
    count = len(viewer.layers)
    w.jump_to(40, axis=0)
    _wait(qtbot, w, w.predict())
    assert w.status.state == "done", w.status.value
    assert w.status.value.startswith("done: quick look of inline 140 (5 layers, replacing the "
                                     "previous one): facies on 'synthetic seismic'")
    assert len(viewer.layers) == count  # replaced, not piled up
    assert not any(layer in viewer.layers for layer in first)
    assert list(viewer.layers)[:len(whole)] == whole  # the whole-cube layers are left alone
    second = list(viewer.layers)[len(whole):len(whole) + 5]  # where the first quick look was
    assert [layer.name for layer in second] == [f"{n} · inline 140" for n in (
        "P(sediment)", "P(salt)", "P(fault)", "mask", "uncertainty")]
    assert viewer.layers[-1].name == "picks"
    assert second[0].translate[0] == src.translate[0] + 40 * src.scale[0]
    assert second[2].visible and not second[1].visible and second[3].opacity == 0.2
    assert w.layers["mask"] is second[3]
    second[4].name = "keep me"  # renamed by the user: kept by the next quick look
    _wait(qtbot, w, w.predict())
    assert len(viewer.layers) == count + 1 and second[4] in viewer.layers
    assert not any(layer in viewer.layers for layer in second[:4])
    second = [layer for layer in viewer.layers if "· inline 140" in layer.name]
    assert len(second) == 5
    # another model's quick look stays beside it, for comparison
    MODEL_STORE.add(ModelEntry("salt", binary.model, binary.card))
    _wait(qtbot, w, w.predict())
    assert len(viewer.layers) == count + 4
    assert all(layer in viewer.layers for layer in second)
    assert [layer.name for layer in list(viewer.layers)[-3:]] == [
        "P(salt) · inline 140 (2)", "mask · inline 140 (2)", "uncertainty · inline 140 (2)"]


def test_a_quick_look_keeps_a_corrected_or_renamed_quick_look(facies_widget, qtbot):
    """Corrections painted on a quick-look mask, or a rename that keeps the slice in the
    name, are the user's: the next quick look leaves those layers alone."""
    viewer, _src, w = facies_widget
    w.current_slice.value = True
    w.jump_to(17, axis=0)
    _wait(qtbot, w, w.predict())
    first = list(viewer.layers)[-5:]
    mask = first[3]
    mask.paint((0, 10, 10), (int(mask.data[0, 10, 10]) % 3) + 1)  # a correction
    count = len(viewer.layers)
    w.jump_to(20, axis=0)
    _wait(qtbot, w, w.predict())
    assert all(layer in viewer.layers for layer in first)  # the corrected set is kept whole
    assert len(viewer.layers) == count + 5
    second = list(viewer.layers)[-5:]
    second[1].name = second[1].name + " corrected"  # renamed, the slice still in the name
    w.jump_to(30, axis=0)
    _wait(qtbot, w, w.predict())
    assert second[1] in viewer.layers and not any(x in viewer.layers for x in second[2:])
    assert len(viewer.layers) == count + 6


def test_a_new_predict_widget_offers_the_newest_model(make_napari_viewer, trained):
    viewer = make_napari_viewer()
    viewer.open_sample("napari-seisseg", "synthetic")
    facies, binary = trained[1], trained[2]
    for name, result in (("oldest", facies), ("middle", binary), ("newest", facies)):
        MODEL_STORE.add(ModelEntry(name, result.model, result.card))
    _, widget = viewer.window.add_plugin_dock_widget("napari-seisseg", "Predict")
    assert widget.model.value == "newest"
    assert "3 classes" in widget.model_info.value
    MODEL_STORE.add(ModelEntry("latest", binary.model, binary.card))
    assert widget.model.value == "latest"
    _, again = viewer.window.add_plugin_dock_widget("napari-seisseg", "Predict", tabify=True)
    assert again.model.value == "latest"


def test_the_prior_boxes_follow_the_model_and_reach_the_prediction(viewer_with_sample,
                                                                    trained, qtbot):
    viewer, src = viewer_with_sample
    cube = trained[0]
    facies = _train(cube.sparse_labels(), cube, position=False)
    assert not facies.card["input"].get("time_prior")  # no position channel: no time prior
    assert facies.card["input"]["lateral_prior"]  # painted inlines: their traces are kept
    with_prior = _train(cube.sparse_labels(), cube, position=True)
    assert with_prior.card["input"]["time_prior"]
    no_traces = copy.deepcopy(facies.card)
    no_traces["input"]["lateral_prior"] = None
    MODEL_STORE.add(ModelEntry("facies", facies.model, facies.card))
    MODEL_STORE.add(ModelEntry("positioned", with_prior.model, with_prior.card))
    MODEL_STORE.add(ModelEntry("no traces", facies.model, no_traces))
    w = PredictWidget(viewer)
    w.layer.value = src
    w.model.value = "facies"
    assert not w.time_prior.enabled and w.lateral_prior.enabled
    w.model.value = "no traces"
    assert not w.lateral_prior.enabled
    w.model.value = "positioned"
    assert w.time_prior.enabled and w.time_prior.value
    assert w.lateral_prior.enabled and w.lateral_prior.value
    w.current_slice.value = True
    masks = {}
    for on in ((True, True), (False, True), (True, False)):
        w.time_prior.value, w.lateral_prior.value = on
        _wait(qtbot, w, w.predict())
        masks[on] = np.asarray(w.layers["mask"].data).copy()
        index = w._current_index(src, 0)
        plain = drain(predict_bundle((with_prior.model, with_prior.card), src.data,
                                     geometry=SurveyGeometry.from_metadata(src.metadata),
                                     slice_index=index, slice_axis=0, time_prior=on[0],
                                     lateral_prior=on[1]))
        np.testing.assert_array_equal(masks[on], np.asarray(plain.mask()))
    # each box changed what was predicted
    assert (masks[True, True] != masks[False, True]).any()
    assert (masks[True, True] != masks[True, False]).any()
