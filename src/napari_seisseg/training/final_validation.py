"""The kept model scored once more at the end of a run, on held-out windows no epoch read.

Each epoch, validation reads a seeded subset of the held-out windows
(``TrainConfig.max_val_windows``), and the run chooses its checkpoint, and a binary model
its threshold, on that subset: the figure it gives flatters the kept model, most where a
few whole sections decide the score (the TGS tiles: salt IoU 0.848 on the 160-window
subset, 0.812 on all 240 held-out tiles predicted whole, 0.718 on unseen fold 3; with the
threshold tuned on all of them, 0.84 instead of 0.92, fold 3 read 0.733;
docs/fewlabel-experiments.md, twenty-first session).  :func:`score_on_every_window` scores
the kept model on every held-out window (up to :data:`FINAL_WINDOWS` times the subset, and
:data:`FINAL_VOXELS` voxels of windows), outside the budget as the orientation check is,
leaving out the windows each epoch read where half as many others remain and the best
model is kept (:func:`unread`: a sample the checkpoint was not chosen on); its scores, their
spread and a binary model's threshold are what the run then reports and the card keeps.
:func:`score_latest` scores a live run's latest weights on the same windows; :func:`evaluate`
is how every validation of a run is scored, each epoch's included.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Generator
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import torch

from .events import Note
from .metrics import headline
from .schedule import selection_score
from .session import _validation
from .validation import ValidationSet

if TYPE_CHECKING:
    from .run import TrainingRun

__all__ = ["FINAL_VOXELS", "FINAL_WINDOWS", "evaluate", "score_latest", "score_on_every_window",
           "unread"]

#: The end-of-run score reads at most this many times ``max_val_windows`` windows...
FINAL_WINDOWS = 8
#: ...and at most this many voxels of windows (input slab included), whatever their size:
#: 1568 whole TGS tiles (101²), 195 hybrid windows of 5 x 128², 61 3D windows of 64³.
FINAL_VOXELS = 16_000_000


def _cap(run: TrainingRun) -> int:
    """How many windows the end-of-run score may read."""
    layout, cfg = run.s.layout, run.config
    voxels = math.prod(layout.size) * (2 * layout.context + 1 if layout.kind == "slab" else 1)
    return max(cfg.max_val_windows,
               min(FINAL_WINDOWS * cfg.max_val_windows, FINAL_VOXELS // max(voxels, 1)))


def evaluate(run: TrainingRun, val: ValidationSet, model: torch.nn.Module,
             report: list[int] | None = None) -> dict[str, Any]:
    """``model`` (on the run's device) scored on ``val`` as each epoch's validation is: in
    the run's precision, with its classes' names and values; on ``report``'s windows alone
    where given (:meth:`ValidationSet.evaluate`)."""
    s = run.s
    return val.evaluate(model, s.device, n_classes=len(s.data.classes), binary=s.binary,
                        batch_size=s.batch_size, amp=s.amp, names=s.class_names,
                        values=s.data.class_values, report=report)


def _evaluate_copy(run: TrainingRun, val: ValidationSet, model: torch.nn.Module,
                   report: list[int] | None = None) -> dict[str, Any]:
    """:func:`evaluate` on a copy of ``model`` moved to the run's device (``model`` stays
    plain, on the CPU: what a loaded bundle gives), scored on ``report``'s windows."""
    return evaluate(run, val, copy.deepcopy(model).to(run.s.device), report)


def score_on_every_window(run: TrainingRun, model: torch.nn.Module) -> Generator[Note, None, None]:
    """Score ``model`` (the kept one) on the held-out windows of ``run`` no epoch read (or all).

    Nothing happens when the per-epoch validation already read every window, when there is
    no validation, or once the held-out paint joined training (the model learned it).  Else
    the model is scored on the windows no epoch read where there are at least half as many as
    each epoch read (:func:`unread`), on every window otherwise (and where the last model is
    kept: the windows did not choose it); ``run.best_metrics`` (with
    ``windows``, ``chosen_on`` and ``apart``: the windows read now, those each epoch read,
    and whether the two are apart) and, for a binary model, ``run.best_threshold`` are
    replaced, and a note says what changed.  ``model`` itself is never moved or changed; a
    failure leaves the run's figures as they were, with a warning.
    """
    s, d = run.s, run.s.data
    if run.joined is not None or s.val is None or d.held is None or run.best_metrics is None:
        return
    cap = _cap(run)
    try:
        every = _validation(d, d.held, s.layout, s.normalizer,
                            replace(run.config, max_val_windows=cap))
        if every is None or len(every) <= len(s.val):
            return
        # the model was chosen on the windows each epoch read, unless the last one is kept
        report = None if run.config.keep == "last" else unread(every, run.read_windows, len(s.val))
        n = len(every) if report is None else len(report)
        yield Note(f"Scoring the kept model on {n:,} held-out windows"
                   f"{'' if report is None else ' no epoch read'}…", "progress")
        metrics = _evaluate_copy(run, every, model, report)
    except Exception as exc:  # noqa: BLE001 - the trained model must be kept whatever happens
        yield Note(f"Could not score the kept model on every held-out window ({exc}); the "
                   "validation reported is the one each epoch read.", "warning")
        return
    run.every_window = every, report  # for a live run's latest weights (score_latest)
    kept, before, after = run.best_metrics, headline(run.best_metrics), headline(metrics)
    run.best_metrics = {**metrics, **_which(every, report, len(s.val))}
    n, m, apart = (run.best_metrics[k] for k in ("windows", "chosen_on", "apart"))
    threshold = ""
    if s.binary and "threshold" in metrics:
        old, run.best_threshold = run.best_threshold, float(metrics["threshold"])
        threshold = (f"; threshold {old:.2f} -> {run.best_threshold:.2f}"
                     if f"{old:.2f}" != f"{run.best_threshold:.2f}" else
                     f"; threshold {old:.2f} again")
    if before is not None and after is not None:
        which = (f"the {n:,} held-out windows no epoch read (it was chosen on the {m:,} each "
                 "epoch read)" if apart else
                 f"{'all ' if n < cap else ''}{n:,} held-out windows (each epoch read {m:,})")
        # a live run stopped after the paint changed, before an epoch scored the new paint
        # (the judging restarted since): the figure each epoch read was on the old windows
        stale = not math.isfinite(run.best_score) and math.isfinite(selection_score(kept))
        then = (" (its last validation was on the paint before the latest change)" if stale
                else f" where those {m:,} read {before:.3f}")
        yield Note(f"The kept model scored on {which}: validation mean IoU {after:.3f}{then}"
                   f"{threshold}.", "info")


def _which(every: ValidationSet, report: list[int] | None, chosen_on: int) -> dict[str, Any]:
    """The card's ``windows`` (scored at the end), ``chosen_on`` (each epoch's) and
    ``apart`` (only windows no epoch read) for a score on ``report``'s windows of ``every``."""
    return {"windows": len(every) if report is None else len(report), "chosen_on": chosen_on,
            "apart": report is not None}


def unread(every: ValidationSet, read: set[tuple], n_read: int) -> list[int] | None:
    """The indices of the windows of ``every`` that no epoch read (``read``: the windows of
    every epoch's subset, :attr:`~.run.TrainingRun.read_windows`), where they are at least
    half as many as one epoch read (``n_read``); else None (score every window).

    The subset chose the checkpoint, so its windows flatter the kept model; windows no epoch
    read are an untouched sample of the held-out paint, whose smaller size the spread
    reported shows (a bias would not show).  A binary model's threshold is still tuned on
    every window: tuned on a few dozen tiles alone it strays (TGS seed 3: 0.96 from 80 tiles,
    fold 3 0.739 where 0.5 to 0.7 give 0.763).
    """
    keep = [i for i, w in enumerate(every.windows) if w not in read]
    return keep if 2 * len(keep) >= n_read else None


def score_latest(run: TrainingRun, model: torch.nn.Module) -> dict[str, Any] | None:
    """A live run's latest weights scored on the windows the kept model was scored on at the
    end (:func:`score_on_every_window`); None when it was not (or this fails)."""
    if run.every_window is None:
        return None
    every, report = run.every_window
    try:
        metrics = _evaluate_copy(run, every, model, report)
    except Exception:  # noqa: BLE001 - the latest weights keep the figures each epoch read
        return None
    return {**metrics, **_which(every, report, run.best_metrics.get("chosen_on"))}
