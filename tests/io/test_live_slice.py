"""The slice a viewer shows, and a preview placed on it (plain objects, no viewer)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from napari_seisseg.io.live_slice import (
    LIVE_KEY,
    is_live_preview,
    preview_layer_data,
    shown_slice,
)


def _layer(shape, scale=(1.0, 1.0, 1.0), translate=(0.0, 0.0, 0.0)):
    scale, translate = np.asarray(scale[-len(shape):]), np.asarray(translate[-len(shape):])
    return SimpleNamespace(
        ndim=len(shape), data=np.zeros(shape), scale=scale, translate=translate,
        axis_labels=("inline", "time", "crossline")[-len(shape):], units=("", "ms", "")[-len(shape):],
        world_to_data=lambda p: (np.asarray(p) - translate) / scale, metadata={})


def _dims(point, not_displayed=(0,), ndisplay=2):
    return SimpleNamespace(ndim=len(point), point=point, not_displayed=not_displayed,
                           ndisplay=ndisplay)


def test_the_shown_slice_is_named_in_the_layers_data():
    layer = _layer((10, 20, 30), scale=(2.0, 4.0, 1.0), translate=(100.0, 0.0, 0.0))
    assert shown_slice(layer, _dims((114.0, 0.0, 0.0))) == (0, 7)
    assert shown_slice(layer, _dims((0.0, 40.0, 0.0), not_displayed=(1,))) == (1, 10)
    assert shown_slice(layer, _dims((0.0, 0.0, 0.0), ndisplay=3)) is None  # no single slice
    assert shown_slice(layer, _dims((90.0, 0.0, 0.0))) == (0, -5)  # outside: the run refuses
    # a viewer with one more (leading) dimension than the layer
    assert shown_slice(layer, _dims((3.0, 106.0, 0.0, 0.0), not_displayed=(0, 1))) == (0, 3)
    assert shown_slice(_layer((20, 30)), _dims((0.0, 0.0))) == (0, 0)  # a 2D image: itself
    # halfway between two slices: napari's rounding (half to even), so both show the same one
    half = _layer((10, 20, 30), translate=(0.5, 0.0, 0.0))
    assert [shown_slice(half, _dims((p, 0.0, 0.0)))[1] for p in (7.0, 8.0)] == [
        int(np.round(6.5)), int(np.round(7.5))]


def test_a_preview_layer_sits_on_its_slice_of_the_source():
    source = _layer((10, 20, 30), scale=(2.0, 4.0, 1.0), translate=(100.0, 8.0, 0.0))
    data, placement = preview_layer_data(source, 1, 5, np.ones((10, 30)))
    assert data.shape == (10, 1, 30)
    assert placement["translate"] == (100.0, 28.0, 0.0) and placement["scale"] == (2.0, 4.0, 1.0)
    assert placement["axis_labels"] == ("inline", "time", "crossline")
    flat = _layer((20, 30))
    data, placement = preview_layer_data(flat, 0, 0, np.ones((20, 30)))
    assert data.shape == (20, 30) and placement["translate"] == (0.0, 0.0)


def test_live_preview_layers_are_recognised_by_their_metadata():
    assert not is_live_preview(_layer((2, 2)))
    assert is_live_preview(SimpleNamespace(metadata={LIVE_KEY: {"source": "x"}}))
