"""Validation windows: every held-out voxel scored once, overlaps split at their middle."""

from __future__ import annotations

import pytest

from napari_seisseg.training.validation import tile_starts


@pytest.mark.parametrize(("n", "size"), [(101, 96), (300, 128), (128, 128), (50, 64), (257, 128),
                                         (1000, 7)])
def test_windows_cover_every_index_once_and_stay_inside_their_window(n, size):
    tiles = tile_starts(n, size)
    owned = [i for _, lo, hi in tiles for i in range(lo, hi)]
    assert owned == list(range(n))
    for start, lo, hi in tiles:
        assert start <= lo < hi <= start + size
        if size <= n:
            assert 0 <= start and start + size <= n


def test_an_overlap_is_split_at_its_middle_so_no_window_gets_a_sliver():
    # two 96-windows over 101: the old rule gave the second window only 5 rows
    assert tile_starts(101, 96) == [(0, 0, 50), (5, 50, 101)]
    assert tile_starts(300, 128) == [(0, 0, 128), (128, 128, 214), (172, 214, 300)]
    assert tile_starts(50, 64) == [(-7, 0, 50)]  # a window larger than the axis is centred


def test_bootstrap_spread_is_zero_for_identical_windows_and_grows_with_disagreement():
    import numpy as np
    import torch

    from napari_seisseg.training.metrics import MetricAccumulator
    from napari_seisseg.training.validation import bootstrap_spread

    def window(correct: bool):
        acc = MetricAccumulator(2)
        y = torch.tensor([[0, 0, 1, 1]])
        logits = torch.zeros(1, 2, 4)
        logits[0, 1] = torch.tensor([-1.0, -1.0, 1.0, 1.0]) * (1 if correct else -1)
        acc.update(logits, y)
        return acc

    assert bootstrap_spread([window(True)] * 6, None) == 0.0
    mixed = [window(True)] * 3 + [window(False)] * 3
    assert bootstrap_spread(mixed, None) > 0.1
    assert bootstrap_spread([window(True)], None) is None
    assert np.isfinite(bootstrap_spread(mixed, None))
    # grouped: each group (a held-out section) one right and one wrong window is the same
    # section six times over, so it does not spread; a group that is all wrong does
    pairs = [window(True), window(False)] * 3
    assert bootstrap_spread(pairs, None, groups=[0, 0, 1, 1, 2, 2]) < 1e-12
    assert bootstrap_spread(pairs, None) > 0.1
    assert bootstrap_spread(mixed, None, groups=[0, 0, 0, 1, 1, 1]) > 0.1
    assert bootstrap_spread(mixed, None, groups=[0] * 6) is None  # one section: no spread
