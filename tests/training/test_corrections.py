"""``merge_corrections``: painted labels plus what changed between a predicted and a corrected mask."""

from __future__ import annotations

import numpy as np
import pytest

from napari_seisseg.errors import SeisSegError
from napari_seisseg.training.corrections import merge_corrections


def test_only_changed_class_voxels_are_added_and_override_the_paint():
    labels = np.zeros((2, 3, 4), np.uint8)
    labels[0, 0] = 1  # painted
    predicted = np.ones((2, 3, 4), np.uint8)
    corrected = predicted.copy()
    corrected[0, 0, :2] = 2  # corrects two painted voxels
    corrected[1, 2, 3] = 3  # a new class voxel
    corrected[1, 0, 0] = 0  # erased: not a label
    merged, added, erased = merge_corrections(labels, corrected, predicted)
    assert (added, erased) == (3, 1) and merged.dtype == np.uint8
    expected = labels.copy()
    expected[0, 0, :2] = 2
    expected[1, 2, 3] = 3
    np.testing.assert_array_equal(merged, expected)
    assert labels[0, 0, 0] == 1  # the input is not modified


@pytest.mark.parametrize(
    ("case", "message"),
    [("shape", "differ in shape"), ("nothing", "nothing was corrected"), ("wide", "cannot hold")],
)
def test_bad_inputs_say_what_to_give(case, message):
    labels = np.zeros((2, 3), np.uint8)
    predicted = np.ones((2, 3), np.uint16)
    corrected = predicted.copy()
    if case == "shape":
        corrected = np.ones((2, 4), np.uint16)
    elif case == "wide":
        corrected[0, 0] = 300
    with pytest.raises(SeisSegError, match=message):
        merge_corrections(labels, corrected, predicted)
