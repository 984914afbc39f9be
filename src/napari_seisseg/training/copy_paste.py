"""Copy-paste of painted rare bodies between the patches of a batch.

A class painted on a few bodies (gas sands cut by two painted time slices, a few channels)
is learned with the surroundings it was painted in: the network then misses the same kind
of body elsewhere, sure that it is background.  Pasting the painted voxels of the rare
classes of one patch (shifted and mirrored at random) into another patch of the batch shows
each body over other backgrounds (copy-paste augmentation, Ghiasi et al. 2021, "Simple
Copy-Paste is a Strong Data Augmentation Method for Instance Segmentation").  Applied to a
batch of patches already cut and augmented; the amplitudes of every slice of a slab (the
hybrid's context, a 2-D model's context channels) go with the painted voxels of its centre
slice (a 3-D box pastes the painted voxels only).
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["classes_to_paste", "copy_paste"]


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
        The class indices to paste (:func:`~.report.few_body_classes`).
    p : float
        Probability that a patch receives a paste.
    rng : numpy.random.Generator
        Random numbers.

    Returns
    -------
    x, y : numpy.ndarray
        New arrays (the inputs are left unchanged); each receiving patch takes the rare
        voxels of another patch holding any (never its own), rolled by up to a third of the patch along
        each axis and mirrored across the first half of the time (never along time, the
        last axis of a vertical section or box), image and target alike.
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
        if rng.random() < 0.5:  # mirrored across the first axis: never time (the last)
            src_y, src_x = np.flip(src_y, axis=0), np.flip(src_x, axis=plane_x[0])
        mask = np.isin(src_y, rare)
        out_x[i][..., mask] = src_x[..., mask]
        out_y[i][mask] = src_y[mask]
    return out_x, out_y


def classes_to_paste(config: Any, data: Any, layout: Any, few_bodies: list[tuple[int, int]],
                     infos: list[str]) -> list[int]:
    """Classes to copy-paste: those painted as a few bodies (``few_bodies``).

    Looked for on paint mostly on time slices (where copy-paste was measured) or when asked
    for (``--augment copypaste``, which is then said), never with a position channel (the
    pasted voxels would come from another time).

    Parameters
    ----------
    config : TrainConfig
        The run's settings (``augment.copy_paste`` > 0: asked for).
    data : TrainingData
        The paint, before the validation split.
    layout : PatchLayout
        The patches (their position channel).
    few_bodies : list of (int, int)
        :func:`~.report.few_body_classes` of the paint before the validation split (the
        classes the run warns of).
    infos : list of str
        The run's information lines, added to.

    Returns
    -------
    list of int
        Class indices.
    """
    asked = config.augment.copy_paste > 0
    if layout.position is not None:
        if asked:
            infos.append("Copy-paste is off: the position channel would be pasted from another time.")
        return []
    if not (data.painted_on_time_slices or asked):
        return []
    few = [k for k, _ in few_bodies]
    if asked:
        names = ", ".join(data.classes[k].name for k in few)
        infos.append(f"Copy-paste: {names} (painted as a few bodies) pasted into other patches."
                     if few else "Copy-paste: no class is painted as a few bodies; nothing is pasted.")
    return few
