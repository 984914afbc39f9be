"""Every widget of the manifest: a tooltip on each control and a visible idle state."""

from __future__ import annotations

import pytest
from magicgui.widgets import Container, Label, Widget

from napari_seisseg._widgets._status import StatusLabel

pytestmark = pytest.mark.gui

WIDGETS = ["Open SEG-Y with options", "Export (SEG-Y / .npy / Zarr)", "Preprocess", "Train",
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
