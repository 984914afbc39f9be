"""Positions in survey words, without a viewer."""

from __future__ import annotations

import numpy as np
import pytest

from napari_seisseg.io.geometry import DISPLAY_KEY, SurveyGeometry
from napari_seisseg.io.survey_text import GoTo, parse_goto, survey_words


def test_parse_goto_accepts_what_an_interpreter_types():
    assert parse_goto("inline 122") == GoTo("inline", 122.0)
    assert parse_goto(" IL=122 ") == GoTo("inline", 122.0)
    assert parse_goto("xl 885") == GoTo("crossline", 885.0)
    assert parse_goto("1200 ms") == GoTo("sample", 1200.0, "ms")
    assert parse_goto("depth 1500 m") == GoTo("sample", 1500.0, "m")
    assert parse_goto("time 1200") == GoTo("sample", 1200.0)
    assert parse_goto("4 ft").unit == "ft" and parse_goto(".5 ms").value == 0.5
    for bad in ("", "inline", "122", "diagonal 4", "inline 1.2.3", "ms"):
        with pytest.raises(ValueError, match="inline 122"):
            parse_goto(bad)


def test_survey_words_name_the_nearest_line_and_sample():
    g = SurveyGeometry(kind="cube", n_samples=5, dt=4.0, t0=100.0, ilines=np.arange(10, 13),
                       xlines=np.arange(200, 208, 2))
    meta = g.to_metadata()
    assert survey_words(meta, [1.2, 2.0, 3.0]) == ["inline 11", "crossline 204", "112 ms"]
    meta[DISPLAY_KEY] = {"vertical_per_world": 1.0}  # world = line numbers and times
    assert survey_words(meta, [11.4, 203.0, 109.0]) == ["inline 11", "crossline 202", "108 ms"]
    assert survey_words({}, [1.0]) == []


def test_a_plain_arrays_samples_are_named_by_number():
    from napari_seisseg.io.sample_axis import time_last_geometry

    meta = time_last_geometry((4, 5, 64)).to_metadata()
    assert survey_words(meta, [1.0, 2.0, 30.0]) == ["inline 1", "crossline 2", "sample 30"]
    assert parse_goto("sample 30") == GoTo("sample", 30.0, None, True)
    assert parse_goto("samples 3").by_index and not parse_goto("time 3").by_index
    for unit_after_a_number in ("sample 30 ms", "inline 122 ms", "xl 5 m"):
        with pytest.raises(ValueError, match="takes no unit"):
            parse_goto(unit_after_a_number)
