"""Forward and backward passes of every model on odd shapes, tiny widths."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from napari_seisseg.errors import SeisSegError
from napari_seisseg.models import create_model, list_models

# (name, extra kwargs, spatial input shape after the channel axis)
CASES = [
    ("unet2d", {}, (37, 53)),
    ("unet2d", {"depth": 2, "norm": "group", "dropout": 0.2}, (13, 29)),
    ("unet2d", {"norm": "instance", "context": 1}, (21, 19)),
    ("unet2d", {"norm": "none", "circular_axis": 1}, (37, 53)),
    ("unet3d", {}, (13, 29, 41)),
    ("unet3d", {"depth": 2, "norm": "group"}, (9, 11, 7)),
    ("hybrid", {}, (5, 37, 53)),
    ("hybrid", {"context": 1, "depth": 3, "norm": "instance", "circular_axis": 0}, (3, 29, 13)),
    ("hybrid", {"context": 0, "depth": 2}, (1, 17, 23)),
    ("hybrid", {"context": 4, "depth": 1, "norm": "group"}, (9, 15, 11)),
    ("resunet", {}, (37, 53)),
    ("resunet", {"encoder": "resnet34", "depth": 3, "norm": "group", "context": 1}, (45, 31)),
    ("resunet", {"global_context": True, "circular_axis": 0}, (37, 53)),
    ("resunet", {"output_stride": 2}, (37, 53)),
    ("resunet", {"output_stride": 4, "circular_axis": 1, "depth": 3}, (45, 31)),
]


def _input(model, spatial, batch=2):
    torch.manual_seed(0)
    return torch.randn(batch, model.input_channels, *spatial)


@pytest.mark.parametrize(("name", "kwargs", "spatial"), CASES)
def test_forward_backward_odd_shapes(name, kwargs, spatial):
    torch.manual_seed(0)
    model = create_model(name, in_channels=1, n_classes=3, width=4, **kwargs)
    model.train()
    x = _input(model, spatial)
    logits, aux = model.forward_with_aux(x)
    out_spatial = spatial[-model.spatial_dims :]
    assert logits.shape == (2, 3, *out_spatial)
    assert model(x).shape == logits.shape
    for a in aux:
        assert a.shape == logits.shape
    target = torch.randint(0, 3, (2, *out_spatial))
    loss = sum(torch.nn.functional.cross_entropy(t, target) for t in [logits, *aux])
    loss.backward()
    assert torch.isfinite(loss)
    for pname, p in model.named_parameters():
        assert p.grad is not None, f"{pname} got no gradient"
        assert torch.isfinite(p.grad).all(), pname
        assert p.grad.abs().sum() > 0, f"{pname} has an all-zero gradient"


@pytest.mark.parametrize("name", ["unet2d", "resunet", "hybrid"])
def test_inputs_smaller_than_the_network_stride(name):
    # A single tiny section in training mode: the internal padding keeps the bottleneck
    # at least 2x2, so batch/instance norm still work.
    model = create_model(name, width=4, norm="instance").train()
    spatial = (5, 7, 3) if name == "hybrid" else (7, 3)
    x = torch.randn(1, model.input_channels, *spatial)
    y = model(x)
    assert y.shape == (1, 2, 7, 3)
    y.sum().backward()


def test_spatial_dims_and_attributes():
    expected = {"unet2d": (2, 2), "unet3d": (3, 3), "hybrid": (2, 3), "resunet": (2, 2)}
    for name in list_models():
        model = create_model(name, in_channels=2, n_classes=4, width=4)
        assert (model.spatial_dims, model.input_dims) == expected[name]
        assert model.in_channels == 2
        assert model.n_classes == 4
        assert isinstance(model, torch.nn.Module)


def test_models_without_aux_heads_return_empty_list():
    for name in ("unet2d", "unet3d", "resunet"):
        model = create_model(name, width=4).eval()
        shape = (9, 10, 11) if name == "unet3d" else (10, 11)
        with torch.no_grad():
            logits, aux = model.forward_with_aux(torch.randn(1, 1, *shape))
        assert aux == []
        assert logits.shape == (1, 2, *shape)


def test_hybrid_aux_logits():
    model = create_model("hybrid", n_classes=2, width=4, depth=3, context=3).train()
    assert model.slab == 7
    x = torch.randn(2, 1, 7, 23, 31)
    logits, aux = model.forward_with_aux(x)
    assert logits.shape == (2, 2, 23, 31)
    assert len(aux) == 3  # one per decoder stage, finest first
    assert all(a.shape == (2, 2, 23, 31) for a in aux)
    model.eval()
    with torch.no_grad():
        l1 = model(x)
        l2, _ = model.forward_with_aux(x)
    assert torch.equal(l1, l2)


def test_hybrid_rejects_wrong_slab():
    model = create_model("hybrid", width=4, context=2)
    with pytest.raises(SeisSegError, match="slab of 5 slices"):
        model(torch.randn(1, 1, 3, 16, 16))


@pytest.mark.parametrize("name", ["unet2d", "resunet"])
def test_context_stacks_slices_as_channels(name):
    model = create_model(name, in_channels=2, width=4, depth=2, context=2)
    assert model.input_channels == 2 * 5
    first = next(m for m in model.modules() if isinstance(m, torch.nn.Conv2d))
    assert first.in_channels == 10
    model.eval()
    with torch.no_grad():
        assert model(torch.randn(1, 10, 17, 19)).shape == (1, 2, 17, 19)
    with pytest.raises(SeisSegError, match="stack 5 slices"):
        model(torch.randn(1, 2, 17, 19))


def test_wrong_input_shape_is_a_clear_error():
    model = create_model("unet3d", width=4)
    with pytest.raises(SeisSegError, match=r"\(N, 1, D, H, W\)"):
        model(torch.randn(1, 1, 16, 16))


@pytest.mark.parametrize("name", ["unet2d", "unet3d", "hybrid", "resunet"])
def test_eval_mode_is_deterministic(name):
    torch.manual_seed(1)
    model = create_model(name, width=4, depth=2, dropout=0.3)
    spatial = {"unet3d": (9, 10, 11), "hybrid": (5, 19, 21)}.get(name, (19, 21))
    x = torch.randn(2, model.input_channels, *spatial)
    model.train()
    model(x)  # update batch-norm statistics once
    model.eval()
    with torch.no_grad():
        a = model(x)
        b = model(x)
        c = model(x[:1])
    assert torch.equal(a, b)
    torch.testing.assert_close(a[:1], c)
    torch.manual_seed(7)
    m1 = create_model(name, width=4, depth=2).eval()
    torch.manual_seed(7)
    m2 = create_model(name, width=4, depth=2).eval()
    with torch.no_grad():
        assert torch.equal(m1(x), m2(x))


def test_global_context_lets_every_pixel_see_the_whole_patch():
    """With global_context a change in one corner moves the logits in the far corner."""
    torch.manual_seed(0)
    kw = dict(in_channels=1, n_classes=1, width=4, depth=1)  # receptive field ~70 < 96
    x = torch.randn(1, 1, 96, 96)
    x2 = x.clone()
    x2[..., :8, :8] += 5.0
    for gc, moved in ((False, False), (True, True)):
        model = create_model("resunet", global_context=gc, **kw).eval()
        with torch.no_grad():
            a, b = model(x)[..., -8:, -8:], model(x2)[..., -8:, -8:]
        assert (not torch.allclose(a, b)) == moved
        spec = model.spec()
        assert spec.get("global_context", False) == gc
        assert create_model(**spec).state_dict().keys() == model.state_dict().keys()


@pytest.mark.parametrize("stride", [2, 4])
def test_output_stride_decodes_to_a_coarser_grid_and_upsamples(stride):
    """The head sees a 1/stride grid; the logits are its bilinear upsampling."""
    torch.manual_seed(0)
    model = create_model("resunet", n_classes=2, width=4, depth=2, output_stride=stride).eval()
    seen = []
    model.head.register_forward_hook(lambda mod, inp, out: seen.append(out))
    x = torch.randn(1, 1, 64, 64)
    with torch.no_grad():
        logits = model(x)
    assert logits.shape == (1, 2, 64, 64)
    assert seen[0].shape == (1, 2, 64 // stride, 64 // stride)
    expected = torch.nn.functional.interpolate(seen[0], size=(64, 64), mode="bilinear")
    torch.testing.assert_close(logits, expected)
    assert model.full_res is None
    spec = model.spec()
    assert spec["output_stride"] == stride
    assert create_model(**spec).state_dict().keys() == model.state_dict().keys()
    assert "output_stride" not in create_model("resunet", width=4).spec()


def test_output_stride_rejects_other_values():
    with pytest.raises(SeisSegError, match="output_stride"):
        create_model("resunet", width=4, output_stride=3)


def test_hybrid_trains_under_cpu_bf16_autocast_on_full_size_slabs():
    """bf16 3D convolutions over a thin slab crash (segfault) or hang in their backward pass on
    the CPU at training sizes (8 x 1 x 5 x 128 x 128); the stem runs in float32 there."""
    torch.manual_seed(0)
    model = create_model("hybrid", n_classes=4, context=2)
    x = torch.randn(8, 1, 5, 128, 128)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        logits = model(x)
    assert logits.shape == (8, 4, 128, 128) and logits.dtype == torch.bfloat16
    logits.float().mean().backward()
    grad = model.stem[0].weight.grad
    assert grad is not None and torch.isfinite(grad).all() and grad.abs().sum() > 0


def test_a_thin_unet3d_patch_trains_under_cpu_bf16_autocast():
    """A user's thin 3D patch (4 x 128 x 128 with depth 2) took the process down in the
    backward pass of bf16 3D convolutions (a segmentation fault); run in a child process so a
    regression fails this test instead of the suite."""
    code = (
        "import torch\n"
        "from napari_seisseg.models.registry import create_model\n"
        "m = create_model('unet3d', n_classes=3, width=8, depth=2)\n"
        "with torch.autocast('cpu', dtype=torch.bfloat16):\n"
        "    y = m(torch.randn(2, 1, 4, 128, 128))\n"
        "y.float().mean().backward()\n"
        "print('trained', tuple(y.shape))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "trained (2, 3, 4, 128, 128)" in done.stdout
