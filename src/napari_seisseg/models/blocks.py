"""Building blocks shared by the models: normalisation, convolutions that may wrap
around one spatial axis, and the two-convolution block of a U-Net."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import nn

from .padding import wrap_pad

__all__ = [
    "NORMS",
    "ConvBlock",
    "WrapConv2d",
    "WrapConv3d",
    "WrapMaxPool2d",
    "conv_norm_relu",
    "cpu_autocast_on",
    "make_dropout",
    "make_head",
    "make_norm",
    "make_upconv",
]

NORMS = ("batch", "instance", "group", "none")

#: A 3D convolution's input runs in float32 under CPU autocast when its longest spatial
#: edge exceeds its shortest by more than this factor (see :func:`_bf16_conv3d_unsafe`).
THIN_3D_RATIO = 4


def cpu_autocast_on() -> bool:
    """Whether CPU autocast is on (``is_autocast_enabled`` takes a device from torch 2.4)."""
    try:
        return bool(torch.is_autocast_enabled("cpu"))
    except TypeError:  # torch < 2.4
        return bool(torch.is_autocast_cpu_enabled())


def _bf16_conv3d_unsafe(x: torch.Tensor) -> bool:
    """Whether a bf16 3D (transposed) convolution of ``x`` may corrupt memory on the CPU.

    torch 2.13's oneDNN bf16 3D convolutions crash (a segmentation fault, ``free(): invalid
    next size``) or hang in their backward pass for thin inputs, erratically by shape: 2 x 1
    x 5 x 128 x 128, 2 x 16 x 16 x 384 x 384 and a transposed 2 x 32 x 4 x 128 x 128 do,
    2 x 1 x 8 x 128 x 128 does not.  Every input measured whose edges were within a factor
    4 of each other (16 shapes from 4^3 with 256 channels to 128^3) ran; such inputs, the
    cubes a 3D U-Net trains on, keep bf16, thinner ones run in float32 (conservatively: some
    thin shapes that ran, such as the 8 x 128 x 128 above, lose bf16's speed too).
    """
    if x.device.type != "cpu" or x.dim() != 5 or not cpu_autocast_on():
        return False
    edges = x.shape[2:]
    return max(edges) > THIN_3D_RATIO * max(min(edges), 1)


def _guarded(forward: Callable[..., torch.Tensor], x: torch.Tensor, *args: Any) -> torch.Tensor:
    """``forward(x, *args)``, in float32 without autocast where :func:`_bf16_conv3d_unsafe`."""
    if _bf16_conv3d_unsafe(x):
        with torch.autocast("cpu", enabled=False):
            return forward(x.float(), *args)
    return forward(x, *args)


def _group_count(channels: int, max_groups: int = 8) -> int:
    for g in range(min(max_groups, channels), 0, -1):
        if channels % g == 0:
            return g
    return 1


def make_norm(norm: str, dims: int, channels: int) -> nn.Module:
    """Return a normalisation layer.

    Parameters
    ----------
    norm : {"batch", "instance", "group", "none"}
        Kind of normalisation.  ``"group"`` uses up to 8 groups (the largest count that
        divides ``channels``); ``"instance"`` has learnable affine parameters.
    dims : {2, 3}
        Spatial dimensionality.
    channels : int
        Number of channels.

    Returns
    -------
    torch.nn.Module
        The layer (``nn.Identity`` for ``"none"``).
    """
    if norm == "batch":
        return nn.BatchNorm2d(channels) if dims == 2 else nn.BatchNorm3d(channels)
    if norm == "instance":
        cls = nn.InstanceNorm2d if dims == 2 else nn.InstanceNorm3d
        return cls(channels, affine=True)
    if norm == "group":
        return nn.GroupNorm(_group_count(channels), channels)
    if norm == "none":
        return nn.Identity()
    raise ValueError(f"unknown norm {norm!r}; choose one of {NORMS}")


def make_dropout(p: float, dims: int) -> nn.Module:
    """Return channel (spatial) dropout with probability ``p``, or identity when ``p == 0``."""
    if p <= 0:
        return nn.Identity()
    return nn.Dropout2d(p) if dims == 2 else nn.Dropout3d(p)


def _tuple(v: int | Sequence[int], n: int) -> tuple[int, ...]:
    return tuple(v) if isinstance(v, Sequence) else (int(v),) * n


class _WrapConvMixin:
    """Pads one spatial axis circularly before an ordinary convolution.

    The subclass names the convolution it wraps (``nn.Conv2d`` or ``nn.Conv3d``) after this
    mixin and sets :attr:`_dims`; the constructor is shared (see :class:`WrapConv2d`).
    """

    circular_axis: int | None
    _wrap: int
    _dims: int

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | Sequence[int] = 3,
        stride: int = 1,
        bias: bool = True,
        circular_axis: int | None = None,
        padding: Sequence[int] | None = None,
    ) -> None:
        kernel = _tuple(kernel_size, self._dims)
        pad, wrap = self._split_padding(kernel, circular_axis, padding)
        super().__init__(  # type: ignore[call-arg]
            in_channels, out_channels, kernel, stride=stride, padding=pad, bias=bias
        )
        self.circular_axis = circular_axis
        self._wrap = wrap

    @staticmethod
    def _split_padding(
        kernel: Sequence[int],
        circular_axis: int | None,
        padding: Sequence[int] | None = None,
    ) -> tuple[tuple[int, ...], int]:
        """Return the convolution's own (zero) padding and the wrap width."""
        same = [(k - 1) // 2 for k in kernel]
        pad = list(same if padding is None else padding)
        wrap = 0
        if circular_axis is not None:
            wrap, pad[circular_axis] = same[circular_axis], 0
        return tuple(pad), wrap

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self._wrap:
            x = wrap_pad(x, self.circular_axis, self._wrap, self._wrap)
        return _guarded(super().forward, x)  # type: ignore[misc]


class WrapConv2d(_WrapConvMixin, nn.Conv2d):
    """A "same" 2D convolution whose padding wraps around ``circular_axis`` (zeros elsewhere).

    Parameters
    ----------
    in_channels, out_channels : int
        Channel counts.
    kernel_size : int or tuple of int
        Kernel size (odd sizes keep the spatial size at stride 1).
    stride : int
        Stride.
    bias : bool
        Whether the convolution has a bias.
    circular_axis : int or None
        Spatial axis (0 = H, 1 = W) that wraps around, or None for zero padding only.
    padding : sequence of int, optional
        Zero padding per axis instead of "same" padding; the circular axis always wraps.

    Notes
    -----
    The parameters keep the names of :class:`torch.nn.Conv2d` (``weight``, ``bias``), so
    state dicts from ordinary convolutions load into it.
    """

    _dims = 2


class WrapConv3d(_WrapConvMixin, nn.Conv3d):
    """A "same" 3D convolution whose padding wraps around ``circular_axis`` (zeros elsewhere).

    Parameters
    ----------
    in_channels, out_channels : int
        Channel counts.
    kernel_size : int or tuple of int
        Kernel size.
    stride : int
        Stride.
    bias : bool
        Whether the convolution has a bias.
    circular_axis : int or None
        Spatial axis (0 = D, 1 = H, 2 = W) that wraps around, or None.
    padding : sequence of int, optional
        Zero padding per axis instead of "same" padding (e.g. ``(0, 1, 1)`` for a
        convolution that is "valid" along D); the circular axis always wraps.
    """

    _dims = 3


class WrapMaxPool2d(nn.MaxPool2d):
    """Max pooling (kernel 3, stride 2, padding 1 as in ResNet's stem) that wraps around
    ``circular_axis``.

    Parameters
    ----------
    circular_axis : int or None
        Spatial axis (0 = H, 1 = W) that wraps around, or None.
    """

    def __init__(self, circular_axis: int | None = None) -> None:
        padding = [1, 1]
        if circular_axis is not None:
            padding[circular_axis] = 0
        super().__init__(kernel_size=3, stride=2, padding=tuple(padding))
        self.circular_axis = circular_axis

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.circular_axis is not None:
            x = wrap_pad(x, self.circular_axis, 1, 1)
        return super().forward(x)


def _wrap_conv(dims: int) -> type[WrapConv2d] | type[WrapConv3d]:
    return WrapConv2d if dims == 2 else WrapConv3d


def make_head(dims: int, in_channels: int, n_classes: int) -> nn.Module:
    """Return the 1x1 convolution (with bias) that turns features into logits.

    A 1x1 kernel has no neighbours, so it needs no padding and no wrap.
    """
    return _wrap_conv(dims)(in_channels, n_classes, 1)


def conv_norm_relu(
    dims: int,
    in_channels: int,
    out_channels: int,
    norm: str,
    circular_axis: int | None = None,
    kernel_size: int | Sequence[int] = 3,
    padding: Sequence[int] | None = None,
) -> list[nn.Module]:
    """Return a convolution (with a bias only when ``norm`` is ``"none"``), its
    normalisation and a ReLU, in that order (the layers are built, and so seeded, in it).

    ``padding`` (zero padding per axis) replaces "same" padding, as in :class:`WrapConv3d`.
    """
    bias = norm == "none"
    return [
        _wrap_conv(dims)(in_channels, out_channels, kernel_size, 1, bias, circular_axis, padding),
        make_norm(norm, dims, out_channels),
        nn.ReLU(inplace=True),
    ]


class UpConv3d(nn.ConvTranspose3d):
    """A 3D transposed convolution that runs in float32 where bf16 is unsafe on the CPU.

    See :func:`_bf16_conv3d_unsafe`; the parameters and state dict are those of
    :class:`torch.nn.ConvTranspose3d`.
    """

    def forward(self, x: torch.Tensor, output_size: list[int] | None = None) -> torch.Tensor:
        return _guarded(super().forward, x, output_size)


def make_upconv(dims: int, in_channels: int, out_channels: int) -> nn.Module:
    """Return a transposed convolution that doubles every spatial axis (kernel 2, stride 2).

    It touches no neighbours outside each 2-cell block, so it needs no padding and keeps
    circular axes exact.
    """
    cls = nn.ConvTranspose2d if dims == 2 else UpConv3d
    return cls(in_channels, out_channels, kernel_size=2, stride=2)


class ConvBlock(nn.Sequential):
    """Two "same" convolutions, each followed by normalisation and ReLU.

    Parameters
    ----------
    dims : {2, 3}
        Spatial dimensionality.
    in_channels, out_channels : int
        Channel counts.
    norm : str
        Normalisation (see :func:`make_norm`).
    dropout : float
        Channel dropout between the two convolutions (0 for none).
    circular_axis : int or None
        Spatial axis that wraps around.
    kernel_size : int or tuple of int
        Kernel size of both convolutions.
    """

    def __init__(
        self,
        dims: int,
        in_channels: int,
        out_channels: int,
        norm: str = "batch",
        dropout: float = 0.0,
        circular_axis: int | None = None,
        kernel_size: int | Sequence[int] = 3,
    ) -> None:
        super().__init__(
            *conv_norm_relu(dims, in_channels, out_channels, norm, circular_axis, kernel_size),
            make_dropout(dropout, dims),
            *conv_norm_relu(dims, out_channels, out_channels, norm, circular_axis, kernel_size),
        )
