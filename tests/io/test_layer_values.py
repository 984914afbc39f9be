"""A Labels layer's features table and colormap as plain JSON values."""

from __future__ import annotations

import numpy as np
import pytest

from napari_seisseg.io.layer_values import (
    direct_colors,
    features_table,
    hex_color,
    is_plain,
    plain_value,
    rgba,
)


def test_plain_values_unwrap_numpy_and_drop_nan():
    assert plain_value(np.int64(3)) == 3 and plain_value(np.float32(0.5)) == 0.5
    assert plain_value(float("nan")) is None and plain_value("a") == "a"
    assert is_plain(None) and not is_plain([1])
    with pytest.raises(TypeError):
        plain_value(object())


def test_a_features_table_keeps_plain_columns_only():
    table = features_table({"index": np.array([0, 1]), "class": ["bg", "salt"],
                            "arrays": [np.zeros(2), np.zeros(2)]})
    assert table == {"index": [0, 1], "class": ["bg", "salt"]}
    assert features_table(None) == {} and features_table({"index": []}) == {}


def test_direct_colours_and_their_hex_form():
    colors, default = direct_colors({None: (0, 0, 0, 0), 1: (1.0, 0.0, 0.0), 2: "red"})
    assert colors == {1: (1.0, 0.0, 0.0, 1.0)} and default == (0.0, 0.0, 0.0, 0.0)
    assert direct_colors(object()) == ({}, None)
    assert hex_color(rgba((1.0, 0.5, 0.0))) == "#ff8000"
    assert hex_color((1.0, 0.0, 0.0, 0.5)) == "#ff000080"
    with pytest.raises(ValueError):
        rgba((2.0, 0.0, 0.0))
