"""Survey axes for prediction: orientation names, training order, dead traces, slice geometry."""

from __future__ import annotations

import numpy as np
import pytest

from napari_seisseg.errors import SeisSegError
from napari_seisseg.inference.survey_axes import (
    canonical_order,
    dead_mask_from_geometry,
    fitting_geometry,
    resolve_orientations,
    subset_geometry,
)
from napari_seisseg.io.geometry import SurveyGeometry

SHAPE = (6, 8, 12)  # inline, crossline, sample


def geometry(dead=((1, 2),)):
    live = np.ones(SHAPE[:2], bool)
    for i, j in dead:
        live[i, j] = False
    return SurveyGeometry(kind="cube", n_samples=SHAPE[2], dt=4.0, t0=100.0,
                          ilines=np.arange(10, 10 + SHAPE[0]),
                          xlines=np.arange(200, 200 + 2 * SHAPE[1], 2), live=live)


def display(g):
    return g.transpose_to(np.zeros(SHAPE, np.float32), g.display_axes)[1]


def test_orientation_names_and_numbers_become_axes_of_the_input():
    g = geometry(dead=())
    assert resolve_orientations(["time", 0], g, 3) == (2, 0)
    assert resolve_orientations("il, xl", g, 3) == (0, 1)
    assert resolve_orientations("-1", None, 3) == (2,)
    gd = display(g)  # (inline, sample, crossline)
    assert resolve_orientations("crossline,depth", gd, 3) == (2, 1)
    assert resolve_orientations(None, g, 3) is None
    for bad, match in [(("inline", None), "no survey geometry"), (("diagonal", g), "Unknown"),
                       (([3], g), "not an axis"), (("inline,il", g), "repeat"), ((",", g), "at least")]:
        with pytest.raises(SeisSegError, match=match):
            resolve_orientations(bad[0], bad[1], 3)


def test_dead_mask_follows_the_data_order():
    g = geometry(dead=((1, 2), (4, 0)))
    assert dead_mask_from_geometry(geometry(dead=()), SHAPE) is None
    assert dead_mask_from_geometry(None, SHAPE) is None
    canon = dead_mask_from_geometry(g, SHAPE)
    assert canon.shape == (6, 8, 1) and canon[1, 2, 0] and canon[4, 0, 0] and canon.sum() == 2
    gd = display(g)
    np.testing.assert_array_equal(dead_mask_from_geometry(gd, gd.shape), canon.transpose(0, 2, 1))


def test_a_geometry_must_describe_the_data():
    g = geometry()
    assert fitting_geometry(g, SHAPE) is g and fitting_geometry(None, SHAPE) is None
    assert canonical_order(display(g)) == ("inline", "crossline", "sample")
    with pytest.raises(SeisSegError, match="describes"):
        fitting_geometry(g, (6, 8, 11))
    with pytest.raises(SeisSegError, match="SurveyGeometry"):
        fitting_geometry({"kind": "cube"}, SHAPE)


def test_the_geometry_of_one_slice():
    g = geometry(dead=((1, 2),))
    one = subset_geometry(g, (slice(1, 2), slice(None), slice(None)))
    assert list(one.ilines) == [11] and one.live.shape == (1, 8) and not one.live[0, 2]
    gd = display(g)
    ts = subset_geometry(gd, (slice(None), slice(3, 4), slice(None)))
    assert ts.n_samples == 1 and ts.t0 == pytest.approx(112.0)
    xl = subset_geometry(gd, (slice(None), slice(None), slice(2, 3)))
    assert list(xl.xlines) == [204] and xl.live.shape == (6, 1) and not xl.live[1, 0]
