"""The whole loop in a real napari viewer (Xvfb), through the plugin's own contributions.

sample data -> New labels layer with class names -> paint two sections -> Train widget ->
Predict widget -> correct the mask with the brush -> Add shown section into the painted
labels -> fine-tune the predicting model -> export the mask through the SEG-Y writer ->
re-open and compare.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest

from napari_seisseg import synthetic
from napari_seisseg.io import read_segy
from napari_seisseg.io.geometry import SurveyGeometry
from napari_seisseg.store import MODEL_STORE

pytestmark = [pytest.mark.gui, pytest.mark.usefixtures("one_thread_and_empty_store")]

SMALL = (20, 24, 40)  # inline, crossline, sample


def _dock(viewer, name: str):
    """Open a plugin widget the way the Plugins menu does (through the npe2 manifest)."""
    dock, widget = viewer.window.add_plugin_dock_widget("napari-seisseg", name)
    return widget


def _errors(notifications) -> list[str]:
    return [str(n.message) for n in notifications if "error" in str(n.severity).lower()]


def _tiny(train, epochs: int) -> None:
    train.show_advanced.value = True
    train.advanced.model_width.value = 4
    train.advanced.patch.value = 32
    train.advanced.batch.value = 2
    train.advanced.steps_per_epoch.value = 3
    train.advanced.val_fraction.value = 0.0
    train.set_budget(epochs, "epochs")


def test_sample_paint_train_predict_edit_finetune_export_reopen(
    make_napari_viewer, qtbot, tmp_path, monkeypatch, notifications
):
    monkeypatch.setattr(synthetic, "make_synthetic_cube",
                        functools.partial(synthetic.make_synthetic_cube, shape=SMALL))
    viewer = make_napari_viewer()
    viewer.open_sample("napari-seisseg", "synthetic")
    seismic = viewer.layers["synthetic seismic"]
    truth = viewer.layers["synthetic truth"].data
    assert seismic.data.shape == (20, 40, 24)  # napari shows (inline, time, crossline)

    # paint: Train's New labels layer over the seismic, with class names; two sections painted
    train = _dock(viewer, "Train")
    train.image.value = seismic
    train.painting.class_names.value = "sediment, salt, fault"
    painted = train.painting.add()
    assert painted is not None, train.status.value
    painted = viewer.layers[painted.name]  # the layer itself (the dock hands out proxies)
    assert train.labels_layer.value.name == painted.name
    np.testing.assert_array_equal(painted.scale, seismic.scale)
    painted.data[6] = truth[6]            # one inline
    painted.data[:, :, 15] = truth[:, :, 15]  # one crossline
    painted.refresh()
    assert set(np.unique(painted.data)) == {0, 1, 2, 3}

    # train
    _tiny(train, epochs=2)
    assert train.train() is not None, train.status.value
    qtbot.waitUntil(lambda: train.worker is None, timeout=60_000)
    assert train.status.state == "done", train.status.value
    assert train.history["epoch"] == [1, 2] and len(train.history["loss"]) >= 2
    first = train.current
    assert first is not None and MODEL_STORE.names() == [first.name]
    assert [c["name"] for c in first.card["classes"]] == ["sediment", "salt", "fault"]

    # predict
    predict = _dock(viewer, "Predict")
    predict.model.reset_choices()
    predict.model.value = first.name
    predict.layer.value = seismic
    before = len(viewer.layers)
    assert predict.predict() is not None, predict.status.value
    qtbot.waitUntil(lambda: predict.worker is None, timeout=60_000)
    assert predict.status.state == "done", predict.status.value
    new = list(viewer.layers)[before:]
    kinds = [type(layer).__name__ for layer in new]
    assert kinds == ["Image"] * 3 + ["Labels", "Image"]
    for layer in new:
        assert layer.data.shape == seismic.data.shape
        np.testing.assert_array_equal(layer.scale, seismic.scale)
        np.testing.assert_array_equal(layer.translate, seismic.translate)
    mask = new[3]
    assert set(np.unique(mask.data)) <= {1, 2, 3}
    assert list(mask.features["class"]) == ["unlabeled", "sediment", "salt", "fault"]
    probs = np.stack([np.asarray(layer.data) for layer in new[:3]])
    np.testing.assert_allclose(probs.sum(0), 1.0, atol=1e-3)

    # correct the mask on inline 10 (salt at its bottom, as a brush would paint it), take the
    # reviewed inline into the painted labels, and fine-tune the model that predicted it
    bottom = np.zeros(mask.data.shape, bool)
    bottom[10, 25:, :] = True
    mask.data_setitem(np.nonzero(bottom), 2)
    corrected = np.array(mask.data)
    assert train.corrections.mask.value.name == mask.name
    viewer.dims.set_point(0, seismic.translate[0] + 10 * seismic.scale[0])
    unpainted = painted.data[10] == 0
    assert train.corrections.add_section() > 0, train.status.value
    np.testing.assert_array_equal(painted.data[10][unpainted], corrected[10][unpainted])
    assert (painted.data[10, 25:, :] == 2).all()  # the correction, over the painted crossline too
    assert train.labels_layer.value.name == painted.name
    assert train.advanced.init_from.value == first.name
    _tiny(train, epochs=1)
    assert train.train() is not None, train.status.value
    qtbot.waitUntil(lambda: train.worker is None, timeout=60_000)
    assert train.status.state == "done", train.status.value
    tuned = train.current
    assert tuned is not first and len(MODEL_STORE.names()) == 2
    assert tuned.card["fine_tuned_from"]
    assert [c["value"] for c in tuned.card["classes"]] == [1, 2, 3]

    # export the corrected mask through the plugin's SEG-Y writer and re-open it
    out = tmp_path / "mask.sgy"
    viewer.layers.selection.active = mask  # selects the mask only
    assert viewer.layers.save(str(out), selected=True, plugin="napari-seisseg")
    back = read_segy(out)
    g_src = SurveyGeometry.from_metadata(seismic.metadata)
    np.testing.assert_array_equal(back.geometry.ilines, g_src.ilines)
    np.testing.assert_array_equal(back.geometry.xlines, g_src.xlines)
    (again,) = viewer.open(out, plugin="napari-seisseg")
    np.testing.assert_array_equal(np.asarray(again.data), corrected.astype(np.float32))
    # re-opened exactly over its source: the same survey coordinates and exaggeration
    np.testing.assert_allclose(again.scale, seismic.scale)
    np.testing.assert_allclose(again.translate, seismic.translate)
    assert SurveyGeometry.from_metadata(again.metadata).n_samples == g_src.n_samples
    assert not _errors(notifications)
