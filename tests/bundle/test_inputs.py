"""What a bundle's model reads: the normaliser for an image, and whether it is preprocessed."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from napari_seisseg.bundle import (
    BundleModel,
    Normalizer,
    input_normalizer,
    pipeline_already_applied,
)
from napari_seisseg.errors import SeisSegError
from napari_seisseg.models import create_model, model_spec
from napari_seisseg.preprocess import PercentileClip, Pipeline

CUBE = (np.random.default_rng(0).normal(size=(6, 8, 20)) * 30 + 5).astype(np.float32)


def _bundle(pipeline=None):
    torch.manual_seed(0)
    net = create_model("unet2d", n_classes=2, width=4, depth=1).eval()
    card = {"model": model_spec(net), "input": {"kind": "2d", "sample_axis": 2}, "n_outputs": 2,
            "classes": [{"value": 1, "name": "a"}, {"value": 2, "name": "b"}],
            "preprocessing": Normalizer(0.0, 10.0, 4.0, pipeline).to_dict()}
    return BundleModel.from_model(net, card)


def test_stored_statistics_are_the_cards():
    bm = _bundle()
    assert input_normalizer(bm, CUBE) is bm.normalizer


def test_refit_statistics_come_from_the_image_and_keep_the_clip():
    norm = input_normalizer(_bundle(), CUBE, statistics="refit")
    assert norm.clip == 4.0 and norm.center == pytest.approx(np.median(CUBE), abs=0.5)
    with pytest.raises(SeisSegError, match="statistics must be one of"):
        input_normalizer(_bundle(), CUBE, statistics="mean")


def test_an_applied_pipeline_is_left_out_and_recognised():
    pipe = Pipeline([PercentileClip(5.0, 95.0)]).fit(CUBE, axis=2)
    bm = _bundle(pipe)
    norm = input_normalizer(bm, CUBE, pipeline_applied=True)
    assert norm.pipeline is None and (norm.center, norm.scale) == (0.0, 10.0)
    assert pipeline_already_applied(bm, pipe.to_dict()) is True
    assert pipeline_already_applied(bm, None) is False
    assert pipeline_already_applied(_bundle(), pipe.to_dict()) is False
