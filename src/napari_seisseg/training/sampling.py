"""Seeded training-patch sampler over sparse labels.

Section models (``"2d"``, ``"slab"``)
    A section along one of the allowed axes is drawn with probability proportional to the
    number of labeled voxels in it; then a labeled pixel of that section, and a patch around
    it (shifted by up to a quarter of the patch, kept inside the section; a section smaller
    than the patch is padded and the padding is not labeled).  The centre slice of a 2.5D
    context or of a hybrid slab is therefore always a labeled one.
3D models (``"3d"``)
    A labeled voxel (slice along axis 0 drawn by its labeled count, then a labeled pixel in
    it), and a box around it.

Only the patch is read from the image, so lazy images work; the target (labels) array is
in memory.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .augment import Augmenter
from .labels import _blocks
from .patches import PatchLayout, inplane_axes, read_window, window_start

__all__ = ["PatchSampler", "axis_counts"]


def axis_counts(target: np.ndarray, axes: tuple[int, ...]) -> dict[int, np.ndarray]:
    """Labeled voxels in every slice along each of ``axes``."""
    out = {a: np.zeros(target.shape[a], dtype=np.int64) for a in axes}
    for s in _blocks(target.shape):
        m = target[s] != 0
        for a in axes:
            c = np.count_nonzero(m, axis=tuple(i for i in range(target.ndim) if i != a))
            if a == 0:
                out[0][s] += c
            else:
                out[a] += c
    return out


class PatchSampler:
    """Draw (image, target) training patches near labeled voxels.

    Parameters
    ----------
    image : array-like
        Raw image, 3 axes (numpy or lazy).
    target : numpy.ndarray
        Training target (``uint8``, 0 = ignored, ``k + 1`` = class ``k``).
    layout : PatchLayout
        Patch layout (kind, size, context, axes).
    normalize : callable
        ``normalize(block, axis=sample_axis)`` -> float32 network input.
    rng : numpy.random.Generator
        Seeded generator for the choice of patches.
    augment : Augmenter, optional
        Applied to every patch.

    Raises
    ------
    ValueError
        If no allowed section holds a labeled voxel (checked before by the trainer).
    """

    def __init__(
        self,
        image: Any,
        target: np.ndarray,
        layout: PatchLayout,
        normalize: Callable,
        rng: np.random.Generator,
        augment: Augmenter | None = None,
    ):
        self.image = image
        self.target = target
        self.layout = layout
        self.normalize = normalize
        self.rng = rng
        self.augment = augment
        axes = (0,) if layout.kind == "3d" else layout.axes
        counts = axis_counts(target, axes)
        keys, weights = [], []
        for a in axes:
            idx = np.flatnonzero(counts[a])
            keys.extend((a, int(i)) for i in idx)
            weights.append(counts[a][idx])
        w = np.concatenate(weights).astype(np.float64) if weights else np.zeros(0)
        if w.sum() <= 0:
            raise ValueError("No labeled voxel lies in a section the model can train on.")
        self._keys = keys
        self._cdf = np.cumsum(w) / w.sum()
        self._cache: dict[tuple[int, int], np.ndarray] = {}

    @property
    def n_sections(self) -> int:
        """Number of sections (slices along axis 0 for 3D models) holding labels."""
        return len(self._keys)

    def _labeled_pixels(self, axis: int, index: int) -> np.ndarray:
        key = (axis, index)
        hit = self._cache.get(key)
        if hit is None:
            sl = [slice(None)] * self.target.ndim
            sl[axis] = index
            hit = np.flatnonzero(self.target[tuple(sl)]).astype(np.int64)
            if len(self._cache) > 256:
                self._cache.clear()
            if hit.size < 1_000_000:
                self._cache[key] = hit
        return hit

    def draw_window(self) -> tuple[tuple[int, ...], int | None, int | None]:
        """Choose a window: ``(start, axis, index)`` (axis and index None for boxes)."""
        rng, lay = self.rng, self.layout
        k = int(np.searchsorted(self._cdf, rng.random(), side="right"))
        axis, index = self._keys[min(k, len(self._keys) - 1)]
        pixels = self._labeled_pixels(axis, index)
        plane = inplane_axes(axis, self.target.ndim)
        flat = int(pixels[rng.integers(len(pixels))])
        pos = np.unravel_index(flat, tuple(self.target.shape[a] for a in plane))
        shape = self.target.shape
        if lay.kind == "3d":
            center = (index, int(pos[0]), int(pos[1]))
            start = tuple(
                window_start(c, shape[d], p, int(rng.integers(-(p // 4), p // 4 + 1)))
                for d, (c, p) in enumerate(zip(center, lay.size, strict=True))
            )
            return start, None, None
        start = tuple(
            window_start(int(c), shape[a], p, int(rng.integers(-(p // 4), p // 4 + 1)))
            for c, a, p in zip(pos, plane, lay.size, strict=True)
        )
        return start, axis, index

    def sample(self) -> tuple[np.ndarray, np.ndarray]:
        """One augmented patch: image float32 and target int64 (``-1`` = not labeled)."""
        start, axis, index = self.draw_window()
        img, tgt = read_window(
            self.image, self.target, self.layout, self.normalize, start, axis=axis, index=index
        )
        if self.augment is not None:
            time_axis = self.layout.sample_axis
            if axis is None:  # a 3D box: patch axes are the array's axes
                time_dim = time_axis
            else:
                plane = inplane_axes(axis, self.target.ndim)
                time_dim = plane.index(time_axis) if time_axis in plane else None
            img, tgt = self.augment(img, tgt, time_dim=time_dim)
        return img, tgt

    def batch(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """``n`` patches stacked: images ``(n, C, ...)`` and targets ``(n, ...)``."""
        pairs = [self.sample() for _ in range(n)]
        return np.stack([p[0] for p in pairs]), np.stack([p[1] for p in pairs])
