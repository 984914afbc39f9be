"""A training run in words: scores, the line of an epoch, the sentence that closes a run.

What the Train widget shows in its status line and table (no napari import).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from .metrics import headline

__all__ = ["epoch_line", "finished_message", "fmt_score", "kept_epoch", "measured_when",
           "validation_score"]

#: Why a run ended, in words (``TrainResult.stop_reason``).
_WHY = {"epochs": "all epochs done", "time": "time budget spent",
        "early_stopping": "no more improvement", "stopped": "stopped",
        "bad_labels": "stopped: the labels layer changed shape or was replaced"}


def fmt_score(v: Any) -> str:
    """A score with three decimals, or an en dash when there is none."""
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "–"
    return f"{float(v):.3f}"


def validation_score(metrics: Mapping[str, Any], fmt: Callable[[Any], str] = fmt_score) -> str:
    """``"validation mean IoU 0.812 ± 0.034"``: the headline score and, when the metrics
    have one, its spread.

    Parameters
    ----------
    metrics : mapping
        Validation scores (see :func:`~napari_seisseg.training.metrics.headline`).
    fmt : callable
        Writes the score (default :func:`fmt_score`).
    """
    spread = metrics.get("spread")
    pm = "" if spread is None else f" ± {spread:.3f}"
    return f"validation mean IoU {fmt(headline(metrics))}{pm}"


def measured_when(metrics: Mapping[str, Any] | None) -> str:
    """`` at epoch 9, before the held-out paint joined training`` for the validation of a
    run whose held-out paint joined training (:attr:`~.config.TrainConfig.val_join`), else
    ``""``.

    Parameters
    ----------
    metrics : mapping or None
        The kept model's validation scores (``before_joining``: the epoch they were measured).
    """
    joined = (metrics or {}).get("before_joining")
    return "" if joined is None else f" at epoch {joined}, before the held-out paint joined training"


def kept_epoch(metrics: Mapping[str, Any] | None, epoch: Any) -> str:
    """``"epoch 9"``, or ``"kept epoch 24"`` where the validation is of an earlier epoch
    (:func:`measured_when`)."""
    return f"{'kept epoch' if measured_when(metrics) else 'epoch'} {epoch}"


def epoch_line(event: Any) -> str:
    """The status line of an epoch's end: its loss and validation score (best marked).

    Parameters
    ----------
    event : EpochEnd
        The training event.
    """
    m = event.metrics or {}
    best = " (best)" if event.is_best and m else ""
    val = f", validation mean IoU {fmt_score(headline(m))}{best}" if m else ""
    return f"epoch {event.epoch}: loss {event.train_loss:.4f}{val}"


def finished_message(result: Any, name: str, saved: Any) -> str:
    """The sentence that closes a run: the model's name, its best score, why it ended, where
    it was saved.

    Parameters
    ----------
    result : TrainResult
        What the run returned.
    name : str
        The name the model got in the session's store.
    saved : path or None
        Where it was saved automatically (None: not saved).
    """
    score = ""
    if result.best_metrics:
        m = result.best_metrics
        score = f", {validation_score(m)}{measured_when(m)} ({kept_epoch(m, result.best_epoch)})"
    message = f"model '{name}' ready{score}; {_WHY.get(result.stop_reason, '')}"
    if saved is not None:
        message += f"; saved automatically to {saved}"
    return message
