"""The Train widget's "Pretrain on image" row in a real viewer (run under Xvfb)."""

from __future__ import annotations

import numpy as np
import pytest
from widget_helpers import errors as _errors
from widget_helpers import tiny as _tiny

from napari_seisseg._widgets.train import TrainWidget

pytestmark = pytest.mark.gui


def _time_slices(viewer, ks, classes=None):
    """The truth on time slices ``ks`` (optionally only ``classes``), in the layer's axes."""
    from napari_seisseg.io.geometry import SurveyGeometry

    image = viewer.layers["synthetic seismic"]
    truth = viewer.layers["synthetic truth"].data
    t = SurveyGeometry.from_metadata(image.metadata).axes.index("sample")
    painted = np.zeros_like(truth)
    for k in ks:
        index = [slice(None)] * 3
        index[t] = k
        painted[tuple(index)] = truth[tuple(index)]
    if classes is not None:
        painted[~np.isin(painted, classes)] = 0
    return painted


def test_pretrain_on_the_image_then_train_starts_from_it(sample_viewer, qtbot, notifications):
    from napari_seisseg.store import pretrained_dir

    w = TrainWidget(sample_viewer)
    _tiny(w, epochs=1, steps=2)
    w.pretraining.minutes.value = 0.1
    assert w.pretraining.row.tooltip and w.pretraining.button.tooltip
    worker = w.pretraining.start()
    assert worker is not None and not w.train_button.enabled and w.stop_button.enabled
    qtbot.waitUntil(lambda: w.progress.value > 0, timeout=20_000)
    w.stop()  # Stop keeps what was learned
    qtbot.waitUntil(lambda: w.worker is None, timeout=20_000)
    assert w.status.state == "done" and "Pretrained unet2d" in w.status.value, w.status.value
    assert len(list(pretrained_dir().glob("*.safetensors"))) == 1
    assert w.train_button.enabled and w.pretraining.button.enabled
    # the next training on this image with these settings starts from it
    w.train()
    qtbot.waitUntil(lambda: w.worker is None, timeout=20_000)
    assert w.result is not None
    infos = [str(n.message) for n in notifications]
    assert any("Started from the pretraining of this survey" in m for m in infos), infos


def test_pretrain_with_model_auto_chooses_for_the_labels_layers_paint(sample_viewer, qtbot):
    # time slices painted in the labels layer: auto pretrains the hybrid that Train will train
    sample_viewer.layers["synthetic labels"].data = _time_slices(sample_viewer, (8, 20, 32))
    w = TrainWidget(sample_viewer)
    _tiny(w, epochs=1, steps=2)
    w.pretraining.minutes.value = 0.1
    assert "hybrid" in w.pretraining.button.tooltip
    w.pretraining.start()
    qtbot.waitUntil(lambda: w.progress.value > 0, timeout=20_000)
    w.stop()
    qtbot.waitUntil(lambda: w.worker is None, timeout=20_000)
    assert w.status.state == "done" and "Pretrained hybrid" in w.status.value, w.status.value


def test_pretraining_refuses_a_3d_model_with_a_notification(sample_viewer, qtbot, notifications):
    w = TrainWidget(sample_viewer)
    w.model.value = "unet3d"
    w.pretraining.minutes.value = 0.1
    w.pretraining.start()
    qtbot.waitUntil(lambda: w.worker is None, timeout=20_000)
    assert w.status.state == "failed" and "section models" in w.status.value
    assert any("section models" in m for m in _errors(notifications))


def test_paint_that_cannot_choose_is_said_in_a_warning_and_sections_are_pretrained(
        sample_viewer, qtbot, notifications):
    labels = sample_viewer.layers["synthetic labels"]
    labels.data = _time_slices(sample_viewer, (8, 20, 32), classes=[1])  # one class only
    w = TrainWidget(sample_viewer)
    _tiny(w, epochs=1, steps=2)
    w.pretraining.minutes.value = 0.1
    w.pretraining.start()
    qtbot.waitUntil(lambda: w.progress.value > 0, timeout=20_000)
    w.stop()
    qtbot.waitUntil(lambda: w.worker is None, timeout=20_000)
    assert "Pretrained unet2d" in w.status.value, w.status.value
    warnings = [str(n.message) for n in notifications if "warning" in str(n.severity).lower()]
    assert any("The labels did not choose the model" in m and "Only one class" in m
               for m in warnings), warnings
    # an empty layer chooses nothing and says nothing
    labels.data = np.zeros_like(labels.data)
    notifications.clear()
    w.pretraining.start()
    qtbot.waitUntil(lambda: w.progress.value > 0, timeout=20_000)
    w.stop()
    qtbot.waitUntil(lambda: w.worker is None, timeout=20_000)
    assert "Pretrained unet2d" in w.status.value
    assert not [n for n in notifications if "did not choose" in str(n.message)]
