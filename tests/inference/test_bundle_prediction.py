"""Bundle -> prediction: card settings, axis orders, preprocessing, masks, quick looks, bad input."""

from __future__ import annotations

import functools

import numpy as np
import pytest
import torch
from torch import nn

from napari_seisseg.bundle import BundleModel, pipeline_already_applied, save_bundle
from napari_seisseg.bundle.lateral_prior import LateralPrior
from napari_seisseg.bundle.normalize import Normalizer
from napari_seisseg.bundle.prior_application import combine
from napari_seisseg.errors import SeisSegError
from napari_seisseg.inference import (
    predict_bundle,
    predict_bundle_dask,
    predict_sections,
    predict_volume,
)
from napari_seisseg.inference.array_views import DerivedArray
from napari_seisseg.io.geometry import SurveyGeometry
from napari_seisseg.jobs import drain
from napari_seisseg.models import create_model, model_spec

SHAPE = (6, 8, 12)  # inline, crossline, sample
RNG = np.random.default_rng(5)
CUBE = (RNG.normal(size=SHAPE) * 50 + 3).astype(np.float32)
PREP = Normalizer(3.0, 50.0, 10.0).to_dict()


def classes(values=(1, 2, 3)):
    return [{"value": v, "name": f"c{v}", "color": [0.1 * i, 0.5, 0.5, 1.0]} for i, v in enumerate(values)]


def card_for(model, *, values=(1, 2, 3), binary=False, patch=None, axes=(0, 1, 2), threshold=0.5,
             preprocessing=PREP):
    kind = "3d" if model.spatial_dims == 3 else "2d"
    return {
        "model": model_spec(model) if hasattr(model, "spec") else {"name": "echo"},
        "input": {"kind": kind, "context": int(getattr(model, "context", 0)),
                  "patch_size": list(patch or ((8, 8, 8) if kind == "3d" else (16, 16))),
                  "axes": list(axes), "axis_names": ["inline", "crossline", "sample"],
                  "sample_axis": 2},
        "n_outputs": 1 if binary else len(values),
        "binary": binary,
        "threshold": threshold,
        "classes": classes(values),
        "preprocessing": preprocessing,
    }


def geometry(axes=None, dead=((1, 2),)):
    live = np.ones(SHAPE[:2], bool)
    for i, j in dead:
        live[i, j] = False
    g = SurveyGeometry(kind="cube", n_samples=SHAPE[2], dt=4.0, ilines=np.arange(10, 10 + SHAPE[0]),
                       xlines=np.arange(200, 200 + 2 * SHAPE[1], 2), live=live)
    return g if axes is None else g.transpose_to(CUBE, axes)[1]


@pytest.fixture(scope="module")
def unet2d():
    torch.manual_seed(0)
    model = create_model("unet2d", n_classes=3, width=4, depth=2, context=1).eval()
    return BundleModel.from_model(model, card_for(model, values=(1, 4, 9)), name="u2")


class Echo3D(nn.Module):
    """A '3D model' whose single logit is its input: probabilities are sigmoid(input)."""

    spatial_dims = 3
    input_dims = 3
    in_channels = 1
    input_channels = 1
    n_classes = 1
    context = 0

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        return x + self.w


def test_display_order_matches_canonical_and_dead_traces_stay_dead(unet2d):
    g = geometry()
    ref = drain(predict_bundle(unet2d, CUBE, geometry=g, device="cpu"))
    disp, gd = g.transpose_to(CUBE, g.display_axes)
    res = drain(predict_bundle(unet2d, disp, geometry=gd, device="cpu"))
    assert res.probabilities.shape == (3, 6, 12, 8)
    np.testing.assert_allclose(res.probabilities, ref.probabilities.transpose(0, 1, 3, 2), atol=1e-6)
    # same as the core with the card's normaliser, on inline sections with 2.5D context
    norm = functools.partial(Normalizer.from_dict(PREP), axis=2)
    # sections (8 x 12) smaller than the training patch (16 x 16) are padded up to it
    core = drain(predict_sections(unet2d.model, CUBE, axes=(0,), preprocess=norm,
                                              dead_mask=~g.live, min_tile=(16, 16)))
    np.testing.assert_allclose(ref.probabilities, core, atol=1e-6)
    assert (res.probabilities[:, 1, :, 2] == 0).all()  # the dead trace (inline 1, crossline 2)
    mask, unc = res.mask(), res.uncertainty()
    assert mask.shape == unc.shape == (6, 12, 8)
    assert set(np.unique(mask)) <= {0, 1, 4, 9} and (mask[1, :, 2] == 0).all()
    assert (mask[res.dead_mask.repeat(12, axis=1) == 0] != 0).all()
    assert (unc[1, :, 2] == 0).all() and unc.max() <= 1.0
    expected = np.asarray([1, 4, 9])[np.argmax(res.probabilities, axis=0)]
    live = ~np.broadcast_to(res.dead_mask, mask.shape)
    np.testing.assert_array_equal(mask[live], expected[live])
    # lazily derived arrays equal the in-memory ones, whatever is indexed
    lazy = res.lazy_mask()
    assert isinstance(lazy, DerivedArray) and lazy.dtype == np.uint8
    np.testing.assert_array_equal(np.asarray(lazy), mask)
    np.testing.assert_array_equal(lazy[2], mask[2])
    np.testing.assert_array_equal(lazy[1:5, 3], mask[1:5, 3])
    np.testing.assert_allclose(res.lazy_uncertainty()[:, :, 4], unc[:, :, 4], atol=1e-6)
    np.testing.assert_allclose(res.channel(1)[3], res.probabilities[1, 3])


def test_orientations_are_averaged_and_named(unet2d):
    g = geometry(dead=())
    both = drain(predict_bundle(unet2d, CUBE, geometry=g, orientations="inline,xl"))
    norm = functools.partial(Normalizer.from_dict(PREP), axis=2)
    core = drain(predict_sections(unet2d.model, CUBE, axes=(0, 1), preprocess=norm,
                                              min_tile=(16, 16)))
    np.testing.assert_allclose(both.probabilities, core, atol=1e-6)


def test_a_time_slice_model_weighs_its_painted_orientation_as_much_as_the_others(unet2d):
    card = {**unet2d.card, "input": {**unet2d.card["input"], "predict_axes": [2, 0, 1]}}
    bm = BundleModel.from_model(unet2d.model, card)
    g = geometry(dead=())
    alone = {name: drain(predict_bundle(bm, CUBE, geometry=g, orientations=name)).probabilities
             for name in ("inline", "crossline", "sample")}
    default = drain(predict_bundle(bm, CUBE, geometry=g)).probabilities  # the card's three
    expected = 0.5 * alone["sample"] + 0.25 * (alone["inline"] + alone["crossline"])
    np.testing.assert_allclose(default, expected, atol=1e-6)
    asked = drain(predict_bundle(bm, CUBE, geometry=g, orientations="inline,xl,sample"))
    np.testing.assert_allclose(asked.probabilities, expected, atol=1e-6)
    two = drain(predict_bundle(bm, CUBE, geometry=g, orientations="inline,sample")).probabilities
    np.testing.assert_allclose(two, (alone["inline"] + alone["sample"]) / 2, atol=1e-6)
    # napari's display order (time before crossline): the weights follow the axes' meaning
    disp, gd = g.transpose_to(CUBE, g.display_axes)
    shown = drain(predict_bundle(bm, disp, geometry=gd)).probabilities
    np.testing.assert_allclose(shown, expected.transpose(0, 1, 3, 2), atol=1e-6)


def test_a_time_slice_model_flips_its_maps_by_default(unet2d):
    card = {**unet2d.card, "input": {**unet2d.card["input"], "predict_axes": [2, 0, 1]}}
    bm = BundleModel.from_model(unet2d.model, card)
    g = geometry(dead=())
    default = drain(predict_bundle(bm, CUBE, geometry=g, orientations="sample")).probabilities
    plain = drain(predict_bundle(bm, CUBE, geometry=g, orientations="sample", tta=False))
    # the maps (inline, crossline) flipped and flipped back, averaged: four predictions
    norm = functools.partial(Normalizer.from_dict(PREP), axis=2)
    core = drain(predict_sections(bm.model, CUBE, axes=(2,), preprocess=norm, min_tile=(16, 16),
                                  tta=(0, 1)))
    np.testing.assert_allclose(default, core, atol=1e-6)
    assert np.abs(default - plain.probabilities).max() > 1e-4  # the flips changed something
    # the three orientations: each flips the maps only (the inlines their crosslines, the
    # crosslines their inlines), never time
    told = drain(predict_bundle(bm, CUBE, geometry=g))
    three = told.probabilities
    # said and recorded: which orientations, their weights, which axes were flipped
    names = ["inline", "crossline", "time"]  # as interpreters (and the widgets) call them
    assert told.passes == {"orientations": [names[2], names[0], names[1]], "weights": [0.5, 0.25, 0.25],
                           "flips": [names[0], names[1]], "turned": [], "sweeps": 8,
                           "text": (f"along {names[2]}, {names[0]} and {names[1]} sections (weights 0.50, "
                                    f"0.25, 0.25); flips of {names[0]} and {names[1]}")}
    assert told.notes[0] == (f"predicted along {names[2]}, {names[0]} and {names[1]} sections (weights "
                             f"0.50, 0.25, 0.25), each averaged over test-time flips of {names[0]} and {names[1]} "
                             "(--no-tta to turn off): 8 sweeps of the image")
    assert plain.passes["flips"] == [] and plain.passes["sweeps"] == 1
    # named as the image calls its axes: a plain array by its axis numbers, in any order
    bare = drain(predict_bundle(bm, CUBE, orientations=(2,), tta=True))
    assert bare.passes["orientations"] == ["axis 2"] and bare.passes["flips"] == ["axis 0", "axis 1"]
    # one orientation never flips its own axis: along inlines, the crosslines only (2 sweeps)
    one = drain(predict_bundle(bm, CUBE, geometry=g, orientations="inline")).passes
    assert one["flips"] == ["crossline"] and one["sweeps"] == 2 and one["weights"] is None
    every = drain(predict_bundle(unet2d, CUBE, geometry=g, orientations="inline", tta=True)).passes
    assert every["flips"] == ["crossline", "time"] and every["sweeps"] == 4
    quick = drain(predict_bundle(unet2d, CUBE, geometry=g, slice_index=3, tta=True)).passes
    assert quick["orientations"] == ["inline"] and quick["flips"] == ["crossline", "time"]
    # a single 2D section: its traces flipped (a time-slice model never flips time)
    line = drain(predict_bundle(bm, CUBE[2])).passes
    assert line["orientations"] == ["section"] and line["flips"] == ["axis 0"] and line["sweeps"] == 2
    assert line["text"].startswith("on the single section")
    disp, gd = g.transpose_to(CUBE, ("sample", "crossline", "inline"))
    shown = drain(predict_bundle(bm, disp, geometry=gd, orientations="sample"))
    assert shown.passes["orientations"] == ["time"] and shown.passes["flips"] == ["inline", "crossline"]
    assert "no test-time flips (--tta to average flips)" in plain.notes[0]
    maps = drain(predict_sections(bm.model, CUBE, axes=(2, 0, 1), weights=(0.5, 0.25, 0.25),
                                  preprocess=norm, min_tile=(16, 16), tta=(0, 1)))
    np.testing.assert_allclose(three, maps, atol=1e-6)
    every = drain(predict_sections(bm.model, CUBE, axes=(2, 0, 1), weights=(0.5, 0.25, 0.25),
                                   preprocess=norm, min_tile=(16, 16), tta=True))
    assert np.abs(three - every).max() > 1e-4
    # an inline model flips nothing unless asked
    assert not unet2d.flips_by_default
    # what prediction averages by default, in words (the run's note when training ends)
    from napari_seisseg.inference.passes import describe_default_passes

    assert describe_default_passes(bm, (2, 0, 1), names) == (
        "along time, inline and crossline sections (weights 0.50, 0.25, 0.25) by default, each "
        "averaged over test-time flips of inline and crossline")
    assert describe_default_passes(unet2d, (0,), names) == (
        "along inline sections by default, no test-time flips")
    ref = drain(predict_bundle(unet2d, CUBE, geometry=g)).probabilities
    off = drain(predict_bundle(unet2d, CUBE, geometry=g, tta=False)).probabilities
    np.testing.assert_array_equal(ref, off)


def test_slice_only_equals_that_slice_of_the_whole_cube(unet2d):
    g = geometry()
    disp, gd = g.transpose_to(CUBE, g.display_axes)
    whole = drain(predict_bundle(unet2d, disp, geometry=gd))
    for i in (0, 3, 5):
        one = drain(predict_bundle(unet2d, disp, geometry=gd, slice_index=i))
        assert one.probabilities.shape == (3, 1, 12, 8)
        np.testing.assert_allclose(one.probabilities[:, 0], whole.probabilities[:, i], atol=1e-6)
        assert one.region[0] == slice(i, i + 1) and list(one.geometry.ilines) == [10 + i]
        assert one.geometry.shape == (1, 12, 8) and one.mask().shape == (1, 12, 8)
    with pytest.raises(SeisSegError, match="outside the image"):
        predict_bundle(unet2d, disp, geometry=gd, slice_index=6)


def test_3d_model_disk_output_equals_memory_and_slice_look(tmp_path):
    torch.manual_seed(1)
    model = create_model("unet3d", n_classes=2, width=2, depth=1).eval()
    bm = BundleModel.from_model(model, card_for(model, values=(1, 2), patch=(4, 8, 8)))
    mem = drain(predict_bundle(bm, CUBE, out_dtype="float16"))
    disk = drain(predict_bundle(bm, CUBE, out=tmp_path / "p.npy", out_dtype="float16"))
    assert isinstance(disk.probabilities, np.memmap) and disk.probabilities.dtype == np.float16
    np.testing.assert_array_equal(np.asarray(disk.probabilities), mem.probabilities)
    norm = functools.partial(Normalizer.from_dict(PREP), axis=2)
    core = drain(predict_volume(model, CUBE, window=(4, 8, 8), batch_size=2,
                                            preprocess=norm, out_dtype="float16"))
    np.testing.assert_array_equal(core, mem.probabilities)
    one = drain(predict_bundle(bm, CUBE, slice_index=2))
    assert one.probabilities.shape == (2, 1, 8, 12)
    with pytest.raises(SeisSegError, match="3D model"):
        predict_bundle(bm, CUBE, orientations=[0])


def test_agc_pipeline_reads_its_margin_like_training():
    from napari_seisseg.preprocess import AGC, Pipeline, Standardize

    pipe = Pipeline([AGC(window=5, unit="samples"), Standardize()]).fit(CUBE, axis=-1)
    norm = Normalizer(0.1, 2.0, 10.0, pipe)
    assert norm.halo != (0, 0)
    card = card_for(Echo3D(), values=(1, 2), binary=True, patch=(4, 4, 4),
                    preprocessing=norm.to_dict())
    bm = BundleModel.from_model(Echo3D(), card)
    res = drain(predict_bundle(bm, CUBE, window=(4, 4, 4), blend="linear"))
    whole = Normalizer.from_dict(norm.to_dict())(CUBE, axis=2)  # the cube normalised at once
    np.testing.assert_allclose(res.probabilities[0], 1 / (1 + np.exp(-whole)), atol=1e-5)


def test_binary_mask_uses_the_card_threshold_and_values():
    card = card_for(Echo3D(), values=(5, 7), binary=True, threshold=0.7, preprocessing=None)
    bm = BundleModel.from_model(Echo3D(), card)
    x = np.linspace(-3, 3, 4 * 4 * 6, dtype=np.float32).reshape(4, 4, 6)
    res = drain(predict_bundle(bm, x, window=4, dead_mask=None))
    p = 1 / (1 + np.exp(-x))
    np.testing.assert_allclose(res.probabilities[0], p, atol=1e-5)
    assert res.channel_names == ["c7"]
    np.testing.assert_array_equal(res.mask(), np.where(p >= 0.7, 7, 5))
    np.testing.assert_array_equal(res.mask(threshold=0.2), np.where(p >= 0.2, 7, 5))
    np.testing.assert_array_equal(np.asarray(res.lazy_mask(0.2)), res.mask(0.2))
    top = res.rank_slices(axis=2, n=2)
    assert sorted(top) == [2, 3]  # the middle samples are nearest 0.5


def test_a_2d_section_needs_a_section_model(unet2d):
    section = CUBE[2]
    res = drain(predict_bundle(unet2d, section, slice_index=1))
    assert res.probabilities.shape == (3, 8, 12)
    norm = functools.partial(Normalizer.from_dict(PREP), axis=2)
    core = drain(predict_sections(unet2d.model, section[None], axes=(0,), preprocess=norm,
                                              min_tile=(16, 16)))
    np.testing.assert_allclose(res.probabilities, core[:, 0], atol=1e-6)
    model3d = create_model("unet3d", n_classes=3, width=2, depth=1)
    with pytest.raises(SeisSegError, match="needs a cube"):
        predict_bundle(BundleModel.from_model(model3d, card_for(model3d)), section)
    with pytest.raises(SeisSegError, match="4D"):
        predict_bundle(unet2d, CUBE[None])


def test_bundles_that_do_not_fit_are_refused(tmp_path, unet2d):
    rgb = create_model("unet2d", in_channels=3, n_classes=3, width=4, depth=1)
    with pytest.raises(SeisSegError, match="3 input channels"):
        BundleModel.from_model(rgb, card_for(rgb))
    two = create_model("unet2d", n_classes=2, width=4, depth=1)
    with pytest.raises(SeisSegError, match="predicts 2 classes but its card lists 3"):
        BundleModel.from_model(two, {**card_for(two), "n_outputs": None})
    with pytest.raises(SeisSegError, match="output channels"):
        BundleModel.from_model(two, card_for(two))
    with pytest.raises(SeisSegError, match="3d input"):
        BundleModel.from_model(two, {**card_for(two, values=(1, 2)), "input": {"kind": "3d"}})
    g = geometry()
    with pytest.raises(SeisSegError, match="geometry describes"):
        predict_bundle(unet2d, CUBE[:, :4], geometry=g)
    # damaged files
    good = save_bundle(tmp_path / "m.seisseg", unet2d.model, unet2d.card)
    assert BundleModel.load(good).name == "m"
    raw = good.read_bytes()
    (tmp_path / "cut.seisseg").write_bytes(raw[: len(raw) - 200])
    (tmp_path / "noise.seisseg").write_bytes(RNG.bytes(4000))
    torch.save(unet2d.model.state_dict(), tmp_path / "pickle.pt")
    for name, match in [("cut.seisseg", "damaged|do not fit"), ("noise.seisseg", "not a napari-seisseg"),
                        ("pickle.pt", "zip archive"), ("missing.seisseg", "does not exist")]:
        with pytest.raises(SeisSegError, match=match):
            BundleModel.load(tmp_path / name)


def test_dask_path_equals_the_in_process_path(tmp_path):
    pytest.importorskip("zarr")
    from napari_seisseg.io import write_volume

    torch.manual_seed(2)
    model = create_model("unet3d", n_classes=2, width=2, depth=1).eval()
    card = card_for(model, values=(1, 2), patch=(4, 8, 8))
    path = save_bundle(tmp_path / "m3.seisseg", model, card)
    g = geometry()
    zin = write_volume(tmp_path / "cube.zarr", CUBE, g, chunks=(3, 4, 12))
    ref = drain(predict_bundle(path, CUBE, geometry=g))
    out = drain(predict_bundle_dask(path, zin, tmp_path / "p.zarr", scheduler="sync"))
    np.testing.assert_allclose(np.asarray(out.probabilities[:]), ref.probabilities, atol=1e-5)
    np.testing.assert_array_equal(out.mask(), ref.mask())
    assert out.notes == ["predicted in 3D windows, no test-time flips (--tta to average flips): 1 sweep of the image"]
    assert out.passes == {"orientations": None, "weights": None, "flips": [], "turned": [], "sweeps": 1,
                          "text": "in 3D windows"}
    # a model with painted traces: the Dask path says it predicts without them
    with_traces, _ = _with_lateral(BundleModel.load(path))
    told = drain(predict_bundle_dask(with_traces, zin, tmp_path / "t.zarr", scheduler="sync"))
    assert any("Dask path predicts with the network alone" in n for n in told.notes)
    assert told.priors == {"time": False, "lateral": False}
    with pytest.raises(SeisSegError, match="Convert it"):
        predict_bundle_dask(path, tmp_path / "cube.npy", tmp_path / "q.zarr")
    m2 = create_model("unet2d", n_classes=2, width=4, depth=1)
    with pytest.raises(SeisSegError, match="runs 3D models"):
        predict_bundle_dask((m2, card_for(m2, values=(1, 2))), zin, tmp_path / "q.zarr")


def test_asked_flips_never_turn_time_over_for_a_model_trained_without_it(tmp_path):
    pytest.importorskip("zarr")
    from napari_seisseg.io import write_volume
    from napari_seisseg.training import AugmentConfig, TrainConfig

    torch.manual_seed(3)
    model = create_model("unet3d", n_classes=2, width=2, depth=1).eval()
    card = card_for(model, values=(1, 2), patch=(4, 8, 8))
    card["training"] = {"config": TrainConfig(augment=AugmentConfig(flip_time=False)).to_dict()}
    path = save_bundle(tmp_path / "m3.seisseg", model, card)
    g = geometry()
    zin = write_volume(tmp_path / "cube.zarr", CUBE, g, chunks=(3, 4, 12))
    here = drain(predict_bundle(path, CUBE, geometry=g, tta=True))
    there = drain(predict_bundle_dask(path, zin, tmp_path / "p.zarr", scheduler="sync", tta=True))
    assert here.passes["flips"] == there.passes["flips"] == ["inline", "crossline"]
    np.testing.assert_allclose(np.asarray(there.probabilities[:]), here.probabilities, atol=1e-5)
    # the same network flipped in time as well would give something else
    every = drain(predict_volume(model, CUBE, window=(4, 8, 8), tta=True,
                                 preprocess=functools.partial(Normalizer.from_dict(PREP), axis=2)))
    once = drain(predict_volume(model, CUBE, window=(4, 8, 8), tta=(0, 1),
                                preprocess=functools.partial(Normalizer.from_dict(PREP), axis=2)))
    live = g.live  # dead traces are not predicted by the bundle
    np.testing.assert_allclose(once[:, live], here.probabilities[:, live], atol=1e-5)
    assert not np.allclose(every[:, live], here.probabilities[:, live], atol=1e-4)


def test_small_sections_are_padded_to_the_training_patch_as_in_training():
    """A section smaller than the patch sees the same reflect padding training gave it."""
    seen = []

    class Spy(nn.Module):
        spatial_dims = 2
        input_dims = 2
        input_channels = 1
        n_classes = 2
        context = 0

        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(torch.zeros(1))

        def forward(self, x):
            seen.append(tuple(x.shape[-2:]))
            return torch.cat([x, -x], 1) + self.w

    model = Spy()
    card = card_for(model, values=(1, 2), patch=(16, 20), axes=(0,), preprocessing=None)
    card["input"]["pad_mode"] = "reflect"
    bm = BundleModel.from_model(model, card, name="spy")
    res = drain(predict_bundle(bm, CUBE, device="cpu"))
    assert set(seen) == {(16, 20)}
    # the output is cropped back and equals the softmax of the unpadded input
    x = torch.from_numpy(CUBE)
    expect = torch.softmax(torch.stack([x, -x]), 0).numpy()
    np.testing.assert_allclose(res.probabilities, expect, atol=1e-5)
    # reflect padding: the padded window holds a reflection of the section, not zeros
    from napari_seisseg.inference.stitching import WindowReader
    from napari_seisseg.inference.windows import WindowPlan

    plan = WindowPlan.build((6, 8, 12), (1, 16, 20), (0.0, 0.5, 0.5))
    win = WindowReader(CUBE, (0, 1, 2), plan, plan.full_region(), pad="reflect").window((0, -4, -4))
    np.testing.assert_array_equal(win[0, 4:12, 4:16], CUBE[0])
    np.testing.assert_array_equal(win[0, 3, 4:16], CUBE[0, 1])
    zeros = WindowReader(CUBE, (0, 1, 2), plan, plan.full_region(), pad="zeros").window((0, -4, -4))
    assert (zeros[0, :4] == 0).all() and (zeros[0, 12:] == 0).all()


def test_refit_statistics_make_another_survey_look_like_the_training_one(unet2d):
    """Refitted statistics undo an affine change of amplitudes; stored ones do not."""
    other = CUBE * 10.0 + 100.0
    ref = drain(predict_bundle(unet2d, CUBE, statistics="refit", device="cpu"))
    refit = drain(predict_bundle(unet2d, other, statistics="refit", device="cpu"))
    stored = drain(predict_bundle(unet2d, other, device="cpu"))
    np.testing.assert_allclose(refit.probabilities, ref.probabilities, atol=1e-4)
    assert np.abs(stored.probabilities - ref.probabilities).max() > 1e-2
    with pytest.raises(SeisSegError, match="statistics must be one of"):
        predict_bundle(unet2d, CUBE, statistics="fresh")


def test_a_preprocessed_image_is_not_preprocessed_twice():
    from napari_seisseg.preprocess import PercentileClip, Pipeline, StdClip

    pipe = Pipeline([PercentileClip(5.0, 95.0)]).fit(CUBE, axis=2)
    torch.manual_seed(1)
    model = create_model("unet2d", n_classes=3, width=4, depth=2).eval()
    prep = Normalizer(0.0, 40.0, 10.0, pipe).to_dict()
    bm = BundleModel.from_model(model, card_for(model, preprocessing=prep), name="p")
    raw = drain(predict_bundle(bm, CUBE, device="cpu"))
    done = pipe.apply(CUBE, axis=2)
    once = drain(predict_bundle(bm, done, pipeline_applied=True, device="cpu"))
    np.testing.assert_allclose(once.probabilities, raw.probabilities, atol=1e-6)
    assert pipeline_already_applied(bm, pipe.to_dict()) is True
    assert pipeline_already_applied(bm, None) is False
    other = Pipeline([StdClip(3.0)]).fit(CUBE, axis=2)
    with pytest.raises(SeisSegError, match="Predict the raw image"):
        pipeline_already_applied(bm, other.to_dict(), "'cube'")


def _with_lateral(bm, shape=SHAPE, coordinates=None):
    """``bm`` with a lateral prior painted on inlines 1 and 4 of layered labels of ``shape``."""
    from napari_seisseg.bundle.lateral_prior import painted_lateral_prior

    labels = np.zeros(shape, np.uint8)
    layers = (1 + np.arange(shape[2]) * 3 // shape[2]).astype(np.uint8)
    labels[[1, 4]] = layers
    prior = painted_lateral_prior(labels, 2, 3, coordinates=coordinates)
    card = dict(bm.card, input={**bm.card["input"], "lateral_prior": prior.to_dict()})
    return BundleModel.from_model(bm.model, card, name=bm.name), labels


@pytest.mark.parametrize("model", ["unet2d", "unet3d"])
def test_the_lateral_prior_follows_every_prediction_path_of_its_own_survey(unet2d, model, tmp_path):
    if model == "unet2d":
        base = unet2d
    else:
        torch.manual_seed(1)
        net = create_model("unet3d", n_classes=3, width=2, depth=1).eval()
        base = BundleModel.from_model(net, card_for(net, values=(1, 4, 9), patch=(4, 8, 8)))
    bm, _ = _with_lateral(base)
    g = geometry()
    plain = drain(predict_bundle(bm, CUBE, geometry=g, lateral_prior=False))
    whole = drain(predict_bundle(bm, CUBE, geometry=g))
    assert not np.allclose(whole.probabilities, plain.probabilities)
    assert any("nearest of 16 painted traces" in n for n in whole.notes)
    assert not any("nearest" in n for n in plain.notes)
    assert whole.priors["lateral"] and not plain.priors["lateral"]
    np.testing.assert_allclose(whole.probabilities.sum(0)[g.live], 1.0, atol=1e-5)
    assert not whole.probabilities[:, 1, 2].any()  # the dead trace stays dead
    prior = LateralPrior.from_card(bm.card["input"]["lateral_prior"])
    np.testing.assert_allclose(whole.probabilities, combine(plain.probabilities, prior.ratio((slice(None),) * 3)),
                               atol=1e-6)
    disk = drain(predict_bundle(bm, CUBE, geometry=g, out=tmp_path / "p.npy"))
    np.testing.assert_allclose(np.asarray(disk.probabilities), whole.probabilities, atol=1e-6)
    # napari's display order and quick looks along every axis give the same values
    disp, gd = g.transpose_to(CUBE, g.display_axes)
    shown = drain(predict_bundle(bm, disp, geometry=gd))
    np.testing.assert_allclose(shown.probabilities, whole.probabilities.transpose(0, 1, 3, 2), atol=1e-5)
    # a quick look gets the ratios of its own slice (each along its own axis)
    for axis, i in ((0, 3), (1, 5), (2, 7)):
        one = drain(predict_bundle(bm, CUBE, geometry=g, slice_index=i, slice_axis=axis))
        net = drain(predict_bundle(bm, CUBE, geometry=g, slice_index=i, slice_axis=axis, lateral_prior=False))
        key = [slice(None)] * 3
        key[axis] = slice(i, i + 1)
        expected = combine(np.asarray(net.probabilities), prior.ratio(tuple(key)))
        np.testing.assert_allclose(one.probabilities, expected, atol=1e-5)


def test_another_survey_gets_no_lateral_prior_and_is_told(unet2d):
    bm, _ = _with_lateral(unet2d)
    other = CUBE[:, :6]
    with_it = drain(predict_bundle(bm, other))
    without = drain(predict_bundle(bm, other, lateral_prior=False))
    np.testing.assert_array_equal(with_it.probabilities, without.probabilities)
    assert any("lateral prior not applied: this image (6 x 6 x 12) is not the grid the model "
               "was painted on (6 x 8 x 12)" in n for n in with_it.notes)


def test_a_survey_of_the_same_size_with_other_lines_gets_no_lateral_prior(unet2d):
    g = geometry()
    bm, _ = _with_lateral(unet2d, coordinates={0: g.ilines, 1: g.xlines})
    same = drain(predict_bundle(bm, CUBE, geometry=g))
    assert any("nearest of 16 painted traces" in n for n in same.notes)
    moved = SurveyGeometry(kind="cube", n_samples=SHAPE[2], dt=4.0, ilines=g.ilines + 100, xlines=g.xlines,
                           live=g.live)
    other = drain(predict_bundle(bm, CUBE, geometry=moved))
    plain = drain(predict_bundle(bm, CUBE, geometry=moved, lateral_prior=False))
    np.testing.assert_array_equal(other.probabilities, plain.probabilities)
    assert any("inlines 110-115 are not those of the survey the model was painted on (10-15)" in n
               for n in other.notes)
    bare = drain(predict_bundle(bm, CUBE))  # a plain array: recognised by its grid, and told so
    assert any("nearest of 16 painted traces" in n for n in bare.notes)
    assert any("no survey line numbers to check" in n for n in bare.notes)
