"""Plain arrays (no geometry) in napari: shown as a survey is, written back as stored (Xvfb)."""

from __future__ import annotations

import numpy as np
import pytest

from napari_seisseg.synthetic import make_synthetic_cube

pytestmark = pytest.mark.gui


def _open(viewer, path):
    (layer,) = viewer.open(path, plugin="napari-seisseg")
    return layer


def test_a_plain_canonical_array_opens_time_downwards_with_its_labels(make_napari_viewer, tmp_path,
                                                                     notifications):
    """A .npy in seisseg's own order (inline, crossline, time), as segyio.tools.cube makes it:
    time downwards, its labels over it, and what is painted saved back in the file's order."""
    from napari_seisseg._writer import write_npy
    from napari_seisseg.io.npy_io import read_npy

    cube = make_synthetic_cube((20, 24, 48), seed=2)
    np.save(tmp_path / "seis.npy", cube.seismic)
    np.save(tmp_path / "seis_labels.npy", cube.labels)
    viewer = make_napari_viewer()
    image = _open(viewer, tmp_path / "seis.npy")
    assert image.data.shape == (20, 48, 24) and isinstance(image.data, np.memmap)  # a view
    assert tuple(viewer.dims.axis_labels) == ("inline", "sample", "crossline")
    assert any("the last axis, as seisseg reads a plain array" in str(n.message) for n in notifications)
    labels = _open(viewer, tmp_path / "seis_labels.npy")
    np.testing.assert_array_equal(np.asarray(labels.data), cube.labels.transpose(0, 2, 1))
    np.testing.assert_allclose(labels.scale, image.scale)
    labels.data[3, 10:20, 5] = 4
    write_npy(str(tmp_path / "painted.npy"), labels.data, {"metadata": labels.metadata})
    stored = np.load(tmp_path / "painted.npy")  # as the image is stored, for numpy users too
    assert stored.shape == cube.labels.shape and stored[3, 5, 10:20].tolist() == [4] * 10
    back = read_npy(tmp_path / "painted.npy")
    assert back.geometry.axes == ("inline", "crossline", "sample")
    again = _open(viewer, tmp_path / "painted.npy")  # its sidecar: over the image again
    np.testing.assert_array_equal(np.asarray(again.data), np.asarray(labels.data))


def test_labels_of_square_tiles_keep_the_image_files_order(make_napari_viewer, tmp_path):
    """A stack of square tiles fits several layouts; the labels are stored as the image is."""
    rng = np.random.default_rng(0)
    tiles = rng.normal(size=(30, 40, 40)).astype(np.float32)
    truth = (rng.random((30, 40, 40)) < 0.3).astype(np.uint8) + 1
    truth[:, :5, :] = 1  # not symmetric: a transposed layout would show
    np.save(tmp_path / "tiles.npy", tiles)
    np.save(tmp_path / "tiles_labels.npy", truth)
    viewer = make_napari_viewer()
    image = _open(viewer, tmp_path / "tiles.npy")
    labels = _open(viewer, tmp_path / "tiles_labels.npy")
    np.testing.assert_array_equal(np.asarray(image.data), tiles.transpose(0, 2, 1))
    np.testing.assert_array_equal(np.asarray(labels.data), truth.transpose(0, 2, 1))


def test_labels_opened_before_their_image_still_lie_over_it(make_napari_viewer, tmp_path):
    cube = make_synthetic_cube((16, 20, 40), seed=3)
    np.save(tmp_path / "seis.npy", cube.seismic)
    np.save(tmp_path / "seis_labels.npy", cube.labels)
    viewer = make_napari_viewer()
    labels = _open(viewer, tmp_path / "seis_labels.npy")
    image = _open(viewer, tmp_path / "seis.npy")
    assert labels.data.shape == image.data.shape == (16, 40, 20)
    np.testing.assert_allclose(labels.scale, image.scale)


def test_arrays_that_are_no_traces_open_as_stored(make_napari_viewer, tmp_path):
    """A last axis of a few values (an RGB picture, a few channels) is no time axis."""
    np.save(tmp_path / "rgb.npy", np.zeros((64, 48, 3), np.float32) + np.arange(3))
    viewer = make_napari_viewer()
    layer = _open(viewer, tmp_path / "rgb.npy")
    assert layer.data.shape == (64, 48, 3) and "seisseg_file_axes" not in layer.metadata


def test_a_plain_mask_beside_a_segy_survey_takes_its_geometry(make_napari_viewer, segy_dir, tmp_path,
                                                              notifications):
    """A mask written as a plain array in seisseg's order opens over the survey it belongs to."""
    from napari_seisseg.io import read_segy
    from napari_seisseg.io.geometry import SurveyGeometry

    vol = read_segy(segy_dir / "f3.sgy")
    mask = (np.asarray(vol.data) > 0).astype(np.uint8) + 1  # (inline, crossline, time)
    np.save(tmp_path / "f3_mask.npy", mask)
    viewer = make_napari_viewer()
    seismic = _open(viewer, segy_dir / "f3.sgy")
    labels = _open(viewer, tmp_path / "f3_mask.npy")
    assert labels.data.shape == seismic.data.shape == (23, 75, 18)
    np.testing.assert_allclose(labels.scale, seismic.scale)
    np.testing.assert_allclose(labels.translate, seismic.translate)
    np.testing.assert_array_equal(np.asarray(labels.data), mask.transpose(0, 2, 1))
    assert SurveyGeometry.from_metadata(labels.metadata).ilines.tolist() == vol.geometry.ilines.tolist()
    assert any("laid out like 'f3'" in str(n.message) for n in notifications)


def test_export_writes_a_plain_layer_back_as_its_file_was_stored(make_napari_viewer, segy_dir,
                                                                 tmp_path, qtbot):
    """'none (plain array)': a plain array's layer in its file's order; a survey's layer in
    seisseg's order (inline, crossline, time), never the order napari shows."""
    from napari_seisseg._widgets.export import ExportWidget
    from napari_seisseg._widgets.new_labels import add_labels_layer

    cube = make_synthetic_cube((16, 20, 40), seed=4)
    np.save(tmp_path / "tf.npy", np.ascontiguousarray(np.moveaxis(cube.seismic, -1, 0)))  # time first
    np.save(tmp_path / "plain.npy", cube.seismic)
    viewer = make_napari_viewer()
    w = ExportWidget(viewer)
    for name, stored in (("tf", np.moveaxis(cube.seismic, -1, 0)), ("plain", cube.seismic)):
        layer = _open(viewer, tmp_path / f"{name}.npy")
        w.layer.value = layer
        assert w.geometry_from.value is None  # a made-up geometry is offered, not chosen
        w.path.value = str(tmp_path / f"{name}_out.npy")
        assert w.export() is not None
        qtbot.waitUntil(lambda: w.worker is None, timeout=20_000)
        np.testing.assert_array_equal(np.load(tmp_path / f"{name}_out.npy"), stored)
    seismic = _open(viewer, segy_dir / "f3.sgy")
    labels = add_labels_layer(viewer, seismic, ["salt"])  # Train's "New labels layer"
    labels.data[5, :40, :] = 1
    w.layer.value = labels
    assert w.geometry_from.value is seismic  # a survey's geometry is chosen first
    w.geometry_from.value = None
    w.path.value = str(tmp_path / "painted.npy")
    assert w.export() is not None
    qtbot.waitUntil(lambda: w.worker is None, timeout=20_000)
    out = np.load(tmp_path / "painted.npy")
    assert out.shape == (23, 18, 75) and (out[5, :, :40] == 1).all() and out.sum() == 18 * 40


def test_go_to_on_a_plain_array_counts_samples(make_napari_viewer, tmp_path):
    cube = make_synthetic_cube((16, 20, 64), seed=5)
    np.save(tmp_path / "plain.npy", cube.seismic)
    viewer = make_napari_viewer()
    _open(viewer, tmp_path / "plain.npy")
    _, w = viewer.window.add_plugin_dock_widget("napari-seisseg", "View")
    w.goto.value = "sample 30"
    w._on_goto()
    assert w.position.value == "sample 30"
    w.goto.value = "1200 ms"
    w._on_goto()
    assert w.status.state == "failed" and "type 'sample 1200'" in w.status.value
    w.goto.value = "time 40"  # no unit named: samples
    w._on_goto()
    assert w.position.value == "sample 40"


def test_labels_opened_before_a_tile_stack_are_refused_for_training(make_napari_viewer, tmp_path,
                                                                    notifications):
    """Tiles stored (tile, depth, x) read depth from the amplitudes; plain labels opened first
    were taken time last and lie transposed: a warning, and Train refuses the pair."""
    from napari_seisseg.errors import SeisSegError
    from napari_seisseg.training.layer_inputs import check_training_layers

    cube = make_synthetic_cube((40, 48, 64), seed=0)
    np.save(tmp_path / "tiles.npy", np.ascontiguousarray(cube.seismic[:, :, :48].transpose(0, 2, 1)))
    np.save(tmp_path / "tiles_labels.npy", np.ascontiguousarray(cube.labels[:, :, :48].transpose(0, 2, 1)))
    viewer = make_napari_viewer()
    labels = _open(viewer, tmp_path / "tiles_labels.npy")
    image = _open(viewer, tmp_path / "tiles.npy")
    assert image.metadata["seisseg_file_axes"] == ["inline", "sample", "crossline"]
    assert any("lies transposed over 'tiles'" in str(n.message) for n in notifications)
    with pytest.raises(SeisSegError, match="Remove it and open its file again"):
        check_training_layers(image, labels, None)
    viewer.layers.remove(labels)
    again = _open(viewer, tmp_path / "tiles_labels.npy")  # now laid out like the image
    check_training_layers(image, again, None)
    np.testing.assert_array_equal(np.asarray(again.data), cube.labels[:, :, :48].transpose(0, 2, 1))


def test_class_names_survive_saving_a_plain_arrays_labels(make_napari_viewer, tmp_path):
    """File > Save writes the file's order; the names beside it still fit when it reopens."""
    from napari_seisseg._widgets.new_labels import add_labels_layer

    cube = make_synthetic_cube((16, 20, 40), seed=6)
    np.save(tmp_path / "seis.npy", cube.seismic)
    viewer = make_napari_viewer()
    image = _open(viewer, tmp_path / "seis.npy")
    labels = add_labels_layer(viewer, image, ["salt", "fault"])
    labels.data[2, :10, :] = 2
    labels.save(str(tmp_path / "painted.npy"), plugin="napari-seisseg")  # File > Save Layer
    assert np.load(tmp_path / "painted.npy").shape == (16, 20, 40)
    again = _open(viewer, tmp_path / "painted.npy")
    assert list(again.features["class"])[1:] == ["salt", "fault"]
    np.testing.assert_array_equal(np.asarray(again.data), np.asarray(labels.data))


def test_maps_and_display_order_masks_open_where_they_belong(make_napari_viewer, segy_dir, tmp_path):
    """A 2-D map (no wiggle) opens as stored; a mask Export wrote in display order before
    still lies over its survey."""
    from napari_seisseg.io import read_segy

    rng = np.random.default_rng(0)
    horizon = np.cumsum(np.cumsum(rng.normal(size=(60, 80)), 0), 1).astype(np.float32)
    np.save(tmp_path / "horizon.npy", horizon)
    viewer = make_napari_viewer()
    assert _open(viewer, tmp_path / "horizon.npy").data.shape == (60, 80)
    viewer.layers.clear()
    vol = read_segy(segy_dir / "f3.sgy")
    shown = ((np.asarray(vol.data) > 0).astype(np.uint8) + 1).transpose(0, 2, 1)
    np.save(tmp_path / "old_mask.npy", np.ascontiguousarray(shown))
    seismic = _open(viewer, segy_dir / "f3.sgy")
    labels = _open(viewer, tmp_path / "old_mask.npy")
    np.testing.assert_array_equal(np.asarray(labels.data), shown)
    np.testing.assert_allclose(labels.scale, seismic.scale)


def test_square_section_labels_opened_first_are_refused_when_the_image_reads_otherwise(
        make_napari_viewer, tmp_path):
    """2-D: labels opened alone are taken time last, as in 3-D; a square section stored time
    first is then refused for training with them (same file shape, other order)."""
    from napari_seisseg.errors import SeisSegError
    from napari_seisseg.training.layer_inputs import check_training_layers

    cube = make_synthetic_cube((16, 64, 64), seed=7)
    np.save(tmp_path / "line.npy", np.ascontiguousarray(cube.seismic[3].T))  # (sample, trace)
    np.save(tmp_path / "line_labels.npy", np.ascontiguousarray(cube.labels[3].T))
    viewer = make_napari_viewer()
    labels = _open(viewer, tmp_path / "line_labels.npy")
    assert labels.metadata["seisseg_file_axes"] == ["trace", "sample"]
    image = _open(viewer, tmp_path / "line.npy")
    assert image.metadata["seisseg_file_axes"] == ["sample", "trace"]
    with pytest.raises(SeisSegError, match="lies transposed"):
        check_training_layers(image, labels, None)


def test_labels_saved_without_their_image_are_written_plain(make_napari_viewer, tmp_path):
    """Labels taken time last by default are saved as they came, without a geometry sidecar
    that would fix that guess for every later reading."""
    from napari_seisseg.io.geometry import sidecar_path

    labels = np.zeros((20, 24, 48), np.uint8)
    labels[3, :, 10:20] = 2
    np.save(tmp_path / "alone_labels.npy", labels)
    viewer = make_napari_viewer()
    layer = _open(viewer, tmp_path / "alone_labels.npy")
    assert layer.data.shape == (20, 48, 24)
    layer.save(str(tmp_path / "saved.npy"), plugin="napari-seisseg")
    np.testing.assert_array_equal(np.load(tmp_path / "saved.npy"), labels)
    assert not sidecar_path(tmp_path / "saved.npy").exists()


def _horizon_map(tmp_path, shape=(60, 80)):
    rng = np.random.default_rng(1)
    horizon = np.cumsum(np.cumsum(rng.normal(size=shape), 0), 1).astype(np.float32)
    classes = (horizon > np.median(horizon)).astype(np.uint8) + 1
    np.save(tmp_path / "horizon.npy", horizon)
    np.save(tmp_path / "horizon_labels.npy", classes)
    return classes


@pytest.mark.parametrize("shape", [(60, 80), (64, 64)])
def test_labels_of_a_map_lie_over_it_as_stored(make_napari_viewer, tmp_path, notifications, shape):
    """A 2-D map (no wiggle) is shown as stored; its labels opened after it are too (square
    ones included), not turned time downwards as labels opened alone are."""
    from napari_seisseg.training.layer_inputs import check_training_layers

    classes = _horizon_map(tmp_path, shape)
    viewer = make_napari_viewer()
    image = _open(viewer, tmp_path / "horizon.npy")
    labels = _open(viewer, tmp_path / "horizon_labels.npy")
    assert image.data.shape == labels.data.shape == shape
    np.testing.assert_array_equal(np.asarray(labels.data), classes)
    assert any("laid out as stored, as 'horizon' is shown" in str(n.message) for n in notifications)
    check_training_layers(image, labels, None)


def test_a_live_preview_layer_does_not_lay_labels_out(make_napari_viewer, tmp_path, notifications):
    """Layers seisseg adds without a geometry (the live preview) lend no layout: labels open
    time last beside a preview alone, and lie over their section with only the section's
    note when both are open."""
    from napari_seisseg.io.live_slice import LIVE_KEY

    cube = make_synthetic_cube((16, 64, 64), seed=7)
    np.save(tmp_path / "line.npy", np.ascontiguousarray(cube.seismic[3]))  # (trace, sample)
    np.save(tmp_path / "line_labels.npy", np.ascontiguousarray(cube.labels[3]))
    viewer = make_napari_viewer()
    viewer.add_image(np.zeros((64, 64), np.float32), name="preview", metadata={LIVE_KEY: {}})
    alone = _open(viewer, tmp_path / "line_labels.npy")
    np.testing.assert_array_equal(np.asarray(alone.data), cube.labels[3].T)  # time down
    viewer.layers.remove(alone)
    image = _open(viewer, tmp_path / "line.npy")
    assert tuple(image.metadata["seisseg_file_axes"]) == ("trace", "sample")
    viewer.layers.move(viewer.layers.index("preview"), len(viewer.layers))  # the newest layer
    labels = _open(viewer, tmp_path / "line_labels.npy")
    np.testing.assert_array_equal(np.asarray(labels.data), cube.labels[3].T)
    np.testing.assert_allclose(labels.scale, image.scale)
    messages = [str(n.message) for n in notifications]
    assert any("laid out like 'line'" in m for m in messages)
    assert not any("laid out as stored" in m for m in messages)


def test_labels_opened_before_their_map_are_refused_for_training(make_napari_viewer, tmp_path,
                                                                 notifications):
    """Labels opened alone are taken time last; the map opened after them is shown as stored:
    a warning names the transposed labels, Train refuses them, and they open right again."""
    from napari_seisseg.errors import SeisSegError
    from napari_seisseg.training.layer_inputs import check_training_layers

    classes = _horizon_map(tmp_path, (64, 64))  # square: only the layout tells
    viewer = make_napari_viewer()
    labels = _open(viewer, tmp_path / "horizon_labels.npy")
    np.testing.assert_array_equal(np.asarray(labels.data), classes.T)
    image = _open(viewer, tmp_path / "horizon.npy")
    assert image.data.shape == (64, 64) and "seisseg_file_axes" not in image.metadata
    assert any("'horizon_labels' is stored as 'horizon' is" in str(n.message) for n in notifications)
    with pytest.raises(SeisSegError, match="lies transposed over 'horizon'"):
        check_training_layers(image, labels, None)
    viewer.layers.remove(labels)
    again = _open(viewer, tmp_path / "horizon_labels.npy")
    np.testing.assert_array_equal(np.asarray(again.data), classes)
    check_training_layers(image, again, None)
