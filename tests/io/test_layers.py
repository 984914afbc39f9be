"""Telling class labels from amplitudes when a file is opened (io.layers)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from napari_seisseg.errors import SeisSegError
from napari_seisseg.io import read_segy, write_segy
from napari_seisseg.io.layers import (
    as_label_array,
    check_image_layer,
    looks_like_labels,
    volume_layer_data,
)


def test_real_amplitudes_are_not_labels(segy_dir):
    for name in ("f3.sgy", "Format5lsb.sgy", "volve10-migvel-depth-sub3d.sgy"):
        data = read_segy(segy_dir / name).data  # lazy: only a few traces are read
        assert not looks_like_labels(data, name), name


def test_an_exported_mask_is_labels_whatever_its_name_and_sample_format(segy_dir, tmp_path):
    survey = read_segy(segy_dir / "f3.sgy")
    mask = np.where(np.asarray(survey.data) > 500, 2, 1).astype(np.float32)
    mask[:, :, :10] = 3
    for code in (5, 1, 3, 8):  # IEEE and IBM float, int16, int8
        path = write_segy(tmp_path / f"export_{code}.sgy", mask, survey.geometry, sample_format=code)
        data = read_segy(path).data
        assert looks_like_labels(data, "export"), code
        layer_data, _kw, kind = volume_layer_data(data, survey.geometry, "export",
                                                  layer_type="labels")
        assert layer_data.dtype.kind in "iu" and layer_data.flags.writeable
        assert set(np.unique(layer_data)) == {1, 2, 3}


@pytest.mark.parametrize(
    ("array", "expected"),
    [
        (np.zeros((4, 5, 6), np.uint8), False),  # nothing but zeros: cannot tell
        (np.full((4, 5, 6), 0.5, np.float32), False),  # probabilities
        (np.arange(4 * 5 * 6).reshape(4, 5, 6) % 40, False),  # too many classes
        (np.arange(4 * 5 * 6).reshape(4, 5, 6) % 3 - 1, False),  # negative values
        (np.arange(4 * 5 * 6, dtype=np.float32).reshape(4, 5, 6) % 4, True),
        (np.ones((4, 5, 6), np.int16), True),
        (np.array([[0, 1.0], [np.nan, 1.0]]), False),
    ],
)
def test_label_rules(array, expected):
    assert looks_like_labels(array) is expected


def test_a_name_says_labels_only_for_whole_non_negative_values():
    sparse = np.zeros((4, 5, 6), np.uint8)
    assert looks_like_labels(sparse, "salt_labels") and not looks_like_labels(sparse, "salt")
    assert not looks_like_labels(np.full((4, 5, 6), 0.3), "mask probabilities")
    many = (np.arange(4 * 5 * 6).reshape(4, 5, 6) % 300).astype(np.int16)
    assert looks_like_labels(many, "facies_labels")  # many classes, but the name says so
    assert looks_like_labels(sparse.astype(np.float32), "training mask")  # float mask, named


def test_segy_names_and_integer_amplitudes_are_not_labels(segy_dir):
    data = read_segy(segy_dir / "f3.sgy").data  # int16 amplitudes
    for name in ("F3_SEGY", "Kerry3D_segy", "survey_segment", "f3"):
        assert not looks_like_labels(data, name), name


def test_a_sparse_mask_with_a_few_painted_sections_is_found():
    mask = np.zeros((200, 300, 100), np.float32)  # as Export writes it by default (float)
    mask[[37, 151]] = 2.0  # two painted inlines: the 48 evenly spread traces miss them
    mask[37, :, :40] = 1.0
    assert looks_like_labels(mask, "export")
    assert not looks_like_labels(np.zeros_like(mask), "export")  # nothing at all: amplitudes


def test_as_label_array_rounds_floats_and_keeps_integers():
    out = as_label_array(np.array([[0.0, 2.0], [np.nan, 300.0]], np.float32))
    assert out.dtype == np.int32 and out.tolist() == [[0, 2], [0, 300]]
    kept = np.array([[1, 2]], np.int16)
    assert as_label_array(kept).dtype == np.int16


def test_check_image_layer_refuses_a_missing_or_multiscale_layer_with_the_callers_words():
    with pytest.raises(SeisSegError, match="^Nothing chosen.$"):
        check_image_layer(None, "Nothing chosen.", "show")
    with pytest.raises(SeisSegError, match="'big' is multiscale; show a single-scale layer."):
        check_image_layer(SimpleNamespace(name="big", multiscale=True), "Nothing chosen.", "show")
    check_image_layer(SimpleNamespace(name="one", multiscale=False), "Nothing chosen.", "show")
