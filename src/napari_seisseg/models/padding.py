"""Padding helpers: pad to a size multiple and crop back, wrap along a circular axis.

Spatial axes are counted from the first spatial axis of a ``(N, C, *spatial)`` tensor, so
axis 0 of a ``(N, C, H, W)`` tensor is ``H``.  Every helper here is differentiable.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F

__all__ = [
    "crop_to",
    "pad_axis",
    "pad_to_multiple",
    "padded_size",
    "upsample_to",
    "wrap_pad",
]

PAD_MODES = ("reflect", "circular", "replicate", "zeros")


def padded_size(n: int, multiple: int) -> int:
    """Return the size an axis of length ``n`` is padded to inside the models.

    The size is the smallest multiple of ``multiple`` that holds ``n`` and is at least
    ``2 * multiple``, so the bottleneck of a network downsampling by ``multiple`` keeps
    at least two cells per axis (batch and instance normalisation need more than one
    value per channel while training).

    Parameters
    ----------
    n : int
        Length of the axis.
    multiple : int
        Total downsampling factor of the network along the axis.

    Returns
    -------
    int
        The padded length.
    """
    return max(-(-n // multiple) * multiple, 2 * multiple)


def _pad_index(n: int, before: int, after: int, mode: str, device: torch.device) -> torch.Tensor:
    idx = torch.arange(-before, n + after, device=device)
    if mode == "circular":
        return idx % n
    if mode == "replicate" or n == 1:
        return idx.clamp(0, n - 1)
    if mode == "reflect":
        period = 2 * (n - 1)
        idx = idx % period
        return torch.where(idx >= n, period - idx, idx)
    raise ValueError(f"unknown pad mode {mode!r}; choose one of {PAD_MODES}")


def pad_axis(x: torch.Tensor, axis: int, before: int, after: int, mode: str) -> torch.Tensor:
    """Pad one spatial axis of ``x`` by any amount.

    Unlike :func:`torch.nn.functional.pad`, the padding may exceed the axis length: a
    circular axis wraps as many times as needed and a reflected axis keeps reflecting.

    Parameters
    ----------
    x : torch.Tensor
        Tensor shaped ``(N, C, *spatial)``.
    axis : int
        Spatial axis (0 is the first axis after the channels).
    before, after : int
        Number of cells added at the start and at the end of the axis.
    mode : {"reflect", "circular", "replicate", "zeros"}
        How the new cells are filled.

    Returns
    -------
    torch.Tensor
        The padded tensor.
    """
    if before == 0 and after == 0:
        return x
    dim = axis + 2
    if mode == "zeros":
        pad = [0] * (2 * (x.ndim - 2))
        j = x.ndim - 1 - dim
        pad[2 * j], pad[2 * j + 1] = before, after
        return F.pad(x, pad)
    idx = _pad_index(x.shape[dim], before, after, mode, x.device)
    return x.index_select(dim, idx)


def wrap_pad(x: torch.Tensor, axis: int, before: int, after: int) -> torch.Tensor:
    """Pad one spatial axis circularly (the axis wraps around), for convolutions.

    Parameters
    ----------
    x : torch.Tensor
        Tensor shaped ``(N, C, *spatial)``.
    axis : int
        Spatial axis that wraps around.
    before, after : int
        Number of cells taken from the far end / the near end.

    Returns
    -------
    torch.Tensor
        The padded tensor.
    """
    n = x.shape[axis + 2]
    if before <= n and after <= n:
        pad = [0] * (2 * (x.ndim - 2))
        j = x.ndim - 3 - axis
        pad[2 * j], pad[2 * j + 1] = before, after
        return F.pad(x, pad, mode="circular")
    return pad_axis(x, axis, before, after, "circular")


def pad_to_multiple(
    x: torch.Tensor,
    multiple: int,
    n_axes: int,
    circular_axis: int | None = None,
    mode: str = "reflect",
) -> tuple[torch.Tensor, tuple[slice, ...]]:
    """Pad the last ``n_axes`` axes of ``x`` to the sizes given by :func:`padded_size`.

    Padding is split evenly between both ends of each axis.  The circular axis (counted
    among the last ``n_axes`` axes) wraps around; the others use ``mode``.

    Parameters
    ----------
    x : torch.Tensor
        Tensor shaped ``(N, C, ..., *last)``.
    multiple : int
        Size multiple the padded axes must reach.
    n_axes : int
        Number of trailing axes to pad.
    circular_axis : int or None
        Index, among the padded axes, of the axis that wraps around.
    mode : str
        Padding mode for the other axes (see :func:`pad_axis`).

    Returns
    -------
    padded : torch.Tensor
        The padded tensor.
    crop : tuple of slice
        Slices over the padded axes that recover the original extent (see :func:`crop_to`).
    """
    first = x.ndim - 2 - n_axes
    crop = []
    for i in range(n_axes):
        n = x.shape[first + 2 + i]
        total = padded_size(n, multiple) - n
        before = total // 2
        axis_mode = "circular" if circular_axis == i else mode
        x = pad_axis(x, first + i, before, total - before, axis_mode)
        crop.append(slice(before, before + n))
    return x, tuple(crop)


def crop_to(x: torch.Tensor, crop: Sequence[slice]) -> torch.Tensor:
    """Crop the trailing axes of ``x`` with the slices returned by :func:`pad_to_multiple`.

    Parameters
    ----------
    x : torch.Tensor
        Padded tensor.
    crop : sequence of slice
        One slice per trailing axis.

    Returns
    -------
    torch.Tensor
        The cropped tensor (a view).
    """
    return x[(Ellipsis, *crop)]


def upsample_to(
    x: torch.Tensor, size: Sequence[int], circular_axis: int | None = None
) -> torch.Tensor:
    """Upsample ``x`` (bi/trilinearly) by integer factors to ``size``.

    Along a circular axis the interpolation wraps around, so rolling the input by whole
    coarse cells rolls the result exactly.

    Parameters
    ----------
    x : torch.Tensor
        Tensor shaped ``(N, C, *spatial)`` with 2 or 3 spatial axes.
    size : sequence of int
        Target spatial size; each entry a multiple of the current one.
    circular_axis : int or None
        Spatial axis that wraps around.

    Returns
    -------
    torch.Tensor
        The upsampled tensor.
    """
    size = [int(s) for s in size]
    if list(x.shape[2:]) == size:
        return x
    mode = "bilinear" if x.ndim == 4 else "trilinear"
    if circular_axis is None:
        return F.interpolate(x, size=size, mode=mode, align_corners=False)
    scale = size[circular_axis] // x.shape[circular_axis + 2]
    x = wrap_pad(x, circular_axis, 1, 1)
    big = list(size)
    big[circular_axis] += 2 * scale
    y = F.interpolate(x, size=big, mode=mode, align_corners=False)
    return y.narrow(circular_axis + 2, scale, size[circular_axis])
