"""The vertical axis of a plain array, read from its amplitudes (real SEG-Y sections and synthetic cubes)."""

from __future__ import annotations

import numpy as np
import pytest

from napari_seisseg.errors import SeisSegError
from napari_seisseg.io import read_segy, read_volume, write_volume
from napari_seisseg.io.npy_io import read_npy
from napari_seisseg.io.sample_axis import (
    GUESSED_NOTE,
    guess_sample_axis,
    guessed_geometry,
    is_guessed,
    plain_array_geometry,
)
from napari_seisseg.synthetic import make_synthetic_cube


@pytest.fixture(scope="module")
def cube():
    return make_synthetic_cube((40, 48, 64), seed=2, n_faults=1, n_channels=4)


@pytest.fixture(scope="module")
def penobscot_line(segy_dir):
    """A real 2D line: 601 traces of 1501 samples, (trace, sample)."""
    return np.asarray(read_segy(segy_dir / "penobscot_xl1155.sgy").data, dtype=np.float32)


@pytest.mark.parametrize("axis", [0, 1, 2])
def test_synthetic_cube_in_any_order(cube, axis):
    data = np.moveaxis(cube.seismic, -1, axis)
    guess = guess_sample_axis(data)
    assert guess.axis == axis
    assert guess.ratios[axis] > 10 * max(r for i, r in enumerate(guess.ratios) if i != axis)


def test_real_line_either_way(penobscot_line):
    assert guess_sample_axis(penobscot_line).axis == 1
    assert guess_sample_axis(penobscot_line.T).axis == 0


def test_stack_of_unrelated_real_tiles_is_not_time(penobscot_line):
    """Tiles stored (tile, depth, x), as the TGS salt tiles are: depth is axis 1, not the stack."""
    rng = np.random.default_rng(0)
    starts = zip(rng.integers(0, 500, 80), rng.integers(0, 1400, 80), strict=True)
    tiles = np.stack([penobscot_line[x:x + 101, t:t + 101].T for x, t in starts])  # (tile, depth, x)
    guess = guess_sample_axis(tiles)
    assert guess.axis == 1
    assert np.isnan(guess.ratios[0])  # neighbouring tiles do not correlate: no candidate
    assert guess.correlations[0] < 0.3


def test_short_real_cube_keeps_its_last_axis(segy_dir):
    f3 = np.asarray(read_segy(segy_dir / "f3.sgy").data)  # 23 x 18 x 75
    assert guess_sample_axis(f3).axis == 2
    assert plain_array_geometry(f3) is None


def test_no_guess_without_a_wiggle():
    rng = np.random.default_rng(1)
    assert guess_sample_axis(rng.normal(size=(60, 60, 60))).axis is None  # white noise
    assert guess_sample_axis(np.ones((40, 40, 40), np.float32)).axis is None
    labels = np.zeros((40, 50, 60), np.uint8)
    labels[:, :, 30:] = 2
    assert guess_sample_axis(labels).axis is None  # class labels are never guessed
    assert guess_sample_axis(rng.normal(size=(5, 40, 40, 40))).axis is None  # 4-D


def test_guessed_geometry_names_the_stored_order():
    g = guessed_geometry((64, 40, 48), 0, "why")
    assert g.axes == ("sample", "inline", "crossline") and g.shape == (64, 40, 48)
    assert g.unit == "sample" and g.domain == "unknown" and not g.sources
    assert g.notes[0].startswith(f"{GUESSED_NOTE}: axis 0 taken as time or depth (why)")
    assert is_guessed(g)
    assert list(g.ilines[:3]) == [0, 1, 2]
    s = guessed_geometry((100, 30), 0)
    assert s.kind == "section" and s.axes == ("sample", "trace") and s.shape == (100, 30)
    mid = guessed_geometry((40, 64, 48), 1)
    assert mid.axes == ("inline", "sample", "crossline")
    assert not is_guessed(None)


def test_explicit_axis(cube):
    data = np.moveaxis(cube.seismic, -1, 1)
    assert plain_array_geometry(data, 1).axes == ("inline", "sample", "crossline")
    assert plain_array_geometry(data, -1) is None  # the last axis: canonical, no geometry
    assert plain_array_geometry(data, None) is None  # no guess
    with pytest.raises(SeisSegError, match="not an axis"):
        plain_array_geometry(data, 3)


def test_time_first_npy_keeps_its_layout(cube, tmp_path):
    data = np.ascontiguousarray(np.moveaxis(cube.seismic, -1, 0))
    np.save(tmp_path / "tf.npy", data)
    vol = read_volume(tmp_path / "tf.npy")
    assert vol.shape == data.shape  # not reordered: outputs written from it keep the layout
    assert vol.geometry.axes == ("sample", "inline", "crossline") and is_guessed(vol.geometry)
    assert vol.display().shape == (40, 64, 48)  # napari shows time downwards
    canonical = vol.canonical()
    np.testing.assert_array_equal(np.asarray(canonical.data), cube.seismic)
    # the last axis given: as before, a plain array without geometry
    assert read_volume(tmp_path / "tf.npy", sample_axis=2).geometry is None
    assert read_npy(tmp_path / "tf.npy", sample_axis=None).geometry is None


def test_canonical_npy_and_sidecar_unchanged(cube, tmp_path):
    np.save(tmp_path / "c.npy", cube.seismic)
    assert read_volume(tmp_path / "c.npy").geometry is None
    write_volume(tmp_path / "g.npy", cube.seismic, cube.geometry)  # a sidecar wins over a guess
    assert read_volume(tmp_path / "g.npy", sample_axis=0).geometry.sources == cube.geometry.sources


def test_zarr_without_geometry(cube, tmp_path):
    data = np.ascontiguousarray(np.moveaxis(cube.seismic, -1, 1))
    write_volume(tmp_path / "z.zarr", data)
    vol = read_volume(tmp_path / "z.zarr")
    assert vol.geometry.axes == ("inline", "sample", "crossline") and vol.shape == data.shape


def test_guessed_order_written_back(cube, tmp_path):
    """A mask written with the guessed geometry reads back in the same layout, same geometry."""
    data = np.ascontiguousarray(np.moveaxis(cube.seismic, -1, 0))
    np.save(tmp_path / "tf.npy", data)
    vol = read_volume(tmp_path / "tf.npy")
    mask = np.moveaxis(cube.labels, -1, 0)
    write_volume(tmp_path / "mask.npy", mask, vol.geometry)
    back = read_volume(tmp_path / "mask.npy")
    assert back.shape == mask.shape and back.geometry.axes == vol.geometry.axes
    with pytest.raises(Exception, match="survey geometry"):
        write_volume(tmp_path / "mask.sgy", mask, vol.geometry)
