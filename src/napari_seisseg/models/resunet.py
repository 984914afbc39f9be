"""``resunet``: a U-Net whose encoder is a ResNet-18/34 (written here, no torchvision)."""

from __future__ import annotations

import os

import torch
from torch import nn

from .base import SegmentationModel, check_choice, check_options
from .blocks import (
    ConvBlock,
    WrapConv2d,
    WrapMaxPool2d,
    make_dropout,
    make_head,
    make_norm,
    make_upconv,
)
from .padding import upsample_to

__all__ = ["ENCODERS", "BasicBlock", "ResNetEncoder", "ResUNet"]

#: Residual blocks per stage of the supported encoders.
ENCODERS: dict[str, tuple[int, ...]] = {"resnet18": (2, 2, 2, 2), "resnet34": (3, 4, 6, 3)}


class BasicBlock(nn.Module):
    """ResNet's basic residual block (two 3x3 convolutions), with torchvision's names.

    Parameters
    ----------
    inplanes, planes : int
        Input and output channels.
    stride : int
        Stride of the first convolution (2 halves the size).
    norm : str
        Normalisation (see :func:`~napari_seisseg.models.blocks.make_norm`).
    circular_axis : int or None
        Spatial axis that wraps around.
    """

    def __init__(
        self,
        inplanes: int,
        planes: int,
        stride: int = 1,
        norm: str = "batch",
        circular_axis: int | None = None,
    ) -> None:
        super().__init__()
        bias = norm == "none"
        self.conv1 = WrapConv2d(inplanes, planes, 3, stride, bias, circular_axis)
        self.bn1 = make_norm(norm, 2, planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = WrapConv2d(planes, planes, 3, 1, bias, circular_axis)
        self.bn2 = make_norm(norm, 2, planes)
        self.downsample: nn.Module | None = None
        if stride != 1 or inplanes != planes:
            self.downsample = nn.Sequential(
                WrapConv2d(inplanes, planes, 1, stride, bias), make_norm(norm, 2, planes)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return ``relu(F(x) + shortcut(x))``."""
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class ResNetEncoder(nn.Module):
    """ResNet-18/34 trunk: 7x7 stride-2 stem, 3x3 stride-2 max pool, residual stages.

    Module and parameter names follow torchvision (``conv1``, ``bn1``, ``layer1.0.conv1``
    ...), so a torchvision state dict maps onto it key for key.

    Parameters
    ----------
    in_channels : int
        Input channels.
    layers : tuple of int
        Residual blocks per stage; only the first ``depth`` stages are built.
    width : int
        Channels of the stem and the first stage (64 in torchvision); stage ``i`` has
        ``width * 2**i``.
    depth : int
        Number of residual stages (1-4).
    norm : str
        Normalisation.
    circular_axis : int or None
        Spatial axis that wraps around.
    """

    def __init__(
        self,
        in_channels: int,
        layers: tuple[int, ...],
        width: int = 64,
        depth: int = 4,
        norm: str = "batch",
        circular_axis: int | None = None,
    ) -> None:
        super().__init__()
        bias = norm == "none"
        self.conv1 = WrapConv2d(in_channels, width, 7, 2, bias, circular_axis)
        self.bn1 = make_norm(norm, 2, width)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = WrapMaxPool2d(circular_axis)
        self.channels = [width] + [width * 2**i for i in range(depth)]
        self.stage_names = []
        inplanes = width
        for i in range(depth):
            planes = width * 2**i
            blocks = [
                BasicBlock(
                    inplanes if b == 0 else planes,
                    planes,
                    2 if (b == 0 and i) else 1,
                    norm,
                    circular_axis,
                )
                for b in range(layers[i])
            ]
            name = f"layer{i + 1}"
            self.add_module(name, nn.Sequential(*blocks))
            self.stage_names.append(name)
            inplanes = planes

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Return the stem output (1/2 size) and each stage's output (1/4, 1/8, ...)."""
        x = self.relu(self.bn1(self.conv1(x)))
        feats = [x]
        x = self.maxpool(x)
        for name in self.stage_names:
            x = getattr(self, name)(x)
            feats.append(x)
        return feats


class ResUNet(SegmentationModel):
    """U-Net with a residual (ResNet-18/34) encoder, decoding back to full resolution.

    The decoder upsamples with transposed convolutions and joins, in turn, each
    residual stage, the stem (1/2 size) and a small full-resolution convolution block
    on the input, so fine detail survives the stride-2 stem.

    Parameters
    ----------
    in_channels : int
        Channels of one slice (1 for amplitudes).
    n_classes : int
        Number of output logits.
    encoder : {"resnet18", "resnet34"}
        Residual blocks per stage: (2, 2, 2, 2) or (3, 4, 6, 3).  Default ``"resnet18"``,
        half the encoder cost of ResNet-34 on a CPU.
    width : int
        Stem/first-stage channels (stages ``width * (1, 2, 4, 8)``).  Default 64, the
        standard ResNet widths, so that torchvision weights load; 16 or 32 give a
        CPU-sized model.
    depth : int
        Number of residual stages, 1-4 (default 4: total stride 32).
    norm : {"batch", "instance", "group", "none"}
        Normalisation (pretrained weights fit ``"batch"`` best).
    dropout : float
        Channel dropout on the deepest features and in every decoder block.
    context : int
        Neighbouring slices on each side (2.5D), stacked as channels as in ``unet2d``:
        the model takes ``in_channels * (2 * context + 1)`` channels.
    circular_axis : {None, 0, 1}
        Section axis (0 = H, 1 = W) that wraps around.
    global_context : bool
        Add the average of the deepest features over the whole input (through a 1x1
        convolution) back to every position of the bottleneck, so that each pixel's decision
        sees the whole patch: a patch lying entirely inside a textureless salt body has
        little local evidence.  Default False.
    output_stride : {1, 2, 4}
        Resolution the decoder stops at: 1 decodes to full resolution (the default); 2 or
        4 stop at 1/2 or 1/4 of it and upsample the logits bilinearly, skipping the most
        expensive decoder stages (2.1x faster training steps at 4 on a 2-core CPU).  For
        smooth bodies (salt): TGS salt masks pooled to 1/4 and upsampled back keep a
        pixel IoU of 0.995; keep 1 for thin classes (faults, horizons).
    pretrained_path : str or os.PathLike, optional
        Local file with encoder weights: a state dict (``.pt``/``.pth``, read with
        ``torch.load(..., weights_only=True)``) or ``.safetensors`` (if the
        ``safetensors`` package is installed), with torchvision's key names
        (``conv1.weight``, ``bn1.*``, ``layer1.0.conv1.weight`` ...; an ``fc.*`` head and
        prefixes such as ``module.`` or ``encoder.`` are ignored).  A first convolution
        with another number of input channels (3 for RGB) is adapted by summing its
        kernels over channels and sharing the sum equally among the model's channels.
        Nothing is ever downloaded.  The path is not part of :func:`model_spec`: it
        initialises weights and does not change the architecture.

    Notes
    -----
    Input ``(N, in_channels * (2 * context + 1), H, W)`` of any size; output logits
    ``(N, n_classes, H, W)``.
    """

    model_name = "resunet"

    def __init__(
        self,
        in_channels: int = 1,
        n_classes: int = 2,
        encoder: str = "resnet18",
        width: int = 64,
        depth: int = 4,
        norm: str = "batch",
        dropout: float = 0.0,
        context: int = 0,
        circular_axis: int | None = None,
        global_context: bool = False,
        output_stride: int = 1,
        pretrained_path: str | os.PathLike | None = None,
    ) -> None:
        opts = check_options(self.model_name, in_channels, n_classes, width, depth, norm, dropout,
                             context, circular_axis, min_width=2, depth_range=(1, 4),
                             encoder=(encoder, tuple(ENCODERS)))
        in_channels, n_classes, encoder, width, depth, norm, dropout, context, circular_axis = (
            opts.values()
        )
        output_stride = check_choice(self.model_name, "output_stride", output_stride, (1, 2, 4))
        super().__init__(opts, size_multiple=2 ** (depth + 1), spatial_dims=2, input_dims=2)
        self.encoder = ResNetEncoder(
            self.input_channels, ENCODERS[encoder], width, depth, norm, circular_axis
        )
        self.output_stride = output_stride
        #: first level decoded to: 0 full resolution, 1 the stem's 1/2, 2 the first stage's 1/4
        self._top_level = {1: 0, 2: 1, 4: 2}[output_stride]
        self._build_decoder(width, norm, dropout, circular_axis, global_context)
        self._spec = opts
        # options only when on: specs of earlier bundles stay as they were
        if global_context:
            self._spec["global_context"] = True
        if output_stride != 1:
            self._spec["output_stride"] = output_stride
        self.pretrained_from: str | None = None
        if pretrained_path is not None:
            from .pretrained import load_encoder_weights

            load_encoder_weights(self.encoder, pretrained_path)
            self.pretrained_from = os.fspath(pretrained_path)

    def _build_decoder(
        self, width: int, norm: str, dropout: float, circular_axis: int | None,
        global_context: bool,
    ) -> None:
        """The full-resolution block, bottleneck context, upsampling decoder and head."""
        full = max(width // 4, 2)
        self.full_res: nn.Module | None = None
        if self.output_stride == 1:
            self.full_res = ConvBlock(2, self.input_channels, full, norm, 0.0, circular_axis)
        self.drop = make_dropout(dropout, 2)
        deep = self.encoder.channels[-1]
        self.context_fc: nn.Module | None = None
        if global_context:
            self.context_fc = nn.Conv2d(deep, deep, 1)
        # every level above the deepest, from full resolution (1) down, that is decoded to
        skips = [full, *self.encoder.channels[:-1]][self._top_level :]
        prev = self.encoder.channels[-1]
        self.ups = nn.ModuleList()
        self.decoders = nn.ModuleList()
        for c in reversed(skips):
            self.ups.append(make_upconv(2, prev, c))
            self.decoders.append(ConvBlock(2, 2 * c, c, norm, dropout, circular_axis))
            prev = c
        self.head = make_head(2, prev, self.n_classes)

    @property
    def input_channels(self) -> int:
        """``in_channels * (2 * context + 1)``: the slices stacked as channels."""
        return self.in_channels * (2 * self.context + 1)

    def _forward_padded(
        self, x: torch.Tensor, want_aux: bool
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        full = self.full_res(x) if self.full_res is not None else None
        skips = [full, *self.encoder(x)][self._top_level :]  # the levels decoded to
        y = skips.pop()
        if self.context_fc is not None:
            y = y + self.context_fc(y.mean(dim=(2, 3), keepdim=True))
        y = self.drop(y)
        for up, dec in zip(self.ups, self.decoders, strict=True):
            y = dec(torch.cat([up(y), skips.pop()], dim=1))
        logits = self.head(y)
        if self.output_stride != 1:
            logits = upsample_to(logits, x.shape[2:], self.circular_axis)
        return logits, []
