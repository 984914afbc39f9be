"""The View widget and survey coordinates in a real viewer (Xvfb): sections fill the view,
the position reads in line numbers and ms, go to a line, one exaggeration for all layers."""

from __future__ import annotations

import numpy as np
import pytest

from napari_seisseg._widgets.view import ViewWidget

pytestmark = pytest.mark.gui


def _extent(layer) -> np.ndarray:
    return np.asarray(layer.extent.world)


def test_f3_fills_the_view_and_reads_in_survey_units(make_napari_viewer, notifications):
    viewer = make_napari_viewer()
    viewer.open_sample("napari-seisseg", "f3")
    _, w = viewer.window.add_plugin_dock_widget("napari-seisseg", "View")
    layer = viewer.layers["F3 crop"]
    size = np.ptp(_extent(layer), axis=0)  # inline, time, crossline in world units
    assert 1.0 <= size[2] / size[1] <= 2.0  # an inline: wider than tall (it was 1:17)
    assert w.exaggeration.value == pytest.approx(0.2)
    viewer.dims.set_current_step(0, 11)
    assert w.position.value == "inline 122"
    # the status bar: names and true units, whatever the exaggeration
    world = (122, 200 / layer.metadata["seisseg_display"]["vertical_per_world"], 880)
    assert layer.get_status(world, world=True)["coordinates"].startswith(
        "inline 122, 200 ms, crossline 880: ")
    w.goto.value = "crossline 885"
    w._on_goto()
    assert w.position.value == "crossline 885" and w.status.state == "done"
    assert viewer.dims.current_step[2] == 885 - 875 and 2 not in viewer.dims.displayed
    w.goto.value = "200 ms"
    w._on_goto()
    assert w.position.value == "200 ms"
    assert viewer.dims.current_step[1] == (200 - 4) // 4
    w.goto.value = "inline 9999"
    w._on_goto()
    assert w.status.state == "failed" and "outside" in w.status.value
    assert any("outside" in str(n.message) for n in notifications)


def test_one_exaggeration_for_every_survey_layer(make_napari_viewer, tmp_path):
    """Changing the exaggeration moves the seismic and its labels together; an export to
    SEG-Y re-opens exactly over its source (issue 19)."""
    from napari_seisseg.io import write_volume
    from napari_seisseg.io.geometry import SurveyGeometry

    viewer = make_napari_viewer()
    viewer.open_sample("napari-seisseg", "synthetic")
    seismic, labels = viewer.layers["synthetic seismic"], viewer.layers["synthetic labels"]
    geometry = SurveyGeometry.from_metadata(seismic.metadata)
    canonical, g = geometry.transpose_to(np.asarray(labels.data), geometry.canonical_axes)
    out = write_volume(tmp_path / "labels.sgy", canonical, g)
    (reopened,) = viewer.open(out, plugin="napari-seisseg")
    np.testing.assert_allclose(_extent(reopened), _extent(seismic))
    assert reopened.data.shape == seismic.data.shape
    _, w = viewer.window.add_plugin_dock_widget("napari-seisseg", "View")
    before = _extent(seismic)
    w.exaggeration.value = 2 * w.exaggeration.value
    after = _extent(seismic)
    np.testing.assert_allclose(np.ptp(after, axis=0)[1], 2 * np.ptp(before, axis=0)[1])
    np.testing.assert_allclose(np.ptp(after, axis=0)[[0, 2]], np.ptp(before, axis=0)[[0, 2]])
    for other in (labels, reopened):
        np.testing.assert_allclose(_extent(other), after)
    # true units are kept: the same voxel reads the same time
    t = seismic.data_to_world([5, 64, 7])
    assert seismic.get_status(t, world=True)["coords"] == reopened.get_status(t, world=True)[
        "coords"]
    assert f"{geometry.t0 + 64 * geometry.dt:g} ms" in seismic.get_status(t, world=True)["coords"]
    w._on_automatic()
    np.testing.assert_allclose(_extent(seismic), before)


def test_the_view_widget_without_a_survey_layer(make_napari_viewer):
    viewer = make_napari_viewer()
    viewer.add_image(np.zeros((4, 5, 6), np.float32))
    w = ViewWidget(viewer)
    assert w.position.value == "(no survey layer)"
    w._on_automatic()
    assert w.status.state == "failed"
    w.goto.value = "inline 3"
    w._on_goto()
    assert w.status.state == "failed" and "No layer in survey coordinates" in w.status.value


def test_layers_added_later_join_the_viewers_exaggeration(make_napari_viewer, segy_dir):
    """A file opened, or a labels layer made, after the exaggeration changed lies over the
    survey (without the View widget too), and follows later changes."""
    from napari_seisseg._widgets.new_labels import add_labels_layer
    from napari_seisseg._widgets.view import set_exaggeration

    viewer = make_napari_viewer()
    (first,) = viewer.open(segy_dir / "f3.sgy", plugin="napari-seisseg")
    set_exaggeration(viewer, 0.5)
    (second,) = viewer.open(segy_dir / "f3.sgy", plugin="napari-seisseg")
    np.testing.assert_allclose(_extent(second), _extent(first))
    labels = add_labels_layer(viewer, first, ["salt"])
    np.testing.assert_allclose(_extent(labels), _extent(first))
    set_exaggeration(viewer, 1.0)
    for layer in (second, labels):
        np.testing.assert_allclose(_extent(layer), _extent(first))
    world = first.data_to_world([3, 20, 4])
    assert labels.get_status(world, world=True)["coords"] == "inline 114, 84 ms, crossline 879"


def test_go_to_keeps_time_downwards_and_exaggeration_keeps_the_time_slice(make_napari_viewer):
    viewer = make_napari_viewer()
    viewer.open_sample("napari-seisseg", "f3")
    _, w = viewer.window.add_plugin_dock_widget("napari-seisseg", "View")
    for text, slider in (("crossline 885", 2), ("inline 120", 0)):
        w.goto.value = text
        w._on_goto()
        assert viewer.dims.order[0] == slider and viewer.dims.order[-2] == 1  # time: rows
    w.goto.value = "200 ms"
    w._on_goto()
    assert w.position.value == "200 ms"
    w.exaggeration.value = 1.0
    assert w.position.value == "200 ms"  # the same time slice, not world 40 -> 40 ms
    viewer.dims.ndisplay = 3
    w.goto.value = "inline 120"
    w._on_goto()
    assert w.status.state == "failed" and "2D" in w.status.value
