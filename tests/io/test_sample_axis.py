"""The vertical axis of a plain array, read from its amplitudes (real SEG-Y sections and synthetic cubes)."""

from __future__ import annotations

import numpy as np
import pytest

from napari_seisseg.errors import GeometryError, SeisSegError
from napari_seisseg.io import read_segy, read_volume, write_volume
from napari_seisseg.io.npy_io import read_npy
from napari_seisseg.io.sample_axis import (
    GUESSED_NOTE,
    guess_sample_axis,
    guessed_geometry,
    is_guessed,
    layout_like,
    plain_array_geometry,
    time_last_geometry,
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
    # the tile axis last: uncorrelated, yet long enough to have been measured, so overruled
    last = plain_array_geometry(np.ascontiguousarray(np.moveaxis(tiles, 0, -1)))
    assert last is not None and last.axes[0] == "sample"


def test_guessed_lines_are_no_survey_lines(cube):
    """Training records no line numbers from a guessed geometry (they are counted from 0)."""
    from napari_seisseg.training.data import orient

    shape = (64, 40, 48)
    perm, names, coords, _ = orient(shape, guessed_geometry(shape, 0))
    assert perm == (1, 2, 0) and names == ["inline", "crossline", "sample"] and coords == {}
    assert len(orient((40, 48, 64), cube.geometry)[2]) == 3  # a survey's lines are kept


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
    assert g.notes[0].startswith(f"{GUESSED_NOTE}: time or depth taken along the axis of 64 values (why)")
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
    given = plain_array_geometry(data, -1)  # the last axis named: canonical, and said so
    assert given.axes == ("inline", "crossline", "sample") and "(as given)" in given.notes[0]
    assert plain_array_geometry(data, None) is None  # no guess
    with pytest.raises(SeisSegError, match="not an axis"):
        plain_array_geometry(data, 3)
    with pytest.raises(SeisSegError, match="'auto', an axis number"):
        plain_array_geometry(data, "2")


def test_a_short_last_axis_is_never_overruled(segy_dir):
    """Too short to be measured, the last axis may still be time: the array is left as it is."""
    line = np.asarray(read_segy(segy_dir / "viking_small.segy").data, dtype=np.float32)
    narrow = line[:, 300:324]  # 480 traces of 24 samples, (trace, sample)
    assert guess_sample_axis(narrow).axis == 0  # the traces wiggle too (band ratio 8.9)...
    assert plain_array_geometry(narrow) is None  # ...but the short time axis was not measured


def test_nan_and_constant_axes(cube):
    data = np.moveaxis(cube.seismic, -1, 0).copy()
    data[32, 20, 24] = np.nan  # in the central block
    assert guess_sample_axis(data).axis == 0
    flat = np.broadcast_to(cube.seismic[:, :1, :], cube.seismic.shape)  # constant along crosslines
    guess = guess_sample_axis(flat)
    assert guess.axis == 2 and np.isnan(guess.ratios[1])


def test_time_first_npy_keeps_its_layout(cube, tmp_path):
    data = np.ascontiguousarray(np.moveaxis(cube.seismic, -1, 0))
    np.save(tmp_path / "tf.npy", data)
    vol = read_volume(tmp_path / "tf.npy")
    assert vol.shape == data.shape  # not reordered: outputs written from it keep the layout
    assert vol.geometry.axes == ("sample", "inline", "crossline") and is_guessed(vol.geometry)
    assert vol.display().shape == (40, 64, 48)  # napari shows time downwards
    canonical = vol.canonical()
    np.testing.assert_array_equal(np.asarray(canonical.data), cube.seismic)
    # the last axis given: taken in the canonical order, as before the guess
    assert read_volume(tmp_path / "tf.npy", sample_axis=2).geometry.axes == ("inline", "crossline", "sample")
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
    with pytest.raises(GeometryError, match="has only an axis order"):
        write_volume(tmp_path / "mask.sgy", mask, vol.geometry)
    assert not (tmp_path / "mask.sgy").exists()


def test_segy_from_a_guessed_layout_with_a_template(segy_dir, tmp_path):
    f3 = read_segy(segy_dir / "f3.sgy")  # 23 x 18 x 75, canonical
    stored = np.ascontiguousarray(np.moveaxis(np.asarray(f3.data), -1, 0))  # time first
    g = plain_array_geometry(stored, 0)
    write_volume(tmp_path / "out.sgy", stored, g, template=segy_dir / "f3.sgy")
    back = read_segy(tmp_path / "out.sgy")
    np.testing.assert_array_equal(np.asarray(back.data), np.asarray(f3.data))
    np.testing.assert_array_equal(back.geometry.ilines, f3.geometry.ilines)


def test_layout_like_places_plain_labels():
    g = guessed_geometry((64, 40, 48), 0)  # stored time first
    display = g.transpose_to(np.zeros((64, 40, 48)), g.display_axes)[1]
    assert layout_like((64, 40, 48), display).axes == ("sample", "inline", "crossline")
    assert layout_like((40, 48, 64), display).axes == ("inline", "crossline", "sample")
    assert layout_like((40, 64, 48), display).axes == ("inline", "sample", "crossline")
    assert layout_like((5, 5, 5), display) is None
    square = guessed_geometry((30, 30, 30), 1)
    assert layout_like((30, 30, 30), square) is None  # several orders fit: not guessed
    assert layout_like((64, 40, 48), None) is None
    # the image's file order first, whatever else fits
    assert layout_like((30, 30, 30), square, ("inline", "sample", "crossline")).axes == (
        "inline", "sample", "crossline")
    tiles = time_last_geometry((100, 40, 40))
    shown = tiles.transpose_to(np.zeros((100, 40, 40)), tiles.display_axes)[1]
    assert layout_like((100, 40, 40), shown) is None  # two orders fit
    assert layout_like((100, 40, 40), shown, tiles.axes).axes == tiles.axes
    # the preferred order does not fit: the one order that does
    assert layout_like((40, 100, 40), shown, tiles.axes).axes == ("sample", "inline", "crossline")


def test_time_last_geometry_only_for_traces():
    g = time_last_geometry((20, 24, 48))
    assert g.axes == ("inline", "crossline", "sample") and is_guessed(g)
    assert g.display_axes == ("inline", "sample", "crossline")
    assert time_last_geometry((300, 64)).axes == ("trace", "sample")
    assert time_last_geometry((64, 48, 3)) is None  # an RGB picture: no trace is 3 samples
    assert time_last_geometry((4, 5, 6, 64)) is None


def _ricker_cube(shape, cycles_per_sample, dip=0.5, seed=0):
    """Reflectivity convolved with a Ricker wavelet along the last axis, dipping laterally."""
    rng = np.random.default_rng(seed)
    ni, nx, nt = shape
    refl = rng.normal(size=nt + ni + nx)
    t = np.arange(-16, 17)
    a = (np.pi * cycles_per_sample * t) ** 2
    trace = np.convolve(refl, (1 - 2 * a) * np.exp(-a), mode="same")
    shift = (dip * (np.arange(ni)[:, None] + np.arange(nx)[None, :])).astype(int)
    return np.stack([[trace[s:s + nt] for s in row] for row in shift]).astype(np.float32)


@pytest.mark.parametrize("f", [0.2, 0.25, 0.3])
def test_a_finely_wiggling_last_axis_stays_time(f):
    """Time sampled coarsely (neighbours barely correlate) and dipping events that alias
    laterally: the last axis is still time, never overruled by a lateral axis."""
    cube = _ricker_cube((64, 64, 200), f)
    guess = guess_sample_axis(cube)
    assert np.isnan(guess.ratios[2]) and guess.ungated[2] > 100  # gated out, yet it wiggles
    assert plain_array_geometry(cube) is None


def test_dipping_ricker_cube_either_way():
    cube = _ricker_cube((64, 64, 200), 0.16)
    assert plain_array_geometry(cube) is None
    assert plain_array_geometry(np.ascontiguousarray(np.moveaxis(cube, -1, 0))).axes[0] == "sample"


def test_laid_out_apart_over_an_image_shown_as_stored():
    """Labels taken time last lie transposed over an image without geometry of their file's
    shape (a map shown as stored), square ones included; an RGB picture is measured by its
    rows and columns, and labels stored time first lie over it as stored."""
    from types import SimpleNamespace

    from napari_seisseg.io.sample_axis import (
        FILE_AXES_KEY,
        guessed_geometry,
        image_shape,
        laid_out_apart,
        time_last_geometry,
    )

    def plain_labels(geometry):
        return {**geometry.to_metadata(), FILE_AXES_KEY: list(geometry.axes)}

    time_last = plain_labels(time_last_geometry((60, 80)))  # stored (trace, sample)
    assert laid_out_apart({}, time_last, (60, 80))
    assert not laid_out_apart({}, time_last, (80, 60))  # another file's shape
    assert not laid_out_apart({}, time_last)  # no shape: nothing to compare
    assert laid_out_apart({}, plain_labels(time_last_geometry((64, 64))), (64, 64))
    time_first = plain_labels(guessed_geometry((80, 60), 0, "as given"))  # shown as stored
    assert not laid_out_apart({}, time_first, (80, 60))
    rgb = SimpleNamespace(data=np.zeros((60, 80, 3), np.uint8), rgb=True)
    assert image_shape(rgb) == (60, 80) and laid_out_apart({}, time_last, image_shape(rgb))
    survey = time_last_geometry((60, 80)).to_metadata()  # an image with a geometry: by its files
    assert not laid_out_apart(survey, time_last, (60, 80))


def test_neighbouring_sections_of_a_survey_correlate_and_unrelated_tiles_do_not():
    from napari_seisseg.io.sample_axis import MIN_CORRELATION, neighbour_correlation
    from napari_seisseg.synthetic import make_synthetic_cube

    cube = make_synthetic_cube(shape=(60, 32, 48), seed=2).seismic
    assert neighbour_correlation(cube, 0) > 0.8
    shuffled = cube[np.random.default_rng(1).permutation(60)]
    assert abs(neighbour_correlation(shuffled, 0)) < MIN_CORRELATION
    layer_cake = np.broadcast_to(cube[:1], cube.shape)  # identical neighbours
    assert neighbour_correlation(layer_cake, 0) == 1.0
    assert neighbour_correlation(np.zeros((60, 8, 8)), 0) == 0.0
