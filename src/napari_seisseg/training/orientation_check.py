"""Whether averaging the three orientations beats the painted one, judged on validation voxels.

A model painted on time slices predicts along time slices, inlines and crosslines, averaged,
by default (:func:`~napari_seisseg.bundle.card.prediction_axes`), the time slices weighing as
much as the two others together (:meth:`~napari_seisseg.bundle.model.BundleModel.orientation_weights`).
The model learns the vertical sections only from the one painted row each of them holds; on
a larger cube (240 x 320 x 174, 8 painted slices, 3 training minutes) the inlines and
crosslines predicted salt on a quarter of the cube, and an equal average scored 0.48 mean
IoU on the unpainted voxels against 0.69 for time slices alone (0.73 with the weights).

So at the end of such a run :func:`check_orientations` predicts the validation voxels both
ways, with the trained model as prediction runs it, and keeps time slices alone only when
they are **surely** better: on at least :data:`SURE` of the resamples of the validation
slices (drawn with replacement, each slice a unit: the bands of one painted slice are not
independent voxels), of which there must be :data:`MIN_SLICES`.  The weighted average was
better than time slices alone, or within 0.01 of them, on the unpainted voxels of every model
measured, and a few thousand validation voxels are a noisy judge (docs/fewlabel-experiments.md,
seventh session), so a small lead of time slices alone is not enough.  It stays cheap on any survey: the painted slices that hold validation
voxels, and a block of at most :data:`BLOCK` sections along each other axis through them
(where they hold the most validation voxels), each read with a patch of margin on either
side; only the validation voxels inside both blocks are scored.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..bundle.model import BundleModel
from ..inference.postprocess import probabilities_to_mask
from ..jobs import drain
from .metrics import confusion_matrix, scores_from_confusion
from .split import HeldOut

__all__ = ["BLOCK", "MIN_SLICES", "MIN_VOXELS", "MOST_SLICES", "RESAMPLES", "SURE",
           "check_orientations", "describe", "will_compare"]

#: Most sections predicted along each unpainted axis.
BLOCK = 32
#: Fewest validation voxels worth a comparison (fewer: the card's orientations stay).
MIN_VOXELS = 200
#: Most validation slices along the painted axis read for it.
MOST_SLICES = 64
#: Resamples of the validation slices that judge the two ways.
RESAMPLES = 400
#: Share of the resamples on which the painted orientation alone must score higher to be kept
#: alone.
SURE = 0.95
#: Fewest validation slices (with scored voxels) that can keep the painted orientation alone:
#: resamples of fewer say little (of one slice, only "better" or "not").
MIN_SLICES = 4


def _block(counts: np.ndarray, size: int) -> slice:
    """The ``size`` consecutive indices holding the most of ``counts``."""
    size = min(size, len(counts))
    sums = np.convolve(counts, np.ones(size, dtype=np.int64), mode="valid")
    start = int(np.argmax(sums))
    return slice(start, start + size)


def _widened(block: slice, n: int, margin: int) -> tuple[slice, slice]:
    """``block`` with ``margin`` on each side (inside ``[0, n)``), and ``block`` inside that."""
    wide = slice(max(0, block.start - margin), min(n, block.stop + margin))
    return wide, slice(block.start - wide.start, block.stop - wide.start)


def _read(image: Any, key: list[slice | list[int]]) -> np.ndarray:
    """``image[key]`` as float32, where one entry may list single indices (stacked there)."""
    listed = [k for k, v in enumerate(key) if isinstance(v, list)]
    if not listed:
        return np.asarray(image[tuple(key)], dtype=np.float32)
    k = listed[0]
    parts = [np.asarray(image[tuple(key[:k]) + (i,) + tuple(key[k + 1:])], dtype=np.float32)
             for i in key[k]]
    return np.stack(parts, axis=k)


def _probabilities(bm: BundleModel, crop: np.ndarray, axis: int, order: list[int]) -> np.ndarray:
    """Probabilities of ``crop`` predicted along ``axis``, axes moved to ``(C, *order)``."""
    return np.moveaxis(_predict(bm, crop, axis), [1 + a for a in order], [1, 2, 3])


def _predict(bm: BundleModel, crop: np.ndarray, axis: int) -> np.ndarray:
    """Probabilities ``(C, *crop.shape)`` along ``axis`` alone, as prediction runs without
    priors and without test-time flips (both ways alike, at a quarter of the cost or less)."""
    from ..inference.bundle_prediction import predict_bundle

    result = drain(predict_bundle(bm, crop, orientations=(axis,), device="cpu", dead_mask=None,
                                  time_prior=False, lateral_prior=False, tta=False))
    return np.asarray(result.probabilities, dtype=np.float32)


def _confusions(probs: np.ndarray, targets: np.ndarray, bm: BundleModel, threshold: float) -> np.ndarray:
    """Confusion matrices ``(slice, K, K)`` of the mask prediction makes from ``probs``
    ``(C, slice, a, b)`` against ``targets`` ``(slice, a, b)`` (values 1..K, 0 not scored)."""
    n = max(bm.n_outputs, 2)
    out = []
    for k in range(targets.shape[0]):
        scored = targets[k] > 0
        mask = probabilities_to_mask(probs[:, k][:, scored], threshold=threshold if bm.binary else None)
        out.append(confusion_matrix(mask.astype(np.int64) - 1, targets[k][scored].astype(np.int64) - 1, n))
    return np.stack(out)


def _painted_mean_iou(confusions: np.ndarray) -> float:
    """Validation's score (the mean IoU over the classes painted) of summed confusion matrices."""
    return float(scores_from_confusion(confusions.sum(axis=0))["painted_mean_iou"])


def _share_better(alone: np.ndarray, averaged: np.ndarray, seed: int = 0) -> float:
    """Share of :data:`RESAMPLES` resamples of the slices (with replacement) on which
    ``alone`` scores strictly higher than ``averaged`` (per-slice confusion matrices each)."""
    rng = np.random.default_rng(seed)
    n = alone.shape[0]
    wins = 0
    for _ in range(RESAMPLES):
        pick = rng.integers(0, n, size=n)
        wins += _painted_mean_iou(alone[pick]) > _painted_mean_iou(averaged[pick])
    return wins / RESAMPLES


def _on_axis(held: HeldOut, p: int) -> tuple[list[int], list[np.ndarray]]:
    """The validation slices along ``p`` (at most :data:`MOST_SLICES`): their indices and
    targets, the other axes in increasing order (validation labels of the user's own are
    stored along axis 0)."""
    if held.axis == p:
        return [int(i) for i in held.indices], [np.asarray(s) for s in held.sections]
    indices = [int(i) for i in np.flatnonzero(held.counts_along(p))[:MOST_SLICES]]
    sections = []
    for i in indices:
        region = [slice(0, n) for n in held.shape]
        region[p] = slice(i, i + 1)
        sections.append(np.take(held.read(region), 0, axis=p))
    return indices, sections


def _why_not(bm: BundleModel, held: HeldOut | None) -> str | None:
    """Why the validation voxels cannot tell the orientations apart here (None: they can)."""
    if held is None or not held.indices:
        return "there are no validation voxels to compare them on"
    norm = bm.normalizer
    if bm.context or bm.position is not None or (norm is not None and norm.halo != (0, 0)):
        # the painted slices are read alone, without neighbours, positions or AGC margins
        return "the check does not read models with vertical context, position or AGC"
    return None


def _predicted(bm: BundleModel, image: Any, p: int, idx: list[int], blocks: tuple[slice, slice]):
    """Probabilities ``(C, slice, a, b)`` of the scored block along the painted axis ``p``
    (slices ``idx``) and along each other axis, from crops widened by a patch on each side."""
    a, b = (k for k in range(3) if k != p)
    order = [p, a, b]
    margin = int(max(np.atleast_1d(bm.patch_size or 128)))
    (wide_a, in_a), (wide_b, in_b) = (_widened(blk, image.shape[k], margin)
                                      for blk, k in zip(blocks, (a, b), strict=True))

    def key(**at: Any) -> list[Any]:
        out: list[Any] = [slice(None)] * 3
        for k, v in at.items():
            out[{"p": p, "a": a, "b": b}[k]] = v
        return out

    along_p = _probabilities(bm, _read(image, key(p=idx, a=wide_a, b=wide_b)), p, order)
    along_a = _probabilities(bm, _read(image, key(a=blocks[0], b=wide_b)), a, order)
    along_b = _probabilities(bm, _read(image, key(a=wide_a, b=blocks[1])), b, order)
    return (along_p[:, :, in_a, in_b], along_a[:, idx][:, :, :, in_b],
            along_b[:, idx][:, :, in_a])


def _plan(model: torch.nn.Module, card: dict[str, Any], held: HeldOut | None) -> Any:
    """What :func:`check_orientations` compares: ``(bundle model, axes, slices, blocks,
    targets, voxels)``; else None (not a card it checks: the three stay) or why not."""
    axes = [int(a) for a in card.get("input", {}).get("predict_axes") or []]
    if len(axes) != 3 or axes[0] != card.get("input", {}).get("sample_axis"):
        return None  # not time slices first (mixed paint): the three stay
    bm = BundleModel.from_model(model, card)
    if (why := _why_not(bm, held)) is not None:
        return why
    idx, sections = _on_axis(held, axes[0])  # not empty: held holds validation voxels
    blocks = (_block(sum((s > 0).sum(axis=1) for s in sections), BLOCK),
              _block(sum((s > 0).sum(axis=0) for s in sections), BLOCK))
    targets = np.stack([s[blocks] for s in sections])  # (slice, a, b)
    keep = (targets > 0).any(axis=(1, 2))  # slices with scored voxels in the blocks
    idx, targets = [i for i, k in zip(idx, keep, strict=True) if k], targets[keep]
    voxels = int(np.count_nonzero(targets))
    if voxels < MIN_VOXELS:
        return f"fewer than {MIN_VOXELS} validation voxels lie close together"
    return bm, axes, idx, blocks, targets, voxels


def will_compare(model: torch.nn.Module, card: dict[str, Any], held: HeldOut | None) -> bool:
    """Whether :func:`check_orientations` predicts the validation voxels (and takes a while)
    for this model, card and validation; False where it returns at once."""
    return isinstance(_plan(model, card, held), tuple)


def check_orientations(
    model: torch.nn.Module, card: dict[str, Any], image: Any, held: HeldOut | None
) -> tuple[list[int] | None, dict[str, Any] | None, str | None]:
    """Compare the painted orientation alone with all of them averaged, on validation voxels.

    Only for cards that predict time slices first and the two other orientations after
    them; other cards (one orientation, or mixed paint led by an inline or a crossline)
    keep their orientations unchecked.

    The painted orientation is kept alone only when it scores higher on at least
    :data:`SURE` of :data:`RESAMPLES` resamples of the validation slices, and there are at
    least :data:`MIN_SLICES` of them.

    Parameters
    ----------
    model : torch.nn.Module
        The kept model, on the CPU, in evaluation mode.
    card : dict
        Its card; ``input.predict_axes`` lists the painted axis first, then the others.
    image : array-like
        The training image, in training order (numpy or lazy).
    held : HeldOut or None
        The validation labels.

    Returns
    -------
    (list of int or None, dict or None, str or None)
        The orientations to predict along (None: nothing was compared, the card's stay),
        what was measured (``painted_axis``, ``averaged``: mean IoU over the painted classes;
        ``weights`` of the painted orientation and the two others, in increasing order;
        ``voxels``; ``slices``; ``painted_axis_better``: the share of resamples on which the
        painted orientation alone scored higher; ``chosen``), and, when a three-orientation
        card was not checked, why.
    """
    plan = _plan(model, card, held)
    if not isinstance(plan, tuple):
        return None, None, plan  # not checked: a card it does not check (None), or why not
    bm, axes, idx, blocks, targets, voxels = plan
    p, a, b = _predicted(bm, image, axes[0], idx, blocks)
    weights = bm.orientation_weights([axes[0], *sorted(axes[1:])]) or (1 / 3,) * 3  # p, a, b
    threshold = float(card.get("threshold", 0.5))
    alone = _confusions(p, targets, bm, threshold)
    averaged = _confusions(sum(w * q for w, q in zip(weights, (p, a, b), strict=True)), targets,
                           bm, threshold)
    share = _share_better(alone, averaged)
    record = {
        "painted_axis": _painted_mean_iou(alone),
        "averaged": _painted_mean_iou(averaged),
        "weights": [float(w) for w in weights],
        "voxels": voxels,
        "slices": len(idx),
        "painted_axis_better": share,
        "chosen": "painted_axis" if share >= SURE and len(idx) >= MIN_SLICES else "averaged",
    }
    return (axes if record["chosen"] == "averaged" else [axes[0]]), record, None


def describe(record: dict[str, Any]) -> str:
    """What :func:`check_orientations` chose, and why, in a sentence for the user.

    Parameters
    ----------
    record : dict
        Its record (the card's ``validation.orientations``).

    Returns
    -------
    str
        One line for the CLI and the Train widget.
    """
    averaged, alone, voxels = record["averaged"], record["painted_axis"], record["voxels"]
    share = record["painted_axis_better"]
    if record["chosen"] != "averaged":
        return (f"Prediction runs along time slices alone: on {voxels:,} validation voxels they "
                f"score {alone:.3f} mean IoU against {averaged:.3f} for the three orientations "
                f"averaged, higher on {share:.0%} of the resamples of the validation slices (the "
                "inlines and crosslines, which hold one painted row each, are probably not "
                "learned well enough yet).")
    text = (f"Prediction averages time slices, inlines and crosslines (time slices weigh as much "
            f"as the two others together): on {voxels:,} validation voxels they score "
            f"{averaged:.3f} mean IoU against {alone:.3f} for time slices alone")
    if alone <= averaged:
        return text + "."
    why = (f"only {record['slices']} validation slice(s), too few to tell"
           if record["slices"] < MIN_SLICES else
           f"time slices alone were higher on only {share:.0%} of the resamples of the "
           f"validation slices, short of {SURE:.0%}")
    return f"{text}, kept: {why}."
