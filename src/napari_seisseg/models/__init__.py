"""Segmentation networks: one registry for the U-Net family.

============  =====================================================================
``unet2d``    2D U-Net on sections; ``context`` > 0 makes it 2.5D (neighbouring
              slices stacked as channels).
``unet3d``    3D U-Net on volume patches (16-32-64-128 filters by default).
``hybrid``    3D stem on a thin slab, 2D U-Net, refinement head and auxiliary heads
              (deep supervision); predicts the slab's centre slice.
``resunet``   U-Net with a ResNet-18/34 encoder, optionally initialised from a local
              torchvision-style state dict.
============  =====================================================================

Every model returns logits of the input's spatial size for any input size (it pads
internally and crops back), has ``spatial_dims``, ``input_dims``, ``in_channels``,
``n_classes`` and ``context`` attributes, and ``forward_with_aux``.  Importing this
package imports torch.
"""

from __future__ import annotations

from .base import SegmentationModel
from .hybrid import HybridSlabNet
from .registry import MODELS, create_model, list_models, model_spec
from .resunet import ResUNet
from .unet import UNet2D, UNet3D

__all__ = [
    "MODELS",
    "HybridSlabNet",
    "ResUNet",
    "SegmentationModel",
    "UNet2D",
    "UNet3D",
    "create_model",
    "list_models",
    "model_spec",
]
