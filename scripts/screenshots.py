"""Capture the screenshots used in the docs from a real napari window.

Run under a (virtual) screen, e.g.::

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python scripts/screenshots.py
    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python scripts/screenshots.py live  # one
    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python scripts/screenshots.py workflow  # train, predict, correct

Pictures are written to docs/images/ and regenerated whenever the UI changes.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

warnings.filterwarnings("ignore", message="System theme detection")

import napari  # noqa: E402
from qtpy.QtWidgets import QApplication  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "images"
DATA = ROOT / "tests" / "data" / "segy"


def settle(viewer: napari.Viewer) -> None:
    for _ in range(5):
        QApplication.processEvents()


def wait(worker_owner, timeout: float = 600.0) -> None:
    """Process Qt events until the widget's background worker has finished."""
    import time

    t0 = time.perf_counter()
    while worker_owner.worker is not None and time.perf_counter() - t0 < timeout:
        QApplication.processEvents()
        time.sleep(0.05)
    for _ in range(20):
        QApplication.processEvents()


def workflow(viewer: napari.Viewer) -> None:
    """Train on the synthetic sample's painted sections, predict it, and start a correction."""
    viewer.layers.clear()
    viewer.open_sample("napari-seisseg", "synthetic")
    seismic = viewer.layers["synthetic seismic"]
    train_dock, train = viewer.window.add_plugin_dock_widget("napari-seisseg", "Train")
    train.image.value = seismic
    train.labels_layer.value = viewer.layers["synthetic labels"]
    train.set_budget(6, "epochs")
    train.advanced.steps_per_epoch.value = 15
    train.train()
    wait(train)
    viewer.dims.set_current_step(0, 32)  # index 32: inline 132, a painted one
    viewer.reset_view()
    settle(viewer)
    viewer.screenshot(str(OUT / "train_widget.png"), canvas_only=False)

    _dock, predict = viewer.window.add_plugin_dock_widget("napari-seisseg", "Predict")
    predict.layer.value = seismic
    predict.predict()
    wait(predict)
    viewer.layers["synthetic labels"].visible = False
    viewer.window.remove_dock_widget(train_dock)  # room for the Predict widget
    viewer.dims.set_current_step(0, 40)  # inline 140: never painted (116, 132, 148 were)
    if "live mask" in viewer.layers:  # the Train widget's last preview
        viewer.layers["live mask"].visible = False
    viewer.reset_view()
    settle(viewer)
    viewer.screenshot(str(OUT / "predict_widget.png"), canvas_only=False)

    mask = predict.layers["mask"]  # the prediction's mask (not the live preview's "live mask")
    viewer.layers.selection.active = mask
    mask.mode = "paint"
    mask.selected_label = 2
    mask.brush_size = 6
    settle(viewer)
    viewer.screenshot(str(OUT / "correct_mask.png"), canvas_only=False)

    # a correction painted on the mask, then taken into the painted labels as a reviewed section
    for t in range(20, 60, 2):
        mask.paint((40, t, 30), 2)  # data indices: inline 140
    viewer.window.remove_dock_widget("all")
    _dock, train = viewer.window.add_plugin_dock_widget("napari-seisseg", "Train")
    train.labels_layer.value = viewer.layers["synthetic labels"]
    train.corrections.add_section()
    viewer.layers["synthetic labels"].visible = True
    mask.visible = False
    viewer.layers.selection.active = viewer.layers["synthetic labels"]
    settle(viewer)
    viewer.screenshot(str(OUT / "corrections.png"), canvas_only=False)
    viewer.window.remove_dock_widget("all")


def pump(seconds: float) -> None:
    """Process Qt events for ``seconds`` (a run in the background goes on meanwhile)."""
    import time

    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        QApplication.processEvents()
        time.sleep(0.02)


def live(viewer: napari.Viewer) -> None:
    """Live training: the preview of an unpainted inline over the seismic, a stroke taken up."""
    viewer.layers.clear()
    viewer.window.remove_dock_widget("all")
    viewer.open_sample("napari-seisseg", "synthetic")
    _dock, train = viewer.window.add_plugin_dock_widget("napari-seisseg", "Train")
    train.set_budget(None, "until stopped")
    labels = viewer.layers["synthetic labels"]
    viewer.layers.selection.active = labels
    labels.mode = "paint"
    viewer.dims.set_point(0, 140)  # inline 140: nobody painted it (116, 132, 148 were)
    viewer.reset_view()
    train.train()
    pump(40)
    labels.brush_size = 4
    labels.selected_label = 2
    for t in range(70, 110, 2):  # a stroke on the previewed inline (index 40: inline 140)
        labels.paint((40, t, 20), 2)
    pump(20)
    viewer.screenshot(str(OUT / "live_training.png"), canvas_only=False)
    train.stop()
    wait(train)
    viewer.window.remove_dock_widget("all")


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    viewer = napari.Viewer(show=True)
    from napari.utils.notifications import notification_manager

    notification_manager.records.clear()
    viewer.window._qt_window.resize(1500, 950)
    if sys.argv[1:] == ["live"]:  # only the live-training picture
        live(viewer)
        viewer.close()
        return 0
    if sys.argv[1:] == ["workflow"]:  # only train, predict and correct on the synthetic sample
        workflow(viewer)
        viewer.close()
        return 0

    # 1. the Open with options widget next to a real survey (F3, samples coordinates)
    _dock, widget = viewer.window.add_plugin_dock_widget("napari-seisseg",
                                                         "Open with options (SEG-Y, .npy, Zarr)")
    widget.path.value = [str(DATA / "f3-ebcidctest.sgy")]
    widget.coordinates.value = "samples"
    widget.colormap.value = "gray"
    widget.open()
    viewer.reset_view()
    settle(viewer)
    viewer.screenshot(str(OUT / "open_segy_widget.png"), canvas_only=False)
    if sys.argv[1:] == ["open"]:  # only the Open with options picture
        viewer.close()
        return 0

    # 2. the F3 sample: inline slider, time downwards, crosslines across
    viewer.layers.clear()
    viewer.window.remove_dock_widget("all")
    viewer.open_sample("napari-seisseg", "f3")
    viewer.dims.set_point(0, 122)
    viewer.reset_view()
    settle(viewer)
    viewer.screenshot(str(OUT / "f3_sample.png"), canvas_only=False)

    # 3. the synthetic labeled sample with its sparse labels
    viewer.layers.clear()
    try:
        viewer.open_sample("napari-seisseg", "synthetic")
        viewer.dims.set_point(0, 32)  # a labeled inline
        viewer.reset_view()
        settle(viewer)
        viewer.screenshot(str(OUT / "synthetic_sample.png"), canvas_only=False)
    except ModuleNotFoundError:
        pass

    # 4. the Preprocess widget with a live preview (AGC then log-uint8) on the F3 sample
    viewer.layers.clear()
    viewer.window.remove_dock_widget("all")
    viewer.open(DATA / "f3-ebcidctest.sgy", plugin="napari-seisseg")
    viewer.layers[0].scale = (1, 1, 1)
    _dock, pre = viewer.window.add_plugin_dock_widget("napari-seisseg", "Preprocess")
    pre.clear_steps()
    pre.add_step("agc")
    pre.add_step("log_uint8")
    pre.update_preview()
    viewer.reset_view()
    settle(viewer)
    viewer.screenshot(str(OUT / "preprocess_widget.png"), canvas_only=False)
    pre.preview.value = False  # the widget object outlives its dock: stop its previews
    viewer.window.remove_dock_widget("all")

    # 5. painting on a real survey: Train's "New labels layer" with class names, then Export
    viewer.layers.clear()
    viewer.open(DATA / "f3-withdead.sgy", plugin="napari-seisseg")
    _dock, train = viewer.window.add_plugin_dock_widget("napari-seisseg", "Train")
    train.painting.class_names.value = "sediment, salt"
    labels = train.painting.add()
    labels.data[11, :30, :] = 1  # inline 122 (axes: inline, time, crossline)
    labels.data[11, 30:60, :] = 2
    labels.refresh()
    viewer.dims.set_point(0, 122)
    viewer.reset_view()
    settle(viewer)
    viewer.screenshot(str(OUT / "new_labels.png"), canvas_only=False)
    viewer.window.remove_dock_widget("all")
    _dock, export = viewer.window.add_plugin_dock_widget("napari-seisseg", "Export (SEG-Y / .npy / Zarr)")
    export.layer.value = labels
    viewer.reset_view()
    settle(viewer)
    viewer.screenshot(str(OUT / "export_widget.png"), canvas_only=False)
    viewer.window.remove_dock_widget("all")

    # 6-8. the loop on the synthetic sample: train, predict, correct
    workflow(viewer)
    # 9. live training: preview of the shown inline, a stroke taken up
    live(viewer)
    viewer.close()
    print(f"screenshots in {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
