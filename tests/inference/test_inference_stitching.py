"""Stitching with trivial predictors whose stitched answer is exact."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from napari_seisseg.inference import (
    PredictionCancelled,
    PredictionFinished,
    PredictionProgress,
    PredictionStarted,
    predict_volume,
)
from napari_seisseg.inference.stitching import Stitcher, WindowReader
from napari_seisseg.inference.windows import WindowPlan
from napari_seisseg.jobs import drain

RNG = np.random.default_rng(0)
CUBE = RNG.normal(size=(13, 10, 17)).astype(np.float32)
SECTION = RNG.normal(size=(19, 23)).astype(np.float32)


def run(predictor, volume, **kw):
    return drain(predict_volume(predictor, volume, **kw))


@pytest.mark.parametrize("overlap", [0.0, 0.25, 0.5, 0.75])
@pytest.mark.parametrize("blend", ["gaussian", "linear", "constant"])
@pytest.mark.parametrize(("volume", "window"), [(CUBE, (6, 5, 8)), (SECTION, (8, 7))])
def test_identity_is_exact(overlap, blend, volume, window):
    out = run(lambda x: x, volume, window=window, overlap=overlap, blend=blend, batch_size=3)
    assert out.shape == (1, *volume.shape) and out.dtype == np.float32
    np.testing.assert_allclose(out[0], volume, atol=1e-5)


@pytest.mark.parametrize("overlap", [0.0, 0.5, 0.75])
@pytest.mark.parametrize(("volume", "window"), [(CUBE, (4, 4, 4)), (SECTION, (5, 9))])
def test_plus_one_is_exact(overlap, volume, window):
    out = run(lambda x: x + 1, volume, window=window, overlap=overlap)
    np.testing.assert_allclose(out[0], volume + 1, atol=1e-5)


@pytest.mark.parametrize("shape", [(5, 3, 1), (1, 1, 1), (7, 20, 2), (3, 30)])
def test_volume_smaller_than_window_is_padded_and_cropped(shape):
    vol = RNG.normal(size=shape).astype(np.float32)
    window = (8,) * len(shape)
    seen = []

    def pred(x):
        seen.append(tuple(x.shape[2:]))
        return torch.cat([x, x * 2], dim=1)

    out = run(pred, vol, window=window, overlap=0.5)
    assert set(seen) == {window}  # the model always sees whole windows
    np.testing.assert_allclose(out[0], vol, atol=1e-6)
    np.testing.assert_allclose(out[1], 2 * vol, atol=1e-5)


def _window_dependent(x):
    # not a pointwise function: each window's answer depends on the whole window
    return x**2 + x.mean(dim=tuple(range(2, x.ndim)), keepdim=True)


@pytest.mark.parametrize("batch_size", [2, 3, 7, 50])
def test_batching_does_not_change_the_result(batch_size):
    kw = {"window": (4, 6, 5), "overlap": 0.5}
    ref = run(_window_dependent, CUBE, batch_size=1, **kw)
    out = run(_window_dependent, CUBE, batch_size=batch_size, **kw)
    np.testing.assert_allclose(out, ref, atol=1e-6)


def test_no_seam_with_gaussian_blending_but_jumps_with_constant():
    ramp = np.repeat(np.arange(224, dtype=np.float32)[:, None] / 10, 4, axis=1)

    def offset(x):  # a constant per window: its mean (differs by 3.2 between neighbours)
        return torch.zeros_like(x) + x.mean(dim=(2, 3), keepdim=True)

    kw = {"window": (64, 4), "overlap": 0.5}
    grad = {b: np.abs(np.diff(run(offset, ramp, blend=b, **kw)[0], axis=0)).max() for b in
            ("gaussian", "linear", "constant")}
    assert grad["constant"] > 1.5  # half the offset difference, at every window border
    assert grad["gaussian"] < 0.45  # smooth: about 8 * 3.2 / 64, the Gaussian's steepest
    assert grad["linear"] < 0.25


def test_events_and_fraction():
    events = []
    drain(predict_volume(lambda x: x, CUBE, window=5, batch_size=4), events.append)
    assert isinstance(events[0], PredictionStarted) and events[0].device == "cpu"
    assert isinstance(events[-1], PredictionFinished)
    progress = [e for e in events if isinstance(e, PredictionProgress)]
    assert progress[-1].done == events[0].total and progress[-1].fraction == 1.0
    assert not any(isinstance(e, PredictionCancelled) for e in events)


def test_dead_traces_stay_zero_and_dead_windows_are_skipped():
    dead = np.zeros(CUBE.shape[:2], bool)
    dead[:7, :] = True  # the first 7 inlines, more than a window
    dead[10, 3] = True
    calls = []

    def pred(x):
        calls.append(x.shape[0])
        return x + 1

    events = []
    out = drain(
        predict_volume(pred, CUBE, window=4, overlap=0.5, dead_mask=dead, batch_size=1),
        events.append,
    )
    assert (out[0][dead] == 0).all()
    np.testing.assert_allclose(out[0][~dead], CUBE[~dead] + 1, atol=1e-5)
    full = WindowPlan.build(CUBE.shape, (4, 4, 4), (0.5,) * 3).n_windows
    assert sum(calls) == events[0].total < full
    # a voxel mask of the full shape works as well
    out2 = run(pred, CUBE, window=4, dead_mask=np.broadcast_to(dead[..., None], CUBE.shape))
    np.testing.assert_array_equal(out2, out)


def test_tta_with_flip_equivariant_predictor_equals_no_tta():
    kw = {"window": (6, 5, 8), "overlap": 0.5}
    ref = run(lambda x: x**2 + 1, CUBE, **kw)
    np.testing.assert_allclose(run(lambda x: x**2 + 1, CUBE, tta=True, **kw), ref, atol=1e-5)


def test_tta_flips_are_undone():
    def ramp(x):  # the row index inside the window: not flip-equivariant
        r = torch.arange(x.shape[2], dtype=x.dtype).reshape(1, 1, -1, 1, 1)
        return torch.zeros_like(x) + r

    out = run(ramp, CUBE, window=(6, 5, 8), overlap=0.0, tta=[0])
    np.testing.assert_allclose(out, 2.5, atol=1e-5)  # mean of 0..5 and its flip
    out = run(ramp, CUBE, window=(6, 5, 8), overlap=0.0, tta=[1, 2])
    assert out.std() > 1  # flips along other axes leave the ramp


def test_torch_module_runs_in_eval_and_keeps_training_flag():
    conv = torch.nn.Conv3d(1, 1, 1, bias=False)
    with torch.no_grad():
        conv.weight.fill_(2.0)
    seq = torch.nn.Sequential(conv, torch.nn.Dropout(0.9))
    seq.train()
    out = run(seq, CUBE, window=6, device="cpu")
    np.testing.assert_allclose(out[0], 2 * CUBE, atol=1e-5)  # dropout off: eval mode
    assert seq.training


def test_segmentation_model_logits_become_probabilities():
    class Net(torch.nn.Module):
        n_classes = 3
        spatial_dims = 2

        def forward(self, x):
            return torch.cat([x, -x, 0 * x], dim=1)

    out = run(Net(), SECTION, window=8)
    np.testing.assert_allclose(out.sum(axis=0), 1.0, atol=1e-5)
    raw = run(Net(), SECTION, window=8, activation="none")
    np.testing.assert_allclose(raw[0], SECTION, atol=1e-5)


def test_preprocess_is_applied_per_window():
    out = run(lambda x: x, CUBE, window=5, preprocess=lambda w: 2 * w + 1)
    np.testing.assert_allclose(out[0], 2 * CUBE + 1, atol=1e-5)


class Counting:
    """A lazy array that records the shape of every read."""

    def __init__(self, data):
        self.data, self.shape, self.dtype, self.ndim = data, data.shape, data.dtype, data.ndim
        self.reads = []

    def __getitem__(self, index):
        block = self.data[index]
        self.reads.append(block.shape)
        return block


def test_lazy_inputs_are_read_in_slabs():
    import dask.array as da

    vol = RNG.normal(size=(40, 12, 9)).astype(np.float32)
    kw = {"window": (8, 6, 6), "overlap": 0.5}
    ref = run(_window_dependent, vol, **kw)
    np.testing.assert_allclose(run(_window_dependent, da.from_array(vol, chunks=7), **kw), ref, atol=1e-6)
    lazy = Counting(vol)
    np.testing.assert_allclose(run(_window_dependent, lazy, **kw), ref, atol=1e-6)
    assert max(r[0] for r in lazy.reads) <= 8  # never more than a window's rows at once
    assert sum(np.prod(r) for r in lazy.reads) <= 1.05 * vol.size  # overlapping rows reused


def test_accumulator_holds_a_slab_only():
    vol = np.zeros((100, 9, 9), np.float32)
    plan = WindowPlan.build(vol.shape, (8, 9, 9), (0.5, 0.5, 0.5))
    st = Stitcher(lambda x: x[:, None], WindowReader(vol, (0, 1, 2), plan, plan.full_region()),
                  plan, "constant", batch_size=1)
    assert st.capacity == 8
    st4 = Stitcher(lambda x: x[:, None], WindowReader(vol, (0, 1, 2), plan, plan.full_region()),
                   plan, "constant", batch_size=4)
    assert st4.capacity <= 8 + 3 * 4  # batches may span rows: window + (batch-1) steps
