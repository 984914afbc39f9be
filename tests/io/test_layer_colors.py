"""Colours of layers: class colours of a Labels colormap, probability colormaps."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from napari_seisseg.io.layer_colors import label_colors, probability_colormap


class _Cmap:
    def map(self, values):
        out = np.zeros((len(values), 4))
        out[:, 0] = np.asarray(values) / 10
        out[:, 3] = [0.0 if v == 3 else 1.0 for v in values]  # 3 is transparent
        return out


def test_label_colors_keep_visible_classes_only():
    layer = SimpleNamespace(colormap=_Cmap())
    assert label_colors(layer, [1, 2, 3]) == {1: (0.1, 0.0, 0.0, 1.0), 2: (0.2, 0.0, 0.0, 1.0)}
    assert label_colors(layer, []) == {}
    assert label_colors(SimpleNamespace(), [1]) == {}
    assert label_colors(SimpleNamespace(colormap=object()), [1]) == {}  # unreadable: palette


def test_probability_colormap_runs_black_to_the_class_colour():
    cmap = probability_colormap("salt", (1.0, 0.5, 0.25, 0.7))
    assert cmap["colors"] == [[0.0, 0.0, 0.0, 1.0], [1.0, 0.5, 0.25, 1.0]]
    assert cmap["name"] == "seisseg salt 1.000,0.500,0.250"
