"""Every widget of the manifest: a tooltip on each control, a visible idle state, and a
minimum height that fits a 1366 x 768 screen beside napari's own panels."""

from __future__ import annotations

import pytest
from magicgui.widgets import Container, Label, Widget

from napari_seisseg._widgets._status import StatusLabel
from napari_seisseg._widgets.scroll import MAX_DOCK_HEIGHT

pytestmark = pytest.mark.gui

WIDGETS = ["Open with options (SEG-Y, .npy, Zarr)", "Export (SEG-Y / .npy / Zarr)", "Preprocess", "Train",
           "Predict", "View"]


def _controls(widget: Widget):
    """Every non-container, non-label widget inside ``widget``, depth first."""
    if isinstance(widget, Container):
        for child in widget:
            yield from _controls(child)
    elif not isinstance(widget, Label):
        yield widget


def test_the_manifest_lists_exactly_these_widgets():
    from npe2 import PluginManager

    pm = PluginManager.instance()
    pm.discover()
    manifest = pm.get_manifest("napari-seisseg")
    assert [w.display_name for w in manifest.contributions.widgets] == WIDGETS


@pytest.mark.parametrize("name", WIDGETS)
def test_every_control_has_a_tooltip_and_the_state_shows(make_napari_viewer, name):
    viewer = make_napari_viewer()
    viewer.open_sample("napari-seisseg", "f3")
    _, widget = viewer.window.add_plugin_dock_widget("napari-seisseg", name)
    controls = list(_controls(widget))
    assert len(controls) >= 3
    missing = [c.label or c.name or type(c).__name__ for c in controls if not c.tooltip]
    assert not missing, f"{name}: controls without a tooltip: {missing}"
    status = widget.status
    assert isinstance(status, StatusLabel) and status.state == "idle"
    assert status.value.startswith("idle")


@pytest.mark.parametrize("name", ["Train"])  # its Corrections row included
def test_layer_choices_follow_a_rename(make_napari_viewer, name):
    """napari resets a docked widget's choices on rename (qt_main_window); nothing is stale."""
    from magicgui.widgets import ComboBox

    viewer = make_napari_viewer()
    viewer.open_sample("napari-seisseg", "synthetic")
    _, widget = viewer.window.add_plugin_dock_widget("napari-seisseg", name)
    layer = viewer.layers["synthetic seismic"]

    def offered():  # the text shown for this layer in every layer combo box
        return {text for c in _controls(widget) if isinstance(c, ComboBox)
                for text, value in c._widget._mgui_get_choices() if value is layer}

    assert "synthetic seismic" in offered()
    layer.name = "my survey"  # renamed in the layer list
    assert offered() == {"my survey"}


def _min_height(widget: Widget) -> int:
    from qtpy.QtWidgets import QApplication

    QApplication.processEvents()
    return widget.native.minimumSizeHint().height()


@pytest.mark.parametrize("name", WIDGETS)
def test_every_dock_widget_fits_a_1366_by_768_screen(make_napari_viewer, name):
    """Issue 19: the minimum height of each dock widget, in the states that add rows, is at
    most MAX_DOCK_HEIGHT (700 px: a 768-px screen less napari's menu, status bar and dock
    title), so nothing is pushed off a small screen."""
    viewer = make_napari_viewer()
    viewer.open_sample("napari-seisseg", "synthetic")
    _, widget = viewer.window.add_plugin_dock_widget("napari-seisseg", name)
    heights = {"docked": _min_height(widget)}
    if name == "Train":
        widget.show_advanced.value = True
        heights["advanced options"] = _min_height(widget)
        lines = "\n".join(f"class {i}: validation IoU 0.50, found 50% of it." for i in range(12))
        widget.status.set("done", f"model ready; saved to /{'x' * 200}.safetensors\n{lines}")
        widget.info.value, widget.info.visible = "painted sections: " + "inline 100, " * 60, True
        heights["long messages"] = _min_height(widget)
    if name == "Preprocess":
        for kind in ("clip_percentile", "standardize", "agc", "robust_scale", "clip_std",
                     "log_uint8", "clip_percentile", "agc"):
            widget.add_step(kind)
        heights["eight steps"] = _min_height(widget)
    if name == "Open with options (SEG-Y, .npy, Zarr)":
        widget.status.set("failed", "a long reason " * 40)
        heights["long status"] = _min_height(widget)
    assert max(heights.values()) <= MAX_DOCK_HEIGHT, f"{name}: minimum heights {heights}"


@pytest.mark.parametrize("name", WIDGETS)
def test_a_zero_meaning_automatic_says_so(make_napari_viewer, name):
    """Issue 19: settings whose 0 means "chosen for you" show a word there ("auto",
    "detect"), while the value the code reads stays the whole number 0."""
    from napari_seisseg._widgets.auto_spinbox import AutoSpinBox

    viewer = make_napari_viewer()
    _, widget = viewer.window.add_plugin_dock_widget("napari-seisseg", name)
    spins = [c for c in _controls(widget) if isinstance(c, AutoSpinBox)]
    expected = {"Train": 3, "Open with options (SEG-Y, .npy, Zarr)": 2}.get(name, 0)
    assert len(spins) >= expected
    for spin in spins:
        assert spin.value == 0 and type(spin.value) is int
        assert spin.native.text() == spin.native.specialValueText() != ""
        assert spin.native.specialValueText() in spin.tooltip  # the tooltip says what it means
        spin.value = 8
        assert spin.native.text() == "8" and spin.value == 8 and type(spin.value) is int
        spin.value = 0
        assert spin.native.text() == spin.native.specialValueText()
