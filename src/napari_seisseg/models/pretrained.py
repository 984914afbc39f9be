"""Initialise an encoder from weights in a local file (never downloads, never unpickles code)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..errors import SeisSegError

__all__ = ["adapt_first_conv", "load_encoder_weights", "read_state_dict"]

_PREFIXES = ("", "module.", "encoder.", "backbone.", "model.", "module.encoder.", "model.encoder.")
_NESTED = ("state_dict", "model_state_dict", "model", "encoder")


def read_state_dict(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """Read a state dict (name -> tensor) from a local file.

    Parameters
    ----------
    path : str or os.PathLike
        A ``.pt``/``.pth`` file written by :func:`torch.save` (read with
        ``weights_only=True``, so no code is unpickled), or a ``.safetensors`` file (needs
        the ``safetensors`` package).  A checkpoint dict holding the weights under
        ``state_dict``, ``model_state_dict`` or ``model`` is unwrapped.

    Returns
    -------
    dict of str to torch.Tensor
        The tensors, on the CPU.

    Raises
    ------
    SeisSegError
        If the file is missing, unreadable or holds no tensors.
    """
    p = Path(path).expanduser()
    if not p.is_file():
        raise SeisSegError(
            f"pretrained weights not found: {p}. Give the path of a local state-dict file "
            "(.pt, .pth or .safetensors); nothing is downloaded."
        )
    if p.suffix == ".safetensors":
        try:
            from safetensors.torch import load_file
        except ImportError:
            raise SeisSegError(
                f"{p} is a .safetensors file but the 'safetensors' package is not installed. "
                "Install it (pip install safetensors) or convert the file to a .pt state dict."
            ) from None
        try:
            obj: Any = load_file(str(p), device="cpu")
        except Exception as exc:
            raise SeisSegError(f"cannot read {p} as safetensors: {exc}") from exc
    else:
        try:
            obj = torch.load(p, map_location="cpu", weights_only=True)
        except Exception as exc:
            raise SeisSegError(
                f"cannot read {p} as a state dict ({type(exc).__name__}: {exc}). Only plain "
                "tensors are loaded (weights_only=True): save the weights with "
                "torch.save(model.state_dict(), path)."
            ) from exc
    for key in _NESTED:
        if isinstance(obj, dict) and isinstance(obj.get(key), dict):
            obj = obj[key]
    tensors = (
        {k: v for k, v in obj.items() if isinstance(k, str) and isinstance(v, torch.Tensor)}
        if isinstance(obj, dict)
        else {}
    )
    if not tensors:
        raise SeisSegError(f"{p} holds no named tensors; expected a state dict.")
    return tensors


def adapt_first_conv(weight: torch.Tensor, in_channels: int) -> torch.Tensor:
    """Fit first-convolution kernels to another number of input channels.

    The kernels are summed over their input channels and the sum is shared equally
    among ``in_channels`` channels, so an input whose channels are all equal gives the
    same response as the original network on a grey (R = G = B) image.

    Parameters
    ----------
    weight : torch.Tensor
        Kernels shaped ``(out, c, *k)``.
    in_channels : int
        Input channels wanted.

    Returns
    -------
    torch.Tensor
        Kernels shaped ``(out, in_channels, *k)``.
    """
    total = weight.sum(dim=1, keepdim=True)
    return (total / in_channels).repeat(1, in_channels, *([1] * (weight.ndim - 2)))


def load_encoder_weights(encoder: nn.Module, path: str | os.PathLike) -> dict[str, Any]:
    """Copy weights from a local file into ``encoder``, matching torchvision-style names.

    Keys are matched after dropping the best-fitting prefix (none, ``module.``,
    ``encoder.``, ``backbone.`` ...); keys the encoder lacks (``fc.*``, deeper stages)
    are ignored.  The first convolution is adapted when its input channels differ (see
    :func:`adapt_first_conv`).  Every convolution kernel must be present with the right
    shape; normalisation parameters that are missing, or that the encoder does not have
    (``norm="none"``), keep their initial values.

    Parameters
    ----------
    encoder : torch.nn.Module
        The module to initialise, e.g. a :class:`~napari_seisseg.models.resunet.ResNetEncoder`.
    path : str or os.PathLike
        File read by :func:`read_state_dict`.

    Returns
    -------
    dict
        ``loaded`` (number of tensors copied), ``adapted`` (names of adapted tensors) and
        ``kept`` (names left at their initial values).

    Raises
    ------
    SeisSegError
        If the file cannot be read, a convolution kernel is missing, or shapes differ
        (for example weights of a 64-wide ResNet loaded into ``width=32``).
    """
    source = read_state_dict(path)
    target = encoder.state_dict()
    prefix = max(_PREFIXES, key=lambda pre: sum(pre + k in source for k in target))
    conv_weights = {
        f"{name}.weight"
        for name, mod in encoder.named_modules()
        if isinstance(mod, nn.modules.conv._ConvNd)
    }
    first_conv = min(conv_weights, key=lambda k: list(target).index(k)) if conv_weights else None
    new: dict[str, torch.Tensor] = {}
    adapted: list[str] = []
    kept: list[str] = []
    missing_conv: list[str] = []
    for key, want in target.items():
        got = source.get(prefix + key)
        if got is None:
            (missing_conv if key in conv_weights else kept).append(key)
            continue
        if (
            key == first_conv
            and got.ndim == want.ndim
            and got.shape[1] != want.shape[1]
            and got.shape[0] == want.shape[0]
            and got.shape[2:] == want.shape[2:]
        ):
            got = adapt_first_conv(got.float(), want.shape[1])
            adapted.append(key)
        if got.shape != want.shape:
            raise SeisSegError(
                f"{path}: '{prefix + key}' has shape {tuple(got.shape)} but the model needs "
                f"{tuple(want.shape)}. Standard ResNet weights need width=64 and the matching "
                "encoder (resnet18 or resnet34)."
            )
        new[key] = got.to(want.dtype)
    if missing_conv:
        shown = ", ".join(missing_conv[:4]) + (" ..." if len(missing_conv) > 4 else "")
        raise SeisSegError(
            f"{path} lacks {len(missing_conv)} convolution weight(s) the encoder needs "
            f"({shown}). Expected torchvision-style ResNet names such as 'conv1.weight' and "
            "'layer1.0.conv1.weight' (encoder resnet18 or resnet34)."
        )
    encoder.load_state_dict(new, strict=False)
    return {"loaded": len(new), "adapted": adapted, "kept": kept}
