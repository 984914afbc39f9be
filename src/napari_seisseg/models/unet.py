"""Plain U-Nets: ``unet2d`` on sections (optionally 2.5D) and ``unet3d`` on volume patches."""

from __future__ import annotations

import torch
from torch import nn

from .base import SegmentationModel, check_options
from .blocks import ConvBlock, make_head, make_upconv

__all__ = ["UNet2D", "UNet3D", "UNetCore"]


class UNetCore(nn.Module):
    """Encoder-decoder with skip connections; returns the decoder's feature maps.

    Level ``i`` has ``width * 2**i`` channels; there are ``depth`` max-pool
    downsamplings and as many transposed-convolution upsamplings.

    Parameters
    ----------
    dims : {2, 3}
        Spatial dimensionality.
    in_channels : int
        Input channels.
    width : int
        Channels of the first level.
    depth : int
        Number of downsamplings; inputs must be multiples of ``2**depth``.
    norm : str
        Normalisation (see :func:`~napari_seisseg.models.blocks.make_norm`).
    dropout : float
        Channel dropout in the bottleneck and in every decoder block.
    circular_axis : int or None
        Spatial axis that wraps around.
    """

    def __init__(
        self,
        dims: int,
        in_channels: int,
        width: int,
        depth: int,
        norm: str = "batch",
        dropout: float = 0.0,
        circular_axis: int | None = None,
    ) -> None:
        super().__init__()
        chans = [width * 2**i for i in range(depth + 1)]
        self.channels = chans
        self.encoders = nn.ModuleList()
        prev = in_channels
        for i, c in enumerate(chans):
            p = dropout if i == depth else 0.0
            self.encoders.append(ConvBlock(dims, prev, c, norm, p, circular_axis))
            prev = c
        self.pool = nn.MaxPool2d(2) if dims == 2 else nn.MaxPool3d(2)
        self.ups = nn.ModuleList()
        self.decoders = nn.ModuleList()
        for i in reversed(range(depth)):
            self.ups.append(make_upconv(dims, chans[i + 1], chans[i]))
            self.decoders.append(
                ConvBlock(dims, 2 * chans[i], chans[i], norm, dropout, circular_axis)
            )

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Return the decoder outputs, coarsest first; the last one has the input's size."""
        skips = []
        for i, enc in enumerate(self.encoders):
            if i:
                x = self.pool(x)
            x = enc(x)
            skips.append(x)
        x = skips.pop()
        outs = []
        for up, dec in zip(self.ups, self.decoders, strict=True):
            x = dec(torch.cat([up(x), skips.pop()], dim=1))
            outs.append(x)
        if not outs:
            outs.append(x)
        return outs


class _UNet(SegmentationModel):
    def __init__(
        self,
        dims: int,
        in_channels: int,
        n_classes: int,
        width: int,
        depth: int,
        norm: str,
        dropout: float,
        context: int,
        circular_axis: int | None,
    ) -> None:
        opts = check_options(self.model_name, in_channels, n_classes, width, depth, norm, dropout,
                             context, circular_axis, n_axes=dims)
        super().__init__(opts, size_multiple=2 ** opts["depth"], spatial_dims=dims, input_dims=dims)
        self.core = UNetCore(dims, self.input_channels, self.width, self.depth, opts["norm"],
                             opts["dropout"], self.circular_axis)
        self.head = make_head(dims, self.width, self.n_classes)
        keys = ("in_channels", "n_classes", "width", "depth", "norm", "dropout")
        self._spec = {k: opts[k] for k in keys}

    def _forward_padded(
        self, x: torch.Tensor, want_aux: bool
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        return self.head(self.core(x)[-1]), []


class UNet2D(_UNet):
    """2D U-Net on sections, optionally 2.5D (neighbouring slices as channels).

    Parameters
    ----------
    in_channels : int
        Channels of one slice (1 for amplitudes).
    n_classes : int
        Number of output logits.
    width : int
        Filters of the first level (doubled at each downsampling).  Default 16: about
        1.9 M parameters at depth 4, quick enough to train on a laptop CPU.
    depth : int
        Number of downsamplings (default 4).
    norm : {"batch", "instance", "group", "none"}
        Normalisation after every convolution.
    dropout : float
        Channel dropout in the bottleneck and in every decoder block.
    context : int
        Neighbouring slices on each side (2.5D).  The model then takes
        ``in_channels * (2 * context + 1)`` input channels: the caller stacks the slices
        ``-context .. +context`` around the section as channels, slice-major, so channel
        ``(k + context) * in_channels + c`` is channel ``c`` of the slice at offset ``k``.
    circular_axis : {None, 0, 1}
        Section axis (0 = rows, 1 = columns) that wraps around, as in borehole images
        that cover 360 degrees: convolutions and the internal padding wrap along it.

    Notes
    -----
    Input ``(N, in_channels * (2 * context + 1), H, W)`` of any size; output logits
    ``(N, n_classes, H, W)``.
    """

    model_name = "unet2d"

    def __init__(
        self,
        in_channels: int = 1,
        n_classes: int = 2,
        width: int = 16,
        depth: int = 4,
        norm: str = "batch",
        dropout: float = 0.0,
        context: int = 0,
        circular_axis: int | None = None,
    ) -> None:
        super().__init__(
            2, in_channels, n_classes, width, depth, norm, dropout, context, circular_axis
        )
        self._spec.update(context=self.context, circular_axis=self.circular_axis)

    @property
    def input_channels(self) -> int:
        """``in_channels * (2 * context + 1)``: the slices stacked as channels."""
        return self.in_channels * (2 * self.context + 1)


class UNet3D(_UNet):
    """3D U-Net on volume patches, with FaultSeg3D-like sizes (16-32-64-128 filters).

    Parameters
    ----------
    in_channels : int
        Input channels (1 for amplitudes).
    n_classes : int
        Number of output logits.
    width : int
        Filters of the first level (default 16, doubled at each downsampling).
    depth : int
        Number of downsamplings (default 3, so 16-32-64-128).
    norm : {"batch", "instance", "group", "none"}
        Normalisation after every convolution.
    dropout : float
        Channel dropout in the bottleneck and in every decoder block.
    circular_axis : {None, 0, 1, 2}
        Patch axis that wraps around, if any.

    Notes
    -----
    Input ``(N, in_channels, D, H, W)`` of any size; output ``(N, n_classes, D, H, W)``.
    """

    model_name = "unet3d"

    def __init__(
        self,
        in_channels: int = 1,
        n_classes: int = 2,
        width: int = 16,
        depth: int = 3,
        norm: str = "batch",
        dropout: float = 0.0,
        circular_axis: int | None = None,
    ) -> None:
        super().__init__(3, in_channels, n_classes, width, depth, norm, dropout, 0, circular_axis)
        self._spec.update(circular_axis=self.circular_axis)
