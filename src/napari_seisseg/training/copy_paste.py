"""Copy-paste of painted rare bodies between the patches of a batch.

A class painted on a few bodies (gas sands cut by two painted time slices, a few channels)
is learned with the surroundings it was painted in: the network then misses the same kind
of body elsewhere, sure that it is background.  Pasting the painted voxels of the rare
classes of one patch (shifted and mirrored at random) into another patch of the batch shows
each body over other backgrounds (copy-paste augmentation, Ghiasi et al. 2021, "Simple
Copy-Paste is a Strong Data Augmentation Method for Instance Segmentation").  Applied to a
batch of patches already cut and augmented; the amplitudes of every slice of a slab (the
hybrid's context) go with the painted voxels of its centre slice.
"""

from __future__ import annotations

import numpy as np

__all__ = ["copy_paste", "rare_classes"]


def rare_classes(counts: np.ndarray) -> list[int]:
    """Class indices other than the most painted one (the background), painted at all.

    Parameters
    ----------
    counts : numpy.ndarray
        Painted voxels per class index.

    Returns
    -------
    list of int
    """
    counts = np.asarray(counts)
    if counts.size < 2:
        return []
    top = int(np.argmax(counts))
    return [k for k in range(counts.size) if k != top and counts[k] > 0]


def copy_paste(x: np.ndarray, y: np.ndarray, rare: list[int], p: float,
               rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Paste the rare-class voxels of one patch of the batch into others.

    Parameters
    ----------
    x : numpy.ndarray
        Images ``(n, C, ..., *plane)``: the last ``y.ndim - 1`` axes are the target's.
    y : numpy.ndarray
        Targets ``(n, *plane)``, class indices (``-1`` not labeled).
    rare : list of int
        The class indices to paste (:func:`rare_classes`).
    p : float
        Probability that a patch receives a paste.
    rng : numpy.random.Generator
        Random numbers.

    Returns
    -------
    x, y : numpy.ndarray
        New arrays (the inputs are left unchanged); each receiving patch takes the rare
        voxels of another patch holding any (never its own), rolled by up to a third of the patch along
        each axis and mirrored across the last axis half of the time, image and target alike.
    """
    if p <= 0 or not rare or len(y) < 2:
        return x, y
    donors = [j for j in range(len(y)) if np.isin(y[j], rare).any()]
    if not donors:
        return x, y
    out_x, out_y = x.copy(), y.copy()
    nd = y.ndim - 1
    plane_y, plane_x = tuple(range(nd)), tuple(range(x.ndim - 1 - nd, x.ndim - 1))
    for i in range(len(y)):
        if rng.random() >= p:
            continue
        choices = [j for j in donors if j != i]
        if not choices:
            continue
        j = int(choices[int(rng.integers(len(choices)))])
        shifts = [int(rng.integers(-(s // 3), s // 3 + 1)) for s in y.shape[1:]]
        src_y = np.roll(y[j], shifts, axis=plane_y)
        src_x = np.roll(x[j], shifts, axis=plane_x)
        if rng.random() < 0.5:
            src_y, src_x = np.flip(src_y, axis=nd - 1), np.flip(src_x, axis=-1)
        mask = np.isin(src_y, rare)
        out_x[i][..., mask] = src_x[..., mask]
        out_y[i][mask] = src_y[mask]
    return out_x, out_y
