"""Whether averaging the three orientations beats the painted one, judged on validation voxels.

A model painted on time slices predicts along time slices, inlines and crosslines, averaged,
by default (:func:`~napari_seisseg.bundle.card.prediction_axes`): on the 96 x 96 x 128
synthetic time-slice benchmark after 10 training minutes that raised every model measured.
It is not always so.  The model learns the vertical sections only from the one painted row
each of them holds; on a larger cube (240 x 320 x 174, 8 painted slices, 3 training minutes)
the inlines and crosslines predicted salt on a quarter of the cube and the average scored
0.48 mean IoU on the unpainted voxels against 0.69 for time slices alone.

So at the end of such a run :func:`check_orientations` predicts the validation voxels both
ways, with the trained model as prediction runs it, and keeps the average only when it
scores at least as well.  It stays cheap on any survey: the painted slices that hold
validation voxels, and a block of at most :data:`BLOCK` sections along each other axis
through them (where they hold the most validation voxels), each read with a patch of margin
on either side; only the validation voxels inside both blocks are scored.  With ``--keep
best`` the kept epoch, and for a binary model the threshold, were chosen on these voxels
along the painted axis, which favours it a little: the average is kept on a tie.
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

__all__ = ["BLOCK", "MIN_VOXELS", "MOST_SLICES", "check_orientations"]

#: Most sections predicted along each unpainted axis.
BLOCK = 32
#: Fewest validation voxels worth a comparison (fewer: the card's orientations stay).
MIN_VOXELS = 200
#: Most validation slices along the painted axis read for it.
MOST_SLICES = 64


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
    """Probabilities ``(C, *crop.shape)`` along ``axis`` alone, as prediction runs (no priors)."""
    from ..inference.bundle_prediction import predict_bundle

    result = drain(predict_bundle(bm, crop, orientations=(axis,), device="cpu", dead_mask=None,
                                  time_prior=False, lateral_prior=False))
    return np.asarray(result.probabilities, dtype=np.float32)


def _painted_mean_iou(probs: np.ndarray, target: np.ndarray, bm: BundleModel, threshold: float) -> float:
    """Validation's score (the mean IoU over the classes present in ``target``, values 1..K) of
    the mask prediction makes from ``probs`` ``(C, n)``."""
    mask = probabilities_to_mask(probs, threshold=threshold if bm.binary else None)
    n = max(bm.n_outputs, 2)
    cm = confusion_matrix(mask.astype(np.int64) - 1, target.astype(np.int64) - 1, n)
    return scores_from_confusion(cm)["painted_mean_iou"]


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


def check_orientations(
    model: torch.nn.Module, card: dict[str, Any], image: Any, held: HeldOut | None
) -> tuple[list[int] | None, dict[str, Any] | None, str | None]:
    """Compare the painted orientation alone with all of them averaged, on validation voxels.

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
        ``voxels``; ``chosen``), and, when a three-orientation card was not checked, why.
    """
    axes = [int(a) for a in card.get("input", {}).get("predict_axes") or []]
    if len(axes) != 3:
        return None, None, None
    bm = BundleModel.from_model(model, card)
    if (why := _why_not(bm, held)) is not None:
        return None, None, why
    idx, sections = _on_axis(held, axes[0])  # not empty: held holds validation voxels
    blocks = (_block(sum((s > 0).sum(axis=1) for s in sections), BLOCK),
              _block(sum((s > 0).sum(axis=0) for s in sections), BLOCK))
    targets = np.stack([s[blocks] for s in sections])  # (slice, a, b)
    scored = targets > 0
    if np.count_nonzero(scored) < MIN_VOXELS:
        return None, None, f"fewer than {MIN_VOXELS} validation voxels lie close together"
    along_p, along_a, along_b = _predicted(bm, image, axes[0], idx, blocks)
    threshold = float(card.get("threshold", 0.5))
    truth = targets[scored]
    record = {
        "painted_axis": _painted_mean_iou(along_p[:, scored], truth, bm, threshold),
        "averaged": _painted_mean_iou((along_p + along_a + along_b)[:, scored] / 3, truth, bm, threshold),
        "voxels": int(np.count_nonzero(scored)),
    }
    record["chosen"] = "averaged" if record["averaged"] >= record["painted_axis"] else "painted_axis"
    return (axes if record["chosen"] == "averaged" else [axes[0]]), record, None
