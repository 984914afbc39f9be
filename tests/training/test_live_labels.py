"""Labels handed into a live run: merged by region or whole, the latest strokes favoured."""

from __future__ import annotations

import numpy as np

from napari_seisseg.training.live_labels import RECENT_SHARE, StrokeSampler
from napari_seisseg.training.patches import make_layout


def _identity(block, axis=-1):
    return block.astype(np.float32)


def test_the_stroke_sampler_draws_a_share_of_centres_from_the_latest_stroke():
    target = np.zeros((6, 40, 40), np.uint8)
    target[1] = 1  # a whole painted section of class 1
    target[3, 10:12, 10:12] = 1  # the stroke: 4 voxels of 3200
    recent = np.flatnonzero(target * (np.arange(6) == 3)[:, None, None])
    layout = make_layout("2d", target.shape, 8, axes=(0,))
    s = StrokeSampler(np.zeros(target.shape, np.float32), target, layout, _identity,
                      np.random.default_rng(0), n_classes=1, recent=recent)
    centres = [s.draw_center() for _ in range(4000)]
    share = np.mean([c[1][0] == 3 for c in centres])
    assert abs(share - RECENT_SHARE) < 0.03  # without it: 4 / 1604 of the centres
    assert all(target[c[1]] == c[0] + 1 for c in centres) and s.drawn.sum() == 4000
    plain = StrokeSampler(np.zeros(target.shape, np.float32), target, layout, _identity,
                          np.random.default_rng(0), n_classes=1, recent=np.zeros(0, np.int64))
    assert np.mean([plain.draw_center()[1][0] == 3 for _ in range(4000)]) < 0.01


def test_a_region_lands_where_the_whole_array_would_in_napari_order():
    from training_helpers import TINY, sections_only, toy_cube

    from napari_seisseg.io.geometry import SurveyGeometry
    from napari_seisseg.training import TrainConfig
    from napari_seisseg.training.live_control import LabelUpdate
    from napari_seisseg.training.live_labels import LiveLabels
    from napari_seisseg.training.session import build_session

    image, truth = toy_cube(shape=(12, 20, 16))  # (inline, sample, crossline) as in napari
    geo = SurveyGeometry(kind="cube", n_samples=20, dt=4.0, ilines=np.arange(100, 112),
                         xlines=np.arange(300, 316), axes=("inline", "sample", "crossline"))
    labels = sections_only(truth, 0, [2, 6, 9])
    config = TrainConfig(model="unet2d", model_kwargs=dict(TINY), patch_size=16, batch_size=2,
                         epochs=None, minutes=None)
    s = build_session(image, labels, config, geometry=geo, until_stopped=True)
    live = LiveLabels(s, labels, None, geo, config, "2d")
    region = (slice(4, 5), slice(3, 11), slice(5, 9))
    live.merge(LabelUpdate(truth[region].copy(), region))
    painted = labels.copy()
    painted[region] = truth[region]
    whole = LiveLabels(s, painted, None, geo, config, "2d")
    np.testing.assert_array_equal(live.target, whole.target)
    live.rebuild()
    assert live.recent.size == s.sampler.recent.size > 0
    assert (s.data.target.flat[live.recent] != 0).all()
    assert s.sampler.n_labeled == int(np.count_nonzero(s.data.target))


def test_new_strokes_train_and_validation_never_takes_voxels_already_trained_on():
    from training_helpers import TINY, sections_only, toy_cube

    from napari_seisseg.training import TrainConfig
    from napari_seisseg.training.live_control import LabelUpdate
    from napari_seisseg.training.live_labels import LiveLabels
    from napari_seisseg.training.session import build_session

    image, truth = toy_cube(shape=(16, 24, 24))
    painted_sections = [0, 2, 4, 6, 8, 10, 12, 14, 1]
    labels = sections_only(truth, 0, painted_sections)
    config = TrainConfig(model="unet2d", model_kwargs=dict(TINY), patch_size=16, batch_size=2,
                         epochs=None, minutes=None, axes=(0,))
    s = build_session(image, labels, config, until_stopped=True)
    trained = s.data.target != 0  # the voxels the run trains on before any update
    live = LiveLabels(s, labels, None, None, config, "2d")
    for section in (3, 5, 15):  # each stroke (a whole new section) handed in, then rebuilt
        region = (slice(section, section + 1), slice(None), slice(None))
        live.merge(LabelUpdate(truth[region].copy(), region))
        live.rebuild()
        held = s.data.held.read([slice(0, n) for n in s.data.held.shape]) != 0
        assert not (held & trained).any()  # no voxel trained on becomes a validation voxel
        stroke = np.zeros(truth.shape, bool)
        stroke[section] = truth[section] != 0
        assert (s.data.target[stroke] != 0).all()  # the whole stroke is trained on
        trained |= s.data.target != 0


def test_the_loss_weights_are_counted_again_from_the_updated_paint():
    from training_helpers import TINY, sections_only, toy_cube

    from napari_seisseg.training import TrainConfig
    from napari_seisseg.training.labels import value_counts
    from napari_seisseg.training.live_control import LabelUpdate
    from napari_seisseg.training.live_labels import LiveLabels
    from napari_seisseg.training.losses import auto_pos_weight, class_weights
    from napari_seisseg.training.session import build_session

    image, truth = toy_cube(shape=(16, 24, 24))
    labels = sections_only(truth, 0, [0, 4, 8, 12])
    config = TrainConfig(model="unet2d", model_kwargs=dict(TINY), patch_size=16, batch_size=2,
                         epochs=None, minutes=None, axes=(0,), pos_weight="auto")
    s = build_session(image, labels, config, until_stopped=True)
    assert s.binary  # two classes: the salt-like class's pos_weight is counted too
    before, pos_before = list(s.loss_fn.class_weights), s.loss_fn.pos_weight
    live = LiveLabels(s, labels, None, None, config, "2d")
    rare = np.where(truth == truth.max(), truth, 0)  # only the last class, on every section
    live.merge(LabelUpdate(rare, tuple(slice(None) for _ in truth.shape)))
    live.rebuild()
    counts = value_counts(s.data.target, len(s.data.classes) + 1)[1:]
    assert np.array_equal(s.train_counts, counts)
    assert s.loss_fn.class_weights == class_weights(config, counts, s.data.classes)
    assert s.loss_fn.class_weights != before  # far more of the last class now
    assert s.loss_fn.pos_weight == auto_pos_weight(counts) < pos_before
