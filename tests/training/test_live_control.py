"""The region of a napari Labels edit (what a live run is handed after a stroke)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from napari_seisseg.training.live_control import LiveControl, stroke_region


def test_masked_atoms_give_their_box_and_several_atoms_their_union():
    shape = (10, 20, 30)
    a = SimpleNamespace(slice_key=(3, slice(2, 6), slice(None)))
    assert stroke_region([a], shape) == (slice(3, 4), slice(2, 6), slice(0, 30))
    b = SimpleNamespace(slice_key=(slice(5, 7), slice(10, 12), slice(4, 9)))
    assert stroke_region([a, b], shape) == (slice(3, 7), slice(2, 12), slice(0, 30))


def test_fancy_index_atoms_give_the_box_of_their_indices():
    indices = (np.array([4, 4, 4]), np.array([1, 7, 3]), np.array([9, 2, 5]))
    assert stroke_region([(indices, np.zeros(3), 2)], (10, 20, 30)) == (
        slice(4, 5), slice(1, 8), slice(2, 10))


def test_an_edit_without_voxels_has_no_region():
    empty = (np.array([], int), np.array([], int))
    assert stroke_region([(empty, np.zeros(0), 1)], (5, 5)) is None
    assert stroke_region([], (5, 5)) is None
    assert stroke_region([SimpleNamespace(slice_key=(slice(3, 3), slice(None)))], (5, 5)) is None


def test_region_updates_are_copied_and_a_whole_array_replaces_earlier_ones():
    control = LiveControl()
    block = np.ones((1, 2, 2), np.uint8)
    control.update_labels(block, (slice(0, 1), slice(0, 2), slice(0, 2)))
    block[:] = 5
    (update,) = control.take_labels()
    assert update.values.max() == 1  # copied when handed in
    control.update_labels(block, (slice(0, 1), slice(0, 2), slice(0, 2)))
    control.update_labels(np.zeros((3, 3, 3), np.uint8))
    (whole,) = control.take_labels()
    assert whole.region is None and whole.values.shape == (3, 3, 3)
