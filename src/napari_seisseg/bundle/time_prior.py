"""What was painted at each time (depth) sample, combined with the network at prediction.

A model with the position channel (:mod:`napari_seisseg.bundle.position`) knows where a
pixel sits along time, but on traces far from the painted ones its texture cues can
outvote that: on Penobscot, with the left half of two inlines painted, the network grew
one layer into the next and lost two thin layers 200 traces from the paint, although
every layer sits within a few samples of the same time across the survey.  The *time
prior* makes the position count at prediction: the card stores, for every sample index,
how many voxels of each class were painted there, and the network's class probabilities
are multiplied by how much likelier each class is at that sample than overall,

    ratio(k, t) = prior(k | t) / prior(k),
    prior(k | t) = (n_k(t) + K prior(k)) / (N(t) + K),   prior(k) = (n_k + 1) / (N + K)

(``n_k(t)``: painted voxels of class ``k`` at sample ``t``, ``N(t)`` their sum, ``n_k`` and
``N`` the totals, ``K`` classes), then renormalised: Bayes' rule for a network that saw the
amplitudes and a sample index assumed independent of them given the class.  Dividing by
``prior(k)`` keeps the class balance training chose (a rare class is not pushed down for
being rare), so a class painted alike at every time (a fault, a channel) gets a ratio near
1 and is left to the network; the ``K`` pseudo-counts, shared as the overall frequencies,
give a ratio of 1 where nothing was painted and a mild one where little was.  A layer
painted only at some times gets a ratio far above 1 there and far below elsewhere, but never
below :data:`MIN_RATIO`, so that many painted voxels cannot make a class impossible at a time
(a body whose depth changes away from the paint can still be found there).  Equivalently, ``log ratio(k, t)`` is added to the logits (:class:`TimePriorModel`).

The prior is recorded for section models with the position channel (the channel tells the
wrapper each pixel's sample index), from every painted voxel (the validation band
included); prediction applies it unless told not to.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from .position import PositionSpec

#: Smallest ratio: the network's odds of a class are never cut by more than 100 times.
MIN_RATIO = 0.01

__all__ = ["MIN_RATIO", "TimePrior", "TimePriorModel", "count_along_samples", "painted_time_prior",
           "time_prior_applies", "with_time_prior"]


def _rle(row: np.ndarray) -> list[int]:
    """Run-length code of a row of counts: ``[value, run, value, run, ...]``."""
    row = np.asarray(row, dtype=np.int64)
    if row.size == 0:
        return []
    cut = np.flatnonzero(np.diff(row)) + 1
    starts = np.concatenate([[0], cut])
    runs = np.diff(np.concatenate([starts, [row.size]]))
    return [int(v) for pair in zip(row[starts], runs, strict=True) for v in pair]


def _unrle(code: Sequence[int]) -> np.ndarray:
    values = np.asarray(code[0::2], dtype=np.int64)
    runs = np.asarray(code[1::2], dtype=np.int64)
    return np.repeat(values, runs)


@dataclass(frozen=True)
class TimePrior:
    """Painted voxels per class and sample index, and the prior they give.

    Attributes
    ----------
    counts : numpy.ndarray
        int64 ``(K, n_samples)``: painted voxels of class ``k`` at sample ``t``.
    pseudo_count : float
        Pseudo-counts per class, shared at every sample as the overall class frequencies
        (1: ``K`` in all).
    """

    counts: np.ndarray
    pseudo_count: float = 1.0

    def log_prior(self) -> np.ndarray:
        """float32 ``(K, n_samples)``: ``log ratio(k, t)``, at least ``log MIN_RATIO``."""
        c = np.asarray(self.counts, dtype=np.float64)
        k, a = c.shape[0], float(self.pseudo_count)
        overall = (c.sum(axis=1) + a) / (c.sum() + k * a)
        at_t = (c + k * a * overall[:, None]) / (c.sum(axis=0, keepdims=True) + k * a)
        return np.log(np.maximum(at_t / overall[:, None], MIN_RATIO)).astype(np.float32)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (the card's ``input.time_prior``; counts run-length coded)."""
        return {"axis": "sample", "pseudo_count": float(self.pseudo_count),
                "n_samples": int(self.counts.shape[1]),
                "counts": [_rle(row) for row in self.counts]}

    @classmethod
    def from_card(cls, entry: Mapping[str, Any] | None) -> TimePrior | None:
        """The prior a card's ``input.time_prior`` holds (None when it holds none)."""
        if not entry:
            return None
        counts = np.stack([_unrle(code) for code in entry["counts"]])
        return cls(counts, float(entry.get("pseudo_count", 1.0)))


def count_along_samples(
    target: np.ndarray, sample_axis: int, n_classes: int, extra: Sequence[tuple[np.ndarray, int]] = ()
) -> np.ndarray:
    """Labeled voxels of every class at every sample index.

    Parameters
    ----------
    target : numpy.ndarray
        Labels (0 = not labeled, ``k + 1`` = class ``k``).
    sample_axis : int
        Axis of ``target`` along time/depth.
    n_classes : int
        ``K``.
    extra : sequence of (numpy.ndarray, int)
        More labels of the same coding (e.g. held-out validation sections), each with its
        own sample axis; their counts are added.

    Returns
    -------
    numpy.ndarray
        int64 ``(K, n_samples)``.
    """
    n = int(target.shape[sample_axis])
    out = np.zeros(n_classes * n, dtype=np.int64)
    for arr, axis in ((target, sample_axis), *extra):
        arr = np.asarray(arr)
        step = max(1, (1 << 24) // max(1, arr[:1].size))  # blocks of ~16 M voxels along axis 0
        for start in range(0, arr.shape[0], step):
            block = arr[start:start + step]
            where = np.nonzero(block)  # labels are sparse: only the painted voxels are binned
            t = where[axis] + (start if axis == 0 else 0)
            k = block[where].astype(np.int64) - 1
            ok = (k >= 0) & (k < n_classes) & (t < n)
            out += np.bincount(k[ok] * n + t[ok], minlength=n_classes * n)
    return out.reshape(n_classes, n)


def painted_time_prior(
    target: np.ndarray, sample_axis: int, n_classes: int, held: Any = None
) -> TimePrior:
    """The prior of every painted voxel: the training target and the held-out validation labels.

    Parameters
    ----------
    target : numpy.ndarray
        Training labels (0 = not labeled, ``k + 1`` = class ``k``), validation removed.
    sample_axis : int
        Axis of ``target`` along time/depth.
    n_classes : int
        ``K``.
    held : HeldOut, optional
        The validation labels (:class:`~napari_seisseg.training.split.HeldOut`: slices
        along ``held.axis``, each with the other axes in increasing order).

    Returns
    -------
    TimePrior
        Counts of both, one pseudo-count per class.
    """
    counts = count_along_samples(target, sample_axis, n_classes)
    if held is None:
        return TimePrior(counts)
    others = [a for a in range(target.ndim) if a != held.axis]
    for index, sec in zip(held.indices, held.sections, strict=True):
        if held.axis == sample_axis:  # a held-out time slice: one sample index
            counts[:, index] += np.bincount(np.ravel(sec), minlength=n_classes + 1)[1:n_classes + 1]
        else:
            counts += count_along_samples(np.asarray(sec), others.index(sample_axis), n_classes)
    return TimePrior(counts)


class TimePriorModel(nn.Module):
    """A section model whose logits get ``log ratio(k, t)`` added, ``t`` read from its input.

    Parameters
    ----------
    model : torch.nn.Module
        The network; its input holds the position channel at ``channel``.
    prior : TimePrior
        The painted counts.
    position : PositionSpec
        How the position channel encodes the sample index.
    channel : int
        Input channel holding the position of the predicted (centre) slice.

    Notes
    -----
    Pixels whose sample index lies outside the prior (padding beyond the trace, or a longer
    trace than the training one) get none (a ratio of 1).  A single-logit (binary) model gets the log
    odds of the second class.  Other attributes (``n_classes``, ``context``...) are the
    network's.
    """

    def __init__(
        self, model: nn.Module, prior: TimePrior, position: PositionSpec, channel: int
    ) -> None:
        super().__init__()
        self.model = model
        self.train(model.training)  # a new module is in training mode: never flip the model's
        self.register_buffer("log_prior", torch.from_numpy(prior.log_prior()))
        self.span = max(int(position.n_samples) - 1, 1)
        self.channel = int(channel)

    def __getattr__(self, name: str) -> Any:
        try:
            return super().__getattr__(name)
        except AttributeError:
            return getattr(super().__getattr__("model"), name)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits of the network plus the log prior ratio of each pixel's sample."""
        logits = self.model(x)
        pos = x[:, self.channel].float()
        t = torch.round((pos + 1.0) * (self.span / 2.0)).long()
        n = self.log_prior.shape[1]
        inside = (t >= 0) & (t < n)
        lp = self.log_prior[:, t.clamp(0, n - 1)]  # (K, N, H, W)
        lp = torch.where(inside.unsqueeze(0), lp, torch.zeros_like(lp)).movedim(0, 1)
        if logits.shape[1] == 1 and lp.shape[1] == 2:
            lp = lp[:, 1:] - lp[:, :1]
        return logits + lp.to(logits.dtype)


def with_time_prior(model: nn.Module, card: Mapping[str, Any]) -> nn.Module:
    """``model`` with the card's time prior, or ``model`` itself when it has none.

    Parameters
    ----------
    model : torch.nn.Module
        A section model taking ``(amplitude, position)`` per slice (``"2d"`` input).
    card : mapping
        Its model card (``input.time_prior``, ``input.position``, ``input.context``).

    Returns
    -------
    torch.nn.Module
        A :class:`TimePriorModel`, or ``model`` for cards without a prior or a position
        channel, or of another input kind.
    """
    if not time_prior_applies(card):
        return model
    entry = card.get("input") or {}
    prior = TimePrior.from_card(entry.get("time_prior"))
    position = PositionSpec.from_card(entry.get("position"))
    channel = 2 * int(entry.get("context") or 0) + 1  # (amplitude, position) per slice
    return TimePriorModel(model, prior, position, channel)


def time_prior_applies(card: Mapping[str, Any]) -> bool:
    """Whether :func:`with_time_prior` combines a model of this card with its time prior.

    Parameters
    ----------
    card : mapping
        A model card.

    Returns
    -------
    bool
        True for a section model (``"2d"`` input) with the position channel whose card
        holds a time prior.
    """
    entry = card.get("input") or {}
    return (entry.get("kind", "2d") == "2d"
            and bool(entry.get("time_prior"))
            and PositionSpec.from_card(entry.get("position")) is not None)
