"""The Predict widget's choices for a run, checked without a viewer."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from napari_seisseg.errors import SeisSegError
from napari_seisseg.inference.run_choices import (
    check_layer_to_predict,
    default_orientations,
    device_choices,
    section_orientations,
    slice_in_layer,
)
from napari_seisseg.io.geometry import SurveyGeometry


def test_device_choices_start_with_auto_and_cpu():
    assert device_choices()[:2] == ["auto", "cpu"]


def test_layer_checks():
    with pytest.raises(SeisSegError, match="No Image layer to predict"):
        check_layer_to_predict(None)
    with pytest.raises(SeisSegError, match="'m' is multiscale"):
        check_layer_to_predict(SimpleNamespace(name="m", multiscale=True))
    layer = SimpleNamespace(name="cube", data=np.zeros((3, 4, 5)))
    assert slice_in_layer(layer, 3, 1) == 3
    with pytest.raises(SeisSegError, match="lies outside 'cube'"):
        slice_in_layer(layer, 4, 1)


def test_section_orientations_only_for_a_whole_cube_with_a_section_model():
    sections = SimpleNamespace(is_section_model=True)
    assert section_orientations(sections, 3, None, [True, False, True]) == [0, 2]
    assert section_orientations(sections, 3, 5, [True, False, True]) is None
    assert section_orientations(sections, 2, None, [True]) is None
    assert section_orientations(SimpleNamespace(is_section_model=False), 3, None, []) is None
    with pytest.raises(SeisSegError, match="Tick at least one orientation"):
        section_orientations(sections, 3, None, [False, False, False])


def test_default_orientations_follow_the_training_axes():
    g = SurveyGeometry(kind="cube", n_samples=5, dt=4.0, ilines=np.arange(3),
                       xlines=np.arange(4), axes=("crossline", "inline", "sample"))
    layer = SimpleNamespace(metadata=g.to_metadata(), ndim=3)
    assert default_orientations(layer) == [1]  # inline
    assert default_orientations(layer, SimpleNamespace(predict_axes=(1,))) == [0]  # crossline
    # painted on time slices: time slices first, then the inline and crossline, in the layer's order
    assert default_orientations(layer, SimpleNamespace(predict_axes=(2, 0, 1))) == [2, 1, 0]
    plain = SimpleNamespace(metadata={}, ndim=3)
    assert default_orientations(plain, SimpleNamespace(predict_axes=(2,))) == [2]
    assert default_orientations(plain, SimpleNamespace(predict_axes=(2, 0, 1))) == [2, 0, 1]
    assert default_orientations(None) == [0]
