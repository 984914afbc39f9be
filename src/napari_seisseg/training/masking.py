"""The pretraining task: patches drawn anywhere in the survey, with traces and blocks hidden.

:func:`~napari_seisseg.training.pretrain.pretrain` teaches a network to fill in what
:func:`masked_batch` hides (groups of traces, a few blocks; through every slice of a
hybrid's slab) from patches that
:class:`AnywhereSampler` draws uniformly over the sections of the allowed axes; no labels
are needed.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from ..bundle.normalize import nonfinite_message
from ..errors import SeisSegError
from .augment import Augmenter
from .patch_sampler import patch_time_dim, read_augmented
from .patches import PatchLayout, add_position, inplane_axes, window_start

__all__ = ["BLOCKS", "TRACE_MASK", "AnywhereSampler", "hide_traces_and_blocks", "masked_batch"]

#: Share of a patch's traces hidden (in groups of 1-8 adjacent traces).
TRACE_MASK = 0.3
#: Blocks hidden per patch (each 1/16 to 1/6 of the patch on a side).
BLOCKS = 3


class AnywhereSampler:
    """Patches drawn uniformly over the sections of the allowed axes (no labels needed).

    Parameters
    ----------
    image : array-like
        The survey in training order.
    layout : PatchLayout
        Patch size, allowed axes, context and position channel.
    normalize : callable
        The input normalisation applied to every patch.
    rng : numpy.random.Generator
        Draws where the patches are.
    augment : Augmenter
        Flips applied to every patch.
    """

    def __init__(self, image: Any, layout: PatchLayout, normalize: Any, rng: np.random.Generator,
                 augment: Augmenter) -> None:
        self.image, self.layout, self.normalize, self.rng = image, layout, normalize, rng
        self.augment = augment
        self.shape = tuple(int(n) for n in image.shape)
        sizes = [math.prod(self.shape[a] for a in inplane_axes(ax)) * self.shape[ax]
                 for ax in layout.axes]
        self.p = np.asarray(sizes, np.float64) / sum(sizes)

    def sample(self) -> tuple[np.ndarray, int | None, tuple[tuple[int, ...], int, int]]:
        """An augmented patch, the patch axis along time, and ``(start, axis, index)``."""
        lay, rng, shape = self.layout, self.rng, self.shape
        axis = int(lay.axes[int(rng.choice(len(lay.axes), p=self.p))])
        index = int(rng.integers(shape[axis]))
        plane = inplane_axes(axis)
        start = tuple(window_start(int(rng.integers(shape[a])), shape[a], p)
                      for a, p in zip(plane, lay.size, strict=True))
        img, _ = read_augmented(self.image, None, lay, self.normalize, self.augment, start,
                                axis, index)
        return img, patch_time_dim(lay, axis), (start, axis, index)


def hide_traces_and_blocks(img: np.ndarray, time_dim: int | None, rng: np.random.Generator) -> np.ndarray:
    """Mask (True = hidden) of one section: groups of traces and a few blocks.

    Parameters
    ----------
    img : numpy.ndarray
        The patch; its last two axes are the section.
    time_dim : int or None
        Which of the section's two axes runs along time (None: a time slice, blocks only).
    rng : numpy.random.Generator
        Draws the hidden traces and blocks.

    Returns
    -------
    numpy.ndarray
        Boolean mask of the section's shape.
    """
    h, w = img.shape[-2:]
    mask = np.zeros((h, w), bool)
    if time_dim is not None:  # traces run along time_dim: hide whole traces
        across = 1 - time_dim
        n = (h, w)[across]
        hidden = np.zeros(n, bool)
        while hidden.mean() < TRACE_MASK:
            a = int(rng.integers(n))
            hidden[a : a + int(rng.integers(1, 9))] = True
        mask |= hidden[None, :] if across == 1 else hidden[:, None]
    for _ in range(BLOCKS):
        bh, bw = (int(rng.integers(max(1, s // 16), max(2, s // 6) + 1)) for s in (h, w))
        y, x = int(rng.integers(h)), int(rng.integers(w))
        mask[y : y + bh, x : x + bw] = True
    return mask


def masked_batch(
    sampler: AnywhereSampler, layout: PatchLayout, mask_rng: np.random.Generator, batch: int,
    tshape: tuple[int, ...],
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``batch`` patches with hidden traces and blocks, and a little noise.

    Parameters
    ----------
    sampler : AnywhereSampler
        Where the patches come from.
    layout : PatchLayout
        The run's patch layout (its context slices and position channel).
    mask_rng : numpy.random.Generator
        Draws what is hidden and the noise.
    batch : int
        Patches wanted.
    tshape : tuple of int
        Shape of the image in training order.

    Returns
    -------
    inputs, targets, hidden : torch.Tensor
        The network's inputs, the original centre slices, and where they were hidden
        (dead traces are never scored).
    """
    c = layout.context
    slab = layout.kind == "slab"  # (1, slices, H, W): the slab's slices are its second axis
    xs, ts, ms = [], [], []
    for _ in range(batch):
        x, time_dim, (start, axis, index) = sampler.sample()
        target = (x[0, c] if slab else x[c]).copy()
        if not np.isfinite(target).all():
            raise SeisSegError(nonfinite_message())
        hidden = hide_traces_and_blocks(x, time_dim, mask_rng)
        if time_dim is not None:  # dead (constant) traces teach nothing: not scored
            live = target.std(axis=time_dim) > 1e-6
            hidden &= np.expand_dims(live, time_dim)
        x = x + np.float32(0.1) * mask_rng.standard_normal(x.shape).astype(np.float32)
        if slab:  # hidden through the whole slab: the neighbouring slices would give it away
            x[0][:, hidden] = 0.0
        else:
            x[c][hidden] = 0.0
        x = add_position(layout, np.ascontiguousarray(x), start, axis=axis, index=index,
                         n=tshape[axis])
        xs.append(x)
        ts.append(target)
        ms.append(hidden)
    return (torch.from_numpy(np.stack(xs)), torch.from_numpy(np.stack(ts)),
            torch.from_numpy(np.stack(ms)))
