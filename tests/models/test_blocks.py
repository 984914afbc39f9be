"""Building blocks: wrap-around convolutions and the convolution-normalisation-ReLU unit."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from napari_seisseg.models.blocks import (
    ConvBlock,
    UpConv3d,
    WrapConv2d,
    WrapConv3d,
    _bf16_conv3d_unsafe,
    conv_norm_relu,
    make_upconv,
)


@pytest.mark.parametrize(("cls", "dims"), [(WrapConv2d, 2), (WrapConv3d, 3)])
def test_wrap_conv_keeps_the_size_and_wraps_the_circular_axis(cls, dims):
    conv = cls(1, 2, 3, circular_axis=0)
    assert conv.padding == (0,) + (1,) * (dims - 1) and conv._wrap == 1
    x = torch.randn((1, 1) + (6,) * dims)
    assert conv(x).shape == (1, 2) + (6,) * dims
    rolled = conv(torch.roll(x, 2, dims=2))
    assert torch.allclose(rolled, torch.roll(conv(x), 2, dims=2), atol=1e-6)


def test_wrap_conv_takes_zero_padding_per_axis():
    conv = WrapConv3d(1, 1, 3, bias=False, circular_axis=1, padding=(0, 1, 1))
    assert conv.padding == (0, 0, 1) and conv._wrap == 1
    assert conv(torch.randn(1, 1, 5, 6, 6)).shape == (1, 1, 3, 6, 6)


@pytest.mark.parametrize("norm", ["batch", "none"])
def test_conv_norm_relu_has_a_bias_only_without_normalisation(norm):
    conv, normalise, relu = conv_norm_relu(2, 3, 4, norm)
    assert isinstance(conv, WrapConv2d) and (conv.bias is not None) == (norm == "none")
    assert isinstance(normalise, nn.BatchNorm2d if norm == "batch" else nn.Identity)
    assert isinstance(relu, nn.ReLU)


def test_conv_block_is_two_conv_norm_relu_units_around_dropout():
    block = ConvBlock(3, 2, 4, "group", 0.2, circular_axis=2)
    names = [type(m).__name__ for m in block]
    assert names == ["WrapConv3d", "GroupNorm", "ReLU", "Dropout3d",
                     "WrapConv3d", "GroupNorm", "ReLU"]
    assert [k for k in block.state_dict() if k.endswith("weight")] == [
        "0.weight", "1.weight", "4.weight", "5.weight"]


@pytest.mark.parametrize("layer", [WrapConv3d(1, 2, 3), UpConv3d(1, 2, 2, stride=2)])
def test_thin_3d_inputs_run_in_float32_under_cpu_autocast(layer):
    """torch 2.13's bf16 3D convolutions corrupt memory in their backward pass for some thin
    inputs (2 x 1 x 5 x 128 x 128): those run in float32, cubes keep bf16."""
    thin, cube = torch.randn(1, 1, 2, 12, 12), torch.randn(1, 1, 6, 6, 6)
    edge = torch.randn(1, 1, 3, 12, 12)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert layer(thin).dtype == torch.float32
        assert layer(cube).dtype == torch.bfloat16
        assert layer(edge).dtype == torch.bfloat16  # 12 / 3: a ratio of 4 is still safe
    assert layer(thin).dtype == torch.float32
    with torch.autocast("cpu", dtype=torch.bfloat16):  # tensors elsewhere are not guarded
        assert not _bf16_conv3d_unsafe(torch.empty(1, 1, 2, 12, 12, device="meta"))
        assert _bf16_conv3d_unsafe(torch.empty(1, 1, 2, 12, 12))
    assert not _bf16_conv3d_unsafe(torch.empty(1, 1, 2, 12, 12))  # no autocast
    assert isinstance(make_upconv(3, 4, 2), UpConv3d)
    assert set(make_upconv(3, 4, 2).state_dict()) == set(nn.ConvTranspose3d(4, 2, 2).state_dict())
