"""Test-time transposes of the maps: a time-slice model predicts its time slices in all 8
turns and mirrors when its training turned them (BundleModel.test_time_turns)."""

from __future__ import annotations

import functools

import numpy as np
import pytest
import torch

from napari_seisseg.bundle import BundleModel
from napari_seisseg.bundle.normalize import Normalizer
from napari_seisseg.bundle.position import PositionSpec
from napari_seisseg.errors import SeisSegError
from napari_seisseg.inference import predict_bundle, predict_sections
from napari_seisseg.inference.passes import describe_passes
from napari_seisseg.io.geometry import SurveyGeometry
from napari_seisseg.jobs import drain
from napari_seisseg.models import create_model, model_spec

SHAPE = (20, 28, 9)  # inline, crossline, sample: oblong maps, larger than the patch
RNG = np.random.default_rng(7)
CUBE = (RNG.normal(size=SHAPE) * 50 + 3).astype(np.float32)
PREP = Normalizer(3.0, 50.0, 10.0)
TURNED = {"config": {"augment": {"map_view": True}}}


def _card(model, kind, **input_extra):
    return {
        "model": model_spec(model),
        "input": {"kind": kind, "context": int(model.context), "patch_size": [16, 16],
                  "axes": [0, 1, 2], "predict_axes": [2, 0, 1],
                  "axis_names": ["inline", "crossline", "sample"], "sample_axis": 2, **input_extra},
        "n_outputs": 3,
        "classes": [{"value": v, "name": f"c{v}"} for v in (1, 2, 3)],
        "preprocessing": PREP.to_dict(),
        "training": TURNED,
    }


@pytest.fixture(scope="module")
def hybrid():
    torch.manual_seed(0)
    model = create_model("hybrid", n_classes=3, width=4, depth=2, context=1).eval()
    return BundleModel.from_model(model, _card(model, "slab"), name="h")


def _geometry():
    return SurveyGeometry(kind="cube", n_samples=SHAPE[2], dt=4.0, ilines=np.arange(10, 10 + SHAPE[0]),
                          xlines=np.arange(200, 200 + SHAPE[1]), live=np.ones(SHAPE[:2], bool))


def test_a_slab_model_averages_the_transposed_cube_on_oblong_maps(hybrid):
    """The 8 turns and mirrors of each time slice are the 4 flips of the cube and the 4 flips
    of the cube with inline and crossline swapped: predicted both ways through the whole
    path (the hybrid's slabs, channels-last 3D, maps 20 x 28) they must agree."""
    norm = functools.partial(PREP, axis=2)
    kw = dict(axes=(2,), preprocess=norm, min_tile=(16, 16), tta=(0, 1), layout="slab")
    turned = drain(predict_sections(hybrid.model, CUBE, turn_axes=2, **kw))
    plain = drain(predict_sections(hybrid.model, CUBE, **kw))
    swapped = drain(predict_sections(hybrid.model, np.ascontiguousarray(CUBE.transpose(1, 0, 2)), **kw))
    np.testing.assert_allclose(turned, (plain + swapped.transpose(0, 2, 1, 3)) / 2, atol=1e-5)
    assert np.abs(turned - plain).max() > 1e-4


def test_the_bundle_turns_time_slices_only_and_says_so(hybrid):
    g = _geometry()
    norm = functools.partial(PREP, axis=2)
    told = drain(predict_bundle(hybrid, CUBE, geometry=g))
    every = drain(predict_sections(hybrid.model, CUBE, axes=(2, 0, 1), weights=(0.5, 0.25, 0.25),
                                   preprocess=norm, min_tile=(16, 16), tta=(0, 1), turn_axes=(2,),
                                   layout="slab"))
    np.testing.assert_allclose(told.probabilities, every, atol=1e-6)
    assert told.passes["turned"] == ["time"] and told.passes["sweeps"] == 12
    assert told.passes["text"].endswith("; time slices also transposed")
    assert told.notes[0].endswith("flips of inline and crossline, time slices over all 8 turns and mirrors "
                                  "(--no-tta to turn off): 12 sweeps of the image")
    plain = drain(predict_bundle(hybrid, CUBE, geometry=g, tta=False))
    assert plain.passes["turned"] == [] and plain.passes["sweeps"] == 3
    assert "no test-time flips (--tta to average flips and transposes): 3 sweeps" in plain.notes[0]
    # a quick look along time turns its slice; along an inline, nothing is turned
    quick = drain(predict_bundle(hybrid, CUBE, geometry=g, slice_index=4, slice_axis="sample")).passes
    assert quick["orientations"] == ["time"] and quick["turned"] == ["time"] and quick["sweeps"] == 8
    inline = drain(predict_bundle(hybrid, CUBE, geometry=g, orientations="inline")).passes
    assert inline["turned"] == [] and inline["sweeps"] == 2
    # direct callers: transposes without flips, or with one map axis flipped, are named
    # as what they are (not the 8 turns and mirrors)
    names = ["inline", "crossline", "time"]
    _, line = describe_passes(hybrid, (2,), False, names, turns=(2,))
    assert "no test-time flips, time slices over their transposes (--no-tta to turn off)" in line
    _, line = describe_passes(hybrid, (2, 0), (0, 2), names, turns=(2,))
    assert "flips of inline and time, time slices over their transposes" in line


def test_a_position_channel_model_turns_its_time_slices_only():
    torch.manual_seed(0)
    model = create_model("unet2d", n_classes=3, in_channels=2, width=4, depth=2).eval()
    spec = PositionSpec(SHAPE[2])
    bm = BundleModel.from_model(model, _card(model, "2d", position=spec.to_dict()))
    told = drain(predict_bundle(bm, CUBE, geometry=_geometry(), orientations="sample", time_prior=False))
    assert told.passes["turned"] == ["time"] and told.passes["sweeps"] == 8
    position = (spec, 2, 0)
    with pytest.raises(SeisSegError, match="only its time slices"):
        predict_sections(model, CUBE, axes=(0, 2), turn_axes=(0,), position=position)
    with pytest.raises(SeisSegError, match="among the axes swept"):
        predict_sections(model, CUBE, axes=(0,), turn_axes=2, position=position)
    with pytest.raises(SeisSegError, match="turn_axes must be section axes"):
        predict_sections(lambda x: x, CUBE, axes=(2,), turn_axes=(5,))
    assert drain(predict_sections(lambda x: x, CUBE, axes=(2,), turn_axes=None)).shape == (1, *SHAPE)
