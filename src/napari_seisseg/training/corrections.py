"""Painted labels plus the corrections made to a predicted mask (headless retraining).

After ``seisseg predict`` the interpreter corrects the mask (in napari or another tool). The
voxels whose value changed are the corrections; the rest of the mask is the model's own
prediction, and training on all of it teaches the model mostly what it already predicts
(docs/training.md, "Fine-tuning"). :func:`merge_corrections` adds only the corrections to the
painted labels; ``seisseg train --corrections C --predicted P`` uses it, as the Train
widget's "Add my edits" does in the viewer.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import SeisSegError

__all__ = ["check_fits", "merge_corrections"]


def check_fits(top: int, dtype: Any, target: str) -> None:
    """Refuse class value ``top`` when integer ``dtype`` (of ``target``) cannot hold it.

    Raises
    ------
    SeisSegError
        Saying which class does not fit and what to use instead.
    """
    dtype = np.dtype(dtype)
    if np.issubdtype(dtype, np.integer) and top > np.iinfo(dtype).max:
        raise SeisSegError(
            f"The corrected mask holds class {top}, which {target} ({dtype}) cannot hold; use "
            "labels of a wider integer type."
        )


def merge_corrections(
    labels: Any, corrected: Any, predicted: Any
) -> tuple[np.ndarray, int, int]:
    """Painted ``labels`` with the voxels changed from ``predicted`` to ``corrected``.

    Parameters
    ----------
    labels : array-like
        Painted labels (0 = not labeled, 1..K = classes).
    corrected : array-like
        The predicted mask after correction.
    predicted : array-like
        The mask as the model predicted it.

    Returns
    -------
    merged : numpy.ndarray
        A copy of ``labels`` (its dtype) holding the corrected value wherever the correction
        changed a voxel to a class; a correction overrides what was painted there.
    added : int
        Voxels taken from the correction.
    erased : int
        Voxels changed to 0 in the correction (not labels: left out).

    Raises
    ------
    SeisSegError
        If the shapes differ, or nothing was corrected.
    """
    labels, corrected, predicted = (np.asarray(a) for a in (labels, corrected, predicted))
    if not labels.shape == corrected.shape == predicted.shape:
        raise SeisSegError(
            f"The labels {labels.shape}, corrected mask {corrected.shape} and predicted mask "
            f"{predicted.shape} differ in shape; all three must be of the image's shape."
        )
    changed = corrected != predicted
    take = changed & (corrected != 0)
    erased = int(np.count_nonzero(changed & (corrected == 0)))
    if not take.any():
        raise SeisSegError(
            "The corrected mask holds no class voxel that differs from the predicted mask: "
            "nothing was corrected. Give the mask after your edits and the one seisseg "
            "predict wrote."
        )
    check_fits(int(corrected[take].max()), labels.dtype, "the labels")
    merged = labels.copy()
    merged[take] = corrected[take]
    return merged, int(np.count_nonzero(take)), erased
