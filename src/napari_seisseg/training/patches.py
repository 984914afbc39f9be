"""Patch geometry and reading: the one place that turns a window of the cube into tensors.

Training patches (:mod:`.patch_sampler`) and validation windows (:mod:`.validation`) are both
read here, so they always agree on layout:

``"2d"`` (``unet2d``, ``resunet``)
    A section along ``axis`` at ``index``; its in-plane axes are the array's other axes in
    increasing order.  Image ``(2 * context + 1, h, w)``: the slices ``index - context ..
    index + context`` (clamped at the borders) as channels.  Target ``(h, w)``.
``"slab"`` (``hybrid``)
    The same slices as a thin volume: image ``(1, 2 * context + 1, h, w)``, target of the
    centre slice ``(h, w)``.
``"3d"`` (``unet3d``)
    A box: image ``(1, d, h, w)``, target ``(d, h, w)``.

Windows may reach beyond the array (a section smaller than the patch): the image is padded
(reflect or zeros) and the padding is marked *not labeled* (target ``-1``).  Only the
window is read, so images can be lazy (memmap, dask, Zarr, SEG-Y).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..bundle.position import PositionSpec, interleave_position
from ..errors import SeisSegError
from .config import DEFAULT_PATCH

__all__ = ["PatchLayout", "make_layout", "read_window", "inplane_axes"]

KINDS = ("2d", "slab", "3d")


def inplane_axes(axis: int, ndim: int = 3) -> tuple[int, ...]:
    """The axes of a section along ``axis``, in increasing order."""
    return tuple(a for a in range(ndim) if a != axis)


@dataclass(frozen=True)
class PatchLayout:
    """How patches are cut for one model.

    Attributes
    ----------
    kind : {"2d", "slab", "3d"}
        Model input layout (see the module docstring).
    size : tuple of int
        ``(h, w)`` for sections, ``(d, h, w)`` for boxes.
    context : int
        Neighbouring slices on each side (sections).
    axes : tuple of int
        Axes sections are taken along (all three for boxes).
    pad_mode : {"reflect", "zeros"}
        Image padding beyond the array.
    sample_axis : int
        Sample (trace) axis of the array, for the preprocessing pipeline.
    position : PositionSpec or None
        ``"2d"`` only: every slice also gets a channel holding its pixels' position along
        the samples (:mod:`napari_seisseg.bundle.position`).
    """

    kind: str
    size: tuple[int, ...]
    context: int = 0
    axes: tuple[int, ...] = (0, 1, 2)
    pad_mode: str = "reflect"
    sample_axis: int = 2
    position: PositionSpec | None = None

    @property
    def slice_channels(self) -> int:
        """Channels of one slice: the amplitude, and the position when it is used."""
        return 2 if self.position is not None else 1

    @property
    def channels(self) -> int:
        """Channels of the model input."""
        return (2 * self.context + 1) * self.slice_channels if self.kind == "2d" else 1

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {
            "kind": self.kind,
            "patch_size": list(self.size),
            "context": self.context,
            "axes": list(self.axes),
            "pad_mode": self.pad_mode,
            "sample_axis": self.sample_axis,
            **({"position": self.position.to_dict()} if self.position is not None else {}),
        }


def make_layout(
    kind: str,
    shape: Sequence[int],
    patch_size: int | Sequence[int] | None,
    *,
    context: int = 0,
    axes: Sequence[int] | None = None,
    pad_mode: str = "reflect",
    sample_axis: int = 2,
    position: bool = False,
) -> PatchLayout:
    """Choose the patch size for a model and an array.

    Section patches are capped at the largest in-plane extent of the sections used (a
    smaller section is padded); box patches at the array's shape.  Nothing is refused for
    being small; a 3D model on a single section (an axis of length 1) is, since it cannot
    see any depth.

    Parameters
    ----------
    kind : {"2d", "slab", "3d"}
        Model input layout.
    shape : sequence of int
        Array shape (3 axes).
    patch_size : int, sequence of int or None
        Requested size (None: 128 for sections, 64 for boxes).
    context : int
        Neighbouring slices on each side (sections).
    axes : sequence of int, optional
        Section axes (None: all).
    pad_mode : {"reflect", "zeros"}
        Image padding.
    sample_axis : int
        Sample axis of the array.
    position : bool
        Add the position-along-samples channel (``"2d"`` only; its scale is the array's
        length along ``sample_axis``).

    Returns
    -------
    PatchLayout
    """
    if kind not in KINDS:
        raise SeisSegError(f"Unknown patch layout {kind!r}; expected one of {KINDS}.")
    if position and kind != "2d":
        raise SeisSegError(
            f"The position channel is for section models (unet2d, resunet), not {kind!r} models."
        )
    shape = tuple(int(s) for s in shape)
    nd = 2 if kind in ("2d", "slab") else 3
    if patch_size is None:
        req = (DEFAULT_PATCH[nd],) * nd
    elif isinstance(patch_size, (int, np.integer)):
        req = (int(patch_size),) * nd
    else:
        req = tuple(int(p) for p in patch_size)
        if len(req) == 1:
            req = req * nd
        if len(req) != nd:
            raise SeisSegError(
                f"patch_size {tuple(patch_size)} has {len(req)} sizes; this model takes "
                f"{nd} ({'height, width' if nd == 2 else 'depth, height, width'}) or one edge."
            )
    if nd == 3:
        if min(shape) < 2:
            raise SeisSegError(
                f"A 3D model needs a volume, but the image has shape {shape}. Use a section "
                "model (unet2d, resunet, hybrid) for a single section or a stack of 2D images."
            )
        size = tuple(min(p, n) for p, n in zip(req, shape, strict=True))
        return PatchLayout(kind, size, 0, (0, 1, 2), pad_mode, sample_axis)
    axes = tuple(range(3)) if axes is None else tuple(int(a) for a in axes)
    extent = max(max(shape[a] for a in inplane_axes(ax)) for ax in axes)
    size = tuple(min(p, extent) for p in req)
    spec = PositionSpec(shape[sample_axis]) if position else None
    return PatchLayout(kind, size, int(context), axes, pad_mode, sample_axis, spec)


def window_start(center: int, n: int, size: int, jitter: int = 0) -> int:
    """Start of a window of ``size`` around ``center`` (shifted by ``jitter``) in ``[0, n)``.

    A window larger than the axis is centred on it (negative start: padded before).
    """
    if size >= n:
        return -((size - n) // 2)
    return int(np.clip(center - size // 2 + jitter, 0, n - size))


def _pad_widths(ranges: Sequence[tuple[int, int]], shape: Sequence[int]):
    inner, pads = [], []
    for (lo, hi), n in zip(ranges, shape, strict=True):
        a, b = max(lo, 0), min(hi, n)
        if b <= a:
            raise SeisSegError(f"Window {lo}..{hi} lies outside an axis of length {n}.")
        inner.append(slice(a, b))
        pads.append((a - lo, hi - b))
    return tuple(inner), pads


def _read_image(
    image: Any, ranges: Sequence[tuple[int, int]], normalize: Callable, layout: PatchLayout
) -> np.ndarray:
    inner, pads = _pad_widths(ranges, image.shape)
    ax = layout.sample_axis
    before, after = getattr(normalize, "halo", (0, 0))
    if before or after:  # read the samples the pipeline looks at, then crop them off
        s, n = inner[ax], image.shape[ax]
        lo, hi = max(0, s.start - before), min(n, s.stop + after)
        key = list(inner)
        key[ax] = slice(lo, hi)
        block = normalize(np.asarray(image[tuple(key)]), axis=ax)
        crop: list[Any] = [slice(None)] * block.ndim
        crop[ax] = slice(s.start - lo, s.stop - lo)
        block = block[tuple(crop)]
    else:
        block = normalize(np.asarray(image[inner]), axis=ax)
    if any(p != (0, 0) for p in pads):
        mode = "reflect" if layout.pad_mode == "reflect" else "constant"
        block = np.pad(block, pads, mode=mode)
    return block


def _read_target(target: Any, ranges: Sequence[tuple[int, int]]) -> np.ndarray:
    inner, pads = _pad_widths(ranges, target.shape)
    if hasattr(target, "read"):
        block = target.read(inner)
    else:
        block = np.asarray(target[inner])
    block = block.astype(np.int64) - 1  # 0 (ignored) -> -1
    if any(p != (0, 0) for p in pads):
        block = np.pad(block, pads, mode="constant", constant_values=-1)
    return block


def read_window(
    image: Any,
    target: Any,
    layout: PatchLayout,
    normalize: Callable,
    start: Sequence[int],
    *,
    axis: int | None = None,
    index: int | None = None,
    with_position: bool = True,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Read one patch.

    Parameters
    ----------
    image : array-like or None
        The raw image (3 axes); None to read only the target.
    target : numpy.ndarray, HeldOut or None
        Target (0 = ignored, ``k + 1`` = class ``k``), or an object with ``read(region)``.
    layout : PatchLayout
        Patch layout.
    normalize : callable
        ``normalize(block, axis=sample_axis) -> float32``.
    start : sequence of int
        Window start: in-plane ``(r0, c0)`` for sections, ``(z0, y0, x0)`` for boxes; may
        be negative or reach beyond the array (padded).
    axis, index : int
        Section axis and index (sections only).
    with_position : bool
        Add the position channel when the layout has one (False: amplitudes only, for
        augmenting before :func:`add_position`).

    Returns
    -------
    image : numpy.ndarray or None
        float32 patch, as the module docstring describes (None when ``image`` is None).
    target : numpy.ndarray or None
        int64 class indices, ``-1`` = not labeled (None when ``target`` is None).
    """
    shape = tuple((image if image is not None else target).shape)
    if layout.kind == "3d":
        ranges = [(int(s), int(s) + p) for s, p in zip(start, layout.size, strict=True)]
        tgt = None if target is None else _read_target(target, ranges)
        if image is None:
            return None, tgt
        img = _read_image(image, ranges, normalize, layout)[None]
        return np.ascontiguousarray(img, dtype=np.float32), tgt
    plane = inplane_axes(axis)
    n = shape[axis]
    c = layout.context
    lo, hi = max(0, index - c), min(n, index + c + 1)
    ranges: list[tuple[int, int]] = [(0, 0)] * 3
    ranges[axis] = (lo, hi)
    for a, s, p in zip(plane, start, layout.size, strict=True):
        ranges[a] = (int(s), int(s) + p)
    img = None
    if image is not None:
        block = np.moveaxis(_read_image(image, ranges, normalize, layout), axis, 0)
        take = np.clip(np.arange(index - c, index + c + 1), 0, n - 1) - lo
        img = block[take]
        if layout.kind == "slab":
            img = img[None]
        img = np.ascontiguousarray(img, dtype=np.float32)
        if with_position:
            img = add_position(layout, img, start, axis=axis, index=index, n=n)
    tgt = None
    if target is not None:
        ranges[axis] = (index, index + 1)
        tgt = np.moveaxis(_read_target(target, ranges), axis, 0)[0]
    return img, tgt


def add_position(
    layout: PatchLayout,
    img: np.ndarray,
    start: Sequence[int],
    *,
    axis: int,
    index: int,
    n: int,
) -> np.ndarray:
    """Interleave the position channel into a section patch ``(2c + 1, h, w)``.

    ``start`` is the in-plane window start, ``axis``/``index`` the section, ``n`` the length
    of the array along ``axis``.  Patches of a layout without position come back unchanged.
    """
    if layout.position is None:
        return img
    plane = inplane_axes(axis)
    sa = layout.sample_axis
    if sa == axis:  # time slices: one value per slice of the context
        c = layout.context
        first: Any = np.clip(np.arange(index - c, index + c + 1), 0, n - 1)
        return interleave_position(img, layout.position, None, first)
    dim = plane.index(sa)
    return interleave_position(img, layout.position, dim, int(start[dim]))
