"""A new Labels layer over an image, as layer data (a plain object stands in for the image)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from napari_seisseg.errors import SeisSegError
from napari_seisseg.io.geometry import DISPLAY_KEY, SurveyGeometry
from napari_seisseg.training.new_labels import labels_layer_spec


def _image(metadata=None, **kw):
    base = dict(name="seismic", data=np.zeros((3, 4, 5)), rgb=False, multiscale=False,
                metadata=metadata or {}, scale=(1.0, 2.0, 3.0), translate=(0.0, 1.0, 2.0),
                rotate=np.eye(3), shear=np.zeros(3),
                affine=SimpleNamespace(affine_matrix=np.eye(4)),
                axis_labels=("inline", "crossline", "time"), units=("", "", "ms"))
    base.update(kw)
    return SimpleNamespace(**base)


def test_the_layer_sits_on_the_image_with_its_geometry_and_classes():
    g = SurveyGeometry(kind="cube", n_samples=5, dt=4.0, ilines=np.arange(3),
                       xlines=np.arange(4))
    meta = {**g.to_metadata(), DISPLAY_KEY: {"exaggeration": 2.0}}
    shape, kw = labels_layer_spec(_image(meta), ["salt", "fault"])
    assert shape == (3, 4, 5) and kw["name"] == "seismic labels"
    assert kw["scale"] == (1.0, 2.0, 3.0) and kw["units"] == ("", "", "ms")
    assert SurveyGeometry.from_metadata(kw["metadata"]) is not None
    assert kw["metadata"][DISPLAY_KEY] == {"exaggeration": 2.0}
    assert kw["features"] == {"index": [0, 1, 2], "class": ["unlabeled", "salt", "fault"]}
    assert kw["colormap"][0][3] == 0.0 and len(kw["colormap"]) == 4


def test_unnamed_classes_and_refused_images():
    _, kw = labels_layer_spec(_image(), [])
    assert "features" not in kw and "colormap" not in kw and kw["metadata"] == {}
    with pytest.raises(SeisSegError, match="RGB"):
        labels_layer_spec(_image(rgb=True), [])
    with pytest.raises(SeisSegError, match="multiscale"):
        labels_layer_spec(_image(multiscale=True), [])
