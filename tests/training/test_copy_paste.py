"""Copy-paste of painted rare bodies between the patches of a batch."""

from __future__ import annotations

import numpy as np

from napari_seisseg.training.augment import Augmenter
from napari_seisseg.training.config import AugmentConfig
from napari_seisseg.training.copy_paste import copy_paste
from napari_seisseg.training.patch_sampler import PatchSampler
from napari_seisseg.training.patches import make_layout


def _batch(n=6, slab=True, seed=0):
    """Patches ``(n, 1, 3, 16, 16)``: background everywhere, a sand blob in patch 0."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 1, 3, 16, 16) if slab else (n, 1, 16, 16)).astype(np.float32)
    y = np.zeros((n, 16, 16), np.int64)
    y[:, :, 12:] = -1  # not labeled
    y[0, 4:8, 4:8] = 2  # the sand, painted once
    x[0, ..., 4:8, 4:8] = 9.0  # bright
    return x, y


def test_rare_bodies_travel_with_their_amplitudes_into_other_patches():
    x, y = _batch()
    before = (x.copy(), y.copy())
    out_x, out_y = copy_paste(x, y, [2], 1.0, np.random.default_rng(1))
    np.testing.assert_array_equal(x, before[0])  # the inputs are left as they were
    np.testing.assert_array_equal(y, before[1])
    for i in range(1, len(y)):
        pasted = out_y[i] == 2
        assert pasted.sum() == 16  # the whole blob, somewhere (rolled, maybe mirrored)
        # every slice of the slab carries the donor's amplitudes where the sand landed
        assert (out_x[i][:, :, pasted] == 9.0).all()
        # elsewhere the patch is untouched, labels and unlabeled voxels alike
        np.testing.assert_array_equal(out_y[i][~pasted], y[i][~pasted])
        np.testing.assert_array_equal(out_x[i][:, :, ~pasted], x[i][:, :, ~pasted])
    # the donor keeps its own sand (nothing else holds any to give it)
    np.testing.assert_array_equal(out_y[0], y[0])


def test_nothing_changes_without_a_rate_a_class_or_a_donor():
    x, y = _batch(slab=False)
    rng = np.random.default_rng(0)
    for rare, p in (([2], 0.0), ([], 1.0), ([3], 1.0)):
        out_x, out_y = copy_paste(x, y, rare, p, rng)
        np.testing.assert_array_equal(out_y, y)
        np.testing.assert_array_equal(out_x, x)
    # about the rate asked for
    hits = sum((copy_paste(x, y, [2], 0.3, rng)[1][1:] == 2).any(axis=(1, 2)).sum()
               for _ in range(200))
    assert 0.22 < hits / (200 * 5) < 0.38


def test_a_pasted_body_keeps_its_way_up():
    """Mirrored across the first patch axis only: along time (the last) a body keeps its
    top and its base, as the patches of vertical sections hold them."""
    x, y = _batch(slab=False)
    y[0, 4:8, 4] = 2  # a top of class 2 (its first sample along time, the last axis) ...
    y[0, 4:8, 5:8] = 3  # ... over a body of class 3
    for seed in range(20):
        out_y = copy_paste(x, y, [2, 3], 1.0, np.random.default_rng(seed))[1]
        for i in range(1, len(y)):
            cols = np.flatnonzero((out_y[i] == 2).any(axis=0) | (out_y[i] == 3).any(axis=0))
            first = out_y[i][:, cols.min()] if cols.size else None
            if first is not None and cols.size == 4 and cols.max() - cols.min() == 3:
                assert (first[first > 0] == 2).all()  # the top column is class 2, never the base


def test_the_sampler_pastes_only_the_classes_it_is_given_at_the_augment_rate():
    target = np.zeros((6, 32, 32), np.uint8)
    target[:, :, 10] = 1  # painted time slices (axis 2 here)
    target[:, 5:9, 10] = 2  # a fault across them
    target[2:4, 20:24, 10] = 3  # one sand body
    image = np.random.default_rng(0).normal(size=target.shape).astype(np.float32)
    layout = make_layout("2d", target.shape, 16, axes=(2,))

    def sampler(rate, classes):
        aug = Augmenter(AugmentConfig(flip=False, gain=0, noise=0, map_view=False, copy_paste=rate),
                        np.random.default_rng(1), None)
        return PatchSampler(image, target, layout, lambda b, axis=-1: np.asarray(b, np.float32),
                            np.random.default_rng(2), aug, paste_classes=classes)

    plain = sampler(0.0, [2]).batch(64)[1]
    pasted = sampler(1.0, [2]).batch(64)[1]
    sand = lambda y: (y == 2).any(axis=(1, 2)).mean()  # noqa: E731
    assert sand(pasted) > sand(plain) + 0.2
    fault = lambda y: (y == 1).sum()  # noqa: E731 - the fault is not pasted
    assert abs(fault(pasted) - fault(plain)) < 0.2 * fault(plain)


def _sliced(bodies_per_slice: int):
    """Three painted time slices: background, and a rare class as compact bodies."""
    image = np.random.default_rng(0).normal(size=(16, 40, 64)).astype(np.float32)
    labels = np.zeros(image.shape, np.uint8)
    for t in (10, 30, 50):
        labels[:, :, t] = 1
        for b in range(bodies_per_slice):
            labels[1 + 5 * b:5 + 5 * b, 5:22, t] = 2  # 4 x 17 = 68 voxels, compact
    return image, labels


def test_a_run_on_time_slices_pastes_only_classes_painted_as_a_few_bodies():
    from napari_seisseg.jobs import drain
    from napari_seisseg.training import TrainConfig, train

    for per_slice, rate in ((1, 0.5), (2, 0.0)):  # 3 bodies: named and pasted; 6: neither
        image, labels = _sliced(per_slice)
        cfg = TrainConfig(model="unet2d", model_kwargs={"width": 4, "depth": 2}, patch_size=16,
                          batch_size=4, epochs=1, steps_per_epoch=2, seed=0, val_fraction=0.0)
        events = []
        result = drain(train(image, labels, cfg), events.append)
        assert result.card["training"]["config"]["augment"]["copy_paste"] == rate
        said = [getattr(e, "text", "") for e in events]
        assert any("class 2 only as a few bodies" in t and "copy-paste" in t for t in said) == (rate > 0)


def test_copy_paste_asked_for_other_paint_says_what_it_pastes():
    from napari_seisseg.jobs import drain
    from napari_seisseg.training import AugmentConfig, TrainConfig, train

    image = np.random.default_rng(0).normal(size=(12, 40, 64)).astype(np.float32)
    labels = np.zeros(image.shape, np.uint8)
    labels[[2, 8]] = 1  # two painted inlines
    labels[2, 10:20, 20:32] = 2  # two compact bodies (240 voxels)
    labels[8, 5:15, 30:42] = 2
    for augment, said in ((AugmentConfig(copy_paste=0.5), "Copy-paste: class 2 (painted as a few"),
                          (AugmentConfig(), None)):
        cfg = TrainConfig(model="unet2d", model_kwargs={"width": 4, "depth": 2}, patch_size=16,
                          batch_size=4, epochs=1, steps_per_epoch=1, seed=0, val_fraction=0.0,
                          augment=augment, position=False)
        events = []
        drain(train(image, labels, cfg), events.append)
        texts = [getattr(e, "text", "") for e in events]
        assert any(t.startswith(said) for t in texts) if said else not any("Copy-paste" in t for t in texts)
