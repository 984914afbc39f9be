"""Augmentation moves image and labels together and is seeded."""

from __future__ import annotations

import numpy as np
import pytest

from napari_seisseg.errors import SeisSegError
from napari_seisseg.training.augment import Augmenter, affine_field, elastic_field, warp
from napari_seisseg.training.config import AugmentConfig

GEOMETRIC = AugmentConfig(
    flip=True, rotate90=True, transpose=True, roll_axis=1, gain=0.0, noise=0.0
)


def _blocks(shape, seed=0, size=4):
    """Random piecewise-constant labels (-1..2) in blocks of ``size``."""
    rng = np.random.default_rng(seed)
    t = rng.integers(-1, 3, size=tuple(-(-n // size) for n in shape))
    for ax in range(len(shape)):
        t = np.repeat(t, size, axis=ax)
    return t[tuple(slice(0, n) for n in shape)].astype(np.int64)


@pytest.mark.parametrize(
    ("lead", "spatial", "context_axis"),
    [((3,), (16, 16), 0), ((1, 3), (12, 12), 1), ((1,), (8, 8, 10), None), ((1,), (12, 20), None)],
)
def test_geometric_changes_keep_image_and_labels_aligned(lead, spatial, context_axis):
    target = _blocks(spatial)
    image = np.broadcast_to(target.astype(np.float32), (*lead, *spatial)).copy()
    aug = Augmenter(GEOMETRIC, np.random.default_rng(0), context_axis)
    changed = False
    for _ in range(20):
        img, tgt = aug(image, target)
        assert img.shape == image.shape and tgt.shape == target.shape
        assert img.flags.c_contiguous and tgt.flags.c_contiguous
        for idx in np.ndindex(*lead):
            assert np.array_equal(img[idx], tgt.astype(np.float32))
        changed |= not np.array_equal(tgt, target)
    assert changed


def test_amplitude_changes_touch_only_the_image():
    target = _blocks((16, 16))
    image = np.random.default_rng(0).standard_normal((1, 16, 16)).astype(np.float32)
    cfg = AugmentConfig(flip=False, gain=0.5, polarity=1.0, noise=0.1)
    img, tgt = Augmenter(cfg, np.random.default_rng(1))(image, target)
    assert np.array_equal(tgt, target)
    assert np.corrcoef(img.ravel(), image.ravel())[0, 1] < -0.9  # polarity flipped, noise small


def test_elastic_distortion_moves_image_and_labels_together():
    target = _blocks((32, 32), seed=3, size=8)
    image = target.astype(np.float32)[None]
    field = elastic_field((32, 32), 3.0, np.random.default_rng(0))
    assert max(np.abs(f).max() for f in field) <= 3.0
    img, tgt = warp(image, target, field)
    assert not np.array_equal(tgt, target)
    inside = tgt >= 0
    # labels are resampled with nearest neighbours, the image linearly: they agree except on edges
    close = np.abs(img[0] - tgt)[inside] <= 0.5
    before = np.abs(img[0] - target)[inside] <= 0.5
    assert close.mean() > 0.9 and close.mean() > before.mean() + 0.05
    # a zero displacement is the identity
    zero = [np.zeros((32, 32), np.float32)] * 2
    img0, tgt0 = warp(image, target, zero)
    assert np.array_equal(tgt0, target) and np.allclose(img0, image)
    cfg = AugmentConfig(flip=False, gain=0.0, noise=0.0, elastic=2.0, elastic_p=1.0)
    img, tgt = Augmenter(cfg, np.random.default_rng(0))(image, target)
    assert img.shape == image.shape
    assert (tgt == -1).sum() < (target == -1).sum() + tgt.size // 4  # little pulled in from outside


def test_same_seed_same_augmentation():
    target = _blocks((16, 16))
    image = np.random.default_rng(0).standard_normal((3, 16, 16)).astype(np.float32)
    cfg = AugmentConfig(rotate90=True, elastic=2.0, elastic_p=0.5, polarity=0.5)
    a = [Augmenter(cfg, np.random.default_rng(7), 0)(image, target) for _ in range(2)]
    assert np.array_equal(a[0][0], a[1][0]) and np.array_equal(a[0][1], a[1][1])


def test_flip_time_false_never_turns_sections_upside_down():
    """With flip_time=False only the trace axis is mirrored; time keeps its direction."""
    spatial = (12, 20)  # (trace, sample) of a section
    target = np.broadcast_to(np.arange(20)[None, :], spatial).astype(np.int64)  # grows with time
    image = target[None].astype(np.float32)
    cfg = AugmentConfig(flip=True, flip_time=False, gain=0.0, noise=0.0)
    aug = Augmenter(cfg, np.random.default_rng(0))
    for _ in range(30):
        _, tgt = aug(image, target, time_dim=1)
        assert (np.diff(tgt, axis=1) > 0).all()
    both = Augmenter(AugmentConfig(flip=True, gain=0.0, noise=0.0), np.random.default_rng(0))
    flipped = [bool((np.diff(both(image, target, time_dim=1)[1], axis=1) < 0).all()) for _ in range(30)]
    assert any(flipped)  # the default still flips time


def test_the_sampler_tells_the_augmenter_which_patch_axis_is_time():
    from napari_seisseg.training.patch_sampler import PatchSampler
    from napari_seisseg.training.patches import make_layout

    shape = (6, 7, 16)  # inline, crossline, sample
    image = np.broadcast_to(np.arange(16, dtype=np.float32), shape).copy()
    target = np.zeros(shape, np.uint8)
    target[2] = 1
    target[:, 3] = 2
    layout = make_layout("2d", shape, 8, axes=(0, 1))
    cfg = AugmentConfig(flip=True, flip_time=False, gain=0.0, noise=0.0)
    sampler = PatchSampler(image, target, layout, lambda b, axis=-1: np.asarray(b, np.float32),
                           np.random.default_rng(0), augment=Augmenter(cfg, np.random.default_rng(1)))
    for _ in range(20):
        img, _ = sampler.sample()
        assert (np.diff(img[0], axis=-1) >= 0).all()  # time still increases along the last axis


def test_affine_field_is_identity_without_zoom_or_angle():
    for d in affine_field((17, 12), 1.0, 0.0):
        np.testing.assert_allclose(d, 0.0, atol=1e-5)


def test_zoom_enlarges_a_centred_body_and_keeps_labels_on_it():
    yy, xx = np.mgrid[:41, :41]
    disc = ((yy - 20) ** 2 + (xx - 20) ** 2 <= 8**2).astype(np.int64)
    image = disc[None].astype(np.float32)
    img, tgt = warp(image, disc, affine_field(disc.shape, 1.5, 0.0))
    assert 1.8 < (tgt == 1).sum() / (disc == 1).sum() < 2.7  # area grows by about 1.5**2
    assert set(np.unique(tgt)) <= {0, 1}  # zooming in pulls nothing from outside
    assert ((img[0] > 0.5) == (tgt == 1)).mean() > 0.98  # image and labels moved together


def test_rotation_turns_a_bar_and_marks_pulled_in_corners_unlabeled():
    target = np.zeros((33, 33), np.int64)
    target[16, :] = 1  # a horizontal bar along axis 1
    img, tgt = warp(target[None].astype(np.float32), target, affine_field(target.shape, 1.0, 90))
    assert (tgt[:, 16] == 1).sum() >= 30 and (tgt[16, :] == 1).sum() <= 3
    _, tgt = warp(target[None].astype(np.float32), target, affine_field(target.shape, 0.7, 0.0))
    assert (tgt == -1).any() and (tgt[16, 16] == 1)  # shrinking pulls in the outside: unlabeled


def test_zoom_and_rotation_options_are_checked_and_seeded():
    with pytest.raises(SeisSegError, match="scale"):
        AugmentConfig(scale=1.5).validate()
    with pytest.raises(SeisSegError, match="rotate"):
        AugmentConfig(rotate=-3).validate()
    cfg = AugmentConfig(scale=0.2, rotate=10, affine_p=1.0, gain=0.0, noise=0.0, flip=False)
    image = np.random.default_rng(0).normal(size=(1, 24, 24)).astype(np.float32)
    target = (image[0] > 0).astype(np.int64)
    a = Augmenter(cfg, np.random.default_rng(3))(image, target)
    b = Augmenter(cfg, np.random.default_rng(3))(image, target)
    np.testing.assert_array_equal(a[0], b[0])
    assert not np.allclose(a[0], image)


def test_named_extras_turn_on_their_fields_only():
    from napari_seisseg.training.config import AUGMENT_EXTRAS

    base = AugmentConfig(flip_time=False, gain=0.0)
    assert base.with_extras([]) == base
    zoom = base.with_extras(["Zoom", "elastic"])
    assert (zoom.scale, zoom.rotate, zoom.elastic) == (0.15, 5.0, 2.0)
    assert zoom.flip_time is False and zoom.gain == 0.0 and not zoom.rotate90
    assert set(AUGMENT_EXTRAS) == {"rotate90", "polarity", "elastic", "zoom", "maps", "copypaste"}
    for name, fields in AUGMENT_EXTRAS.items():
        one = base.with_extras([name])
        one.validate()
        assert all(getattr(one, k) == v for k, v in fields.items())
    with pytest.raises(SeisSegError, match="Unknown augmentation 'blur'"):
        base.with_extras(["blur"])


def test_time_slices_are_turned_as_maps_but_sections_holding_time_never_are():
    from napari_seisseg.training.augment import Augmenter

    image = np.arange(16, dtype=np.float32).reshape(1, 4, 4)
    target = np.arange(16).reshape(4, 4)
    cfg = AugmentConfig(flip=False, gain=0.0, noise=0.0)  # map_view on by default
    aug = Augmenter(cfg, np.random.default_rng(0))
    turned = set()
    for _ in range(40):
        img, tgt = aug(image, target, time_dim=None, context_is_time=True)
        np.testing.assert_array_equal(img[0], tgt)  # labels move with the image
        turned.add(tuple(tgt.ravel()))
    assert len(turned) == 8  # the 8 turns and mirrors of a square map
    for _ in range(20):  # an inline: time runs down it, it is never turned
        img, tgt = aug(image, target, time_dim=1, context_is_time=False)
        np.testing.assert_array_equal(tgt, target)
    off = Augmenter(AugmentConfig.none(), np.random.default_rng(0))
    assert np.array_equal(off(image, target, time_dim=None, context_is_time=True)[1], target)


def _bar_angle(target: np.ndarray) -> float:
    """Direction (degrees, modulo 180) of the labeled bar in ``target``, by its principal axis."""
    yy, xx = np.nonzero(target == 1)
    cov = np.cov(np.stack([yy - yy.mean(), xx - xx.mean()]))
    w, v = np.linalg.eigh(cov)
    return float(np.degrees(np.arctan2(v[0, -1], v[1, -1])) % 180)


def test_time_slices_turn_to_any_azimuth_but_sections_only_by_rotate():
    from napari_seisseg.training.config import MAP_ROTATE
    from napari_seisseg.training.time_slices import with_map_distortion

    target = np.zeros((41, 41), np.int64)
    target[20, 8:33] = 1  # a bar along axis 1: 0 degrees
    image = target[None].astype(np.float32)
    cfg = AugmentConfig(flip=False, gain=0.0, noise=0.0, rotate=5.0, map_rotate=45.0, affine_p=1.0)
    aug = Augmenter(cfg, np.random.default_rng(0))
    off_axis = []  # distance of each map's bar from the nearest quarter turn
    for _ in range(60):
        img, tgt = aug(image, target, time_dim=None, context_is_time=True)
        assert ((img[0] > 0.5) == (tgt == 1)).mean() > 0.97  # labels move with the image
        a = _bar_angle(tgt)
        off_axis.append(min(a % 90, 90 - a % 90))
    assert max(off_axis) > 30 and np.mean(off_axis) > 12  # spread over every azimuth
    for _ in range(30):  # an inline holds time: at most the small rotation of `rotate`
        _, tgt = aug(image, target, time_dim=1, context_is_time=False)
        a = _bar_angle(tgt)
        assert min(a, 180 - a) <= 6.0
    assert AugmentConfig().with_extras(["maps"]).map_rotate == MAP_ROTATE
    assert with_map_distortion(AugmentConfig()).map_rotate == 0  # an option, not the default
    with pytest.raises(SeisSegError, match="map_rotate"):
        AugmentConfig(map_rotate=-1).validate()
