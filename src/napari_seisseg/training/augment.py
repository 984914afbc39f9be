"""Seeded data augmentation, applied identically to an image patch and its labels.

A patch is an image ``(*lead, *spatial)`` and a target ``spatial`` whose axes are the
image's trailing axes (``lead`` is the channel axis, plus the slab axis of a hybrid
patch).  Geometric changes (flips, 90-degree rotations, transposes, rolls, zooms and small
rotations, elastic distortion) move image and target together; the target is resampled with
nearest neighbours and anything pulled in from outside the patch is marked not labeled (``-1``).
Amplitude changes (gain, polarity, noise) touch the image only.
"""

from __future__ import annotations

import numpy as np

from .config import AugmentConfig

__all__ = ["Augmenter", "affine_field", "elastic_field", "warp"]

#: Spacing (voxels) of the control points of the elastic distortion.
_ELASTIC_SPACING = 32


def _interp_linear(data: np.ndarray, coords: list[np.ndarray]) -> np.ndarray:
    """Multilinear interpolation of ``data[..., *grid]`` at ``coords`` (clamped to the edges)."""
    nd = len(coords)
    shape = data.shape[-nd:]
    lo, frac = [], []
    for c, n in zip(coords, shape, strict=True):
        c = np.clip(c, 0, n - 1)
        i0 = np.minimum(np.floor(c).astype(np.intp), max(n - 2, 0))
        lo.append(i0)
        frac.append((c - i0).astype(np.float32))
    out = np.zeros(data.shape[:-nd] + coords[0].shape, dtype=np.float32)
    for corner in range(1 << nd):
        idx, w = [], np.ones(coords[0].shape, dtype=np.float32)
        for d in range(nd):
            up = (corner >> d) & 1
            n = shape[d]
            idx.append(np.minimum(lo[d] + up, n - 1))
            w = w * (frac[d] if up else 1.0 - frac[d])
        out += data[(Ellipsis, *idx)] * w
    return out


def elastic_field(
    shape: tuple[int, ...], alpha: float, rng: np.random.Generator
) -> list[np.ndarray]:
    """A smooth random displacement (one array per axis, voxels, at most ``alpha``)."""
    grids = [np.arange(n, dtype=np.float32) for n in shape]
    mesh = np.meshgrid(*grids, indexing="ij")
    coarse_shape = tuple(max(2, int(round(n / _ELASTIC_SPACING)) + 1) for n in shape)
    coarse_coords = [
        m * (cs - 1) / max(n - 1, 1) for m, cs, n in zip(mesh, coarse_shape, shape, strict=True)
    ]
    fields = []
    for _ in shape:
        coarse = rng.uniform(-alpha, alpha, size=coarse_shape).astype(np.float32)
        fields.append(_interp_linear(coarse, coarse_coords))
    return fields


def affine_field(
    shape: tuple[int, ...], zoom: float = 1.0, angle: float = 0.0
) -> list[np.ndarray]:
    """Displacement (one array per axis, voxels) of a zoom and rotation about the centre.

    Parameters
    ----------
    shape : tuple of int
        Spatial shape of the patch (2 or 3 axes).
    zoom : float
        Magnification: 1.2 shows the middle of the patch 1.2 times larger (its edges come
        from outside the patch), 0.8 shrinks it (the rim is pulled in from outside).
    angle : float
        Rotation in degrees in the plane of the first two axes (a section's plane; for a 3D
        patch the inline x crossline plane, the sample axis being last).

    Returns
    -------
    list of numpy.ndarray
        ``coords - grid`` for :func:`warp`.
    """
    mesh = np.meshgrid(*[np.arange(n, dtype=np.float32) for n in shape], indexing="ij")
    centre = [(n - 1) / 2.0 for n in shape]
    rel = [(m - c) / np.float32(zoom) for m, c in zip(mesh, centre, strict=True)]
    if angle and len(shape) >= 2:
        t = np.deg2rad(angle)
        cos, sin = np.float32(np.cos(t)), np.float32(np.sin(t))
        rel[0], rel[1] = cos * rel[0] - sin * rel[1], sin * rel[0] + cos * rel[1]
    return [r + c - m for r, c, m in zip(rel, centre, mesh, strict=True)]


def warp(
    image: np.ndarray, target: np.ndarray, displacement: list[np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """Resample ``image`` (linear) and ``target`` (nearest) at ``grid + displacement``."""
    shape = target.shape
    mesh = np.meshgrid(*[np.arange(n, dtype=np.float32) for n in shape], indexing="ij")
    coords = [m + d for m, d in zip(mesh, displacement, strict=True)]
    img = _interp_linear(image, coords)
    near = [np.rint(c).astype(np.intp) for c in coords]
    inside = np.ones(shape, dtype=bool)
    for c, n in zip(near, shape, strict=True):
        inside &= (c >= 0) & (c < n)
    clipped = [np.clip(c, 0, n - 1) for c, n in zip(near, shape, strict=True)]
    tgt = np.where(inside, target[tuple(clipped)], -1)
    return img, tgt


def context_axis(kind: str) -> int | None:
    """Axis of a patch of a ``kind`` layout that holds its slices (the 2.5D context's
    channels, a slab's slices; None for 3D boxes): :class:`Augmenter`'s ``context_axis``."""
    return None if kind == "3d" else (0 if kind == "2d" else 1)


class Augmenter:
    """Random patch augmentation from one seeded generator.

    Parameters
    ----------
    config : AugmentConfig
        What to apply.
    rng : numpy.random.Generator
        Source of randomness (seeded by the caller).
    context_axis : int or None
        Image axis holding the slices of a 2.5D context or a slab (mirrored with the other
        flips); None when there is none.
    """

    def __init__(
        self, config: AugmentConfig, rng: np.random.Generator, context_axis: int | None = None
    ):
        self.config = config
        self.rng = rng
        self.context_axis = context_axis

    def __call__(
        self,
        image: np.ndarray,
        target: np.ndarray,
        time_dim: int | None = None,
        context_is_time: bool = False,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Augment one patch.

        Parameters
        ----------
        image : numpy.ndarray
            ``(*lead, *spatial)`` float32.
        target : numpy.ndarray
            ``spatial`` int64 (``-1`` = not labeled).
        time_dim : int, optional
            Spatial axis of the patch that runs along time (or depth); it is not flipped
            when ``config.flip_time`` is False.
        context_is_time : bool
            The slices of the 2.5D context are neighbours along time (a time slice): their
            order is not mirrored when ``config.flip_time`` is False either.

        Returns
        -------
        image, target : numpy.ndarray
            Contiguous arrays of the same shapes (a rotation or transpose of a square plane
            keeps the shape).
        """
        cfg, rng = self.config, self.rng
        nt = target.ndim
        lead = image.ndim - nt
        if cfg.flip:
            for d in range(nt):
                if rng.random() < 0.5 and (cfg.flip_time or d != time_dim):
                    image = np.flip(image, lead + d)
                    target = np.flip(target, d)
            if (
                self.context_axis is not None
                and image.shape[self.context_axis] > 1
                and (cfg.flip_time or not context_is_time)
                and rng.random() < 0.5
            ):
                image = np.flip(image, self.context_axis)
        # a time slice is a map: it has no up, so it may be turned and mirrored freely
        map_view = cfg.map_view and nt == 2 and time_dim is None and context_is_time
        if nt >= 2 and target.shape[0] == target.shape[1]:
            if cfg.rotate90 or map_view:
                k = int(rng.integers(4))
                image = np.rot90(image, k, axes=(lead, lead + 1))
                target = np.rot90(target, k, axes=(0, 1))
            if (cfg.transpose or map_view) and rng.random() < 0.5:
                image = np.swapaxes(image, lead, lead + 1)
                target = np.swapaxes(target, 0, 1)
        if cfg.roll_axis is not None and cfg.roll_axis < nt:
            d = int(cfg.roll_axis)
            shift = int(rng.integers(target.shape[d]))
            image = np.roll(image, shift, axis=lead + d)
            target = np.roll(target, shift, axis=d)
        field = None
        turn = max(cfg.rotate, cfg.map_rotate) if map_view else cfg.rotate
        if (cfg.scale > 0 or turn > 0) and rng.random() < cfg.affine_p:
            zoom = float(np.exp(rng.uniform(np.log1p(-cfg.scale), np.log1p(cfg.scale))))
            angle = float(rng.uniform(-turn, turn))  # ignored below 2 axes
            field = affine_field(target.shape, zoom, angle)
        if cfg.elastic > 0 and rng.random() < cfg.elastic_p:
            bend = elastic_field(target.shape, cfg.elastic, rng)
            field = bend if field is None else [a + b for a, b in zip(field, bend, strict=True)]
        if field is not None:
            image, target = warp(np.ascontiguousarray(image), np.ascontiguousarray(target), field)
        image = np.array(image, dtype=np.float32)
        if cfg.gain > 0:
            image *= np.float32(np.exp(rng.uniform(-cfg.gain, cfg.gain)))
        if cfg.polarity > 0 and rng.random() < cfg.polarity:
            image = -image
        if cfg.noise > 0:
            image += rng.standard_normal(image.shape, dtype=np.float32) * np.float32(cfg.noise)
        return np.ascontiguousarray(image), np.ascontiguousarray(target)
