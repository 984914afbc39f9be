"""Patch sampler: allowed axes, labeled regions only, context, padding, lazy images."""

from __future__ import annotations

import numpy as np
import pytest
from training_helpers import LazyArray

from napari_seisseg.training.patch_sampler import PatchSampler, class_rates
from napari_seisseg.training.patches import make_layout, read_window


def _identity(block, axis=-1):
    return np.asarray(block, dtype=np.float32)


def _sampler(image, target, kind="2d", size=8, context=0, axes=None, seed=0):
    layout = make_layout(kind, target.shape, size, context=context, axes=axes)
    return PatchSampler(image, target, layout, _identity, np.random.default_rng(seed))


def test_axes_restriction_and_labeled_sections_only():
    target = np.zeros((6, 20, 20), np.uint8)
    target[2, 5:9, 5:9] = 1
    target[4, 12:14, 3:6] = 2
    image = np.zeros(target.shape, np.float32)
    s = _sampler(image, target, axes=(0,))
    seen = set()
    for _ in range(200):
        start, axis, index = s.draw_window()
        assert axis == 0 and index in (2, 4)
        seen.add(index)
        _, tgt = read_window(image, target, s.layout, _identity, start, axis=axis, index=index)
        assert (tgt >= 0).any()  # a labeled pixel is always in the patch
    assert seen == {2, 4}
    # all axes: sections along axes 1 and 2 that cross the labels are drawn too
    s = _sampler(image, target)
    axes = {s.draw_window()[1] for _ in range(300)}
    assert axes == {0, 1, 2}


def test_every_class_is_drawn_at_its_rate_rare_ones_lifted():
    target = np.zeros((4, 40, 40), np.uint8)
    target[1] = 1  # 1600 voxels of background
    target[1, :2, :8] = 2  # 16 voxels: 1 % of the painted ones
    target[3, :10, :10] = 3  # 100 voxels
    s = _sampler(np.zeros(target.shape, np.float32), target, axes=(0,), size=8)
    counts = np.array([np.count_nonzero(target == v) for v in (1, 2, 3)])
    want = class_rates(counts)
    assert np.isclose(want.sum(), 1.0) and np.allclose(s.rates, want)
    assert want[1] > 0.15  # the 1 % class is the centre of about a sixth of the patches
    n = 3000
    classes = [s.draw_center()[0] for _ in range(n)]
    got = np.bincount(classes, minlength=3) / n
    np.testing.assert_allclose(got, want, atol=0.03)
    assert np.array_equal(s.drawn, np.bincount(classes, minlength=3))
    # the centre voxel really is of the drawn class
    for _ in range(200):
        k, (i, j, m) = s.draw_center()
        assert target[i, j, m] == k + 1


def test_class_rates_ignore_unpainted_classes():
    rates = class_rates(np.array([900, 0, 100]))
    assert rates[1] == 0 and np.isclose(rates.sum(), 1.0) and rates[2] > 0.1 * 0.5


def test_context_channels_are_clamped_at_the_borders():
    shape = (5, 9, 9)
    image = np.broadcast_to(np.arange(shape[0], dtype=np.float32)[:, None, None], shape).copy()
    target = np.zeros(shape, np.uint8)
    target[0] = 1
    target[0, :, :4] = 2
    s = _sampler(image, target, context=2, axes=(0,), size=9)
    img, tgt = s.sample()
    assert img.shape == (5, 9, 9) and tgt.shape == (9, 9)
    assert img[:, 0, 0].tolist() == [0, 0, 0, 1, 2]
    slab = _sampler(image, target, kind="slab", context=1, axes=(0,), size=9)
    img, tgt = slab.sample()
    assert img.shape == (1, 3, 9, 9) and img[0, :, 4, 4].tolist() == [0, 0, 1]
    assert (tgt >= 0).all()  # the centre slice is the labeled one


def test_small_sections_are_padded_and_padding_is_not_labeled():
    shape = (3, 5, 7)
    image = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    target = np.ones(shape, np.uint8)
    target[:, :, :3] = 2
    s = _sampler(image, target, size=32, axes=(0,))
    assert s.layout.size == (7, 7)  # capped at the largest section extent
    img, tgt = s.sample()
    assert img.shape == (1, 7, 7)
    assert (tgt == -1).sum() == 7 * 7 - 5 * 7  # two padded rows
    assert (tgt[1:6] >= 0).all()


def test_three_d_patches_near_labels_and_capped_at_the_cube():
    shape = (10, 30, 30)
    target = np.zeros(shape, np.uint8)
    target[5, 20:24, 20:24] = 1
    target[5, 24:26, 20:24] = 2
    s = _sampler(np.zeros(shape, np.float32), target, kind="3d", size=16)
    assert s.layout.size == (10, 16, 16)
    for _ in range(50):
        img, tgt = s.sample()
        assert img.shape == (1, 10, 16, 16) and (tgt >= 0).any()


def test_sampler_is_seeded():
    target = np.zeros((6, 20, 20), np.uint8)
    target[2, 5:15, 5:15] = 1
    target[4, 2:6, 3:6] = 2
    image = np.random.default_rng(0).standard_normal(target.shape).astype(np.float32)
    a = _sampler(image, target, seed=5).batch(4)
    b = _sampler(image, target, seed=5).batch(4)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])


@pytest.mark.parametrize("kind", ["2d", "3d"])
def test_lazy_image_is_read_patch_by_patch(kind):
    shape = (16, 40, 40)
    data = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    lazy = LazyArray(data)
    target = np.zeros(shape, np.uint8)
    target[3, 10:30, 10:30] = 1
    target[12, 5:9, 5:35] = 2
    s = _sampler(lazy, target, kind=kind, size=8, context=1 if kind == "2d" else 0)
    img, tgt = s.batch(6)
    assert len(lazy.reads) == 6 and max(lazy.reads) <= 3 * 8 * 40
    # the patch is the same as read from the numpy array
    s2 = _sampler(data, target, kind=kind, size=8, context=1 if kind == "2d" else 0)
    img2, tgt2 = s2.batch(6)
    assert np.array_equal(img, img2) and np.array_equal(tgt, tgt2)


def test_recount_follows_the_target_changed_in_place():
    target = np.zeros((4, 40, 40), np.uint8)
    target[1] = 1
    target[1, :2, :8] = 2
    s = _sampler(np.zeros(target.shape, np.float32), target, axes=(0,), size=8)
    rates = s.rates.copy()
    target[3, :10, :10] = 2  # e.g. validation bands that joined training
    assert {s.draw_window()[2] for _ in range(100)} == {1}  # indexed at construction
    s.recount()
    assert s.rates[1] > rates[1] and s.n_labeled == np.count_nonzero(target)
    assert {s.draw_window()[2] for _ in range(200)} == {1, 3}
    target[:] = 0
    with pytest.raises(ValueError, match="No labeled voxel"):
        s.recount()
