"""Names and descriptions of prediction layers, without a viewer."""

from __future__ import annotations

from types import SimpleNamespace

from napari_seisseg.io.prediction_layers import describe, numbered_names, seconds_text
from napari_seisseg.io.probabilities import PREDICTION_KEY


def test_numbered_names():
    assert numbered_names(["seismic"], ["mask", "uncertainty"]) == ["mask", "uncertainty"]
    assert numbered_names(["mask"], ["P(a)", "mask"]) == ["P(a) (2)", "mask (2)"]
    assert numbered_names(["mask", "P(a) (2)"], ["P(a)", "mask"]) == ["P(a) (3)", "mask (3)"]


def test_seconds_text():
    assert seconds_text(12.34) == "12.3 s" and seconds_text(0.04) == "40 ms"


def test_describe_says_where_a_prediction_layer_comes_from():
    info = {"model": "facies", "source": "seismic", "slice": "inline 117",
            "time": "2025-05-01 14:03:12", "seconds": 0.04}
    layer = SimpleNamespace(name="mask (2)", metadata={PREDICTION_KEY: info})
    assert describe(layer) == ("'mask (2)': facies on 'seismic', inline 117 only, "
                               "2025-05-01 14:03:12 (40 ms)")
    assert describe(SimpleNamespace(name="x", metadata={PREDICTION_KEY: {"model": None,
                                                                          "x": 1}})) == \
        "'x': a model"
    assert describe(SimpleNamespace(name="seismic", metadata={})) is None
