"""Regular grids of line numbers."""

from __future__ import annotations

import numpy as np

from napari_seisseg.io.line_grid import axis_length, regular_axis


def test_missing_lines_are_padded_with_the_common_step():
    values = np.array([110, 100, 130, 100, 140])
    grid = regular_axis(values)
    assert grid.tolist() == [100, 110, 120, 130, 140]
    assert axis_length(values) == len(grid) == 5


def test_one_line_and_a_damaged_number_are_sized_without_building():
    assert regular_axis(np.array([7, 7])).tolist() == [7] and axis_length(np.array([7])) == 1
    assert axis_length(np.array([1, 2, 1_375_731_823])) == 1_375_731_823
