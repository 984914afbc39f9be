"""The priors from the paint at prediction: which apply to an image, and combining them.

:mod:`.lateral_prior` measures what painted traces say about their neighbours; this module
decides whether a card's prior belongs to the image predicted (same grid, same lines), turns
it into the ``finalize`` step of a sweep (:func:`napari_seisseg.inference.window_driver.drive`)
and says to the user what the network was combined with.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .lateral_prior import LateralPrior
from .time_prior import time_prior_applies

__all__ = ["BLOCK_VOXELS", "applied_priors", "card_lateral_prior", "combine", "fitting_prior",
           "lateral_finalize", "prior_notes"]

#: Voxels times classes finalized at once (a block is cut along its first axis beyond).
BLOCK_VOXELS = 1 << 23


_LOADED: dict[int, tuple[Any, LateralPrior | None]] = {}
_LOCK = threading.Lock()  # previews of a live run and the Predict widget parse cards side by side


def card_lateral_prior(card: Mapping[str, Any]) -> LateralPrior | None:
    """The card's lateral prior, parsed once per card entry (its measurements kept with it)."""
    entry = (card.get("input") or {}).get("lateral_prior")
    if not entry:
        return None
    with _LOCK:
        hit = _LOADED.get(id(entry))
        if hit is None or hit[0] is not entry:
            while len(_LOADED) >= 2:  # each holds its survey's nearest-trace grid
                _LOADED.pop(next(iter(_LOADED)), None)
            hit = _LOADED[id(entry)] = (entry, LateralPrior.from_card(entry))
        return hit[1]


def combine(block: np.ndarray, ratio: np.ndarray) -> np.ndarray:
    """Class probabilities ``block`` (C, ...) times ``ratio`` (K, ...), renormalised.

    A binary output (``C = 1``, ``K = 2``) holds the second class's probability: its odds are
    multiplied by the ratio of the two.  Voxels whose probabilities are all 0 (dead traces)
    stay 0.
    """
    p = np.asarray(block, dtype=np.float32)
    if p.shape[0] == 1 and ratio.shape[0] == 2:
        q = p[0] * ratio[1]
        den = q + (1.0 - p[0]) * ratio[0]
        return np.divide(q, den, out=np.zeros_like(q), where=den > 0)[None]
    q = p * ratio
    total = q.sum(axis=0, keepdims=True)
    return np.divide(q, total, out=q, where=total > 0)


def fitting_prior(
    card: Mapping[str, Any], shape: Sequence[int], lines: Mapping[int, np.ndarray] | None = None
) -> tuple[LateralPrior | None, str | None]:
    """The card's lateral prior when it belongs to an image, else why not.

    Parameters
    ----------
    card : mapping
        The model card (``input.lateral_prior``).
    shape : sequence of int
        The whole image, in training order (a 2D section comes with a leading axis of 1).
    lines : mapping, optional
        ``{axis: line numbers}`` of the image's geometry, training order.

    Returns
    -------
    (LateralPrior or None, str or None)
        The prior, or None with the reason (None too when the card holds no prior).
    """
    prior = card_lateral_prior(card)
    if prior is None:
        return None, None
    shape = tuple(int(n) for n in shape)
    n_out = int(card.get("n_outputs", prior.n_classes))
    if n_out != prior.n_classes and not (card.get("binary") and prior.n_classes == 2):
        return None, f"the model has {n_out} outputs for {prior.n_classes} painted classes"
    drop = len(shape) - len(prior.shape)
    if drop < 0 or shape[drop:] != prior.shape or any(n != 1 for n in shape[:drop]):
        own = shape[1:] if len(shape) == 3 and shape[0] == 1 else shape  # a 2D image's own shape
        return None, (f"this image ({' x '.join(map(str, own))}) is not the grid the model was "
                      f"painted on ({' x '.join(map(str, prior.shape))})")
    names = (card.get("input") or {}).get("axis_names") or []
    for a, (first, last) in prior.lines.items():
        got = None if lines is None else lines.get(a)
        if got is not None and len(got) and (float(got[0]), float(got[-1])) != (first, last):
            what = f"{names[a]}s" if a < len(names) else f"lines along axis {a}"
            return None, (f"this image's {what} {got[0]:g}-{got[-1]:g} are not those of the survey the "
                          f"model was painted on ({first:g}-{last:g})")
    return prior, None


def lateral_finalize(prior: LateralPrior, shape: Sequence[int], origin: Sequence[int]) -> Any:
    """``finalize(index, block)`` applying ``prior`` to the blocks of a prediction.

    Parameters
    ----------
    prior : LateralPrior
        A prior that fits the image (:func:`fitting_prior`).
    shape : sequence of int
        Shape of the whole image predicted, in training order.
    origin : sequence of int
        Where the predicted part (whose blocks come to ``finalize``) starts in that image.

    Returns
    -------
    callable
        ``finalize(index, block) -> block``, in sub-blocks of about :data:`BLOCK_VOXELS`.
    """
    drop = len(shape) - len(prior.shape)
    origin = tuple(int(o) for o in origin)

    def finalize(index: tuple[slice, ...], block: np.ndarray) -> np.ndarray:
        start = [(s.start or 0) + o for s, o in zip(index, origin, strict=True)]
        out = np.empty(block.shape, dtype=np.float32)
        per = max(1, BLOCK_VOXELS // max(1, int(np.prod(block.shape[2:], dtype=np.int64)) * block.shape[0]))
        for a in range(0, block.shape[1], per):  # sub-blocks along the first axis: bounded memory
            part = block[:, a:a + per]
            first = [start[0] + a, *start[1:]]
            region = tuple(slice(f, f + n) for f, n in zip(first, part.shape[1:], strict=True))[drop:]
            out[:, a:a + per] = combine(part, prior.ratio(region).reshape((prior.n_classes, *part.shape[1:])))
        return out

    return finalize


def applied_priors(bm: Any, time_prior: bool, prior: LateralPrior | None) -> dict[str, bool]:
    """Which priors from the paint a prediction combined the network with.

    Parameters
    ----------
    bm : BundleModel
        The model.
    time_prior : bool
        Whether the time prior was asked for (applied when the card holds one).
    prior : LateralPrior or None
        The lateral prior applied (:func:`fitting_prior`).

    Returns
    -------
    dict
        ``{"time": bool, "lateral": bool}``, as written beside saved probabilities.
    """
    return {"time": bool(time_prior) and time_prior_applies(bm.card), "lateral": prior is not None}


def prior_notes(
    applied: Mapping[str, bool], prior: LateralPrior | None, why_not: str | None, checked: bool = True
) -> list[str]:
    """What a prediction combines the network with, and a line on a lateral prior left out.

    Parameters
    ----------
    applied : mapping
        The priors applied (:func:`applied_priors`).
    prior : LateralPrior or None
        The lateral prior applied (:func:`fitting_prior`).
    why_not : str or None
        Why the card's lateral prior was not applied (:func:`fitting_prior`).
    checked : bool
        Whether the image's line numbers could be compared with the painted survey's.
    """
    used: list[str] = []
    lines: list[str] = []
    if applied["time"]:
        used.append("what was painted at each sample (--no-time-prior to leave it out)")
    if prior is not None:  # it fits the image and the model's outputs (fitting_prior)
        used.append(f"the nearest of {len(prior.positions):,} painted traces (--no-lateral-prior to leave it out)")
    if why_not:
        lines.append(f"lateral prior not applied: {why_not}; the network decides there alone.")
    elif prior is not None and prior.lines and not checked:
        lines.append("lateral prior applied because this image has the painted survey's grid; it has "
                     "no survey line numbers to check (--no-lateral-prior if it is another survey).")
    if used:
        lines.insert(0, "combined with " + " and ".join(used))
    return lines
