"""``.npy`` + sidecar and Zarr: geometry comes back, writes are block-wise and atomic."""

from __future__ import annotations

import numpy as np
import pytest

from napari_seisseg.errors import SeisSegError
from napari_seisseg.io import read_segy, read_volume, write_volume
from napari_seisseg.io.geometry import SurveyGeometry, sidecar_path


@pytest.mark.parametrize("suffix", [".npy", ".zarr"])
def test_round_trip_keeps_geometry(tmp_path, segy_dir, suffix):
    vol = read_segy(segy_dir / "f3-withdead.sgy")
    out = write_volume(tmp_path / f"cube{suffix}", vol.data, vol.geometry)
    back = read_volume(out)
    np.testing.assert_array_equal(np.asarray(back.data), np.asarray(vol.data))
    for name in ("ilines", "xlines", "live", "samples"):
        np.testing.assert_array_equal(getattr(back.geometry, name), getattr(vol.geometry, name))
    assert back.geometry.sources == vol.geometry.sources


def test_display_order_is_stored_and_restored(tmp_path, segy_dir):
    disp = read_segy(segy_dir / "f3.sgy").display()
    out = write_volume(tmp_path / "layer.npy", disp.data, disp.geometry)
    assert np.load(out).shape == (23, 75, 18)
    assert SurveyGeometry.load_sidecar(out).axes == ("inline", "sample", "crossline")
    back = read_volume(out)  # canonical again
    assert back.data.shape == (23, 18, 75)


def test_npy_is_memory_mapped_and_lazy_input_is_written_in_blocks(tmp_path, segy_dir):
    vol = read_segy(segy_dir / "f3.sgy", lazy=True)
    out = write_volume(tmp_path / "a.npy", vol.data, vol.geometry)
    back = read_volume(out)
    assert isinstance(back.data, np.memmap)


def test_plain_npy_without_sidecar(tmp_path):
    path = tmp_path / "plain.npy"
    np.save(path, np.arange(24, dtype=np.float32).reshape(2, 3, 4))
    vol = read_volume(path)
    assert vol.geometry is None and vol.data.shape == (2, 3, 4)


def test_stale_sidecar_is_removed_when_writing_without_geometry(tmp_path, segy_dir):
    vol = read_segy(segy_dir / "f3.sgy")
    out = write_volume(tmp_path / "c.npy", vol.data, vol.geometry)
    assert sidecar_path(out).exists()
    write_volume(out, np.zeros((2, 2, 2)), None, overwrite=True)
    assert not sidecar_path(out).exists()


def test_refuses_existing_output_without_overwrite(tmp_path):
    path = tmp_path / "x.npy"
    np.save(path, np.zeros((2, 2, 2)))
    with pytest.raises(SeisSegError, match="already exists"):
        write_volume(path, np.ones((2, 2, 2)))
    assert np.load(path).sum() == 0


def test_bad_npy_inputs(tmp_path):
    obj = tmp_path / "obj.npy"
    np.save(obj, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(SeisSegError, match="Object arrays are refused"):
        read_volume(obj)
    one_d = tmp_path / "v.npy"
    np.save(one_d, np.zeros(5))
    with pytest.raises(SeisSegError, match="1-D array"):
        read_volume(one_d)
    with pytest.raises(SeisSegError, match="Cannot tell the format"):
        read_volume(tmp_path / "x.tif")
    (tmp_path / "empty.npy").write_bytes(b"")  # an empty or cut-off file: EOFError in numpy
    with pytest.raises(SeisSegError, match="cannot be read as .npy.*complete NumPy"):
        read_volume(tmp_path / "empty.npy")
    np.save(tmp_path / "cube.npy", np.zeros((4, 5, 40), np.float32))
    whole = (tmp_path / "cube.npy").read_bytes()
    for name, cut in (("head.npy", 4), ("header.npy", 100), ("body.npy", 2000)):
        (tmp_path / name).write_bytes(whole[:cut])  # a copy stopped half way
        with pytest.raises(SeisSegError, match="complete NumPy .npy file"):
            read_volume(tmp_path / name)
    np.savez(tmp_path / "two.npz", a=np.zeros(3), b=np.ones(3))
    (tmp_path / "two.npy").write_bytes((tmp_path / "two.npz").read_bytes())
    with pytest.raises(SeisSegError, match=r"is a .npz archive"):
        read_volume(tmp_path / "two.npy")
    (tmp_path / "page.npy").write_text("<html>404 not found</html>")
    with pytest.raises(SeisSegError, match="not a NumPy .npy file"):
        read_volume(tmp_path / "page.npy")


def test_geometry_json_round_trip_and_napari_kwargs(segy_dir):
    g = read_segy(segy_dir / "volve10-migvel-depth-sub3d.sgy").geometry
    h = SurveyGeometry.from_json_dict(g.to_json_dict())
    np.testing.assert_array_equal(h.ilines, g.ilines)
    np.testing.assert_array_equal(h.live, g.live)
    assert h.to_json_dict() == g.to_json_dict()
    _, disp = g.transpose_to(np.zeros(g.shape), g.display_axes)
    kw = disp.napari_kwargs()
    e = disp.auto_exaggeration()  # 52 traces of 226 samples: 52 / (1.5 * 226) -> 0.15
    assert e == 0.15
    assert kw["scale"] == [4.0, e * 4.0, 4.0]  # lines across, depth stretched by e
    assert kw["translate"] == [10087.0, 0.0, 2148.0]
    display = kw["metadata"]["seisseg_display"]
    assert display["exaggeration"] == e
    assert display["vertical_per_world"] * kw["scale"][1] == pytest.approx(20.0)  # m/sample
    assert disp.napari_kwargs(exaggeration=1.0)["scale"] == [4.0, 4.0, 4.0]  # square pixels
    assert kw["axis_labels"] == ["inline", "depth (m)", "crossline"]
    assert SurveyGeometry.from_metadata(kw["metadata"]).axes == disp.axes


@pytest.mark.parametrize("suffix", [".npy", ".zarr", ".sgy"])
def test_write_volume_job_yields_the_fraction_written(tmp_path, segy_dir, suffix):
    from napari_seisseg.io.blocks import copy_blocks
    from napari_seisseg.io.volume import write_volume_job
    from napari_seisseg.jobs import drain

    vol = read_segy(segy_dir / "f3-withdead.sgy")
    seen: list[float] = []
    out = drain(write_volume_job(tmp_path / f"cube{suffix}", vol.data, vol.geometry), seen.append)
    assert seen and seen == sorted(seen) and seen[-1] == 1.0
    np.testing.assert_array_equal(np.asarray(read_volume(out).data), np.asarray(vol.data))
    target = np.zeros(vol.shape, np.float32)
    fractions = list(copy_blocks(vol.data, target, max_bytes=4 * int(np.prod(vol.shape[1:]))))
    assert len(fractions) == vol.shape[0] and fractions[-1] == 1.0
    np.testing.assert_array_equal(target, np.asarray(vol.data))
