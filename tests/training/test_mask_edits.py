"""Tracking the user's edits of a predicted mask (plain objects stand in for napari layers)."""

from __future__ import annotations

import numpy as np
import pytest

from napari_seisseg.errors import SeisSegError
from napari_seisseg.training.mask_edits import (
    EVENTS,
    copy_targets,
    edited_voxels,
    is_tracked,
    remember_written,
    rewrite_unedited,
    written_mask,
)


class _Layer:
    def __init__(self, data, name="mask"):
        self.data = data
        self.name = name

    @property
    def ndim(self):
        return self.data.ndim


def test_edits_are_what_changed_since_the_mask_was_written():
    layer = _Layer(np.zeros((2, 3, 4), np.uint8))
    seen = []
    EVENTS.tracked.connect(seen.append)
    try:
        assert edited_voxels(layer) is None and not is_tracked(layer)
        remember_written(layer, layer.data)
        remember_written(layer, layer.data)  # already tracked: announced once
    finally:
        EVENTS.tracked.disconnect(seen.append)
    assert seen == [layer] and is_tracked(layer)
    assert written_mask(layer) is not layer.data  # a copy
    layer.data[1, 2, 3] = 2
    assert edited_voxels(layer).sum() == 1
    assert edited_voxels(layer, (1,)).shape == (3, 4)
    assert written_mask(object()) is None and written_mask([1]) is None


def test_rewrite_keeps_the_edits_even_where_they_equal_the_new_mask():
    layer = _Layer(np.zeros((3, 3), np.uint8))
    remember_written(layer, layer.data)
    layer.data[0, 0] = 1
    assert rewrite_unedited(layer, np.ones((3, 3), np.uint8) * 2) == 1
    assert layer.data[0, 0] == 1 and layer.data[2, 2] == 2
    assert rewrite_unedited(layer, np.ones((3, 3), np.uint8)) == 1  # still an edit
    with pytest.raises(ValueError, match="shape"):
        rewrite_unedited(layer, np.zeros((2, 2)))


def test_copy_targets_of_a_section():
    labels = _Layer(np.zeros((3, 4, 5), np.uint8), "painted")
    labels.data[2, 2, 1] = 1  # already that value: not copied
    src = np.array([[0, 1, 2, 2, 0]] * 3, np.uint8)
    where = np.ones((3, 5), bool)
    where[0] = False
    index, values = copy_targets(labels, src, where, region=(slice(None), 2, slice(None)))
    labels.data[index] = values
    expected = np.zeros((3, 4, 5), np.uint8)
    expected[1:, 2, 1:4] = [1, 2, 2]
    np.testing.assert_array_equal(labels.data, expected)
    assert copy_targets(labels, src, where, region=(slice(None), 2, slice(None))) is None


def test_copy_targets_refuse_read_only_or_too_narrow_labels():
    src = np.full((2, 2), 300, np.int32)
    with pytest.raises(SeisSegError, match="cannot hold"):
        copy_targets(_Layer(np.zeros((2, 2), np.uint8)), src, np.ones((2, 2), bool))
    frozen = np.zeros((2, 2), np.uint8)
    frozen.flags.writeable = False
    with pytest.raises(SeisSegError, match="read-only"):
        copy_targets(_Layer(frozen), src, np.ones((2, 2), bool))
