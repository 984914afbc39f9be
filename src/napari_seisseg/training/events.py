"""Events the training generator yields, and the result it returns.

A widget maps them onto a progress bar (:class:`Step.progress`), live curves
(:class:`Step`, :class:`EpochEnd`) and a per-class table (``EpochEnd.metrics["classes"]``);
the CLI onto a progress bar.  Every event has a one-line :meth:`~TrainEvent.message`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import torch

from ..bundle.classes import ClassInfo
from .labels import LabelSummary
from .metrics import headline
from .run_summary import measured_when, validation_score

__all__ = [
    "BestUpdated",
    "EpochEnd",
    "Finished",
    "Note",
    "Started",
    "Step",
    "TrainEvent",
    "TrainResult",
]


class TrainEvent:
    """Base class of training events; ``kind`` names the event type."""

    kind: ClassVar[str] = "event"

    def message(self) -> str:
        """One line for a log or a status bar."""
        return self.kind


@dataclass
class Started(TrainEvent):
    """Setup is done; training starts."""

    kind: ClassVar[str] = "started"
    device: str
    device_description: str
    precision: str
    model: str
    n_parameters: int
    classes: list[ClassInfo]
    binary: bool
    batch_size: int
    patch_size: tuple[int, ...]
    steps_per_epoch: int
    max_epochs: int | None
    minutes: float | None
    total_steps: int | None
    n_train_voxels: int
    n_val_voxels: int
    validation: str
    summary: LabelSummary
    notes: list[str] = field(default_factory=list)

    def message(self) -> str:
        budget = []
        if self.max_epochs:
            budget.append(f"{self.max_epochs} epochs x {self.steps_per_epoch} steps")
        if self.minutes:
            budget.append(f"{self.minutes:g} min")
        return (
            f"Training {self.model} ({self.n_parameters / 1e6:.2f} M parameters) on "
            f"{self.device_description}, {self.precision}, batch {self.batch_size} of "
            f"{'x'.join(map(str, self.patch_size))}; {' / '.join(budget) or 'until stopped'}; "
            f"{self.n_train_voxels:,} training and {self.n_val_voxels:,} validation voxels."
        )


@dataclass
class Step(TrainEvent):
    """One optimisation step done."""

    kind: ClassVar[str] = "step"
    epoch: int
    step: int
    global_step: int
    total_steps: int | None
    loss: float
    lr: float
    elapsed_s: float
    progress: float

    def message(self) -> str:
        return f"epoch {self.epoch} step {self.step}: loss {self.loss:.4f}"


@dataclass
class EpochEnd(TrainEvent):
    """An epoch ended and was validated (``metrics`` None without validation data).

    ``is_best``: its validation score is the best since the validation data last changed
    (the start, a live label update, the held-out paint joining; ties to the later epoch)
    and its weights are kept; a run that keeps the last model keeps every epoch's weights,
    but only the epochs that are best by validation say so.
    """

    kind: ClassVar[str] = "epoch_end"
    epoch: int
    global_step: int
    train_loss: float
    metrics: dict[str, Any] | None
    lr: float
    elapsed_s: float
    is_best: bool
    best_epoch: int | None

    def message(self) -> str:
        val = ""
        if self.metrics:
            val = f", validation mean IoU {headline(self.metrics):.3f}"
        best = " (best)" if self.is_best and self.metrics else ""
        return f"epoch {self.epoch}: train loss {self.train_loss:.4f}{val}{best}"


@dataclass
class BestUpdated(TrainEvent):
    """The kept model changed (a better validation mean IoU)."""

    kind: ClassVar[str] = "best"
    epoch: int
    mean_iou: float | None
    metrics: dict[str, Any] | None
    threshold: float | None = None

    def message(self) -> str:
        if self.mean_iou is None:
            return f"kept the model of epoch {self.epoch}"
        return f"best model so far: epoch {self.epoch}, validation mean IoU {self.mean_iou:.3f}"


@dataclass
class Note(TrainEvent):
    """Something the user should know (a warning, a change made for them).

    ``level``: "info", "warning", "error", or "progress": what the run does now, where it
    takes a while outside the steps (the status line in the Train widget, not a
    notification; a line of its own in the CLI).
    """

    kind: ClassVar[str] = "note"
    text: str
    level: str = "info"

    def message(self) -> str:
        return self.text


@dataclass
class TrainResult:
    """What a training run produced.

    Attributes
    ----------
    model : torch.nn.Module
        The kept (best) model, on the CPU, in eval mode.
    card : dict
        Its model card.
    history : list of dict
        One entry per epoch: ``epoch, steps, elapsed_s, lr, train_loss, metrics``.
    stop_reason : str
        ``"epochs"``, ``"time"``, ``"early_stopping"`` or ``"stopped"`` (Stop pressed).
    best_epoch : int or None
        Epoch of the kept model.
    best_metrics : dict or None
        Its validation scores.
    bundle_path : pathlib.Path or None
        The bundle written in the run folder, if any.
    checkpoints : list of pathlib.Path
        Checkpoints that :meth:`save` removes once the result is saved: the run's own and
        the one it started from (see :mod:`.checkpoint`).
    """

    model: torch.nn.Module
    card: dict[str, Any]
    history: list[dict[str, Any]]
    stop_reason: str
    best_epoch: int | None
    best_metrics: dict[str, Any] | None
    bundle_path: Path | None = None
    checkpoints: list[Path] = field(default_factory=list)

    def save(self, path: str | os.PathLike) -> Path:
        """Write the bundle at exactly ``path`` (see :func:`~napari_seisseg.bundle.storage.save_bundle`).

        Once it is written, the run's checkpoints are removed (:meth:`discard_checkpoints`).
        """
        from ..bundle.storage import save_bundle

        out = save_bundle(path, self.model, self.card)
        self.discard_checkpoints(keep=out)
        return out

    def discard_checkpoints(self, keep: str | os.PathLike | None = None) -> None:
        """Remove the checkpoints of this run and of the run it started from.

        Parameters
        ----------
        keep : path, optional
            A file never removed (the result just saved, were it saved over a checkpoint).
        """
        from .checkpoint import remove_checkpoint

        for path in self.checkpoints:
            if keep is None or Path(path).resolve() != Path(keep).resolve():
                remove_checkpoint(path)
        self.checkpoints = []


@dataclass
class Finished(TrainEvent):
    """Training ended; ``result`` is also the generator's return value."""

    kind: ClassVar[str] = "finished"
    reason: str
    epochs: int
    steps: int
    elapsed_s: float
    best_epoch: int | None
    best_metrics: dict[str, Any] | None
    result: TrainResult

    def message(self) -> str:
        why = {
            "epochs": "all epochs done",
            "time": "time budget spent",
            "early_stopping": "no improvement (early stopping)",
            "stopped": "stopped by the user",
            "bad_labels": "the labels could not be used (see the message)",
        }.get(self.reason, self.reason)
        best = ""
        if self.best_metrics:
            score = validation_score(self.best_metrics, "{:.3f}".format)
            best = f"; kept epoch {self.best_epoch} ({score}{measured_when(self.best_metrics)})"
        return f"Finished after {self.steps} steps in {self.elapsed_s:.0f} s: {why}{best}."
