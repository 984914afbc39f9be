"""Masked segmentation losses: unlabeled voxels never change the loss or its gradient.

Targets are class indices with ``-1`` for *not labeled* (or pass ``mask`` explicitly).
Everything is computed in float32, whatever the autocast dtype of the logits.

* :func:`masked_ce_dice`: multi-class cross-entropy (optional class weights) + soft Dice.
* :func:`masked_bce_dice`: binary tasks with a single logit: BCE (optional positive-class
  weight or class weights) + soft Dice of the positive class.
* :func:`lovasz_hinge` / :func:`lovasz_softmax`: the Lovasz extension of the Jaccard loss
  (Berman et al., CVPR 2018), a convex surrogate of 1 - IoU, for one logit or for classes.
* :class:`SegmentationLoss`: one of those, the region term (Dice or Lovasz) with a
  BCE-then-Dice schedule (its weight ramping from 0 over the first epochs) and deep
  supervision (weighted sum over auxiliary outputs).
* :func:`class_weights` / :func:`auto_pos_weight`: the weights ``auto`` derives from the
  training voxels per class; :func:`loss_weights`: both, as a run derives them at its start
  and again when the paint changes (``Session.recount``).

The Dice terms are batch Dice over labeled voxels, averaged over the classes present in
the batch's labels (an absent class is left to the cross-entropy term, as in
segmentation-models-pytorch).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import torch
import torch.nn.functional as F

from ..errors import SeisSegError

if TYPE_CHECKING:
    from ..bundle.classes import ClassInfo
    from .config import TrainConfig

__all__ = [
    "REGION_TERMS",
    "SegmentationLoss",
    "auto_pos_weight",
    "class_weights",
    "dice_schedule",
    "loss_weights",
    "lovasz_hinge",
    "lovasz_softmax",
    "masked_bce_dice",
    "masked_ce_dice",
    "region_term",
]

#: Region terms added to the cross-entropy: soft Dice, the Lovasz extension of IoU, none.
REGION_TERMS = ("dice", "lovasz", "none")


def _labeled(
    logits: torch.Tensor,
    target: torch.Tensor,
    mask: torch.Tensor | None,
    single_logit: bool = False,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Return the float32 logits, the labeled mask and the targets (0 where not labeled).

    ``single_logit`` drops the channel axis of ``(N, 1, *spatial)`` logits.
    """
    logits = logits.float()
    if single_logit and logits.ndim == target.ndim + 1:
        logits = logits[:, 0]
    target = target.long()
    if mask is None:
        mask = target >= 0
    else:
        mask = mask.bool() & (target >= 0)
    return logits, mask, torch.where(mask, target, torch.zeros_like(target))


def _dice(
    probs: torch.Tensor, onehot: torch.Tensor, m: torch.Tensor, smooth: float
) -> torch.Tensor:
    """1 - mean Dice over the classes present; ``probs``/``onehot`` ``(N, K, ...)``, ``m`` ``(N, 1, ...)``."""
    dims = [0] + list(range(2, probs.ndim))
    p = probs * m
    g = onehot * m
    inter = (p * g).sum(dims)
    denom = p.sum(dims) + g.sum(dims)
    dice = (2 * inter + smooth) / (denom + smooth)
    present = g.sum(dims) > 0
    if not bool(present.any()):
        return probs.sum() * 0.0
    return 1.0 - dice[present].mean()


def masked_ce_dice(
    logits: torch.Tensor,
    target: torch.Tensor,
    *,
    mask: torch.Tensor | None = None,
    class_weights: torch.Tensor | Sequence[float] | None = None,
    ce_weight: float = 1.0,
    dice_weight: float = 1.0,
    smooth: float = 1.0,
) -> torch.Tensor:
    """Cross-entropy + Dice over labeled voxels.

    Parameters
    ----------
    logits : torch.Tensor
        ``(N, K, *spatial)``.
    target : torch.Tensor
        ``(N, *spatial)`` class indices; ``-1`` (or ``mask`` False) = not labeled.
    mask : torch.Tensor, optional
        ``(N, *spatial)`` True where labeled (combined with ``target >= 0``).
    class_weights : sequence of float, optional
        Cross-entropy weight per class (weighted mean, as :func:`torch.nn.functional.cross_entropy`).
    ce_weight, dice_weight : float
        Term weights.
    smooth : float
        Dice smoothing.

    Returns
    -------
    torch.Tensor
        Scalar loss (0 with a zero gradient when nothing is labeled).
    """
    logits, m, t = _labeled(logits, target, mask)
    if not bool(m.any()):
        return logits.sum() * 0.0
    k = logits.shape[1]
    w = None
    if class_weights is not None:
        w = torch.as_tensor(class_weights, dtype=torch.float32, device=logits.device)
    ce = F.cross_entropy(
        logits, torch.where(m, t, torch.full_like(t, -100)), weight=w, ignore_index=-100
    )
    loss = ce_weight * ce
    if dice_weight:
        probs = torch.softmax(logits, dim=1)
        onehot = F.one_hot(t, k).movedim(-1, 1).float()
        loss = loss + dice_weight * _dice(probs, onehot, m.unsqueeze(1).float(), smooth)
    return loss


def masked_bce_dice(
    logits: torch.Tensor,
    target: torch.Tensor,
    *,
    mask: torch.Tensor | None = None,
    pos_weight: float | None = None,
    class_weights: Sequence[float] | None = None,
    bce_weight: float = 1.0,
    dice_weight: float = 1.0,
    smooth: float = 1.0,
) -> torch.Tensor:
    """Binary cross-entropy + Dice of the positive class, over labeled voxels.

    Parameters
    ----------
    logits : torch.Tensor
        ``(N, 1, *spatial)`` (or ``(N, *spatial)``).
    target : torch.Tensor
        ``(N, *spatial)``: 1 positive, 0 negative, ``-1`` not labeled.
    mask : torch.Tensor, optional
        True where labeled (combined with ``target >= 0``).
    pos_weight : float, optional
        Multiplies the positive term of the BCE (as :class:`torch.nn.BCEWithLogitsLoss`).
    class_weights : (float, float), optional
        Per-voxel weight of negatives and positives (weighted mean).
    bce_weight, dice_weight : float
        Term weights.
    smooth : float
        Dice smoothing.

    Returns
    -------
    torch.Tensor
        Scalar loss.
    """
    logits, m, t = _labeled(logits, target, mask, single_logit=True)
    if not bool(m.any()):
        return logits.sum() * 0.0
    tf = t.float()
    pw = None if pos_weight is None else torch.tensor(float(pos_weight), device=logits.device)
    per = F.binary_cross_entropy_with_logits(logits, tf, pos_weight=pw, reduction="none")
    mf = m.float()
    if class_weights is not None:
        w0, w1 = (float(v) for v in class_weights)
        vw = (w0 + (w1 - w0) * tf) * mf
        bce = (per * vw).sum() / vw.sum().clamp_min(1e-12)
    else:
        bce = (per * mf).sum() / mf.sum()
    loss = bce_weight * bce
    if dice_weight:
        p = torch.sigmoid(logits).unsqueeze(1)
        loss = loss + dice_weight * _dice(p, tf.unsqueeze(1), mf.unsqueeze(1), smooth)
    return loss


def _lovasz_grad(gt_sorted: torch.Tensor) -> torch.Tensor:
    """Gradient of the Lovasz extension of the Jaccard loss for errors sorted descending."""
    gts = gt_sorted.sum()
    intersection = gts - gt_sorted.cumsum(0)
    union = gts + (1.0 - gt_sorted).cumsum(0)
    jaccard = 1.0 - intersection / union
    return torch.cat([jaccard[:1], jaccard[1:] - jaccard[:-1]])


def lovasz_hinge(
    logits: torch.Tensor, target: torch.Tensor, *, mask: torch.Tensor | None = None
) -> torch.Tensor:
    """Lovasz hinge loss of a single-logit binary output over labeled voxels.

    A convex surrogate of ``1 - IoU`` of the positive class, computed over all labeled
    voxels of the batch together (the pooled IoU that the validation scores).

    Parameters
    ----------
    logits, target, mask : torch.Tensor
        As for :func:`masked_bce_dice` (``mask`` optional).

    Returns
    -------
    torch.Tensor
        Scalar loss (0 with a zero gradient when nothing is labeled).
    """
    logits, m, t = _labeled(logits, target, mask, single_logit=True)
    if not bool(m.any()):
        return logits.sum() * 0.0
    x, y = logits[m], t[m].float()
    errors = 1.0 - x * (2.0 * y - 1.0)
    errors_sorted, perm = torch.sort(errors, descending=True)
    return torch.dot(F.relu(errors_sorted), _lovasz_grad(y[perm]))


def lovasz_softmax(
    logits: torch.Tensor, target: torch.Tensor, *, mask: torch.Tensor | None = None
) -> torch.Tensor:
    """Lovasz-softmax loss over labeled voxels, averaged over the classes present.

    Parameters
    ----------
    logits, target, mask : torch.Tensor
        As for :func:`masked_ce_dice` (``mask`` optional).

    Returns
    -------
    torch.Tensor
        Scalar loss (0 with a zero gradient when nothing is labeled).
    """
    logits, m, t = _labeled(logits, target, mask)
    if not bool(m.any()):
        return logits.sum() * 0.0
    probs = torch.softmax(logits, dim=1).movedim(1, -1)[m]  # (labeled voxels, K)
    t = t[m]
    losses = []
    for c in torch.unique(t).tolist():
        fg = (t == c).float()
        errors_sorted, perm = torch.sort((fg - probs[:, c]).abs(), descending=True)
        losses.append(torch.dot(errors_sorted, _lovasz_grad(fg[perm])))
    return torch.stack(losses).mean()


def region_term(loss: str) -> str:
    """Region term of a loss name of :class:`~napari_seisseg.training.TrainConfig`.

    ``"*_lovasz"`` -> ``"lovasz"``, ``"ce"`` / ``"bce"`` -> ``"none"``, else ``"dice"``.
    """
    if loss.endswith("_lovasz"):
        return "lovasz"
    return "none" if loss in ("ce", "bce") else "dice"


def dice_schedule(epoch: int, ramp_epochs: int, weight: float = 1.0) -> float:
    """Dice weight at ``epoch`` (0-based): ``weight`` at once, or a ramp over ``ramp_epochs``."""
    if ramp_epochs <= 0:
        return float(weight)
    return float(weight) * min(1.0, epoch / float(ramp_epochs))


class SegmentationLoss:
    """The training loss: masked CE/BCE + Dice, Dice schedule and deep supervision.

    Parameters
    ----------
    binary : bool
        Single-logit binary task (BCE) rather than multi-class (CE).
    class_weights : sequence of float, optional
        Per-class weights (CE), or ``(negative, positive)`` weights (BCE).
    pos_weight : float, optional
        Binary: weight of the positive BCE term.
    dice_weight : float
        Weight of the region term once ramped up (0: none).
    dice_ramp_epochs : int
        Epochs over which the region term's weight grows from 0 (0: constant).
    region : {"dice", "lovasz", "none"}
        Region term added to the (B)CE: soft Dice, the Lovasz extension of IoU
        (:func:`lovasz_hinge` / :func:`lovasz_softmax`) or nothing.
    aux_weight : float
        Total weight of the auxiliary outputs (shared equally).
    """

    def __init__(
        self,
        binary: bool,
        *,
        class_weights: Sequence[float] | None = None,
        pos_weight: float | None = None,
        dice_weight: float = 1.0,
        dice_ramp_epochs: int = 0,
        aux_weight: float = 0.4,
        region: str = "dice",
    ):
        if region not in REGION_TERMS:
            raise ValueError(f"region must be one of {REGION_TERMS}, got {region!r}")
        self.binary = binary
        self.region = region
        self.class_weights = None if class_weights is None else [float(w) for w in class_weights]
        self.pos_weight = pos_weight
        self.dice_weight = float(dice_weight)
        self.dice_ramp_epochs = int(dice_ramp_epochs)
        self.aux_weight = float(aux_weight)

    def single(self, logits: torch.Tensor, target: torch.Tensor, epoch: int = 0) -> torch.Tensor:
        """Loss of one output."""
        dw = 0.0 if self.region == "none" else dice_schedule(
            epoch, self.dice_ramp_epochs, self.dice_weight
        )
        dice_w = dw if self.region == "dice" else 0.0
        if self.binary:
            loss = masked_bce_dice(logits, target, pos_weight=self.pos_weight,
                                   class_weights=self.class_weights, dice_weight=dice_w)
        else:
            loss = masked_ce_dice(
                logits, target, class_weights=self.class_weights, dice_weight=dice_w
            )
        if self.region == "lovasz" and dw:
            lovasz = lovasz_hinge if self.binary else lovasz_softmax
            loss = loss + dw * lovasz(logits, target)
        return loss

    def __call__(
        self,
        logits: torch.Tensor,
        target: torch.Tensor,
        aux: Sequence[torch.Tensor] = (),
        epoch: int = 0,
    ) -> torch.Tensor:
        """Main loss plus ``aux_weight`` times the mean loss of the auxiliary outputs.

        Parameters
        ----------
        logits : torch.Tensor
            Main output.
        target : torch.Tensor
            Class indices, ``-1`` = not labeled.
        aux : sequence of torch.Tensor
            Auxiliary outputs, upsampled to the main output's size (deep supervision).
        epoch : int
            Current epoch (0-based), for the Dice schedule.
        """
        loss = self.single(logits, target, epoch)
        if aux and self.aux_weight > 0:
            w = self.aux_weight / len(aux)
            for a in aux:
                if a.shape[2:] != logits.shape[2:]:
                    mode = "bilinear" if a.ndim == 4 else "trilinear"
                    a = F.interpolate(
                        a.float(), size=logits.shape[2:], mode=mode, align_corners=False
                    )
                loss = loss + w * self.single(a, target, epoch)
        return loss


def class_weights(
    config: TrainConfig, counts: np.ndarray, classes: Sequence[ClassInfo]
) -> list[float] | None:
    """Per-class loss weights from ``config.class_weights`` (``"auto"``: 1/sqrt(frequency)).

    Parameters
    ----------
    config : TrainConfig
        The run's settings (``class_weights``: None, "auto", a list or a mapping).
    counts : numpy.ndarray
        Training voxels per class, in class order.
    classes : sequence of ClassInfo
        The run's classes.

    Returns
    -------
    list of float or None
        One weight per class (None: unweighted).
    """
    cw = config.class_weights
    if cw is None:
        return None
    if isinstance(cw, str):
        freq = counts / max(counts.sum(), 1)
        w = np.where(counts > 0, 1.0 / np.sqrt(np.maximum(freq, 1e-12)), 0.0)
        w = w / w[w > 0].mean()
        return [float(v) if v > 0 else 1.0 for v in w]
    if isinstance(cw, Mapping):
        return [float(cw.get(c.value, cw.get(str(c.value), 1.0))) for c in classes]
    w = [float(v) for v in cw]
    if len(w) != len(classes):
        raise SeisSegError(
            f"class_weights has {len(w)} values but there are {len(classes)} classes "
            f"({', '.join(c.name for c in classes)}); give one weight per class."
        )
    return w


def auto_pos_weight(counts: np.ndarray) -> float:
    """``pos_weight="auto"``: sqrt(negatives / positives) of a binary run's training voxels."""
    return float(np.sqrt(max(counts[0], 1) / max(counts[1], 1)))


def loss_weights(
    config: TrainConfig, counts: np.ndarray, classes: Sequence[ClassInfo]
) -> tuple[list[float] | None, float | None]:
    """The loss's class weights (:func:`class_weights`) and binary ``pos_weight``
    (:func:`auto_pos_weight` when "auto") for these training voxel counts; the
    parameters are those of :func:`class_weights` (``config.pos_weight`` read too).

    Returns
    -------
    class_weights : list of float or None
    pos_weight : float or None
    """
    pos = auto_pos_weight(counts) if config.pos_weight == "auto" else config.pos_weight
    return class_weights(config, counts, classes), pos
