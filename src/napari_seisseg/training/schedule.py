"""The training run's rules: the learning-rate schedule, the kept model's score, early stopping.

:func:`~napari_seisseg.training.loop.train` asks these at every step and epoch; they hold no
state of their own.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from .config import TrainConfig
from .metrics import headline

__all__ = [
    "MIN_LR_FACTOR",
    "PATIENCE_SHARE",
    "cosine_lr",
    "is_degenerate",
    "selection_score",
    "stop_early",
]

#: Lowest learning rate of either schedule, as a share of the configured one.  Without a
#: floor, plateau decay driven by a noisy training loss (no validation) halved the rate 11
#: times in 10 minutes on the TGS benchmark, to 5e-7: the rest of the budget learnt nothing.
MIN_LR_FACTOR = 0.01
#: With a time budget, early stopping waits this share of the budget without improvement
#: (epochs of a few seconds made a 10-epoch patience end a 10-minute run after 4 minutes;
#: a quarter still ended a noisy few-label run at 42 % of its budget).
PATIENCE_SHARE = 0.5


def stop_early(
    config: TrainConfig,
    stale: int,
    stale_s: float,
    budget_s: float | None,
    best_metrics: Mapping[str, Any] | None,
) -> bool:
    """Early stopping: patience in epochs, or in time with a time budget; never on a constant model.

    Parameters
    ----------
    config : TrainConfig
        The run's settings (``early_stopping``).
    stale : int
        Epochs since the last improvement.
    stale_s : float
        Seconds since the last improvement.
    budget_s : float or None
        The run's time budget in seconds (None: epochs only).
    best_metrics : mapping or None
        Validation metrics of the kept model.

    Returns
    -------
    bool
    """
    if not config.early_stopping or stale < 1 or is_degenerate(best_metrics):
        return False
    if budget_s is not None:
        return stale_s >= PATIENCE_SHARE * budget_s
    return stale >= config.early_stopping


def is_degenerate(metrics: Mapping[str, Any] | None) -> bool:
    """Whether validation ``metrics`` come from a model predicting one class where several are."""
    if not metrics:
        return False
    painted = sum(1 for c in metrics.get("classes", []) if c.get("support", 0) > 0)
    return painted >= 2 and int(metrics.get("n_predicted", painted)) <= 1


def selection_score(metrics: Mapping[str, Any] | None) -> float:
    """The validation score that picks the kept model: mean IoU over the painted classes."""
    score = headline(metrics)
    return -np.inf if score is None or np.isnan(score) else score


def cosine_lr(
    lr: float, done: float, warmup: float = 0.03, floor: float = MIN_LR_FACTOR
) -> float:
    """Learning rate at fraction ``done`` of the budget: linear warm-up, then cosine decay.

    Parameters
    ----------
    lr : float
        Peak rate (reached at the end of the warm-up).
    done : float
        Share of the budget spent, 0..1.
    warmup : float
        Share of the budget spent warming up from ``lr * floor``.
    floor : float
        Final rate as a share of ``lr``.

    Returns
    -------
    float
    """
    done = min(max(float(done), 0.0), 1.0)
    low = lr * floor
    if done < warmup:
        return low + (lr - low) * done / warmup
    t = (done - warmup) / (1.0 - warmup)
    return low + 0.5 * (lr - low) * (1.0 + math.cos(math.pi * t))
