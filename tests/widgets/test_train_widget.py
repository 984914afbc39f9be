"""The Train widget in a real viewer (run under Xvfb): train, watch, stop, save, load."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from widget_helpers import errors as _errors
from widget_helpers import tiny as _tiny

from napari_seisseg import synthetic
from napari_seisseg._widgets.train import TrainWidget
from napari_seisseg.bundle import read_card
from napari_seisseg.jobs import drain
from napari_seisseg.store import MODEL_STORE

pytestmark = pytest.mark.gui


def test_defaults_and_tooltips(sample_viewer):
    w = TrainWidget(sample_viewer)
    sample_viewer.window.add_dock_widget(w, name="Train")
    assert w.image.value.name == "synthetic seismic"
    assert w.labels_layer.value.name == "synthetic labels"
    assert w.val_labels.value is None and w.model.value == "auto"
    assert w.budget_unit.value == "minutes" and 1 <= w.budget.value <= 2
    assert w.advanced.native.isHidden()  # folded away
    w.show_advanced.value = True
    assert not w.advanced.native.isHidden()
    # sizes chosen for the user show "auto"; 0 is what the config reads
    for spin in (w.advanced.model_width, w.advanced.patch, w.advanced.batch):
        assert spin.value == 0 and spin.native.text() == "auto"
    assert "CPU" in w.device_label.value
    assert w.status.state == "idle"
    widgets = [w.image, w.labels_layer, w.painting.class_names, w.painting.button, w.val_labels, w.model, w.budget, w.budget_unit,
               w.zero_is_background, w.show_advanced, *w.advanced, w.train_button,
               w.stop_button, w.save_button, w.load_button, w.progress]
    assert all(x.tooltip for x in widgets)
    config = w.config()
    assert config.minutes == w.budget.value and config.epochs is None
    assert config.axes is None and config.patch_size is None  # 0: automatic
    assert config.batch_size is None and "width" not in config.model_kwargs
    w.advanced.batch.value = 4
    assert w.advanced.batch.native.text() == "4" and w.config().batch_size == 4
    w.advanced.batch.value = 0
    assert w.advanced.batch.native.text() == "auto" and w.config().batch_size is None
    assert {None, (0,), (1,), (2,), (0, 2)} <= set(w.advanced.axes.choices)
    w.advanced.axes.value = (0,)
    assert w.config().axes == (0,)
    # resunet-only controls: greyed out for other models, passed on for resunet
    assert not w.advanced.encoder.enabled and not w.advanced.output_stride.enabled
    assert "encoder" not in w.config().model_kwargs
    w.model.value = "resunet"
    assert w.advanced.encoder.enabled and w.advanced.output_stride.enabled
    w.advanced.encoder.value, w.advanced.output_stride.value, w.advanced.loss.value = "resnet34", 4, "bce_lovasz"
    config = w.config()
    assert config.model_kwargs == {"encoder": "resnet34", "output_stride": 4}
    assert config.loss == "bce_lovasz"
    # augmentation boxes: the defaults, then the named extras
    aug = config.augment
    assert aug.flip and aug.flip_time and aug.gain == 0.2 and aug.noise == 0.03
    assert aug.scale == 0 and aug.elastic == 0 and not aug.rotate90 and aug.polarity == 0
    w.advanced.aug_zoom.value = w.advanced.aug_rotate.value = True
    w.advanced.aug_gain.value = False
    aug = w.config().augment
    assert (aug.scale, aug.rotate, aug.rotate90, aug.transpose) == (0.15, 5.0, True, True)
    assert aug.gain == 0 and aug.noise == 0 and aug.elastic == 0 and aug.roll_axis is None
    assert aug.map_rotate == 0
    assert w.config().keep is None  # auto
    w.advanced.keep.value = "last"
    assert w.config().keep == "last"
    assert w.config().val_join is None  # auto
    w.advanced.val_join.value = "never"
    assert w.config().val_join == 1.0
    w.advanced.val_join.value = "after half"
    assert w.config().val_join == 0.5
    w.advanced.aug_maps.value = True
    assert w.config().augment.map_rotate == 45.0
    # images that wrap around: circular padding in the model, rolling in training
    w.advanced.circular_axis.value = 1
    config = w.config()
    assert config.model_kwargs["circular_axis"] == 1 and config.augment.roll_axis == 1


def test_train_watch_stop_save_and_load(sample_viewer, qtbot, tmp_path):
    w = TrainWidget(sample_viewer)
    _tiny(w, epochs=10_000, steps=2)
    worker = w.train()
    assert worker is not None and w.status.state == "running"
    assert "painted sections" in w.info.value
    qtbot.waitUntil(lambda: len(w.history["epoch"]) >= 3 and w.n_draws >= 1, timeout=20_000)
    assert w._last_step.progress > 0 and len(w.history["loss"]) >= 6
    from napari_seisseg.device import amp_settings

    precision = amp_settings(torch.device("cpu"), None).describe()  # bf16 where the CPU has it
    assert "CPU" in w.device_label.value and precision in w.device_label.value
    assert w.stop_button.enabled and not w.train_button.enabled
    rows = w.table_rows()
    assert [r[0] for r in rows] == ["sediment", "salt", "fault"]
    assert all(0.0 <= float(r[1]) <= 1.0 for r in rows if r[1] != "–")
    w.stop()
    qtbot.waitUntil(lambda: w.worker is None, timeout=20_000)
    assert w.status.state == "done", w.status.value
    assert w.result.stop_reason == "stopped"
    # at the end the table shows the kept model's scores, as the status line does
    kept = {c["name"]: c["iou"] for c in w.result.best_metrics["classes"]}
    from napari_seisseg._widgets.train_curves import fmt_score

    assert {r[0]: r[1] for r in w.table_rows()} == {k: fmt_score(v) for k, v in kept.items()}
    assert len(w.curves.loss_line.get_xdata()) == len(w.history["step"])
    assert w.n_draws >= 2
    names = MODEL_STORE.names()  # the best, newest, after the latest weights when they differ
    name = names[-1]
    assert names[:-1] in ([], [f"{name} latest"])
    entry = MODEL_STORE.get(name)
    assert entry is w.current and "unet2d" in name and w.save_button.enabled
    assert [c["name"] for c in entry.card["classes"]] == ["sediment", "salt", "fault"]
    assert entry.card["classes"][1]["color"] == pytest.approx(synthetic.CLASS_COLORS[2])
    # the model outlives the session: saved automatically, named by time and model
    from napari_seisseg.store import model_dir

    auto = entry.path
    assert auto is not None and auto.parent == model_dir() and auto.name.endswith(
        "unet2d_synthetic_labels.safetensors")
    assert f"saved automatically to {auto}" in w.status.value
    assert read_card(auto)["training"]["stop_reason"] == "stopped"

    path = tmp_path / "my model.bin"  # written at exactly the chosen path, any extension
    assert w.save_model(path) == path and path.exists() and entry.path == path
    assert read_card(path)["model"]["name"] == "unet2d"
    loaded = w.load_model(path)
    assert loaded is not None and loaded.name == "my model" and w.current is loaded
    assert MODEL_STORE.names() == [*names, "my model"]
    x = torch.randn(1, 1, 32, 40)
    with torch.no_grad():
        torch.testing.assert_close(loaded.model(x), entry.model(x))
    assert "my model" in w.advanced.init_from.choices  # can be fine-tuned


def test_full_run_to_the_epoch_budget_and_fine_tune(sample_viewer, qtbot):
    w = TrainWidget(sample_viewer)
    _tiny(w, epochs=2, steps=2)
    w.train()
    qtbot.waitUntil(lambda: w.worker is None, timeout=20_000)
    assert w.status.state == "done" and w.result.stop_reason == "epochs"
    assert w.progress.value == 1000 and w.history["epoch"] == [1, 2]
    first = w.current.name
    w.advanced.init_from.reset_choices()
    w.advanced.init_from.value = first
    w.train()
    qtbot.waitUntil(lambda: w.worker is None, timeout=20_000)
    assert w.status.state == "done", w.status.value
    assert len(MODEL_STORE.names()) == 2 and w.current.name != first
    assert w.current.card["fine_tuned_from"]["source"] == "a model in memory"


def test_the_held_out_paint_joins_a_widget_run_and_the_status_says_when_it_was_measured(
        sample_viewer, qtbot):
    w = TrainWidget(sample_viewer)
    _tiny(w, epochs=2, steps=2)
    w.advanced.val_join.value = "after half"
    w.train()
    qtbot.waitUntil(lambda: w.worker is None, timeout=20_000)
    assert w.status.state == "done", w.status.value
    assert w.result.best_epoch == 2 and w.result.best_metrics["before_joining"] == 1
    assert "at epoch 1, before the held-out paint joined training (kept epoch 2)" in w.status.value
    assert w.current.card["validation"]["measured_epoch"] == 1


@pytest.mark.parametrize("problem", ["other shape", "empty", "one class", "nan"])
def test_bad_input_gives_a_notification_and_no_worker(sample_viewer, notifications, problem):
    viewer = sample_viewer
    seismic = viewer.layers["synthetic seismic"]
    labels = viewer.layers["synthetic labels"].data
    if problem == "other shape":
        viewer.add_labels(np.ones((4, 5, 6), np.uint8), name="bad")
    elif problem == "empty":
        viewer.add_labels(np.zeros_like(labels), name="bad")
    elif problem == "one class":
        viewer.add_labels((labels > 0).astype(np.uint8), name="bad")
    else:
        image = np.array(seismic.data, dtype=np.float32)
        image[1, 2, 3] = np.nan
        viewer.add_image(image, name="nan image")
    w = TrainWidget(viewer)
    if problem == "nan":
        w.image.value = viewer.layers["nan image"]
    else:
        w.labels_layer.value = viewer.layers["bad"]
    _tiny(w)
    assert w.train() is None and w.worker is None
    assert w.status.state == "failed"
    expected = {"other shape": "shape", "empty": "No labels", "one class": "one class",
                "nan": "NaN"}[problem]
    errors = _errors(notifications)
    assert errors and expected.lower() in errors[-1].lower(), errors
    assert MODEL_STORE.names() == []


def test_worker_errors_become_notifications(sample_viewer, notifications, qtbot):
    w = TrainWidget(sample_viewer)
    _tiny(w)
    w.advanced.loss.value = "bce_dice"  # two-class loss on three classes: refused when the run is set up
    w.train()
    qtbot.waitUntil(lambda: w.worker is None, timeout=20_000)
    assert w.status.state == "failed" and "two classes" in w.status.value
    assert any("two classes" in e for e in _errors(notifications))
    assert w.save_model() is None  # no model yet: refused with a notification, no dialog


def test_a_wrap_axis_the_model_lacks_is_a_notification(sample_viewer, notifications, qtbot):
    w = TrainWidget(sample_viewer)
    _tiny(w)
    w.advanced.circular_axis.value = 2  # unet2d sections have axes 0 and 1 only
    w.train()
    qtbot.waitUntil(lambda: w.worker is None, timeout=20_000)
    assert w.status.state == "failed" and "circular_axis" in w.status.value
    assert any("circular_axis" in e for e in _errors(notifications))
    assert MODEL_STORE.names() == []


def test_load_refuses_a_pickle(sample_viewer, notifications, tmp_path):
    import pickle

    bad = tmp_path / "evil.pt"
    bad.write_bytes(pickle.dumps({"a": 1}))
    w = TrainWidget(sample_viewer)
    assert w.load_model(bad) is None and w.status.state == "failed"
    assert "pickle" in _errors(notifications)[-1]


def test_a_preprocessed_layer_records_its_pipeline_without_applying_it_twice(sample_viewer, qtbot):
    from napari_seisseg.bundle import Normalizer
    from napari_seisseg.preprocess import Pipeline, steps_from_specs

    viewer = sample_viewer
    raw = viewer.layers["synthetic seismic"]
    data = np.asarray(raw.data, dtype=np.float32) * 1000.0 + 5.0
    pipe = Pipeline(steps_from_specs([("standardize", {})])).fit(data, axis=1)
    meta = {**raw.metadata, "seisseg_preprocess": pipe.to_dict()}
    layer = viewer.add_image(pipe.apply(data, axis=1), name="pre", metadata=meta)
    w = TrainWidget(viewer)
    w.image.value = layer
    _tiny(w, epochs=1, steps=1)
    w.train()
    qtbot.waitUntil(lambda: w.worker is None, timeout=20_000)
    card = w.current.card
    assert card["preprocessing"]["pipeline"] == pipe.to_dict()
    assert read_card(w.current.path)["preprocessing"]["pipeline"] == pipe.to_dict()  # autosaved
    # the card maps raw amplitudes to what the model saw: the layer, standardised once
    norm = Normalizer.from_dict(card["preprocessing"])
    seen = (np.asarray(layer.data[3]) - card["preprocessing"]["standardize"]["center"]) / \
        card["preprocessing"]["standardize"]["scale"]
    np.testing.assert_allclose(norm(data[3], axis=0), seen, rtol=1e-4, atol=1e-4)


def test_new_labels_layer_over_a_segy_paints_trains_and_exports(make_napari_viewer, segy_dir,
                                                               qtbot, tmp_path):
    from napari_seisseg._widgets.export import ExportWidget
    from napari_seisseg.bundle.classes import PALETTE
    from napari_seisseg.io import read_segy
    from napari_seisseg.io.geometry import SurveyGeometry

    viewer = make_napari_viewer()
    (seismic,) = viewer.open(segy_dir / "f3-withdead.sgy", plugin="napari-seisseg")
    w = TrainWidget(viewer)
    assert w.labels_layer.value is None and w.painting.button.tooltip
    w.painting.class_names.value = "sediment, salt"
    layer = w.painting.add()
    assert layer is not None and w.labels_layer.value is layer and w.status.state == "idle"
    assert "1 sediment, 2 salt" in w.status.value
    assert layer.name == f"{seismic.name} labels" and layer.data.shape == seismic.data.shape
    assert layer.data.dtype == np.uint8 and not layer.data.any()
    for attr in ("scale", "translate"):
        np.testing.assert_array_equal(getattr(layer, attr), getattr(seismic, attr))
    assert tuple(layer.axis_labels) == tuple(seismic.axis_labels)
    assert tuple(layer.units) == tuple(seismic.units)
    geometry = SurveyGeometry.from_metadata(layer.metadata)
    assert geometry.to_json_dict() == SurveyGeometry.from_metadata(seismic.metadata).to_json_dict()
    assert list(layer.features["class"]) == ["unlabeled", "sediment", "salt"]
    np.testing.assert_allclose(layer.colormap.map(np.array([2]))[0], PALETTE[1], atol=1e-6)
    assert layer.colormap.map(np.array([0]))[0][3] == 0  # not labeled: transparent
    assert viewer.layers.selection.active is layer and layer.mode == "paint"
    assert layer.selected_label == 1

    # paint two inlines (axis 0) above and below a horizon along the time axis, and train
    t_axis = next(k for k, a in enumerate(seismic.axis_labels) if str(a).startswith("time"))
    for il in (3, 15):
        section = np.ones(np.delete(seismic.data.shape, 0), np.uint8)
        section[(slice(None),) * (t_axis - 1) + (slice(40, None),)] = 2
        layer.data[il] = section
    _tiny(w, epochs=1, steps=2)
    assert w.train() is not None
    qtbot.waitUntil(lambda: w.worker is None, timeout=30_000)
    assert w.status.state == "done", w.status.value
    card = w.current.card
    assert [(c["value"], c["name"]) for c in card["classes"]] == [(1, "sediment"), (2, "salt")]
    assert card["classes"][0]["color"] == pytest.approx(PALETTE[0])

    # the layer carries the geometry: exported as SEG-Y with the input's traces
    e = ExportWidget(viewer)
    e.layer.value = layer
    e.path.value = str(tmp_path / "painted.sgy")
    assert e.export() is not None
    qtbot.waitUntil(lambda: e.worker is None, timeout=20_000)
    assert e.status.state == "done", e.status.value
    back = read_segy(tmp_path / "painted.sgy")
    assert back.geometry.n_live == geometry.n_live


def test_new_labels_refuses_bad_names_and_a_missing_image(make_napari_viewer, notifications):
    viewer = make_napari_viewer()
    w = TrainWidget(viewer)
    assert w.painting.add() is None and "No image layer" in w.status.value
    viewer.add_image(np.zeros((4, 5, 6), np.float32), name="cube")
    w.image.reset_choices()
    w.painting.class_names.value = "salt,, fault"
    assert w.painting.add() is None and w.status.state == "failed"
    assert "empty class name" in w.status.value
    assert [layer.name for layer in viewer.layers] == ["cube"]  # nothing added
    assert any("empty class name" in m for m in _errors(notifications))
    w.painting.class_names.value = ""
    layer = w.painting.add()  # unnamed classes: a plain layer over the image
    assert layer is not None and layer.data.shape == (4, 5, 6) and "class" not in layer.features


def test_new_labels_sit_exactly_on_a_rotated_sheared_image(make_napari_viewer):
    from napari_seisseg._widgets.new_labels import add_labels_layer

    viewer = make_napari_viewer()
    affine = np.eye(4)
    affine[:3, 3] = (5.0, -2.0, 7.0)
    image = viewer.add_image(np.zeros((6, 8, 10), np.float32), scale=(1, 4, 1),
                             translate=(100, 0, 300), rotate=(0, 0, 30), shear=(0.1, 0, 0),
                             affine=affine, name="survey at an angle")
    labels = add_labels_layer(viewer, image, ["salt", "sediment"])
    for point in ((0, 0, 0), (5, 7, 9), (2, 3, 4)):
        np.testing.assert_allclose(labels.data_to_world(point), image.data_to_world(point))


def test_a_failed_automatic_save_keeps_the_model(sample_viewer, qtbot, notifications,
                                                  monkeypatch):
    from napari_seisseg.training.events import TrainResult

    def broken(self, path):
        raise TypeError("Object of type set is not JSON serializable")

    monkeypatch.setattr(TrainResult, "save", broken)
    w = TrainWidget(sample_viewer)
    _tiny(w, epochs=1, steps=1)
    w.train()
    qtbot.waitUntil(lambda: w.worker is None, timeout=20_000)
    assert w.status.state == "done" and w.current is not None and w.current.path is None
    warnings = [str(n.message) for n in notifications if "warning" in str(n.severity).lower()]
    assert any("could not be saved automatically" in m and "not JSON serializable" in m
               for m in warnings)


def test_a_killed_runs_checkpoint_is_offered_for_its_cube(sample_viewer, notifications, tmp_path):
    """Issue 21: a run killed on this cube left a checkpoint; choosing the cube in the Train
    widget loads its best model (for 'start from' and Predict) and says what it is."""
    import json
    import os
    import subprocess
    import sys

    from napari_seisseg.training import TrainConfig, train
    from napari_seisseg.training.checkpoint import Checkpointer
    from napari_seisseg.training.pretrain_store import cube_fingerprint

    image = sample_viewer.layers["synthetic seismic"].data
    labels = sample_viewer.layers["synthetic labels"].data
    result = drain(train(image, labels, TrainConfig(
        model="unet2d", model_kwargs={"width": 4, "depth": 2}, patch_size=32, batch_size=2,
        epochs=1, steps_per_epoch=2, checkpoint_minutes=None)))
    from napari_seisseg.io.layer_axes import layer_geometry

    # keyed as a run on this layer keys it: the cube in training order
    key = cube_fingerprint(image, layer_geometry(sample_viewer.layers["synthetic seismic"]))
    saved = Checkpointer("unet2d", "synthetic seismic", key, 0.0)
    saved.save(result.model.state_dict(), result.card, 61.0, 1, 0.42)
    meta = saved.path.with_suffix(".json")
    dead = int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True).stdout)
    meta.write_text(json.dumps({**json.loads(meta.read_text()), "pid": dead}))
    assert str(saved.path).startswith(os.environ["SEISSEG_MODEL_DIR"])
    MODEL_STORE.clear()
    w = TrainWidget(sample_viewer)
    sample_viewer.window.add_dock_widget(w, name="Train")
    [entry] = MODEL_STORE.entries()
    assert entry.path == saved.path and entry.name in w.advanced.init_from.choices
    assert w.advanced.init_from.value is None  # offered, not chosen for the user
    infos = [str(n.message) for n in notifications if "did not finish" in str(n.message)]
    assert len(infos) == 1
    assert "a run of unet2d on synthetic seismic did not finish" in infos[0]
    assert "validation 0.42" in infos[0] and "'start from'" in infos[0]
    TrainWidget(sample_viewer)  # offered once per session
    assert len(MODEL_STORE.entries()) == 1
    MODEL_STORE.clear()


# ---------------------------------------------------------------------- issue 19: panels


def _fully_shown(native) -> bool:
    """The Qt widget is shown whole: not cut by the window's edge or by a scroll area."""
    region = native.visibleRegion()
    return native.isVisible() and region.boundingRect() == native.rect() and \
        region.rectCount() == 1


def _metrics(names: list[str]) -> dict:
    classes = [{"index": i, "value": i + 1, "name": n, "iou": 0.5, "dice": 0.6,
                "precision": 0.7, "recall": 0.8, "support": 10} for i, n in enumerate(names)]
    return {"mean_iou": 0.5, "painted_mean_iou": 0.5, "classes": classes}


def test_train_panel_fits_1366x768_with_run_controls_curves_and_table_in_view(
        make_napari_viewer, qtbot):
    """Docked at 1366 x 768, Train/Stop, progress, curves and table are on screen, with or
    without the advanced options, and with a long status; the settings scroll instead."""
    from qtpy.QtCore import Qt
    from qtpy.QtWidgets import QApplication

    viewer = make_napari_viewer(show=True)
    viewer.open_sample("napari-seisseg", "synthetic")
    _, w = viewer.window.add_plugin_dock_widget("napari-seisseg", "Train")
    viewer.window.resize(1366, 768)
    qtbot.waitUntil(lambda: viewer.window._qt_window.height() <= 768, timeout=5_000)
    outputs = {"Train": w.train_button.native, "Stop": w.stop_button.native,
               "progress": w.progress.native, "curves": w.curves.canvas, "table": w.curves.table}
    w.curves.fill_table(_metrics(["sediment", "salt", "fault"]))
    for advanced in (False, True):
        w.show_advanced.value = advanced
        qtbot.wait(50)
        hidden = [name for name, native in outputs.items() if not _fully_shown(native)]
        assert not hidden, f"advanced={advanced}: not fully on screen: {hidden}"
    # the advanced options came into view under their checkbox, the rest scrolls
    bar = w.settings_area.verticalScrollBar()
    assert bar.maximum() > 0 and bar.value() > 0
    assert w.show_advanced.native.visibleRegion().boundingRect().height() > 0
    # a long final status scrolls in its own box: nothing moves off screen
    w.status.set("done", f"model ready; saved automatically to /{'x' * 150}.safetensors\n"
                 + "\n".join(f"class {i}: validation IoU 0.5" for i in range(10)))
    qtbot.wait(50)
    assert all(_fully_shown(native) for native in outputs.values())
    assert w.native.minimumSizeHint().height() <= 700
    # the class names have room in the table (elided in the middle only when too long)
    table = w.curves.table
    QApplication.processEvents()
    fm = table.fontMetrics()
    assert table.textElideMode() == Qt.ElideMiddle
    assert table.columnWidth(0) >= fm.horizontalAdvance("sediment") + 40
    assert [table.item(r, 0).toolTip() for r in range(3)] == ["sediment", "salt", "fault"]
    assert all(table.columnWidth(c) >= fm.horizontalAdvance("0.500") for c in range(1, 5))


def test_a_run_fills_the_table_at_every_validation_with_whole_epoch_ticks(sample_viewer, qtbot):
    """The per-class table shows each validation as it comes (not only at the end), and the
    curves' epoch and step axes are ticked in whole numbers, even with one epoch in view."""
    from napari_seisseg.training import EpochEnd, Finished
    from napari_seisseg.training.run_summary import fmt_score

    w = TrainWidget(sample_viewer)
    _tiny(w, epochs=2, steps=2)
    seen: list[dict] = []
    kinds: list[str] = []
    handle = w._on_event

    def record(event):  # what the user sees right after each event
        handle(event)
        kinds.append(event.kind)
        if isinstance(event, EpochEnd):
            w.curves.redraw(force=True)
            w.curves.canvas.draw()
            ticks = {}
            for key, ax in (("epoch", w.curves.ax_iou), ("step", w.curves.ax_loss)):
                lo, hi = ax.get_xlim()
                ticks[key] = [t for t in ax.get_xticks() if lo <= t <= hi]
            seen.append({"event": event, "rows": w.table_rows(), "ticks": ticks,
                         "finished": isinstance(event, Finished) or "finished" in kinds})

    w._on_event = record  # train() connects the worker to it
    w.train()
    qtbot.waitUntil(lambda: w.worker is None, timeout=30_000)
    assert w.status.state == "done", w.status.value
    assert [s["event"].epoch for s in seen] == [1, 2]
    for s in seen:
        metrics = s["event"].metrics
        assert metrics and not s["finished"]  # filled while the run goes on
        assert [r[0] for r in s["rows"]] == ["sediment", "salt", "fault"]
        assert [r[1] for r in s["rows"]] == [fmt_score(c["iou"]) for c in metrics["classes"]]
        for key, ticks in s["ticks"].items():
            assert ticks and all(float(t).is_integer() for t in ticks), (key, ticks)
    assert seen[0]["ticks"]["epoch"] == [1.0]  # one epoch in view: a single whole tick


def test_painted_sections_are_said_in_survey_line_numbers(sample_viewer, qtbot):
    """A survey's painted inlines and time slices are named by line number and time, not by
    array index; without a geometry the indices stay."""
    from napari_seisseg.io.geometry import SurveyGeometry
    from napari_seisseg.training.painted_summary import describe_painted

    viewer = sample_viewer
    seismic = viewer.layers["synthetic seismic"]
    g = SurveyGeometry.from_metadata(seismic.metadata)
    assert g.axes == ("inline", "sample", "crossline") and g.unit == "ms"
    labels = np.zeros(seismic.data.shape, np.uint8)
    labels[2], labels[5] = 1, 2  # two whole inlines
    labels[:, 10, :] = 1  # and one time slice
    layer = viewer.add_labels(labels, name="painted", metadata=dict(seismic.metadata))
    w = TrainWidget(viewer)
    w.labels_layer.value = layer
    _tiny(w, epochs=1, steps=1)
    assert w.train() is not None
    info = w.info.value
    qtbot.waitUntil(lambda: w.worker is None, timeout=30_000)
    il, t = g.ilines, g.samples
    assert f"painted sections: inlines {il[2]}, {il[5]}; time slice {t[10]:g} ms." in info, info
    assert "inline 2 (" not in info and not w.info.native.isHidden()
    # the core description (array indices) is kept where there is no geometry
    assert describe_painted(w.summary) == w.summary.describe()
    assert "inline 2 (2, 5)" in w.summary.describe()


def test_a_progress_note_goes_to_the_status_line_not_to_a_notification(sample_viewer, monkeypatch):
    from napari.utils import notifications

    from napari_seisseg.training import Note

    w = TrainWidget(sample_viewer)
    shown = []
    monkeypatch.setattr(notifications, "show_info", shown.append)
    w._on_event(Note("Scoring the kept model on 12 held-out windows…", "progress"))
    assert w.status.state == "running" and not shown
    assert w.status.value == "running: Scoring the kept model on 12 held-out windows…"
    w._on_event(Note("a change made for you"))
    assert shown == ["Train: a change made for you"]


def test_a_second_run_names_its_latest_weights_after_itself(sample_viewer, qtbot, monkeypatch):
    """Every epoch scores lower than the one before: the first is kept, the latest differ and
    are listed as '<the run's name> latest', also for a second run named '... (2)'."""
    import itertools

    from napari_seisseg.training import run as run_module

    falling = itertools.count()
    monkeypatch.setattr(run_module, "selection_score", lambda metrics: -next(falling))
    w = TrainWidget(sample_viewer)
    _tiny(w, epochs=2, steps=2)
    names = []
    for _ in range(2):
        w.train()
        qtbot.waitUntil(lambda: w.worker is None, timeout=20_000)
        assert w.status.state == "done" and w.result.distinct_latest is not None
        names.append(w.current.name)
    assert names[1] == f"{names[0]} (2)"
    assert {f"{n} latest" for n in names} <= set(MODEL_STORE.names())
