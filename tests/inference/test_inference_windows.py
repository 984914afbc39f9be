"""Window planning and blending weights."""

from __future__ import annotations

import numpy as np
import pytest

from napari_seisseg.inference import WindowPlan, axis_starts, blend_weights


@pytest.mark.parametrize("n", [1, 5, 8, 9, 17, 64, 101])
@pytest.mark.parametrize("w", [1, 8, 16])
@pytest.mark.parametrize("overlap", [0.0, 0.25, 0.5, 0.75])
def test_axis_starts_cover_and_end_flush(n, w, overlap):
    starts = axis_starts(n, w, overlap)
    if n <= w:
        assert starts == (-((w - n) // 2),)
        return
    assert starts[0] == 0 and starts[-1] == n - w
    assert all(b > a for a, b in zip(starts, starts[1:], strict=False))
    covered = np.zeros(n, bool)
    for s in starts:
        covered[s : s + w] = True
    assert covered.all()
    # achieved overlap at least the requested one (steps never longer than asked)
    step = max(1, round(w * (1 - overlap)))
    assert max(np.diff(starts), default=0) <= step


def test_plan_windows_row_major_and_region():
    plan = WindowPlan.build((20, 10), (8, 4), (0.5, 0.0))
    wins = plan.windows_in()
    assert len(wins) == plan.n_windows == len(plan.starts[0]) * len(plan.starts[1])
    assert wins == sorted(wins)
    sub = plan.windows_in(((0, 4), (0, 10)))
    assert all(s[0] < 4 for s in sub)


@pytest.mark.parametrize("mode", ["gaussian", "linear", "constant"])
def test_weights_positive_and_peaked(mode):
    w = blend_weights((9, 16, 1), mode)
    assert w.shape == (9, 16, 1) and w.dtype == np.float32
    assert w.max() == pytest.approx(1.0) and w.min() > 0
    np.testing.assert_allclose(w, w[::-1, ::-1], rtol=1e-6)
    if mode == "constant":
        assert (w == 1).all()
    else:
        assert w[0, 0, 0] < w[4, 7, 0]


def test_gaussian_sigma_is_an_eighth_of_the_window():
    w = blend_weights((65,), "gaussian", floor=0)
    sigma = 65 / 8
    x = np.arange(65) - 32
    np.testing.assert_allclose(w, np.exp(-0.5 * (x / sigma) ** 2), rtol=1e-5)
    assert blend_weights((65,), "gaussian").min() == pytest.approx(1e-3)


@pytest.mark.parametrize("name, shape", [("unet2d", (2, 1, 20, 28)), ("unet3d", (2, 1, 12, 16, 20)),
                                         ("resunet", (2, 1, 20, 28)), ("hybrid", (2, 1, 5, 20, 28))])
def test_cpu_inference_copy_gives_the_same_output_and_leaves_the_model_alone(name, shape):
    import torch

    from napari_seisseg.inference.predictor import cpu_inference_copy
    from napari_seisseg.models import create_model

    torch.manual_seed(0)
    model = create_model(name, n_classes=3, width=4)
    model.train()
    with torch.no_grad():  # non-trivial BatchNorm statistics to fold
        for m in model.modules():
            if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    fast = cpu_inference_copy(model)
    assert fast is not None and fast is not model and not fast.training
    assert model.training  # the caller's model is untouched
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k])
    n_bn = sum(isinstance(m, torch.nn.modules.batchnorm._BatchNorm) for m in fast.modules())
    assert n_bn < sum(isinstance(m, torch.nn.modules.batchnorm._BatchNorm) for m in model.modules())
    x = torch.randn(*shape)
    model.eval()
    with torch.inference_mode():
        ref = model(x)
        fmt = torch.channels_last if x.ndim == 4 else torch.channels_last_3d
        got = fast(x.contiguous(memory_format=fmt))
    torch.testing.assert_close(got, ref, atol=1e-5, rtol=1e-4)
