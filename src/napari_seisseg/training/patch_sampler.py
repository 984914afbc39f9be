"""Seeded, class-balanced training-patch sampler over sparse labels.

Every patch is centred (up to a jitter) on a labeled voxel chosen in two steps:

1. a class, with probability ``rate[k]``: half in proportion to the square root of its
   labeled count, half the same for every class (:func:`class_rates`).  A class painted on
   1 % of the labeled voxels among 90 % background is the centre of at least 1/(2K) of the
   patches instead of 1 % (about a sixth with four classes);
2. a labeled voxel of that class, uniformly (classes with more than
   :data:`MAX_INDEXED` labeled voxels are represented by a seeded random subset of them).

Section models (``"2d"``, ``"slab"``)
    The section through the voxel is taken along one of the allowed axes, drawn in
    proportion to the labeled voxels of that section (the painted orientation wins), and a
    patch around the voxel (shifted by up to a quarter of the patch, kept inside the
    section; a section smaller than the patch is padded and the padding is not labeled).
    The centre slice of a 2.5D context or of a hybrid slab is therefore a labeled one.
3D models (``"3d"``)
    A box around the voxel.

Only the patch is read from the image, so lazy images work; the target (labels) array is
in memory.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .augment import Augmenter
from .copy_paste import copy_paste
from .labels import _blocks, value_counts
from .patches import PatchLayout, add_position, inplane_axes, read_window, window_start

__all__ = ["PatchSampler", "axis_counts", "class_rates", "patch_time_dim", "read_augmented"]

#: Labeled voxels kept per class for drawing patch centres (a seeded subset beyond it).
MAX_INDEXED = 2_000_000


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


def patch_time_dim(layout: PatchLayout, axis: int | None, ndim: int = 3) -> int | None:
    """Patch axis that runs along time: of a section along ``axis``, or of a box (None).

    Returns None for a time slice (its plane holds no time axis).
    """
    if axis is None:  # a 3D box: patch axes are the array's axes
        return layout.sample_axis
    plane = inplane_axes(axis, ndim)
    return plane.index(layout.sample_axis) if layout.sample_axis in plane else None


def read_augmented(
    image: Any,
    target: Any,
    layout: PatchLayout,
    normalize: Callable,
    augment: Augmenter | None,
    start: tuple[int, ...],
    axis: int | None,
    index: int | None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Read a window without its position channel and augment it (training and pretraining).

    Parameters
    ----------
    image, target : array-like
        As for :func:`~napari_seisseg.training.patches.read_window` (``target`` may be None).
    layout : PatchLayout
        Patch layout.
    normalize : callable
        Network-input normalisation.
    augment : Augmenter or None
        Applied with the patch's time axis, so time is flipped or turned only as allowed.
    start, axis, index
        The window (axis and index None for boxes).

    Returns
    -------
    image, target : numpy.ndarray
        The augmented patch (``target`` None when none was given); the position channel,
        if the layout has one, is left to :func:`~napari_seisseg.training.patches.add_position`.
    """
    img, tgt = read_window(image, target, layout, normalize, start, axis=axis, index=index,
                           with_position=False)
    if augment is None:
        return img, tgt
    ndim = len(image.shape)
    placeholder = tgt if tgt is not None else np.zeros(img.shape[-2:] if axis is not None
                                                       else img.shape[1:], np.int64)
    img, out = augment(img, placeholder, time_dim=patch_time_dim(layout, axis, ndim),
                       context_is_time=axis is not None and axis == layout.sample_axis)
    return img, (out if tgt is not None else None)


def class_rates(counts: np.ndarray) -> np.ndarray:
    """Share of patch centres drawn in each class (0 for classes with no labeled voxel).

    Half in proportion to ``sqrt(count)``, half uniform over the labeled classes.
    """
    counts = np.asarray(counts, dtype=np.float64)
    present = counts > 0
    if not present.any():
        return np.zeros_like(counts)
    root = np.sqrt(counts)
    return 0.5 * root / root.sum() + 0.5 * present / present.sum()


def _class_indices(
    target: np.ndarray, n_classes: int, rng: np.random.Generator, cap: int = MAX_INDEXED
) -> list[np.ndarray]:
    """Flat indices of the labeled voxels of every class (a random subset beyond ``cap``)."""
    counts = np.zeros(n_classes + 1, dtype=np.int64)
    for s in _blocks(target.shape):
        counts += value_counts(np.asarray(target[s]), n_classes + 1)[: n_classes + 1]
    keep = np.minimum(1.0, cap / np.maximum(counts, 1))
    parts: list[list[np.ndarray]] = [[] for _ in range(n_classes)]
    per = int(np.prod(target.shape[1:], dtype=np.int64))
    for s in _blocks(target.shape):
        block = np.asarray(target[s]).ravel()
        nz = np.flatnonzero(block)
        if not nz.size:
            continue
        vals = block[nz]
        for k in range(n_classes):
            idx = nz[vals == k + 1]
            if idx.size and keep[k + 1] < 1.0:
                idx = idx[rng.random(idx.size) < keep[k + 1]]
            if idx.size:
                parts[k].append(idx + s.start * per)
    return [np.concatenate(p) if p else np.zeros(0, np.int64) for p in parts]


class PatchSampler:
    """Draw (image, target) training patches centred on labeled voxels, classes balanced.

    Parameters
    ----------
    image : array-like
        Raw image, 3 axes (numpy or lazy).
    target : numpy.ndarray
        Training target (``uint8``, 0 = ignored, ``k + 1`` = class ``k``).
    layout : PatchLayout
        Patch layout (kind, size, context, axes, position channel).
    normalize : callable
        ``normalize(block, axis=sample_axis)`` -> float32 network input.
    rng : numpy.random.Generator
        Seeded generator for the choice of patches.
    augment : Augmenter, optional
        Applied to every patch (before the position channel is added).
    n_classes : int, optional
        Number of classes (default: the largest target value).
    paste_classes : sequence of int
        Class indices whose painted voxels a batch's patches paste into each other
        (:func:`~.copy_paste.copy_paste`), at the rate of ``augment``'s ``copy_paste``; not
        with a position channel (it would be pasted from another time).

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
        n_classes: int | None = None,
        paste_classes: Sequence[int] = (),
    ):
        self.image = image
        self.paste_classes = [int(k) for k in paste_classes]
        self.target = target
        self.layout = layout
        self.normalize = normalize
        self.rng = rng
        self.augment = augment
        self.axes = (0,) if layout.kind == "3d" else tuple(layout.axes)
        if n_classes is None:
            n_classes = int(max(np.max(np.asarray(target[s])) for s in _blocks(target.shape)))
        self.n_classes = int(n_classes)
        self.recount()
        #: patch centres drawn so far in each class
        self.drawn = np.zeros(self.n_classes, dtype=np.int64)

    def recount(self) -> None:
        """Index the labeled voxels of the target again (after it changed in place, e.g.
        when the held-out paint joins training) and set the class rates from them.

        Raises
        ------
        ValueError
            If no allowed section holds a labeled voxel.
        """
        self._axis_counts = axis_counts(self.target, self.axes)
        if not any(c.sum() for c in self._axis_counts.values()):
            raise ValueError("No labeled voxel lies in a section the model can train on.")
        self._indices = _class_indices(self.target, self.n_classes, self.rng)
        counts = np.array([i.size for i in self._indices], dtype=np.float64)
        self.rates = class_rates(counts)
        self._cdf = np.cumsum(self.rates) / self.rates.sum()

    @property
    def n_labeled(self) -> int:
        """Labeled voxels patch centres are drawn from (a subset beyond :data:`MAX_INDEXED`)."""
        return int(sum(i.size for i in self._indices))

    @property
    def n_sections(self) -> int:
        """Number of sections (slices along axis 0 for 3D models) holding labels."""
        return int(sum(np.count_nonzero(c) for c in self._axis_counts.values()))

    def draw_center(self) -> tuple[int, tuple[int, ...]]:
        """A class index and a labeled voxel of it, drawn at the class rates."""
        k = int(np.searchsorted(self._cdf, self.rng.random(), side="right"))
        k = min(k, self.n_classes - 1)
        while not self._indices[k].size:  # guards rounding at the end of the cdf
            k = (k - 1) % self.n_classes
        flat = int(self._indices[k][self.rng.integers(self._indices[k].size)])
        self.drawn[k] += 1
        return k, tuple(int(v) for v in np.unravel_index(flat, self.target.shape))

    def draw_window(self) -> tuple[tuple[int, ...], int | None, int | None]:
        """Choose a window: ``(start, axis, index)`` (axis and index None for boxes)."""
        rng, lay = self.rng, self.layout
        _, center = self.draw_center()
        shape = self.target.shape
        if lay.kind == "3d":
            start = tuple(
                window_start(c, shape[d], p, int(rng.integers(-(p // 4), p // 4 + 1)))
                for d, (c, p) in enumerate(zip(center, lay.size, strict=True))
            )
            return start, None, None
        weights = np.array([self._axis_counts[a][center[a]] for a in self.axes], np.float64)
        axis = self.axes[int(rng.choice(len(self.axes), p=weights / weights.sum()))]
        index = center[axis]
        plane = inplane_axes(axis, self.target.ndim)
        start = tuple(
            window_start(center[a], shape[a], p, int(rng.integers(-(p // 4), p // 4 + 1)))
            for a, p in zip(plane, lay.size, strict=True)
        )
        return start, axis, index

    def sample(self) -> tuple[np.ndarray, np.ndarray]:
        """One augmented patch: image float32 and target int64 (``-1`` = not labeled)."""
        start, axis, index = self.draw_window()
        img, tgt = read_augmented(self.image, self.target, self.layout, self.normalize,
                                  self.augment, start, axis, index)
        if axis is not None and self.layout.position is not None:
            img = add_position(
                self.layout, img, start, axis=axis, index=index, n=self.target.shape[axis]
            )
        return img, tgt

    def batch(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """``n`` patches stacked: images ``(n, C, ...)`` and targets ``(n, ...)``."""
        pairs = [self.sample() for _ in range(n)]
        x, y = np.stack([p[0] for p in pairs]), np.stack([p[1] for p in pairs])
        rate = 0.0 if self.augment is None else float(self.augment.config.copy_paste)
        if rate > 0 and self.paste_classes and self.layout.position is None:
            x, y = copy_paste(x, y, self.paste_classes, rate, self.augment.rng)
        return x, y
