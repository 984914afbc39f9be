"""Settings, preprocessing pipelines, survey geometry and explicit validation labels."""

from __future__ import annotations

import json

import numpy as np
import pytest
from training_helpers import TINY, sections_only, toy_cube

from napari_seisseg.bundle import Normalizer
from napari_seisseg.bundle.classes import build_classes
from napari_seisseg.errors import SeisSegError
from napari_seisseg.jobs import drain
from napari_seisseg.training import TrainConfig, train
from napari_seisseg.training.config import AugmentConfig
from napari_seisseg.training.losses import class_weights
from napari_seisseg.training.patches import make_layout, read_window


def _config(**kw):
    base = dict(
        model="unet2d",
        model_kwargs=dict(TINY),
        patch_size=24,
        batch_size=4,
        epochs=1,
        steps_per_epoch=2,
    )
    base.update(kw)
    return TrainConfig(**base)


def test_config_round_trips_through_json_and_checks_values():
    cfg = TrainConfig(
        model="hybrid", model_kwargs={"context": 2}, patch_size=(96, 64), axes=0,
        class_weights={1: 1.0, 3: 4.0}, augment=AugmentConfig(rotate90=True), minutes=3.5,
    )  # fmt: skip
    assert cfg.axes == (0,)
    back = TrainConfig.from_dict(json.loads(json.dumps(cfg.to_dict())))
    assert back == cfg
    for bad, match in (
        (dict(epochs=None, minutes=None), "budget"),
        (dict(val_fraction=1.0), "val_fraction"),
        (dict(device="tpu"), "device must be one of"),
        (dict(loss="focal"), "loss must be one of"),
        (dict(axes=(3,)), "axes"),
        (dict(batch_size=0), "batch_size"),
        (dict(augment=AugmentConfig(polarity=2.0)), "probability"),
    ):
        with pytest.raises(SeisSegError, match=match):
            TrainConfig(**bad).validate()
    with pytest.raises(SeisSegError, match="Unknown training setting"):
        TrainConfig.from_dict({"learning_rate": 0.1})


def test_class_weight_choices():
    classes = build_classes([1, 2, 5])
    counts = np.array([900, 100, 0])
    auto = class_weights(TrainConfig(class_weights="auto"), counts, classes)
    assert auto[1] == pytest.approx(3 * auto[0]) and auto[2] == 1.0
    assert class_weights(TrainConfig(class_weights={5: 2.0}), counts, classes) == [1.0, 1.0, 2.0]
    with pytest.raises(SeisSegError, match="one weight per class"):
        class_weights(TrainConfig(class_weights=[1.0, 2.0]), counts, classes)


def test_pipeline_is_applied_per_patch_exactly_and_stored_in_the_card():
    from napari_seisseg.preprocess import AGC, Pipeline, Standardize

    image, truth = toy_cube()
    image = image * np.linspace(1, 20, image.shape[2], dtype=np.float32)  # amplitude decay to undo
    pipe = Pipeline([AGC(window=5, unit="samples"), Standardize()]).fit(image, axis=-1)
    norm = Normalizer(0.0, 1.0, clip=1e9, pipeline=pipe)
    assert norm.halo == pipe.halo != (0, 0)
    layout = make_layout("2d", image.shape, 8, axes=(0,), sample_axis=2)
    patch, _ = read_window(image, None, layout, norm, (5, 9), axis=0, index=4)
    whole = pipe.apply(image, axis=-1)
    assert np.allclose(patch[0], whole[4, 5:13, 9:17], atol=1e-6)
    labels = sections_only(truth, 0, [2, 6, 9])
    result = drain(train(image, labels, _config(), pipeline=pipe))
    pre = result.card["preprocessing"]
    assert [s["kind"] for s in pre["pipeline"]["steps"]] == ["agc", "standardize"]
    again = Normalizer.from_dict(pre)
    block = image[3:5]
    assert np.array_equal(
        again(block, axis=2), Normalizer.from_dict(json.loads(json.dumps(pre)))(block, axis=2)
    )


def test_napari_order_with_geometry_trains_in_canonical_order():
    from napari_seisseg.io.geometry import SurveyGeometry

    image, truth = toy_cube(shape=(12, 20, 16))  # (inline, sample, crossline) as in napari
    geo = SurveyGeometry(
        kind="cube", n_samples=20, dt=4.0, ilines=np.arange(100, 112), xlines=np.arange(300, 316),
        axes=("inline", "sample", "crossline"),
    )  # fmt: skip
    labels = sections_only(truth, 2, [3, 8, 12])  # three crosslines
    result = drain(train(image, labels, _config(axes=(2,)), geometry=geo))
    card = result.card
    assert card["input"]["axis_names"] == ["inline", "crossline", "sample"]
    assert (
        card["input"]["section_axis_names"] == ["crossline"] and card["input"]["sample_axis"] == 2
    )
    axis = card["labels"]["axes"][1]
    assert axis["name"] == "crossline" and axis["section_coordinates"] == [303.0, 308.0, 312.0]
    assert card["validation"]["split"]["axis"] == 1


def test_explicit_validation_labels():
    image, truth = toy_cube()
    labels = sections_only(truth, 0, [2, 6])
    val = sections_only(truth, 0, [9])
    result = drain(train(image, labels, _config(), val_labels=val))
    split = result.card["validation"]["split"]
    assert split["slices"] == [9] and "validation labels layer" in split["description"]
    assert result.best_metrics["voxels"] == 24 * 24
    with pytest.raises(SeisSegError, match="validation labels have shape"):
        next(train(image, labels, _config(), val_labels=val[:, :3]))

