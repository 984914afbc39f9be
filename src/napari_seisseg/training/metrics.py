"""Segmentation scores on labeled voxels, and threshold tuning for binary tasks.

Scores come from a confusion matrix (rows: true class, columns: predicted class) counted
on labeled voxels only:

* IoU ``TP / (TP + FP + FN)``, Dice ``2 TP / (2 TP + FP + FN)``,
  precision ``TP / (TP + FP)``, recall ``TP / (TP + FN)`` per class (NaN when undefined);
* accuracy: share of labeled voxels predicted right;
* mean IoU: mean over the classes whose IoU is defined (present in the labels or
  predicted);
* painted mean IoU: mean over the classes present in the labels (the score that picks the
  kept model: a class predicted where none is labeled is not a class to find);
* predicted classes: how many classes the model predicts on the labeled voxels (1 for a
  model that paints everything one class).

Binary (single-logit) tasks accumulate histograms of the positive-class probability of
positive and negative voxels; :func:`tune_threshold` picks the threshold on a 0.01 grid
that maximises the positive class's IoU, and the scores are those at that threshold.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

__all__ = [
    "MetricAccumulator",
    "confusion_matrix",
    "headline",
    "scores_from_confusion",
    "tune_threshold",
]


def headline(metrics: Any) -> float | None:
    """The validation score shown to the user and used to keep a model.

    Parameters
    ----------
    metrics : mapping or None
        Scores as :func:`scores_from_confusion` gives them.

    Returns
    -------
    float or None
        The mean IoU over the painted classes (``painted_mean_iou``; ``mean_iou`` for
        scores made before it existed), None without metrics.
    """
    if not metrics:
        return None
    value = metrics.get("painted_mean_iou", metrics.get("mean_iou"))
    return None if value is None else float(value)

#: Histogram bins of the binary probability (thresholds are tried on every bin edge).
BINS = 100


def confusion_matrix(pred: Any, target: Any, n_classes: int) -> np.ndarray:
    """Confusion matrix ``(K, K)`` (true x predicted) over voxels with ``target >= 0``."""
    p = np.asarray(pred).ravel().astype(np.int64)
    t = np.asarray(target).ravel().astype(np.int64)
    keep = t >= 0
    idx = t[keep] * n_classes + p[keep]
    return np.bincount(idx, minlength=n_classes * n_classes).reshape(n_classes, n_classes)


def _ratio(a: float, b: float) -> float:
    return float(a) / float(b) if b > 0 else math.nan


def scores_from_confusion(
    cm: np.ndarray, names: Sequence[str] | None = None, values: Sequence[int] | None = None
) -> dict[str, Any]:
    """Per-class and overall scores from a confusion matrix.

    Parameters
    ----------
    cm : numpy.ndarray
        ``(K, K)`` counts, rows true class, columns predicted class.
    names, values : sequence, optional
        Class names and label values, copied into the per-class entries.

    Returns
    -------
    dict
        ``{"mean_iou", "painted_mean_iou", "n_predicted", "accuracy", "voxels", "classes":
        [{"index", "value", "name", "iou", "dice", "precision", "recall", "support",
        "predicted"}, ...]}``.
    """
    cm = np.asarray(cm, dtype=np.int64)
    k = cm.shape[0]
    tp = np.diag(cm).astype(float)
    fp = cm.sum(0) - tp
    fn = cm.sum(1) - tp
    classes = []
    for i in range(k):
        classes.append(
            {
                "index": i,
                "value": None if values is None else int(values[i]),
                "name": None if names is None else str(names[i]),
                "iou": _ratio(tp[i], tp[i] + fp[i] + fn[i]),
                "dice": _ratio(2 * tp[i], 2 * tp[i] + fp[i] + fn[i]),
                "precision": _ratio(tp[i], tp[i] + fp[i]),
                "recall": _ratio(tp[i], tp[i] + fn[i]),
                "support": int(tp[i] + fn[i]),
                "predicted": int(tp[i] + fp[i]),
            }
        )
    ious = [c["iou"] for c in classes if not math.isnan(c["iou"])]
    painted = [c["iou"] for c in classes if c["support"] > 0]
    total = int(cm.sum())
    return {
        "mean_iou": float(np.mean(ious)) if ious else math.nan,
        "painted_mean_iou": float(np.mean(painted)) if painted else math.nan,
        "n_predicted": int(np.count_nonzero(cm.sum(0))),
        "accuracy": _ratio(tp.sum(), total),
        "voxels": total,
        "classes": classes,
    }


def binary_confusion(pos_hist: np.ndarray, neg_hist: np.ndarray, threshold: float) -> np.ndarray:
    """2x2 confusion matrix at ``threshold`` from probability histograms (``BINS`` bins)."""
    k = int(round(threshold * (len(pos_hist))))
    tp = pos_hist[k:].sum()
    fn = pos_hist[:k].sum()
    fp = neg_hist[k:].sum()
    tn = neg_hist[:k].sum()
    return np.array([[tn, fp], [fn, tp]], dtype=np.int64)


def tune_threshold(pos_hist: np.ndarray, neg_hist: np.ndarray) -> tuple[float, float]:
    """Threshold (a bin edge) maximising the positive-class IoU; ties go to the one nearest 0.5.

    Parameters
    ----------
    pos_hist, neg_hist : numpy.ndarray
        Counts of positive and negative voxels per probability bin (``[i/B, (i+1)/B)``).

    Returns
    -------
    threshold, iou : float
        Predict positive where ``p >= threshold``; the IoU there (NaN without positives).
    """
    b = len(pos_hist)
    pos_above = np.cumsum(pos_hist[::-1])[::-1]  # positives with bin >= k
    neg_above = np.cumsum(neg_hist[::-1])[::-1]
    n_pos = pos_hist.sum()
    ks = np.arange(1, b)
    tp = pos_above[ks].astype(float)
    fp = neg_above[ks].astype(float)
    fn = n_pos - tp
    denom = tp + fp + fn
    iou = np.where(denom > 0, tp / np.maximum(denom, 1), np.nan)
    if np.all(np.isnan(iou)):
        return 0.5, math.nan
    best = np.nanmax(iou)
    cand = ks[iou >= best - 1e-12]
    k = int(cand[np.argmin(np.abs(cand - b / 2))])
    return k / b, float(best)


class MetricAccumulator:
    """Accumulate predictions batch by batch and score them.

    Parameters
    ----------
    n_classes : int
        Number of classes (2 for a binary task).
    binary : bool
        Single-logit outputs (sigmoid probability of class 1) with a tuned threshold.
    """

    def __init__(self, n_classes: int, binary: bool = False):
        self.n_classes = n_classes
        self.binary = binary
        self.cm = np.zeros((n_classes, n_classes), dtype=np.int64)
        self.pos_hist = np.zeros(BINS, dtype=np.int64)
        self.neg_hist = np.zeros(BINS, dtype=np.int64)

    @torch.no_grad()
    def update(self, logits: torch.Tensor, target: torch.Tensor) -> None:
        """Add a batch: logits ``(N, K or 1, ...)``, target ``(N, ...)`` with ``-1`` = ignored."""
        target = target.to(logits.device).long()
        keep = target >= 0
        if self.binary:
            p = torch.sigmoid(logits.float()[:, 0])[keep]
            t = target[keep]
            bins = torch.clamp((p * BINS).long(), 0, BINS - 1)
            self.pos_hist += torch.bincount(bins[t == 1], minlength=BINS).cpu().numpy()
            self.neg_hist += torch.bincount(bins[t == 0], minlength=BINS).cpu().numpy()
            return
        k = self.n_classes
        pred = logits.argmax(1)[keep]
        idx = target[keep] * k + pred
        self.cm += torch.bincount(idx, minlength=k * k).cpu().numpy().reshape(k, k)

    def add(self, other: MetricAccumulator) -> MetricAccumulator:
        """Add ``other``'s counts to these (in place); returns self."""
        self.cm += other.cm
        self.pos_hist += other.pos_hist
        self.neg_hist += other.neg_hist
        return self

    def result(
        self, names: Sequence[str] | None = None, values: Sequence[int] | None = None,
        threshold: float | None = None,
    ) -> dict[str, Any]:
        """Scores (see :func:`scores_from_confusion`); binary tasks add ``"threshold"``: the
        one tuned on these counts, or ``threshold`` where given."""
        if self.binary:
            thr = (tune_threshold(self.pos_hist, self.neg_hist)[0] if threshold is None
                   else threshold)
            out = scores_from_confusion(
                binary_confusion(self.pos_hist, self.neg_hist, thr), names, values
            )
            out["threshold"] = thr
            return out
        return scores_from_confusion(self.cm, names, values)
