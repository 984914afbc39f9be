"""Padding helpers and circular (wrap-around) axes."""

from __future__ import annotations

import pytest
import torch

from napari_seisseg.models import create_model
from napari_seisseg.models.padding import crop_to, pad_axis, pad_to_multiple, padded_size


def test_padded_size():
    assert padded_size(37, 16) == 48
    assert padded_size(32, 16) == 32
    assert padded_size(5, 16) == 32  # at least two bottleneck cells
    assert padded_size(64, 1) == 64


def test_pad_axis_modes_beyond_the_axis_length():
    x = torch.arange(3.0).reshape(1, 1, 3)
    assert pad_axis(x, 0, 4, 5, "circular").flatten().tolist() == [
        2,
        0,
        1,
        2,
        0,
        1,
        2,
        0,
        1,
        2,
        0,
        1,
    ]
    assert pad_axis(x, 0, 3, 3, "reflect").flatten().tolist() == [1, 2, 1, 0, 1, 2, 1, 0, 1]
    assert pad_axis(x, 0, 2, 1, "replicate").flatten().tolist() == [0, 0, 0, 1, 2, 2]
    assert pad_axis(x, 0, 1, 1, "zeros").flatten().tolist() == [0, 0, 1, 2, 0]


def test_pad_to_multiple_and_crop_back():
    x = torch.randn(2, 3, 5, 13, 29)
    xp, crop = pad_to_multiple(x, 8, 2, circular_axis=1)
    assert xp.shape == (2, 3, 5, 16, 32)
    assert torch.equal(crop_to(xp, crop), x)
    # the circular axis wraps: what precedes the data is the data's far end
    start = crop[1].start
    assert torch.equal(xp[..., crop[0], :start], x[..., -start:])


def _roll_check(model, x, shift, dim_in, dim_out):
    model.eval()
    with torch.no_grad():
        y = model(x)
        y_rolled = model(torch.roll(x, shift, dim_in))
    return (torch.roll(y, shift, dim_out) - y_rolled).abs().max().item()


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("unet2d", {"depth": 3}),
        ("unet2d", {"depth": 2, "context": 1, "norm": "group"}),
        ("resunet", {"depth": 2}),
        ("hybrid", {"depth": 2, "context": 1}),
    ],
)
@pytest.mark.parametrize("axis", [0, 1])
def test_circular_axis_makes_the_model_roll_equivariant(name, kwargs, axis):
    torch.manual_seed(0)
    model = create_model(name, width=4, circular_axis=axis, **kwargs)
    m = model.size_multiple
    spatial = [2 * m, 3 * m]  # a multiple of the stride: no internal padding
    extra = (model.slab,) if name == "hybrid" else ()
    x = torch.randn(1, model.input_channels, *extra, *spatial)
    dim_in = x.ndim - 2 + axis
    assert _roll_check(model, x, m, dim_in, 2 + axis) < 1e-5
    if name == "hybrid":  # auxiliary heads wrap too
        with torch.no_grad():
            _, aux = model.forward_with_aux(x)
            _, aux_r = model.forward_with_aux(torch.roll(x, m, dim_in))
        for a, b in zip(aux, aux_r, strict=True):
            torch.testing.assert_close(torch.roll(a, m, 2 + axis), b)
    # the same weights without wrapping are not equivariant: the check has teeth
    plain = create_model(name, width=4, **kwargs)
    plain.load_state_dict(model.state_dict())
    assert _roll_check(plain, x, m, dim_in, 2 + axis) > 1e-4


def test_unet3d_circular_axis():
    torch.manual_seed(0)
    model = create_model("unet3d", width=2, depth=2, circular_axis=2)
    x = torch.randn(1, 1, 8, 12, 16)
    assert _roll_check(model, x, 4, 4, 4) < 1e-5


def test_circular_axis_wraps_for_sizes_off_the_multiple():
    # 50 columns with stride 4 are padded to 52 inside: one column from the far end
    # before, one from the near end after (not a reflection).
    torch.manual_seed(0)
    model = create_model("unet2d", width=4, depth=2, circular_axis=1).eval()
    x = torch.randn(1, 1, 16, 50)
    wrapped = torch.cat([x[..., -1:], x, x[..., :1]], dim=-1)
    with torch.no_grad():
        y = model(x)
        y_manual = model(wrapped)[..., 1:51]
    assert y.shape == (1, 2, 16, 50)
    torch.testing.assert_close(y, y_manual)
