"""The Open with options and Export widgets in a real viewer (Xvfb)."""

from __future__ import annotations

import numpy as np
import pytest

from napari_seisseg._widgets.export import ExportWidget
from napari_seisseg._widgets.open_segy import OpenSegyWidget
from napari_seisseg.io import read_segy

pytestmark = pytest.mark.gui


def test_open_with_explicit_bytes_and_lazy_loading(make_napari_viewer, segy_dir):
    viewer = make_napari_viewer()
    w = OpenSegyWidget(viewer)
    w.path.value = [str(segy_dir / "volve10-migvel-depth-sub3d.sgy")]
    w.iline_byte.value, w.xline_byte.value = 9, 21
    w.loading.value = "lazy (read on demand)"
    w.colormap.value = "seismic"
    (layer,) = w.open()
    assert layer.data.shape == (18, 226, 52)
    assert type(layer.data).__name__ == "LazyTraceArray"
    assert layer.metadata["iline_byte"] == 9
    assert tuple(viewer.dims.axis_labels) == ("inline", "depth (m)", "crossline")
    assert w.status.state == "done"
    assert all(w_.tooltip for w_ in w if w_ is not w.status)


def test_open_with_a_chosen_vertical_exaggeration(make_napari_viewer, segy_dir):
    viewer = make_napari_viewer()
    w = OpenSegyWidget(viewer)
    assert w.exaggeration.value == 0 and w.exaggeration.native.text() == "auto"
    w.path.value = [str(segy_dir / "f3.sgy")]
    (auto,) = w.open()
    assert auto.metadata["seisseg_display"]["exaggeration"] == 0.2
    viewer.layers.remove(auto)  # (a layer opened beside it would join its exaggeration)
    w.exaggeration.value = 1.0  # square pixels: one 4 ms sample as tall as a trace is wide
    (square,) = w.open()
    np.testing.assert_allclose(square.scale, [1.0, 1.0, 1.0])
    assert square.get_status((120, 50, 880), world=True)["coords"] == (
        "inline 120, 200 ms, crossline 880")


def test_open_folder_assembles_inline_files(make_napari_viewer, segy_dir):
    viewer = make_napari_viewer()
    w = OpenSegyWidget(viewer)
    w.path.value = [str(segy_dir / "f3-ilines" / "f3-iline-120.sgy")]
    w.folder.value = True
    (layer,) = w.open()
    assert layer.data.shape == (23, 75, 18)


def test_open_wrong_bytes_fails_with_notification(make_napari_viewer, segy_dir, notifications):
    viewer = make_napari_viewer()
    w = OpenSegyWidget(viewer)
    w.path.value = [str(segy_dir / "f3.sgy")]
    w.iline_byte.value, w.xline_byte.value = 17, 13
    assert w.open() == []
    assert len(viewer.layers) == 0 and w.status.state == "failed"
    assert any("do not form an inline/crossline grid" in str(n.message) for n in notifications)


def test_export_painted_labels_with_seismic_geometry(make_napari_viewer, segy_dir, tmp_path,
                                                    qtbot):
    viewer = make_napari_viewer()
    (seismic,) = viewer.open(segy_dir / "f3-withdead.sgy", plugin="napari-seisseg")
    labels = viewer.add_labels(np.zeros(seismic.data.shape, dtype=np.uint8), name="painted")
    labels.data[5, :40, :] = 2  # paint part of inline 116
    w = ExportWidget(viewer)
    w.layer.value = labels
    assert w.geometry_from.value is seismic  # picked automatically by shape
    w.path.value = str(tmp_path / "mask.sgy")
    w.sample_format.value = 8
    worker = w.export()
    assert worker is not None and w.status.state == "running"
    labels.data[0, 0, 0] = 1  # painting goes on: the export holds a snapshot
    qtbot.waitUntil(lambda: w.worker is None, timeout=20_000)
    assert w.status.state == "done" and w.last_written == tmp_path / "mask.sgy"
    back = read_segy(tmp_path / "mask.sgy")
    assert back.geometry.n_live == 239
    data = np.asarray(back.data)
    live = back.geometry.live
    expected = np.zeros((23, 18, 75), dtype=np.int8)
    expected[5, :, :40] = 2
    expected[~live] = 0
    np.testing.assert_array_equal(data, expected)
    # opened again with Open with options: a Labels layer to correct, not an image
    from napari.layers import Labels

    opener = OpenSegyWidget(viewer)
    opener.path.value = [str(tmp_path / "mask.sgy")]
    (again,) = opener.open()
    assert isinstance(again, Labels) and again.data[5, 10, 3] == 2


def test_export_refuses_the_source_file(make_napari_viewer, tmp_f3, notifications):
    viewer = make_napari_viewer()
    (seismic,) = viewer.open(tmp_f3, plugin="napari-seisseg")
    before = tmp_f3.read_bytes()
    w = ExportWidget(viewer)
    w.layer.value = seismic
    w.path.value = str(tmp_f3)
    w.overwrite.value = True
    assert w.export() is None and w.status.state == "failed"
    assert tmp_f3.read_bytes() == before
    assert any("Refusing to overwrite the source" in str(n.message) for n in notifications)


def test_open_in_sample_coordinates_keeps_geometry_for_export(make_napari_viewer, segy_dir, tmp_path):
    viewer = make_napari_viewer()
    w = OpenSegyWidget(viewer)
    w.path.value = [str(segy_dir / "f3.sgy")]
    w.coordinates.value = "samples"
    (layer,) = w.open()
    np.testing.assert_array_equal(layer.scale, [1, 1, 1])
    np.testing.assert_array_equal(layer.translate, [0, 0, 0])
    viewer.layers.save(str(tmp_path / "back.sgy"), selected=True, plugin="napari-seisseg")
    np.testing.assert_array_equal(np.asarray(read_segy(tmp_path / "back.sgy").data),
                                  np.asarray(read_segy(segy_dir / "f3.sgy").data))


def test_export_widget_follows_the_layer_list_without_errors(make_napari_viewer):
    """Layers replaced under an open Export widget: choices follow, no callback error."""
    from napari_seisseg._widgets.export import ExportWidget

    viewer = make_napari_viewer()
    viewer.open_sample("napari-seisseg", "f3")
    w = ExportWidget(viewer)
    viewer.layers.clear()
    viewer.open_sample("napari-seisseg", "synthetic")  # raised from a callback before the fix
    assert [name for name, _ in w._layer_choices()] == [
        "synthetic seismic", "synthetic labels", "synthetic truth"]
    w.layer.value = viewer.layers["synthetic labels"]
    assert w.geometry_from.value is not None
    assert w.geometry_from.value.data.shape == viewer.layers["synthetic labels"].data.shape


def test_export_error_while_writing_is_a_notification_and_leaves_nothing(
        make_napari_viewer, segy_dir, tmp_path, qtbot, notifications):
    viewer = make_napari_viewer()
    (seismic,) = viewer.open(segy_dir / "f3.sgy", plugin="napari-seisseg")
    scaled = viewer.add_image(np.asarray(seismic.data, np.float32) / 3000.0, name="scaled",
                              scale=seismic.scale, translate=seismic.translate)
    w = ExportWidget(viewer)
    w.layer.value = scaled
    w.geometry_from.value = seismic
    w.path.value = str(tmp_path / "scaled.sgy")
    w.sample_format.value = 3  # int16 would round the scaled amplitudes: refused
    assert w.export() is not None
    qtbot.waitUntil(lambda: w.worker is None, timeout=20_000)
    assert w.status.state == "failed" and "not whole numbers" in w.status.value
    assert any("not whole numbers" in str(n.message) for n in notifications)
    assert not (tmp_path / "scaled.sgy").exists() and w.export_button.enabled


def test_export_widget_keeps_class_names_and_colours(make_napari_viewer, tmp_path, qtbot,
                                                     monkeypatch, notifications):
    """The synthetic sample's labels (no source SEG-Y: headers made from the geometry)."""
    import functools

    from napari.layers import Labels

    from napari_seisseg import synthetic

    monkeypatch.setattr(synthetic, "make_synthetic_cube",
                        functools.partial(synthetic.make_synthetic_cube, shape=(16, 20, 32)))
    viewer = make_napari_viewer()
    viewer.open_sample("napari-seisseg", "synthetic")
    seismic, labels = viewer.layers["synthetic seismic"], viewer.layers["synthetic truth"]
    w = ExportWidget(viewer)
    w.layer.value = labels
    w.path.value = str(tmp_path / "truth.sgy")
    w.sample_format.value = 16
    assert w.export() is not None
    qtbot.waitUntil(lambda: w.worker is None, timeout=20_000)
    assert w.status.state == "done", w.status.value
    (again,) = viewer.open(tmp_path / "truth.sgy", plugin="napari-seisseg")
    assert isinstance(again, Labels)
    np.testing.assert_array_equal(again.data, labels.data)
    assert again.features["class"].tolist() == ["unlabeled", "sediment", "salt", "fault"]
    values = np.arange(5)
    np.testing.assert_array_equal(again.colormap.map(values), labels.colormap.map(values))
    np.testing.assert_allclose(np.asarray(again.extent.world), np.asarray(seismic.extent.world))
    # exported again without 'replace': refused at once for the file and for its sidecar
    (tmp_path / "truth.sgy").rename(tmp_path / "kept.sgy")
    before = (tmp_path / "truth.sgy.classes.json").read_text()
    assert w.export() is None and w.status.state == "failed"
    assert "truth.sgy.classes.json already exists" in w.status.value
    assert not (tmp_path / "truth.sgy").exists()
    assert (tmp_path / "truth.sgy.classes.json").read_text() == before
    w.overwrite.value = True
    assert w.export() is not None
    qtbot.waitUntil(lambda: w.worker is None, timeout=20_000)
    assert w.status.state == "done", w.status.value


def test_geometry_from_offers_only_survey_layers_of_the_same_shape(make_napari_viewer, segy_dir):
    from napari_seisseg.io.probabilities import PREDICTION_KEY

    viewer = make_napari_viewer()
    (seismic,) = viewer.open(segy_dir / "f3.sgy", plugin="napari-seisseg")
    (other,) = viewer.open(segy_dir / "volve10-migvel-depth-sub3d.sgy", plugin="napari-seisseg")
    painted = viewer.add_labels(np.zeros(seismic.data.shape, np.uint8), name="painted")
    kw = {"scale": seismic.scale, "translate": seismic.translate}

    def predicted(role: str, name: str):
        meta = {**seismic.metadata, PREDICTION_KEY: {"role": role, "model": "m"}}
        if role == "mask":
            return viewer.add_labels(np.zeros(seismic.data.shape, np.uint8), name=name,
                                     metadata=meta, **kw)
        return viewer.add_image(np.zeros(seismic.data.shape, np.float32), name=name,
                                metadata=meta, **kw)

    predicted("probability", "f3 P(salt)")
    predicted("uncertainty", "f3 uncertainty")
    mask = predicted("mask", "f3 mask")
    w = ExportWidget(viewer)
    w.layer.value = painted
    offered = [name for name, _ in w._geometry_choices()]
    assert offered == ["none (plain array)", seismic.name, mask.name]
    assert list(w.geometry_from.choices) == [None, seismic, mask]
    assert w.geometry_from.value is seismic
    w.layer.value = other
    assert list(w.geometry_from.choices) == [None, other]
    assert w.geometry_from.value is other
    viewer.layers.remove(seismic)  # the list follows the viewer
    w.layer.value = painted
    assert list(w.geometry_from.choices) == [None, mask]


def test_open_an_array_with_its_time_axis_read_or_named(make_napari_viewer, tmp_path, notifications):
    """A plain .npy stored time first opens time downwards by itself; a wrong guess is put
    right by naming the axis, and an axis the array lacks is refused with what to do."""
    from napari_seisseg.synthetic import make_synthetic_cube

    cube = make_synthetic_cube((40, 48, 64), seed=0)
    stored = np.ascontiguousarray(np.moveaxis(cube.seismic, -1, 0))  # (time, inline, crossline)
    np.save(tmp_path / "tf.npy", stored)
    viewer = make_napari_viewer()
    w = OpenSegyWidget(viewer)
    assert w.time_axis.value == "auto"
    w.path.value = [str(tmp_path / "tf.npy")]
    (auto,) = w.open()
    assert auto.data.shape == (40, 64, 48) and w.status.state == "done"
    assert tuple(viewer.dims.axis_labels) == ("inline", "sample", "crossline")
    assert any("taken along the axis of 64 values" in str(n.message) for n in notifications)
    viewer.layers.remove(auto)
    w.time_axis.value = 2  # as the file would be read without a guess: crosslines for time
    (sideways,) = w.open()
    assert sideways.data.shape == (64, 48, 40)
    np.testing.assert_array_equal(np.asarray(sideways.data), stored.transpose(0, 2, 1))
    viewer.layers.remove(sideways)
    w.time_axis.value = 0  # named: the same as the guess
    (named,) = w.open()
    np.testing.assert_array_equal(np.asarray(named.data), np.moveaxis(cube.seismic, -1, 1))
    # an axis a section does not have
    np.save(tmp_path / "section.npy", stored[:, 0])
    w.path.value = [str(tmp_path / "section.npy")]
    w.time_axis.value = 2
    assert w.open() == [] and w.status.state == "failed"
    assert any("Time axis 2 is not an axis of the 2-D array" in str(n.message) for n in notifications)
    # one array at a time, never mixed with SEG-Y
    w.path.value = [str(tmp_path / "tf.npy"), str(tmp_path / "section.npy")]
    assert w.open() == [] and "one array at a time" in w.status.value
    # "all SEG-Y files in the folder" leaves an array alone; a damaged array says so
    w.folder.value, w.time_axis.value = True, "auto"
    w.path.value = [str(tmp_path / "tf.npy")]
    (again,) = w.open()
    assert again.data.shape == (40, 64, 48)
    (tmp_path / "cut.npy").write_bytes((tmp_path / "tf.npy").read_bytes()[:100])
    w.path.value = [str(tmp_path / "cut.npy")]
    assert w.open() == [] and w.status.state == "failed"
    assert any("cut.npy" in str(n.message) and "complete" in str(n.message) for n in notifications)


def test_open_a_zarr_array_from_a_file_chosen_inside_it(make_napari_viewer, tmp_path):
    """The file dialog picks files: one inside a Zarr folder opens that folder's array."""
    from napari_seisseg.io.zarr_io import write_zarr
    from napari_seisseg.synthetic import make_synthetic_cube

    cube = make_synthetic_cube((40, 48, 64), seed=0)
    write_zarr(tmp_path / "tf.zarr", np.ascontiguousarray(np.moveaxis(cube.seismic, -1, 0)))
    inside = next(p for p in sorted((tmp_path / "tf.zarr").rglob("*")) if p.is_file())
    viewer = make_napari_viewer()
    w = OpenSegyWidget(viewer)
    w.path.value = [str(inside)]
    (layer,) = w.open()
    assert layer.data.shape == (40, 64, 48) and layer.name == "tf"
    # an array inside a group: the array's folder, not the store
    import zarr

    group = zarr.open_group(str(tmp_path / "survey.zarr"), mode="w")
    group.create_array("seismic", data=np.ascontiguousarray(cube.seismic, np.float32))
    w.path.value = [str(tmp_path / "survey.zarr" / "seismic" / "zarr.json")]
    (nested,) = w.open()
    # canonical (time last): shown time downwards, as the time-first store beside it
    assert nested.name == "seismic" and nested.data.shape == (40, 64, 48)


def test_open_an_array_with_a_geometry_keeps_it_over_a_named_axis(make_napari_viewer, segy_dir,
                                                                  tmp_path, notifications):
    from napari_seisseg.io.npy_io import write_npy

    volume = read_segy(segy_dir / "f3.sgy")
    write_npy(tmp_path / "f3.npy", volume.data, volume.geometry)
    viewer = make_napari_viewer()
    w = OpenSegyWidget(viewer)
    w.path.value = [str(tmp_path / "f3.npy")]
    w.time_axis.value = 0
    (layer,) = w.open()
    assert layer.data.shape == (23, 75, 18)  # (inline, time, crossline), as the sidecar says
    assert any("holds its own geometry" in str(n.message) for n in notifications)
    # a plain array's layout written down by seisseg (convert, an export) is a stored geometry too
    from napari_seisseg.io.sample_axis import guessed_geometry

    notifications.clear()
    time_first = np.zeros((40, 6, 7), np.float32)
    write_npy(tmp_path / "tf.npy", time_first, guessed_geometry(time_first.shape, 0))
    w.path.value = [str(tmp_path / "tf.npy")]
    w.time_axis.value = 2
    (tf,) = w.open()
    assert tf.data.shape == (6, 40, 7)
    assert any("holds its own geometry" in str(n.message) for n in notifications)
