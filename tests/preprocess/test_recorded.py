"""The pipeline a layer already went through, from its metadata."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from napari_seisseg.errors import SeisSegError
from napari_seisseg.preprocess import Pipeline
from napari_seisseg.preprocess.recorded import (
    PREPROCESS_KEY,
    chained,
    layer_pipeline,
    output_contrast,
)


def _pipe(*kinds):
    return Pipeline.from_dict({"steps": [{"kind": k} for k in kinds]})


def test_layer_pipeline_is_a_copy_of_the_recorded_dict():
    recorded = _pipe("standardize").to_dict()
    layer = SimpleNamespace(metadata={PREPROCESS_KEY: recorded})
    got = layer_pipeline(layer)
    assert got == recorded and got is not recorded
    assert layer_pipeline(SimpleNamespace(metadata={})) is None
    assert layer_pipeline(SimpleNamespace(metadata={PREPROCESS_KEY: "x"})) is None
    assert layer_pipeline(object()) is None


def test_chained_puts_the_recorded_pipeline_first():
    first, then = _pipe("clip_std"), _pipe("standardize")
    layer = SimpleNamespace(name="pre", metadata={PREPROCESS_KEY: first.to_dict()})
    assert [s.kind for s in chained(layer, then).steps] == ["clip_std", "standardize"]
    assert chained(SimpleNamespace(name="raw", metadata={}), then) is then


def test_a_damaged_recorded_pipeline_names_the_layer():
    layer = SimpleNamespace(name="pre", metadata={PREPROCESS_KEY: {"steps": [{"kind": "?"}]}})
    with pytest.raises(SeisSegError, match="^'pre': "):
        chained(layer, _pipe("standardize"))


@pytest.mark.parametrize(("output_range", "expected"), [
    ((-1.0, 3.0), (-3.0, 3.0)), ((0.0, 255.0), (0.0, 255.0)), ((2.0, 2.0), (2.0, 3.0)),
])
def test_output_contrast(output_range, expected):
    pipe = _pipe("standardize")
    pipe.fit_info = {"output_range": output_range}
    assert output_contrast(pipe) == expected
