"""The plugin as napari users meet it: reader, writers, sample data, in a real viewer (Xvfb)."""

from __future__ import annotations

import numpy as np
import pytest

from napari_seisseg.io import read_segy, read_volume
from napari_seisseg.io.geometry import SurveyGeometry
from napari_seisseg.jobs import drain

pytestmark = pytest.mark.gui


def _errors(notes):
    return [str(n.message) for n in notes if str(n.severity).lower().endswith("error")]


def test_reader_opens_f3_in_survey_coordinates(make_napari_viewer, segy_dir):
    viewer = make_napari_viewer()
    (layer,) = viewer.open(segy_dir / "f3.sgy", plugin="napari-seisseg")
    assert layer.data.shape == (23, 75, 18)  # inline slider, time rows (down), crossline columns
    # line numbers across; time stretched by the automatic vertical exaggeration (0.2 here:
    # one 4 ms sample is 0.2 of a trace's width), world x 20 = ms
    np.testing.assert_allclose(layer.scale, [1, 0.2, 1])
    np.testing.assert_allclose(layer.translate, [111, 0.2, 875])
    display = layer.metadata["seisseg_display"]
    assert display["exaggeration"] == 0.2 and display["vertical_per_world"] == 20.0
    extent = np.ptp(np.asarray(layer.extent.world), axis=0)
    assert 1.0 <= extent[2] / extent[1] <= 2.0  # an inline is wider than tall, not a sliver
    status = layer.get_status((120, 240 / 20, 880), world=True)["coordinates"]
    assert status.startswith("inline 120, 240 ms, crossline 880: "), status
    assert tuple(viewer.dims.axis_labels) == ("inline", "time (ms)", "crossline")
    lo, hi = layer.contrast_limits
    assert lo == -hi and 0 < hi < 10827
    g = SurveyGeometry.from_metadata(layer.metadata)
    assert g.n_live == 414 and g.sample_format == 3 and g.axes == ("inline", "sample", "crossline")
    assert layer.metadata["iline_byte"] == 189 and "Cropped F3" in layer.metadata["text_header"]
    np.testing.assert_array_equal(layer.metadata["samples"][[0, -1]], [4, 300])
    viewer.dims.set_point(0, 120)  # world coordinate = inline number
    assert viewer.dims.current_step[0] == 9
    shot = viewer.screenshot(canvas_only=True)
    assert shot.std() > 10  # something real is drawn


def test_reader_turns_bad_files_into_notifications(make_napari_viewer, tmp_path, notifications):
    viewer = make_napari_viewer()
    bad = tmp_path / "report.sgy"
    bad.write_text("this is a text file, not seismic\n" * 200)
    assert viewer.open(bad, plugin="napari-seisseg") == []
    empty = tmp_path / "empty.sgy"
    empty.write_bytes(b"")
    assert viewer.open(empty, plugin="napari-seisseg") == []
    errors = _errors(notifications)
    assert any("does not look like SEG-Y" in e for e in errors)
    assert any("is empty" in e for e in errors)
    assert len(viewer.layers) == 0


def test_section_and_prestack_open_with_a_note(make_napari_viewer, segy_dir, notifications):
    viewer = make_napari_viewer()
    (layer,) = viewer.open(segy_dir / "viking_small.segy", plugin="napari-seisseg")
    assert layer.data.shape == (600, 480)  # time down, traces across
    assert any("pre-stack" in str(n.message) for n in notifications)


def test_writers_round_trip_through_napari(make_napari_viewer, segy_dir, tmp_path):
    viewer = make_napari_viewer()
    (layer,) = viewer.open(segy_dir / "f3-withdead.sgy", plugin="napari-seisseg")
    out_sgy = tmp_path / "export.sgy"
    out_npy = tmp_path / "export.npy"
    assert viewer.layers.save(str(out_sgy), selected=True, plugin="napari-seisseg")
    assert viewer.layers.save(str(out_npy), selected=True, plugin="napari-seisseg")
    ref = read_segy(segy_dir / "f3-withdead.sgy")
    for out in (out_sgy, out_npy):
        back = read_volume(out)
        np.testing.assert_array_equal(np.asarray(back.data), np.asarray(ref.data))
        np.testing.assert_array_equal(back.geometry.live, ref.geometry.live)
    (again,) = viewer.open(out_npy, plugin="napari-seisseg")
    np.testing.assert_array_equal(again.scale, layer.scale)
    np.testing.assert_array_equal(again.translate, layer.translate)


def test_labels_without_geometry_are_not_written_as_segy(make_napari_viewer, tmp_path, notifications):
    viewer = make_napari_viewer()
    viewer.add_labels(np.zeros((4, 5, 6), dtype=np.uint8), name="painted")
    out = tmp_path / "labels.sgy"
    viewer.layers.save(str(out), selected=True, plugin="napari-seisseg")
    assert not out.exists()
    assert any("has no survey geometry" in e for e in _errors(notifications))


def test_sample_data_f3(make_napari_viewer):
    viewer = make_napari_viewer()
    viewer.open_sample("napari-seisseg", "f3")
    (layer,) = viewer.layers
    assert layer.data.shape == (23, 75, 18)
    assert float(np.asarray(layer.data).mean()) == pytest.approx(25.13, abs=0.005)


def test_sample_data_synthetic(make_napari_viewer):
    viewer = make_napari_viewer()
    viewer.open_sample("napari-seisseg", "synthetic")
    names = [layer.name for layer in viewer.layers]
    assert names == ["synthetic seismic", "synthetic labels", "synthetic truth"]
    seismic, sparse, truth = viewer.layers
    assert seismic.data.shape == sparse.data.shape == truth.data.shape
    np.testing.assert_array_equal(seismic.scale, sparse.scale)
    assert not truth.visible
    assert set(np.unique(sparse.data)) >= {0, 1, 2, 3}
    labeled = sparse.data > 0
    np.testing.assert_array_equal(sparse.data[labeled], truth.data[labeled])


def test_npy_named_like_labels_opens_as_labels_with_geometry(make_napari_viewer, segy_dir, tmp_path):
    from napari.layers import Image, Labels

    from napari_seisseg.io import write_volume

    vol = read_segy(segy_dir / "f3.sgy")
    mask = (np.asarray(vol.data) > 0).astype(np.uint8)
    write_volume(tmp_path / "salt_labels.npy", mask, vol.geometry)
    np.save(tmp_path / "plain.npy", np.zeros((3, 4, 5), dtype=np.float32))
    viewer = make_napari_viewer()
    (labels,) = viewer.open(tmp_path / "salt_labels.npy", plugin="napari-seisseg")
    assert isinstance(labels, Labels) and labels.data.shape == (23, 75, 18)
    np.testing.assert_allclose(labels.translate, [111, 0.2, 875])
    # opened labels can be painted on (a read-only memory map could not); the file is kept
    labels.selected_label = 2
    labels.paint((3, 10, 5), 2)  # data coordinates
    assert labels.data[3, 10, 5] == 2
    np.testing.assert_array_equal(np.load(tmp_path / "salt_labels.npy"), mask)
    (plain,) = viewer.open(tmp_path / "plain.npy", plugin="napari-seisseg")
    assert isinstance(plain, Image) and plain.data.shape == (3, 4, 5)
    assert isinstance(plain.data, np.memmap)
    (store,) = viewer.open(write_volume(tmp_path / "cube.zarr", vol.data, vol.geometry),
                           plugin="napari-seisseg")
    assert store.data.shape == (23, 75, 18)


def test_mask_exported_as_segy_opens_as_paintable_labels(make_napari_viewer, segy_dir, tmp_path):
    from napari.layers import Image, Labels

    from napari_seisseg.io import write_segy

    vol = read_segy(segy_dir / "f3.sgy")
    mask = np.where(np.asarray(vol.data) > 0, 2, 1).astype(np.float32)
    out = write_segy(tmp_path / "f3 result.sgy", mask, vol.geometry)  # IEEE float, any name
    viewer = make_napari_viewer()
    (layer,) = viewer.open(out, plugin="napari-seisseg")
    assert isinstance(layer, Labels) and layer.data.dtype == np.uint8
    np.testing.assert_allclose(layer.translate, [111, 0.2, 875])
    layer.paint((3, 10, 5), 3)  # corrections can be painted straight away
    assert layer.data[3, 10, 5] == 3
    (seismic,) = viewer.open(segy_dir / "f3.sgy", plugin="napari-seisseg")
    assert isinstance(seismic, Image)


def test_probabilities_from_seisseg_predict_open_one_layer_per_class(make_napari_viewer, tmp_path):
    import torch
    from napari.layers import Image

    from napari_seisseg._reader import get_reader
    from napari_seisseg.cli import main
    from napari_seisseg.io import write_volume
    from napari_seisseg.synthetic import make_synthetic_cube
    from napari_seisseg.training import AugmentConfig, TrainConfig, train

    cube = make_synthetic_cube(shape=(16, 16, 32), seed=1)
    config = TrainConfig(model="unet2d", model_kwargs={"width": 4, "depth": 2}, epochs=1,
                         steps_per_epoch=2, patch_size=16, batch_size=2, val_fraction=0.0,
                         augment=AugmentConfig.none(), device="cpu")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        result = drain(train(cube.seismic, cube.sparse_labels(), config,
                                    geometry=cube.geometry, class_names=list(cube.class_names),
                                    class_colors=cube.class_colors))
        model = result.save(tmp_path / "m.safetensors")
        image = write_volume(tmp_path / "cube.npy", cube.seismic, cube.geometry)
        for probs in ("p.npy", "q.zarr"):
            assert main(["predict", "--model", str(model), "--image", str(image), "--out-probs",
                         str(tmp_path / probs), "--quiet", "--device", "cpu"]) == 0
    finally:
        torch.set_num_threads(threads)
    viewer = make_napari_viewer()
    for probs in ("p.npy", "q.zarr"):
        assert get_reader(str(tmp_path / probs)) is not None
        layers = viewer.open(tmp_path / probs, plugin="napari-seisseg")
        stem = probs[0]
        assert [la.name for la in layers] == [f"{stem} P(sediment)", f"{stem} P(salt)",
                                              f"{stem} P(fault)"]
        for la in layers:
            assert isinstance(la, Image) and la.data.shape == (16, 32, 16)  # time shown down
            assert la.blending == "additive" and tuple(la.contrast_limits) == (0.0, 1.0)
            np.testing.assert_array_equal(la.translate, layers[0].translate)
        salt = np.asarray(layers[1].colormap.colors[-1])
        np.testing.assert_allclose(salt[:3], cube.class_colors[2][:3], atol=1e-6)
        assert layers[1].metadata["seisseg_prediction"]["role"] == "probability"
        assert layers[1].metadata["seisseg_prediction"]["priors"]["lateral"]  # sparse paint, same grid
        np.testing.assert_allclose(sum(np.asarray(la.data, np.float32) for la in layers), 1.0,
                                   atol=5e-3)


def _painted_f3(viewer, segy_dir):
    """F3 opened by the reader, and a Labels layer over it with named classes, two painted."""
    from napari_seisseg._widgets.new_labels import add_labels_layer

    (seismic,) = viewer.open(segy_dir / "f3.sgy", plugin="napari-seisseg")
    labels = add_labels_layer(viewer, seismic, ["salt dome", "fault"])
    labels.data[4, 20:40] = 1
    labels.data[:, 50:, 7] = 2
    labels.refresh()
    return seismic, labels


def _colors(layer, values):
    return np.asarray(layer.colormap.map(np.asarray(values)), dtype=float)


@pytest.mark.parametrize("ext", ["sgy", "npy", "zarr"])
def test_exported_mask_reopens_with_names_colours_over_its_source(
        make_napari_viewer, segy_dir, tmp_path, notifications, ext):
    from napari.layers import Labels

    viewer = make_napari_viewer()
    seismic, labels = _painted_f3(viewer, segy_dir)
    out = tmp_path / f"painted.{ext}"
    viewer.layers.selection = {labels}
    assert viewer.layers.save(str(out), selected=True, plugin="napari-seisseg") == [str(out)]
    assert (tmp_path / f"painted.{ext}.classes.json").is_file()
    if ext == "sgy":  # the names are in the file itself too
        header = read_segy(out).geometry.text_header.splitlines()
        assert "C38 SEISSEG CLASSES 1=salt%20dome#" in header[37]
    (again,) = viewer.open(out, plugin="napari-seisseg")
    assert isinstance(again, Labels) and again.name == "painted"
    np.testing.assert_array_equal(again.data, labels.data)
    assert again.features["class"].tolist() == ["unlabeled", "salt dome", "fault"]
    assert again.features["index"].tolist() == [0, 1, 2]
    np.testing.assert_array_equal(_colors(again, [0, 1, 2, 7]), _colors(labels, [0, 1, 2, 7]))
    np.testing.assert_array_equal(np.asarray(again.extent.world), np.asarray(seismic.extent.world))
    assert tuple(again.axis_labels) == tuple(seismic.axis_labels)
    assert not _errors(notifications)
    # what the Train widget reads from it: the same classes and colours as from the original
    from napari_seisseg.bundle.classes import class_names_from_features
    from napari_seisseg.io.layer_colors import label_colors

    assert class_names_from_features(again.features) == class_names_from_features(labels.features)
    assert label_colors(again, [1, 2]) == label_colors(labels, [1, 2])


def test_mask_with_a_missing_or_damaged_sidecar_still_opens(make_napari_viewer, segy_dir, tmp_path,
                                                            notifications):
    from napari.layers import Labels

    viewer = make_napari_viewer()
    seismic, labels = _painted_f3(viewer, segy_dir)
    viewer.layers.selection = {labels}
    out = tmp_path / "mask.sgy"
    viewer.layers.save(str(out), selected=True, plugin="napari-seisseg")
    side = tmp_path / "mask.sgy.classes.json"
    side.unlink()
    (missing,) = viewer.open(out, plugin="napari-seisseg")
    assert isinstance(missing, Labels)  # names and colours from the SEG-Y card
    assert missing.features["class"].tolist() == ["unlabeled", "salt dome", "fault"]
    np.testing.assert_allclose(_colors(missing, [1, 2]), _colors(labels, [1, 2]), atol=1 / 255)
    side.write_text('{"features": ')
    (damaged,) = viewer.open(out, plugin="napari-seisseg")
    assert isinstance(damaged, Labels) and damaged.features["class"].tolist()[1] == "salt dome"
    npy = tmp_path / "mask2.npy"
    viewer.layers.selection = {labels}
    viewer.layers.save(str(npy), selected=True, plugin="napari-seisseg")
    (tmp_path / "mask2.npy.classes.json").write_text("nonsense")
    (plain,) = viewer.open(npy, plugin="napari-seisseg")
    assert isinstance(plain, Labels) and plain.features.empty
    np.testing.assert_array_equal(plain.data, labels.data)
    messages = [str(n.message) for n in notifications]
    assert any("mask.sgy.classes.json (names and colours) is missing" in m for m in messages)
    assert any("mask.sgy.classes.json is damaged" in m for m in messages)
    assert any("mask2.npy.classes.json is damaged" in m and "without class names" in m
               for m in messages)
    assert not _errors(notifications)


def test_writer_refuses_a_sidecar_it_was_not_asked_to_replace(make_napari_viewer, segy_dir,
                                                              tmp_path, notifications):
    viewer = make_napari_viewer()
    _seismic, labels = _painted_f3(viewer, segy_dir)
    side = tmp_path / "mask.sgy.classes.json"
    side.write_text("kept")
    viewer.layers.selection = {labels}
    viewer.layers.save(str(tmp_path / "mask.sgy"), selected=True, plugin="napari-seisseg")
    assert not (tmp_path / "mask.sgy").exists() and side.read_text() == "kept"
    assert any("mask.sgy.classes.json already exists" in e for e in _errors(notifications))


def test_reader_puts_a_time_first_array_and_its_labels_the_right_way_up(make_napari_viewer, tmp_path,
                                                                      notifications):
    """A plain cube stored time first: time downwards, and its plain labels file over it."""
    from napari_seisseg.synthetic import make_synthetic_cube

    cube = make_synthetic_cube((40, 48, 64), seed=0)
    np.save(tmp_path / "tf.npy", np.ascontiguousarray(np.moveaxis(cube.seismic, -1, 0)))
    np.save(tmp_path / "tf_labels.npy", np.ascontiguousarray(np.moveaxis(cube.labels, -1, 0)))
    viewer = make_napari_viewer()
    (image,) = viewer.open(tmp_path / "tf.npy", plugin="napari-seisseg")
    assert image.data.shape == (40, 64, 48)  # inline slider, samples down, crosslines across
    assert tuple(viewer.dims.axis_labels) == ("inline", "sample", "crossline")
    assert any("time or depth taken along the axis of 64 values" in str(n.message) for n in notifications)
    (labels,) = viewer.open(tmp_path / "tf_labels.npy", plugin="napari-seisseg")
    assert any("laid out like 'tf'" in str(n.message) for n in notifications)
    assert labels.data.shape == image.data.shape
    np.testing.assert_allclose(labels.scale, image.scale)
    np.testing.assert_array_equal(np.asarray(labels.data), np.moveaxis(cube.labels, -1, 1))


def test_reader_lays_out_a_plain_mask_by_its_name(make_napari_viewer, tmp_path):
    """An unpainted (all zero) labels file, a labels file by its name, beside a time-first image."""
    from napari_seisseg.synthetic import make_synthetic_cube

    cube = make_synthetic_cube((40, 48, 64), seed=1)
    np.save(tmp_path / "tf.npy", np.ascontiguousarray(np.moveaxis(cube.seismic, -1, 0)))
    np.save(tmp_path / "tf_labels.npy", np.zeros((64, 40, 48), np.uint8))
    viewer = make_napari_viewer()
    (image,) = viewer.open(tmp_path / "tf.npy", plugin="napari-seisseg")
    (labels,) = viewer.open(tmp_path / "tf_labels.npy", plugin="napari-seisseg")
    assert type(labels).__name__ == "Labels" and labels.data.shape == image.data.shape
