"""``seisseg train`` / ``predict`` on plain arrays stored time first: read, trained and written back in that layout."""

from __future__ import annotations

import numpy as np
import pytest

from napari_seisseg.cli import main
from napari_seisseg.synthetic import make_synthetic_cube

pytestmark = pytest.mark.usefixtures("one_thread")

TINY = ["--model", "unet2d", "--width", "4", "--model-depth", "2", "--patch", "16",
        "--batch", "2", "--steps-per-epoch", "3", "--epochs", "1", "--quiet", "--device", "cpu"]


@pytest.fixture(scope="module")
def layouts(tmp_path_factory):
    """The same cube and labels stored canonical (time last) and time first."""
    folder = tmp_path_factory.mktemp("layouts")
    cube = make_synthetic_cube(shape=(24, 32, 48), seed=1)
    labels = np.zeros_like(cube.labels)
    for t in (12, 30):
        labels[:, :, t] = cube.labels[:, :, t]  # two painted time slices
    paths = {}
    for name, data in (("image", cube.seismic), ("labels", labels)):
        paths[name] = folder / f"{name}.npy"
        np.save(paths[name], data)
        paths[f"{name}_tf"] = folder / f"{name}_tf.npy"
        np.save(paths[f"{name}_tf"], np.ascontiguousarray(np.moveaxis(data, -1, 0)))
    return paths


def test_time_first_trains_and_predicts_in_its_own_layout(layouts, tmp_path, capsys):
    model = tmp_path / "m.safetensors"
    rc = main(["train", "--image", str(layouts["image_tf"]), "--labels", str(layouts["labels_tf"]),
               "--out", str(model), *TINY])
    err = capsys.readouterr().err
    assert rc == 0, err
    assert "no survey geometry: time or depth taken along the axis of 48 values" in err
    for image, mask in ((layouts["image_tf"], tmp_path / "tf.npy"), (layouts["image"], tmp_path / "c.npy")):
        assert main(["predict", "--image", str(image), "--model", str(model), "--out-mask", str(mask),
                     "--no-tta", "--quiet", "--device", "cpu"]) == 0
    first, last = np.load(tmp_path / "tf.npy"), np.load(tmp_path / "c.npy")
    assert first.shape == (48, 24, 32)  # the input's layout, not the canonical one
    np.testing.assert_array_equal(first, np.moveaxis(last, -1, 0))


def test_sample_axis_option(layouts, tmp_path, capsys):
    model = tmp_path / "m.safetensors"
    # the last axis named: the time-first file is taken as canonical, as before the guess
    assert main(["train", "--image", str(layouts["image_tf"]), "--labels", str(layouts["labels_tf"]),
                 "--out", str(model), "--sample-axis", "2", *TINY]) == 0
    assert "the axis of 32 values (as given)" in capsys.readouterr().err
    rc = main(["info", str(layouts["image"]), "--sample-axis", "1"])
    out = capsys.readouterr().out
    assert rc == 0 and "(inline, sample, crossline)" in out
    assert main(["info", str(layouts["image"]), "--sample-axis", "4"]) == 2
    assert "Time axis 4 is not an axis" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["info", str(layouts["image"]), "--sample-axis", "up"])
    assert "expected auto or an axis number" in capsys.readouterr().err


def test_segy_output_of_a_guessed_layout_is_refused(layouts, tmp_path, capsys):
    model = tmp_path / "m.safetensors"
    assert main(["train", "--image", str(layouts["image"]), "--labels", str(layouts["labels"]),
                 "--out", str(model), *TINY]) == 0
    capsys.readouterr()
    rc = main(["predict", "--image", str(layouts["image_tf"]), "--model", str(model),
               "--out-mask", str(tmp_path / "m.sgy"), "--quiet", "--device", "cpu"])
    assert rc == 2
    assert "SEG-Y output needs the survey geometry" in capsys.readouterr().err
    assert not (tmp_path / "m.sgy").exists()


def test_labels_saved_in_display_order_follow_the_image(layouts, tmp_path, capsys):
    """Labels painted in napari over a time-first image are saved (inline, sample, crossline)."""
    from napari_seisseg.io import read_volume, write_volume

    image = read_volume(layouts["image_tf"])
    labels, display = image.geometry.transpose_to(np.load(layouts["labels_tf"]), image.geometry.display_axes)
    write_volume(tmp_path / "painted.npy", np.ascontiguousarray(labels), display)
    assert np.load(tmp_path / "painted.npy").shape == (24, 48, 32)
    assert main(["train", "--image", str(layouts["image_tf"]), "--labels", str(tmp_path / "painted.npy"),
                 "--out", str(tmp_path / "m.safetensors"), *TINY]) == 0, capsys.readouterr().err


def test_labels_painted_over_a_plain_image_in_napari_follow_it(layouts, tmp_path, capsys):
    """napari shows a plain (inline, crossline, time) array time downwards; labels painted on
    it and saved in display order with a sidecar (Export with its geometry) still train."""
    from napari_seisseg.cli import build_parser
    from napari_seisseg.cli._common import read_named
    from napari_seisseg.io import read_volume, write_volume
    from napari_seisseg.io.sample_axis import time_last_geometry

    plain = np.load(layouts["labels"])
    g = time_last_geometry(plain.shape)
    shown, display = g.transpose_to(plain, g.display_axes)
    write_volume(tmp_path / "painted.npy", np.ascontiguousarray(shown), display)
    assert np.load(tmp_path / "painted.npy").shape == (24, 48, 32)
    image = read_volume(layouts["image"])
    assert image.geometry is None
    args = build_parser().parse_args(["info", "x.npy"])
    labels = read_named(str(tmp_path / "painted.npy"), "labels", args, like=image)
    np.testing.assert_array_equal(np.asarray(labels.data), plain)
    assert main(["train", "--image", str(layouts["image"]), "--labels", str(tmp_path / "painted.npy"),
                 "--out", str(tmp_path / "m.safetensors"), *TINY]) == 0, capsys.readouterr().err


def test_dask_path_refuses_a_guessed_layout_with_what_to_do(layouts, tmp_path, capsys):
    from napari_seisseg.io import write_volume

    model = tmp_path / "m3.safetensors"
    tiny3d = ["--model", "unet3d", *TINY[2:]]
    assert main(["train", "--image", str(layouts["image"]), "--labels", str(layouts["labels"]),
                 "--out", str(model), *tiny3d]) == 0
    write_volume(tmp_path / "tf.zarr", np.load(layouts["image_tf"]))  # no geometry: guessed on reading
    capsys.readouterr()
    rc = main(["predict", "--image", str(tmp_path / "tf.zarr"), "--model", str(model), "--out-probs",
               str(tmp_path / "p.zarr"), "--dask-scheduler", "synchronous", "--quiet"])
    assert rc == 2
    assert "Predict without --dask-scheduler" in capsys.readouterr().err
