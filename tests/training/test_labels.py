"""Label discovery in every orientation, the class list, and input checks."""

from __future__ import annotations

import numpy as np
import pytest

from napari_seisseg.bundle import build_classes, class_names_from_features
from napari_seisseg.errors import SeisSegError
from napari_seisseg.training.data import prepare_data
from napari_seisseg.training.labels import (
    encode_labels,
    summarize_labels,
)

SHAPE = (10, 12, 14)


def _summary(labels):
    target, values = encode_labels(labels)
    return summarize_labels(target, build_classes(values), ["inline", "crossline", "sample"])


def _two_class_section(shape2d, rng):
    return rng.integers(1, 3, size=shape2d).astype(np.uint8)


def test_painted_orientations_are_listed_most_painted_first_above_a_tenth():
    rng = np.random.default_rng(0)
    labels = np.zeros(SHAPE, np.uint8)
    labels[[2, 7]] = _two_class_section((2, 12, 14), rng)  # 2 inlines: 336 voxels
    labels[:, [3, 5, 8, 10]] = _two_class_section((10, 4, 14), rng)  # 4 crosslines: 448 more
    s = _summary(labels)
    assert s.painted_orientations([0, 1, 2]) == [1, 0]
    assert s.painted_orientations([0, 2]) == [0] and s.painted_orientations([2]) == []
    assert s.painted_in_several([0, 1, 2]) and not s.painted_in_several([0, 1, 2], including=2)
    labels[:, :, 4] = _two_class_section((10, 12), rng)  # a time slice: 64 more (8 %)
    assert _summary(labels).painted_orientations([0, 1, 2]) == [1, 0]
    labels[:, :, 11] = _two_class_section((10, 12), rng)  # two: 128 (14 %)
    assert _summary(labels).painted_orientations([0, 1, 2]) == [1, 0, 2]


@pytest.mark.parametrize("axis", [0, 1, 2])
def test_whole_sections_are_found_in_their_orientation(axis):
    rng = np.random.default_rng(axis)
    labels = np.zeros(SHAPE, np.uint8)
    key = [slice(None)] * 3
    for i in (2, 5, 7):
        key[axis] = i
        labels[tuple(key)] = _two_class_section(labels[tuple(key)].shape, rng)
    s = _summary(labels)
    for ax in range(3):
        a = s.axes[ax]
        if ax == axis:
            assert a.sections.tolist() == [2, 5, 7]
            assert a.indices.tolist() == [2, 5, 7]
            assert a.counts.tolist() == [labels[tuple(key)].size] * 3
        else:
            assert a.sections.size == 0
            assert a.indices.tolist() == list(range(SHAPE[ax]))  # every slice crosses the sections
            assert a.counts.sum() == s.n_labeled
    assert s.n_labeled == 3 * labels[tuple(key)].size


def test_inlines_crosslines_and_scribbles_together():
    labels = np.zeros(SHAPE, np.uint8)
    labels[3] = 1  # an inline
    labels[3, 4:8, 2:6] = 2
    labels[:, 9, :] = 2  # a crossline
    labels[6:9, 1:4, 11] = 1  # a scribble on time slice 11
    labels[8, 1:6, 3:10] = 2  # a scribble on inline 8
    s = _summary(labels)
    assert s.axes[0].sections.tolist() == [3, 8]
    assert s.axes[1].sections.tolist() == [9]
    assert s.axes[2].sections.tolist() == [11]
    assert s.class_counts.tolist() == [int((labels == 1).sum()), int((labels == 2).sum())]
    assert sum(a.section_voxels for a in s.axes) == s.n_labeled
    text = s.describe()
    assert "inline 2 (3, 8)" in text and "crossline 1 (9)" in text and "sample 1 (11)" in text
    d = s.to_dict()
    assert d["axes"][0]["labeled_slices"] == [[0, 10]]  # the crossline crosses every inline
    assert d["axes"][0]["sections"] == [3, 8] and d["axes"][2]["labeled_slices"] == [[0, 14]]


def test_encode_maps_label_values_to_class_indices():
    labels = np.array([[[0, 2, 5], [5, 0, 2]]])
    target, values = encode_labels(labels)
    assert values == [2, 5]
    assert target.tolist() == [[[0, 1, 2], [2, 0, 1]]]
    target, values = encode_labels(labels, zero_is_background=True)
    assert values == [0, 2, 5]
    assert target.tolist() == [[[1, 2, 3], [3, 1, 2]]]
    with pytest.raises(SeisSegError, match="not classes of the model"):
        encode_labels(labels, class_values=[1, 2])


def test_class_names_and_colours_from_a_features_table():
    import pandas as pd

    table = {"index": [0, 1, 2], "class": ["unlabeled", "salt", "rock"]}
    assert class_names_from_features(table) == {0: "unlabeled", 1: "salt", 2: "rock"}
    df = pd.DataFrame({"name": ["unlabeled", "a", "b"]})
    assert class_names_from_features(df) == {0: "unlabeled", 1: "a", 2: "b"}
    assert class_names_from_features(pd.DataFrame({"x": [1]})) == {}
    classes = build_classes([1, 2], {1: "salt"}, {None: (0, 0, 0, 0), 1: "#ff0000", 2: (0, 255, 0)})
    assert [c.name for c in classes] == ["salt", "class 2"]
    assert classes[0].color == (1.0, 0.0, 0.0, 1.0)
    assert classes[1].color == (0.0, 1.0, 0.0, 1.0)
    assert [c.name for c in build_classes([0, 1], ["bg", "fg"], zero_is_background=True)] == [
        "bg",
        "fg",
    ]


def _image():
    return np.random.default_rng(0).standard_normal(SHAPE).astype(np.float32)


def test_bad_inputs_raise_clear_errors():
    image = _image()
    good = np.zeros(SHAPE, np.uint8)
    good[2, :6] = 1
    good[2, 6:] = 2
    with pytest.raises(SeisSegError, match=r"labels have shape \(10, 12\).*image has shape"):
        prepare_data(image, good[:, :, 0])
    with pytest.raises(SeisSegError, match="No labels are painted"):
        prepare_data(image, np.zeros(SHAPE, np.uint8))
    one = np.zeros(SHAPE, np.uint8)
    one[4] = 3
    with pytest.raises(SeisSegError, match=r"Only one class is painted.*value 3.*at least two"):
        prepare_data(image, one)
    with pytest.raises(SeisSegError, match="zero is background"):
        prepare_data(image, (good > 0).astype(np.uint8))  # a 0/1 mask without the option
    bad = image.copy()
    bad[1, 2, 3] = np.nan
    bad[0, 0, 0] = np.inf
    with pytest.raises(SeisSegError, match=r"2 NaN or infinite values.*Preprocess"):
        prepare_data(bad, good)
    with pytest.raises(SeisSegError, match="whole numbers"):
        prepare_data(image, good * 0.5)
    with pytest.raises(SeisSegError, match="negative"):
        prepare_data(image, good.astype(np.int16) - 1)
    with pytest.raises(SeisSegError, match="2D section or a 3D cube"):
        prepare_data(image[None], good[None])
    # a dense 0/1 mask is fine with zero_is_background
    data = prepare_data(image, (good > 0).astype(np.uint8), zero_is_background=True)
    assert data.class_values == [0, 1] and data.summary.n_labeled == image.size


def test_two_d_input_becomes_one_section():
    image = _image()[0]
    labels = np.zeros(image.shape, np.uint8)
    labels[:3] = 1
    labels[-3:] = 2
    data = prepare_data(image, labels, axes=(1,))
    assert data.target.shape == (1, *image.shape)
    assert data.axes == (0,)
    assert data.image[(slice(0, 1), slice(2, 4), slice(None))].shape == (1, 2, image.shape[1])
    assert any("ignored" in n for n in data.notes)


def test_geometry_puts_napari_order_into_canonical_order():
    from napari_seisseg.io.geometry import SurveyGeometry

    geo = SurveyGeometry(
        kind="cube",
        n_samples=SHAPE[1],
        dt=4.0,
        ilines=np.arange(100, 110),
        xlines=np.arange(300, 314),
        axes=("inline", "sample", "crossline"),
    )
    image = _image()  # (inline, sample, crossline)
    labels = np.zeros(SHAPE, np.uint8)
    labels[:, :, 5] = np.where(np.arange(SHAPE[1]) < 6, 1, 2)[None, :]  # crossline 305
    data = prepare_data(image, labels, geometry=geo, axes=(2,))
    assert data.axis_names == ["inline", "crossline", "sample"]
    assert data.target.shape == (10, 14, 12) and data.sample_axis == 2
    assert data.axes == (1,)  # the crossline axis, in training order
    assert data.summary.axes[1].sections.tolist() == [5]
    assert data.summary.to_dict(data.coordinates)["axes"][1]["section_coordinates"] == [305.0]
    assert np.array_equal(np.asarray(data.image), image.transpose(0, 2, 1))


def test_value_counts_equals_bincount():
    from napari_seisseg.training.labels import value_counts

    rng = np.random.default_rng(0)
    for dtype in (np.uint8, np.uint16, np.int32):
        block = (rng.random((7, 9, 11)) < 0.1) * rng.integers(1, 6, (7, 9, 11))
        block = block.astype(dtype)
        np.testing.assert_array_equal(value_counts(block, 8), np.bincount(block.ravel(), minlength=8))
        np.testing.assert_array_equal(value_counts(block), np.bincount(block.ravel()))
    np.testing.assert_array_equal(value_counts(np.zeros((0,), np.uint8), 3), [0, 0, 0])
    np.testing.assert_array_equal(value_counts(np.zeros((4,), np.uint8)), [4])


def test_dense_labels_are_said_by_how_far_they_reach_not_as_painted_sections():
    # a stack of 40 fully labeled 12 x 12 tiles, 30 of them labeled: every voxel goes to
    # the orientation whose slices are largest (axis 1), whose every slice then holds paint
    labels = np.zeros((40, 12, 12), np.uint8)
    labels[:30] = 1
    labels[:30, 4:8, 3:9] = 2
    s = _summary(labels)
    assert s.axes[1].sections.size == 12  # every slice "painted": not a few sections
    text = s.describe()
    assert "painted sections" not in text and "labels fill 30 of 40 inline slices" in text, text
    from napari_seisseg.io.geometry import SurveyGeometry
    from napari_seisseg.training.painted_summary import describe_painted

    g = SurveyGeometry(kind="cube", n_samples=12, dt=4.0, t0=0.0, ilines=np.arange(100, 140),
                       xlines=np.arange(12))
    assert describe_painted(s, g).endswith("; labels fill 30 of 40 inlines."), describe_painted(s, g)
    # dense labels with a gap (no labels on time slice 0) and another labeled inline apart
    # are still dense: not "painted sections: sample 11 (1, 2, ...)"
    labels[:, :, 0] = 0
    labels[38] = 1
    gap = _summary(labels).describe()
    assert gap.endswith("; labels fill 31 of 40 inline slices."), gap
    # a few painted sections alone: no extent
    labels[:] = 0
    labels[5] = 1
    assert _summary(labels).describe().endswith("; painted sections: inline 1 (5).")


def test_a_painted_2d_line_is_one_painted_section():
    labels = np.zeros((1, 20, 30), np.uint8)
    labels[0, :, :10] = 1
    labels[0, 5:9, 10:] = 2
    text = _summary(labels).describe()
    assert text.endswith("; painted sections: inline 1 (0)."), text
