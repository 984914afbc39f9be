"""Names and coordinates of a layer's axes (plain objects stand in for napari layers)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from napari_seisseg.io.geometry import SurveyGeometry
from napari_seisseg.io.layer_axes import (
    axis_coordinates,
    axis_label,
    axis_word,
    inline_axis,
    layer_geometry,
    region_text,
)


def _layer(geometry=None, shape=(3, 4, 5), axis_labels=()):
    meta = geometry.to_metadata() if geometry is not None else {}
    return SimpleNamespace(metadata=meta, ndim=len(shape), data=np.zeros(shape),
                           axis_labels=axis_labels)


def _cube(axes=None):
    return SurveyGeometry(kind="cube", n_samples=5, dt=4.0, t0=100.0,
                          ilines=np.arange(10, 13), xlines=np.arange(200, 208, 2),
                          axes=axes)


def test_axes_are_named_and_numbered_from_the_geometry():
    layer = _layer(_cube(("crossline", "inline", "sample")), shape=(4, 3, 5))
    assert [axis_label(layer, k) for k in range(3)] == ["crossline", "inline", "time"]
    assert inline_axis(layer) == 1
    assert axis_coordinates(layer, 1) == [10, 11, 12]
    assert axis_coordinates(layer, 2) == [100, 104, 108, 112, 116]
    assert region_text(layer, (slice(None), slice(2, 3), slice(None))) == "inline 12"
    assert region_text(layer, (slice(None),) * 3) is None


def test_axis_words_follow_the_domain_and_the_trace_key():
    from dataclasses import replace

    cube = _cube()
    assert [axis_word(cube, a) for a in ("inline", "crossline", "sample")] == ["inline", "crossline", "time"]
    assert axis_word(replace(cube, domain="depth", unit="m"), "sample") == "depth"
    assert axis_word(replace(cube, unit="sample"), "sample") == "sample"
    assert axis_word(cube, "trace") == cube.trace_key


def test_without_geometry_the_layer_labels_or_indices_are_used():
    layer = _layer(axis_labels=("depth", "1", ""))
    assert [axis_label(layer, k) for k in range(3)] == ["depth", "axis 1", "axis 2"]
    assert inline_axis(layer) == 0 and axis_coordinates(layer, 1) == [0, 1, 2, 3]
    assert region_text(layer, (slice(2, 3), slice(None), slice(None))) == "depth 2"


def test_a_geometry_of_other_axes_is_ignored():
    layer = _layer(_cube(), shape=(3, 4))  # a 2D layer carrying a cube's geometry
    assert layer_geometry(layer) is None and axis_label(layer, 0) == "axis 0"
