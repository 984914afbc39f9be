"""``hybrid``: a 3D stem reading a thin slab, a 2D U-Net, a refinement head and deep
supervision heads; it predicts the slab's centre slice."""

from __future__ import annotations

import torch
from torch import nn

from ..errors import SeisSegError
from .base import SegmentationModel, check_options
from .blocks import ConvBlock, conv_norm_relu, cpu_autocast_on, make_head, make_norm
from .unet import UNetCore

__all__ = ["HybridSlabNet"]


class HybridSlabNet(SegmentationModel):
    """Slab-to-section network: 3D stem, 2D U-Net, refinement head, auxiliary heads.

    The stem applies two 3x3x3 convolutions to a slab of ``2 * context + 1`` slices,
    "valid" along the slab axis while it has at least 3 slices, and collapses any depth
    left with a learned ``D x 1 x 1`` convolution, giving 2D features of the centre
    section.  A 2D U-Net follows.  The refinement head fuses, at full resolution, the
    U-Net's last decoder output with the stem features and the centre slice itself.  Each decoder
    stage also has a 1x1 auxiliary head for deep supervision (see
    :meth:`forward_with_aux`).

    Parameters
    ----------
    in_channels : int
        Channels of one slice (1 for amplitudes).
    n_classes : int
        Number of output logits.
    width : int
        Filters of the stem and of the U-Net's first level (default 16).
    depth : int
        Downsamplings of the 2D U-Net (default 4).
    norm : {"batch", "instance", "group", "none"}
        Normalisation after every convolution.
    dropout : float
        Channel dropout in the U-Net's bottleneck and decoder blocks.
    context : int
        Slices on each side of the centre slice (default 2: a slab of 5 slices).
    circular_axis : {None, 0, 1}
        Section axis (0 = H, 1 = W) that wraps around; the stem, the U-Net and the head
        all wrap along it.

    Notes
    -----
    Input ``(N, in_channels, 2 * context + 1, H, W)``, the slab axis third; output logits
    ``(N, n_classes, H, W)`` for the centre slice.  ``spatial_dims`` is 2 (it predicts
    sections) and ``input_dims`` is 3.
    """

    model_name = "hybrid"

    def __init__(
        self,
        in_channels: int = 1,
        n_classes: int = 2,
        width: int = 16,
        depth: int = 4,
        norm: str = "batch",
        dropout: float = 0.0,
        context: int = 2,
        circular_axis: int | None = None,
    ) -> None:
        opts = check_options(self.model_name, in_channels, n_classes, width, depth, norm, dropout,
                             context, circular_axis)
        super().__init__(opts, size_multiple=2 ** opts["depth"], spatial_dims=2, input_dims=3)
        in_channels, n_classes, width, depth, norm, dropout, context, circular_axis = opts.values()
        circ3 = None if circular_axis is None else circular_axis + 1
        self.stem = _slab_stem(in_channels, width, context, norm, circ3)
        self.unet = UNetCore(2, width, width, depth, norm, dropout, circular_axis)
        self.refine = nn.Sequential(
            ConvBlock(2, 2 * width + in_channels, width, norm, 0.0, circular_axis),
            *conv_norm_relu(2, width, width, norm, circular_axis),
        )
        self.head = make_head(2, width, n_classes)
        n_aux = max(depth, 1)
        self.aux_heads = nn.ModuleList(
            make_head(2, self.unet.channels[min(i, depth)], n_classes) for i in range(n_aux)
        )
        self._spec = opts

    @property
    def slab(self) -> int:
        """Number of slices the model reads: ``2 * context + 1``."""
        return 2 * self.context + 1

    def expected_input(self) -> str:
        """Describe the input shape the model takes, for error messages."""
        return f"(N, {self.in_channels}, {self.slab}, H, W)"

    def _check_input(self, x: torch.Tensor) -> None:
        super()._check_input(x)
        if x.shape[2] != self.slab:
            raise SeisSegError(
                f"hybrid expects a slab of {self.slab} slices (context={self.context}) on "
                f"axis 2, shaped {self.expected_input()}; got {tuple(x.shape)}."
            )

    def _stem(self, x: torch.Tensor) -> torch.Tensor:
        """The stem's 2D features; in float32 under CPU autocast.

        bf16 3D convolutions over a thin slab crash or hang in their backward pass on the CPU
        (torch 2.13: a segmentation fault for 8 x 1 x 5 x 128 x 128, a hang for 2 x 16 x 5 x
        128 x 128; 64-voxel cubes are fine), which killed ``seisseg train --model hybrid``
        and would take napari down with it.  The stem is a small share of the work.  (The
        3D convolutions of the other models guard themselves by shape:
        :data:`~napari_seisseg.models.blocks.THIN_3D_RATIO`.)
        """
        if x.device.type == "cpu" and cpu_autocast_on():
            with torch.autocast("cpu", enabled=False):
                return self.stem(x.float()).squeeze(2)
        return self.stem(x).squeeze(2)

    def _forward_padded(
        self, x: torch.Tensor, want_aux: bool
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        feats = self._stem(x)  # (N, width, H, W): the centre section's features
        decoded = self.unet(feats)
        fused = torch.cat([decoded[-1], feats, x[:, :, self.context]], dim=1)
        logits = self.head(self.refine(fused))
        aux: list[torch.Tensor] = []
        if want_aux:
            # finest first: decoded[-1] is full resolution, decoded[0] the coarsest stage
            stages = decoded[::-1]
            aux = [head(f) for head, f in zip(self.aux_heads, stages, strict=True)]
        return logits, aux


def _slab_stem(
    in_channels: int, width: int, context: int, norm: str, circ3: int | None
) -> nn.Sequential:
    """The 3D stem that turns a slab of ``2 * context + 1`` slices into 2D feature maps.

    Two 3x3x3 convolutions, "valid" along the slab axis while it is deep enough (5 -> 3 -> 1
    slices for context=2: a quarter of the cost of "same" convolutions), then a learned
    (D x 1 x 1) convolution collapses whatever depth is left.
    """
    stem: list[nn.Module] = []
    d, cin = 2 * context + 1, in_channels
    for _ in range(2):
        valid = d >= 3
        stem += conv_norm_relu(3, cin, width, norm, circ3, padding=(0 if valid else 1, 1, 1))
        d, cin = (d - 2 if valid else d), width
    if d > 1:
        stem += [
            nn.Conv3d(width, width, kernel_size=(d, 1, 1), bias=norm == "none"),
            make_norm(norm, 3, width),
            nn.ReLU(inplace=True),
        ]
    return nn.Sequential(*stem)
