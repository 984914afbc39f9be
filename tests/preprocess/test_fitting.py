"""The Preprocess widget's fitting rules, without a viewer."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from napari_seisseg.errors import SeisSegError
from napari_seisseg.io.geometry import SurveyGeometry
from napari_seisseg.preprocess import Pipeline
from napari_seisseg.preprocess.fitting import (
    SampleCache,
    check_preprocessable,
    fit_pipeline,
    result_mode,
    trace_axis,
)


def _geometry():
    return SurveyGeometry(kind="cube", n_samples=16, dt=4.0, ilines=np.arange(3),
                          xlines=np.arange(4), axes=("sample", "inline", "crossline"))


def test_trace_axis_from_the_choice_the_geometry_or_the_last_axis():
    meta = _geometry().to_metadata()
    g, axis, dt = trace_axis(meta, 3)
    assert g is not None and axis == 0 and dt == 4.0
    assert trace_axis(meta, 3, chosen=2)[1:] == (2, None)  # not the sample axis: no dt
    assert trace_axis({}, 3) == (None, 2, None)
    assert trace_axis(meta, 2) == (None, 1, None)  # a geometry of other axes is ignored


def test_check_preprocessable_says_what_is_missing():
    with pytest.raises(SeisSegError, match="No Image layer chosen"):
        check_preprocessable(None, 1)
    with pytest.raises(SeisSegError, match="'big' is multiscale"):
        check_preprocessable(SimpleNamespace(name="big", multiscale=True), 1)
    with pytest.raises(SeisSegError, match="no steps"):
        check_preprocessable(SimpleNamespace(name="a", multiscale=False), 0)


def test_the_sample_is_drawn_once_per_volume_and_setting():
    data = np.random.default_rng(0).normal(size=(6, 5, 16))
    cache = SampleCache()
    first = cache.sample("layer", data, 2, None, 10, 0)
    assert cache.sample("layer", data, 2, None, 10, 0) is first
    assert cache.sample("layer", data, 2, None, 10, 1) is not first
    cache.clear()
    assert cache.sample("layer", data, 2, None, 10, 1) is not first


def test_fit_pipeline_refits_unless_the_stored_statistics_fit_the_steps():
    data = np.random.default_rng(1).normal(5.0, 2.0, size=(6, 5, 16))
    pipe = Pipeline.from_dict({"steps": [{"kind": "standardize"}]})
    calls = []

    def sample():
        calls.append(1)
        return SampleCache().sample(None, data, 2, None, 30, 0)

    fitted = fit_pipeline(pipe, data.shape, 2, None, sample)
    assert fitted.is_fitted and calls == [1]
    again = fit_pipeline(pipe, data.shape, 2, None, sample, stored=fitted)
    assert again.to_dict() == fitted.to_dict() and calls == [1]  # the stored statistics
    other = Pipeline.from_dict({"steps": [{"kind": "clip_std", "k": 2.0}]})
    fit_pipeline(other, data.shape, 2, None, sample, stored=fitted)
    assert calls == [1, 1]  # other steps: refitted


def test_result_mode_auto_keeps_arrays_in_memory():
    pipe = Pipeline.from_dict({"steps": [{"kind": "standardize"}]})
    assert result_mode("auto", np.zeros((2, 2)), pipe) == "in memory"
    assert result_mode("lazy", np.zeros((2, 2)), pipe) == "lazy"
    huge = SimpleNamespace(shape=(4096, 4096, 4096))
    assert result_mode("auto", huge, pipe) == "lazy"
