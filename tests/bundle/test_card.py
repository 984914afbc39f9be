"""The card accessors the widgets and the Dask workers use instead of editing the dict."""

from __future__ import annotations

import numpy as np
import torch

from napari_seisseg.bundle import (
    ClassInfo,
    card_classes,
    class_names_line,
    model_kind,
    model_name,
    record_pipeline,
    window_preprocess,
    without_pipeline,
)

PIPE = {"steps": [{"name": "agc"}]}


def _card(pipeline=PIPE):
    return {
        "model": {"name": "unet2d"},
        "input": {"sample_axis": 0},
        "classes": [{"value": 1, "name": "a", "color": [1, 0, 0, 1]}],
        "preprocessing": {"pipeline": pipeline, "standardize": {"center": 1.0, "scale": 2.0, "clip": 10.0}},
    }


def test_without_pipeline_copies_and_leaves_the_original():
    card = _card()
    out = without_pipeline(card)
    assert out["preprocessing"]["pipeline"] is None
    assert out["preprocessing"]["standardize"] == card["preprocessing"]["standardize"]
    assert card["preprocessing"]["pipeline"] == PIPE
    plain = {"model": {"name": "x"}}
    assert without_pipeline(plain) == plain and "preprocessing" not in without_pipeline(plain)


def test_record_pipeline_edits_in_place():
    card = {"model": {"name": "x"}}
    record_pipeline(card, PIPE)
    assert card["preprocessing"] == {"pipeline": PIPE}


def test_names_classes_and_kind():
    card = _card()
    assert model_name(card) == "unet2d"
    assert card_classes(card) == [ClassInfo(1, "a", (1.0, 0.0, 0.0, 1.0))]
    assert model_kind(torch.nn.Identity()) == "2d"


def test_window_preprocess_normalises_along_the_sample_axis():
    assert window_preprocess(None) is None
    assert window_preprocess({"model": {}}) is None
    norm = window_preprocess(_card(pipeline=None))
    np.testing.assert_allclose(norm(np.full((2, 2), 3.0)), np.ones((2, 2)))


def test_class_names_line_shows_values_of_unnamed_classes():
    card = {"classes": [{"value": 1, "name": "salt"}, {"value": 2}]}
    assert class_names_line(card) == "salt, 2"
    assert class_names_line({}) == ""
