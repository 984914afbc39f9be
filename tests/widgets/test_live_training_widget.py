"""Live training in the Train widget, in a real viewer (run under Xvfb).

Start training until stopped, see the preview of the shown slice appear and change, paint a
stroke and see the sampler count change, move the slider, stop; bad input while it runs.
"""

from __future__ import annotations

import numpy as np
import pytest
from widget_helpers import errors as _errors

from napari_seisseg import synthetic
from napari_seisseg._widgets.train import TrainWidget
from napari_seisseg.io.live_slice import LIVE_KEY
from napari_seisseg.store import MODEL_STORE

pytestmark = pytest.mark.gui

SMALL = (24, 32, 40)  # the sample_viewer fixture's shape (tests/widgets/conftest.py)


@pytest.fixture
def live_viewer(sample_viewer, monkeypatch):
    """The small synthetic sample, with previews asked for every 0.2 s."""
    monkeypatch.setattr("napari_seisseg._widgets.live_session.PREVIEW_PERIOD_S", 0.2)
    return sample_viewer


def _live(viewer) -> TrainWidget:
    w = TrainWidget(viewer)
    w.advanced.model_width.value = 4
    w.advanced.patch.value = 32
    w.advanced.batch.value = 2
    w.advanced.steps_per_epoch.value = 3
    w.set_budget(None, "until stopped")
    return w


def _preview_layers(viewer) -> list:
    return [layer for layer in viewer.layers if LIVE_KEY in layer.metadata]


def _show_inline(viewer, image, index: int) -> None:
    """Show inline ``index`` of ``image`` (axis 0) in 2D."""
    viewer.dims.ndisplay = 2
    viewer.dims.order = (0, 1, 2)
    world = image.data_to_world([index, 0, 0])[0]
    viewer.dims.set_point(0, world)


def test_preview_appears_changes_follows_the_slider_and_takes_strokes(live_viewer, qtbot):
    viewer = live_viewer
    image, labels = viewer.layers["synthetic seismic"], viewer.layers["synthetic labels"]
    _show_inline(viewer, image, 5)
    w = _live(viewer)
    assert not w.budget.enabled  # until stopped: no budget to set
    viewer.layers.selection.active = labels  # the user paints on it
    assert w.train() is not None
    qtbot.waitUntil(lambda: len(_preview_layers(viewer)) == 1, timeout=30_000)
    (layer,) = _preview_layers(viewer)
    assert viewer.layers.selection.active is labels  # the brush still paints the labels
    assert layer.name == "live mask" and layer.data.shape == (1, *image.data.shape[1:])
    first = dict(layer.metadata[LIVE_KEY])
    assert first["axis"] == 0 and first["index"] == 5
    assert w.progress.native.format() == "until stopped"  # no share of a budget to show
    # the preview sits on inline 5 exactly: same world position as the image's inline 5
    np.testing.assert_allclose(layer.data_to_world([0, 0, 0]), image.data_to_world([5, 0, 0]))
    # it changes as the network learns
    qtbot.waitUntil(lambda: layer.metadata[LIVE_KEY]["step"] > first["step"], timeout=30_000)
    assert w.preview.choices[:2] == ("off", "mask") and "P(fault)" in w.preview.choices
    # moving the slider previews the new slice
    new = 15  # 6 % painted (where the painted crosslines cross it)
    _show_inline(viewer, image, new)
    qtbot.waitUntil(lambda: _preview_layers(viewer)
                    and _preview_layers(viewer)[0].metadata[LIVE_KEY]["index"] == new,
                    timeout=30_000)
    # a stroke on an unpainted inline reaches the sampler
    qtbot.waitUntil(lambda: w.live.n_labeled is not None, timeout=10_000)
    before = w.live.n_labeled
    free = [(y, x) for y in range(4, labels.data.shape[1] - 4)
            for x in range(4, labels.data.shape[2] - 4)
            if not labels.data[new, y - 3:y + 4, x - 3:x + 4].any()]
    labels.brush_size = 6
    labels.selected_label = 3
    said: list[str] = []
    status_set = w.status.set
    w.status.set = lambda state, message: (said.append(message), status_set(state, message))
    labels.paint((new, *free[len(free) // 2]), 3)  # where nothing was painted
    qtbot.waitUntil(lambda: w.live.n_labeled > before, timeout=30_000)
    assert any("labels taken up" in m for m in said)  # the status line said what it sees
    # a probability preview replaces the mask preview
    w.preview.value = "P(fault)"
    qtbot.waitUntil(lambda: _preview_layers(viewer)
                    and _preview_layers(viewer)[0].name == "live P(fault)", timeout=30_000)
    w.stop()
    qtbot.waitUntil(lambda: w.worker is None, timeout=30_000)
    assert w.status.state == "done" and w.result.stop_reason == "stopped"
    (kept,) = _preview_layers(viewer)  # a whole preview stays, never half of one
    assert kept.data.shape == (1, *image.data.shape[1:])
    assert kept.data.dtype in (np.float32, np.uint8)
    names = MODEL_STORE.names()
    assert names[-1] == w.current.name  # the best is the newest: Predict preselects it
    assert names[:-1] == ([f"{w.current.name} latest"] if w.result.distinct_latest else [])
    w.preview.value = "off"
    assert not _preview_layers(viewer)


def test_erasing_a_painted_section_leaves_the_sampler(live_viewer, qtbot):
    viewer = live_viewer
    labels = viewer.layers["synthetic labels"]
    w = _live(viewer)
    w.preview.value = "off"
    w.train()
    qtbot.waitUntil(lambda: w.live is not None and w.live.n_labeled is not None, timeout=30_000)
    before = w.live.n_labeled
    painted = [i for i in range(labels.data.shape[0]) if labels.data[i].any()]
    i = painted[0]
    idx = np.nonzero(labels.data[i])
    labels.data_setitem((np.full(idx[0].size, i), *idx), 0)  # erase a whole painted inline
    qtbot.waitUntil(lambda: w.live.n_labeled < before, timeout=30_000)
    w.stop()
    qtbot.waitUntil(lambda: w.worker is None, timeout=30_000)
    assert not _preview_layers(viewer)  # preview off: no layer


def test_labels_reshaped_during_training_stop_it_and_keep_the_best(live_viewer, qtbot,
                                                                    notifications):
    viewer = live_viewer
    labels = viewer.layers["synthetic labels"]
    w = _live(viewer)
    w.train()
    qtbot.waitUntil(lambda: len(w.history["epoch"]) >= 1, timeout=30_000)
    labels.data = np.zeros((5, 6, 7), dtype=labels.data.dtype)
    qtbot.waitUntil(lambda: w.worker is None, timeout=30_000)
    assert w.result is not None and w.result.stop_reason == "bad_labels"
    assert w.current is not None and w.current.name in MODEL_STORE.names()
    assert any("shape" in m for m in _errors(notifications)), _errors(notifications)
    assert "changed shape or was replaced" in w.status.value


def test_removing_the_labels_layer_stops_training(live_viewer, qtbot, notifications):
    viewer = live_viewer
    w = _live(viewer)
    w.train()
    qtbot.waitUntil(lambda: len(w.history["epoch"]) >= 1, timeout=30_000)
    viewer.layers.remove("synthetic labels")
    qtbot.waitUntil(lambda: w.worker is None, timeout=30_000)
    assert w.result.stop_reason == "stopped" and w.current is not None
    assert any("was removed" in m for m in _errors(notifications))


def test_predict_cube_during_training_stops_then_predicts_the_whole_cube(live_viewer, qtbot):
    viewer = live_viewer
    image = viewer.layers["synthetic seismic"]
    w = _live(viewer)
    assert not w.predict_cube_button.enabled  # no model yet
    w.train()
    assert w.predict_cube_button.enabled
    qtbot.waitUntil(lambda: len(w.history["epoch"]) >= 2, timeout=30_000)
    w.predict_cube()
    qtbot.waitUntil(lambda: w.worker is None, timeout=30_000)
    qtbot.waitUntil(lambda: "mask" in viewer.layers, timeout=60_000)
    mask = viewer.layers["mask"]
    assert mask.data.shape == image.data.shape  # the whole cube, not a quick look
    expected = (w.result.distinct_latest and f"{w.current.name} latest") or w.current.name
    assert mask.metadata["seisseg_prediction"]["model"] == expected


def test_a_2d_section_gets_a_preview_of_its_own_shape(make_napari_viewer, qtbot, monkeypatch):
    monkeypatch.setattr("napari_seisseg._widgets.live_session.PREVIEW_PERIOD_S", 0.2)
    cube = synthetic.make_synthetic_cube(shape=SMALL)
    viewer = make_napari_viewer()
    image = viewer.add_image(cube.seismic[5], name="section", scale=(2.0, 1.0),
                             translate=(10.0, 0.0))
    sparse = np.zeros_like(cube.labels[5])
    sparse[:, ::6] = cube.labels[5][:, ::6]
    viewer.add_labels(sparse, name="painted", scale=(2.0, 1.0), translate=(10.0, 0.0))
    w = _live(viewer)
    w.advanced.patch.value = 16
    assert w.train() is not None
    qtbot.waitUntil(lambda: len(_preview_layers(viewer)) == 1, timeout=30_000)
    (layer,) = _preview_layers(viewer)
    assert layer.data.shape == image.data.shape
    np.testing.assert_allclose(layer.translate, image.translate)
    np.testing.assert_allclose(layer.scale, image.scale)
    w.stop()
    qtbot.waitUntil(lambda: w.worker is None, timeout=30_000)


def test_until_stopped_still_pretrains_and_predict_cube_waits_for_a_model(live_viewer, qtbot,
                                                                          notifications):
    w = _live(live_viewer)
    w.pretraining.minutes.value = 0.1
    worker = w.pretraining.start()
    assert worker is not None, _errors(notifications)  # its own minutes: not "give a budget"
    assert not w.predict_cube_button.enabled
    assert w.predict_cube() is None
    assert any("pretraining is running" in m for m in _errors(notifications))
    qtbot.waitUntil(lambda: w.worker is None, timeout=60_000)


def test_predict_cube_refuses_while_the_predict_widget_is_busy(live_viewer, qtbot,
                                                               notifications):
    viewer = live_viewer
    w = _live(viewer)
    w.set_budget(1, "epochs")
    w.train()
    qtbot.waitUntil(lambda: w.worker is None, timeout=60_000)
    _dock, predict = viewer.window.add_plugin_dock_widget("napari-seisseg", "Predict")
    predict.current_slice.value = True
    predict.worker = object()  # a prediction under way
    assert w.predict_cube() is None
    assert any("Predict widget is busy" in m for m in _errors(notifications))
    predict.worker = None
    worker = w.predict_cube()
    assert worker is not None and predict.current_slice.value  # the user's choice given back
    qtbot.waitUntil(lambda: predict.worker is None, timeout=60_000)
    assert viewer.layers["mask"].data.shape == viewer.layers["synthetic seismic"].data.shape
