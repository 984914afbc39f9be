"""One training run's state and steps, driven epoch by epoch by :func:`.loop.train`.

:class:`TrainingRun` holds the optimiser, the learning-rate schedule, the weight average, the
model kept so far and the history; its methods run an epoch's steps (halving the batch when
memory runs out), score the epoch, keep the best model, write checkpoints, build the result."""

from __future__ import annotations

import copy
import os
import time
from collections.abc import Callable, Generator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..bundle.card import build_card, card_priors
from ..bundle.model import BundleModel
from ..bundle.storage import save_bundle
from ..device import autocast, describe_device, is_oom
from ..errors import SeisSegError
from ..inference.passes import describe_default_passes
from .config import TrainConfig
from .ema import WeightAverage
from .events import BestUpdated, EpochEnd, Finished, Note, Step, TrainEvent, TrainResult
from .final_validation import evaluate, score_on_every_window
from .metrics import headline
from .orientation_check import check_orientations, describe, will_compare
from .report import class_report
from .runlog import RunLog
from .schedule import MIN_LR_FACTOR, cosine_lr, selection_score, stop_early
from .session import Session

__all__ = ["TrainingRun"]


def _optimise(s: Session, opt, scaler, x: torch.Tensor, y: torch.Tensor, epoch: int, aux: bool):
    """One step; returns the loss, or None when it was not finite (the step is skipped)."""
    opt.zero_grad(set_to_none=True)
    with autocast(s.device, s.amp):
        logits, extra = s.model.forward_with_aux(x) if aux else (s.model(x), [])
    loss = s.loss_fn(logits, y, extra, epoch - 1)
    if not torch.isfinite(loss):
        return None
    if scaler is not None:
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
    else:
        loss.backward()
        opt.step()
    return float(loss.detach())


class TrainingRun:
    """One training run's state: optimiser, schedule, the model kept so far, counters, history.

    Parameters
    ----------
    s : Session
        The prepared inputs, model and sampler (see :func:`.session.build_session`).
    config : TrainConfig
        The run's settings.
    t0 : float
        ``time.perf_counter()`` when the run began.
    """

    def __init__(self, s: Session, config: TrainConfig, t0: float) -> None:
        self.s, self.config, self.t0 = s, config, t0
        model = s.model
        self.opt = torch.optim.AdamW(
            model.parameters(), lr=config.lr, weight_decay=config.weight_decay
        )
        self.sched = torch.optim.lr_scheduler.ReduceLROnPlateau(
            self.opt,
            mode="max",  # the score is higher-better: validation IoU, or -training loss
            factor=config.lr_factor,
            patience=config.lr_patience,
            min_lr=config.lr * MIN_LR_FACTOR,
        )
        self.scaler = torch.amp.GradScaler("cuda") if s.amp.scaler else None
        self.use_aux = config.aux_weight > 0 and hasattr(model, "forward_with_aux")
        self.average = WeightAverage(model, config.ema) if config.ema else None
        # the weights validated and kept: the running average when there is one
        self.scored = self.average.module if self.average is not None else model
        self.runlog = RunLog(config.run_dir, s.class_names) if config.run_dir else None
        self.total_steps = config.epochs * config.steps_per_epoch if config.epochs else None
        self.budget_s = config.minutes * 60.0 if config.minutes else None
        self.history: list[dict[str, Any]] = []
        self.best_state: dict[str, torch.Tensor] | None = None
        self.best_epoch: int | None = None
        self.best_metrics: dict[str, Any] | None = None
        self.best_score, self.best_time, self.top_score = -np.inf, 0.0, -np.inf
        self.best_threshold = float(s.init_card.get("threshold", 0.5)) if s.init_card else 0.5
        self.step_count, self.epoch, self.stale, self.skipped = 0, 0, 0, 0
        #: the epoch after which the validation voxels joined training (None: they did not)
        self.joined: int | None = None
        # the orientation check made just before they joined: (axes, record, why not)
        self._orientations: tuple[Any, Any, Any] | None = None
        self._split_before_joining: dict[str, Any] | None = None  # the card's, once joined
        self.every_window: Any = None  # (windows, scored ones) the kept model was scored on last
        self.read_windows: set[tuple] = set()  # every validation window an epoch read, ever
        # the card's time prior, and the training data it was counted from
        self._prior_memo: tuple[Any, dict[str, Any] | None] | None = None
        self.fine = None
        if s.init_card:
            self.fine = {
                "source": s.init_source,
                "created": s.init_card.get("created"),
                "validation": s.init_card.get("validation"),
            }
        if self.runlog:
            self.runlog.write_config(
                {
                    "config": config.to_dict(),
                    "model": s.spec,
                    "classes": [c.to_dict() for c in s.data.classes],
                    "device": describe_device(s.device),
                    "validation": s.validation_text,
                    "labels": s.data.summary.to_dict(s.data.coordinates),
                }
            )

    def elapsed(self) -> float:
        """Seconds since the run began."""
        return time.perf_counter() - self.t0

    def out_of_time(self) -> bool:
        """Whether the time budget (if any) is spent."""
        return self.budget_s is not None and self.elapsed() >= self.budget_s

    def done(self, elapsed: float) -> float:
        """Share of the budget (steps or time, whichever is further) spent after ``elapsed`` s."""
        return max(
            self.step_count / self.total_steps if self.total_steps else 0.0,
            elapsed / self.budget_s if self.budget_s else 0.0,
        )

    def make_card(self, kept: torch.nn.Module, run: dict[str, Any]) -> dict[str, Any]:
        """The card of ``kept`` (the best model so far) after ``run``."""
        s = self.s
        if self._prior_memo is None or self._prior_memo[0] is not s.data:
            # counted once per training data (live rebuilds make new data): previews make a
            # card each
            self._prior_memo = (s.data, card_priors(s.layout, s.data, s.tile_stack))
        card = build_card(
            spec=s.spec, model=kept, layout=s.layout, data=s.data, normalizer=s.normalizer,
            binary=s.binary, threshold=self.best_threshold, config=self.config,
            best_epoch=self.best_epoch, best_metrics=self.best_metrics, run=run,
            fine_tuned_from=self.fine, priors=self._card_priors(),
        )
        if self.joined is not None:  # the metrics are of the epoch before the paint joined
            card["validation"].update(measured_epoch=self.joined, joined_training=True,
                                      split=self._split_before_joining)
        return card

    def _card_priors(self) -> dict[str, Any]:
        """The memoised priors for one card: the time prior copied, the painted traces shared
        (read-only; shared, a prediction measures them once per run, not once per preview)."""
        memo = self._prior_memo[1]
        return {"time_prior": copy.deepcopy(memo["time_prior"]), "lateral_prior": memo["lateral_prior"]}

    def train_epoch(
        self,
        stopped: Callable[[], bool],
        between: Callable[[], Generator[TrainEvent, None, None]] | None = None,
    ) -> Generator[TrainEvent, None, tuple[list, str | None]]:
        """Run one epoch's steps; returns their losses and why the run ends (None: it goes on).

        ``between``, when given, runs before every step (live training: label updates and
        previews) and yields its events.
        """
        self.s.model.train()
        losses: list[float] = []
        while len(losses) < self.config.steps_per_epoch:
            if between is not None:
                yield from between()
            if stopped():
                return losses, "stopped"
            if self.out_of_time():
                return losses, "time"
            if self.config.lr_schedule == "cosine":
                for group in self.opt.param_groups:
                    group["lr"] = cosine_lr(self.config.lr, self.done(self.elapsed()))
            loss = yield from self._step()
            if loss is None:
                continue
            losses.append(loss)
            self.step_count += 1
            elapsed = self.elapsed()
            yield Step(
                self.epoch,
                len(losses),
                self.step_count,
                self.total_steps,
                loss,
                self.opt.param_groups[0]["lr"],
                elapsed,
                min(self.done(elapsed), 1.0),
            )
        return losses, None

    def _step(self) -> Generator[TrainEvent, None, float | None]:
        """One optimiser step on a fresh batch; None when it was skipped (out of memory, not finite)."""
        s = self.s
        x_np, y_np = s.sampler.batch(s.batch_size)
        x, y = torch.from_numpy(x_np).to(s.device), torch.from_numpy(y_np).to(s.device)
        try:
            loss = _optimise(s, self.opt, self.scaler, x, y, self.epoch, self.use_aux)
        except Exception as exc:  # noqa: BLE001 - only out-of-memory is handled
            if not is_oom(exc):
                raise
            self.opt.zero_grad(set_to_none=True)
            x = y = None
            yield self._halve_batch()
            return None
        if loss is None:
            self.skipped += 1
            if self.skipped >= 10:
                raise SeisSegError(
                    "The loss is not finite (training diverged). Lower the learning rate "
                    "(lr) and train again."
                )
            return None
        self.skipped = 0
        if self.average is not None:
            self.average.update(s.model)
        return loss

    def _halve_batch(self) -> Note:
        """After running out of memory: half the batch size, or an error at one patch."""
        s = self.s
        if s.device.type == "cuda":
            torch.cuda.empty_cache()
        if s.batch_size == 1:
            raise SeisSegError(
                f"Out of memory on {describe_device(s.device)} even with one patch per "
                "batch. Use a smaller patch_size or a narrower model (width)."
            ) from None
        s.batch_size //= 2
        return Note(f"Out of memory: batch size lowered to {s.batch_size}.", "warning")

    def score(self, losses: list[float]) -> tuple[float, dict[str, Any] | None, float]:
        """Score the epoch: ``(train_loss, validation metrics, score)``; steps a plateau schedule."""
        s = self.s
        train_loss = float(np.mean(losses)) if losses else float("nan")
        metrics = None
        if s.val is not None:
            metrics = evaluate(self, s.val, self.scored)
            self.read_windows.update(s.val.windows)  # a live run's split may be rebuilt
            score = selection_score(metrics)
        else:
            score = -train_loss if np.isfinite(train_loss) else -np.inf
        if self.config.lr_schedule == "plateau":
            self.sched.step(score)
        return train_loss, metrics, score

    def keep_if_best(
        self, metrics: dict[str, Any] | None, score: float
    ) -> Generator[TrainEvent, None, bool]:
        """Keep the scored weights when they are the best so far (or the run keeps the last);
        returns whether the score is the best so far (what "(best)" says; ties to the later)."""
        s = self.s
        top, self.top_score = score >= self.top_score, max(score, self.top_score)
        # ties go to the later model: an early perfect score must not freeze the kept model
        last = s.val is None or self.best_state is None or self.config.keep == "last"
        is_best = last or score >= self.best_score
        improved = last or score > self.best_score  # keeping the last: never stale
        if not is_best:
            self.stale += 1
            return top
        self.best_score, self.best_epoch = score, self.epoch
        if self.joined is None:  # after the paint joined training, its last validation stays
            self.best_metrics = metrics
        if improved:  # a tie keeps the later weights but does not reset the patience
            self.best_time = self.elapsed()
        self.best_state = {
            n: t.detach().to("cpu").clone() for n, t in self.scored.state_dict().items()
        }
        if metrics and s.binary:
            self.best_threshold = float(metrics["threshold"])
        self.stale = 0 if improved else self.stale + 1
        iou = headline(metrics)
        yield BestUpdated(self.epoch, iou, metrics, self.best_threshold if s.binary else None)
        return top

    def record_epoch(
        self, train_loss: float, metrics: dict[str, Any] | None, is_best: bool
    ) -> EpochEnd:
        """Add the epoch to the history (and the run log); returns its event."""
        elapsed = self.elapsed()
        lr = self.opt.param_groups[0]["lr"]
        row = {"epoch": self.epoch, "steps": self.step_count, "elapsed_s": elapsed, "lr": lr}
        self.history.append({**row, "train_loss": train_loss, "metrics": metrics})
        if self.runlog:
            self.runlog.log_epoch(**row, train_loss=train_loss, metrics=metrics)
        return EpochEnd(
            self.epoch, self.step_count, train_loss, metrics, lr, elapsed, is_best, self.best_epoch
        )

    def checkpoint(self, checkpointer: Any, elapsed: float) -> Generator[Note, None, None]:
        """Save the best model so far when a checkpoint is due; a failure only warns."""
        if not checkpointer.due(elapsed, self.best_epoch):
            return
        card = self.make_card(self.scored, {"epochs": self.epoch, "steps": self.step_count,
                                            "stop_reason": "checkpoint",
                                            "elapsed_s": round(elapsed, 2)})
        try:
            path = checkpointer.save(self.best_state, card, elapsed, self.best_epoch,
                                     None if self.joined is not None else headline(self.best_metrics))
        except Exception as exc:  # noqa: BLE001 - a checkpoint must never end the run
            checkpointer.failed = True
            yield Note(f"Could not write the checkpoint ({exc}); training goes on.", "warning")
        else:
            yield Note(f"Checkpoint: the best model so far (epoch {self.best_epoch}) is saved "
                       f"at {path} until the result is saved.", "info")

    def join_due(self, can_join: bool | None = None) -> bool:
        """Whether the paint held out for validation joins training now: an automatic split
        not yet given back (``can_join``; None: the split's ``HeldOut.can_rejoin``),
        ``val_join`` below 1 and that share of the budget spent."""
        share, held = self.config.val_join, self.s.data.held
        if can_join is None:
            can_join = held is not None and held.can_rejoin
        return (self.joined is None and share is not None and share < 1 and can_join
                and self.done(self.elapsed()) >= share)

    def join_validation(
        self, give_back: Callable[[], int] | None = None
    ) -> Generator[Note, None, None]:
        """Give the held-out paint back to training; validation ends, its last scores stay.

        The last validation (this epoch's) is what the run reports, labelled as measured
        before the paint joined; the orientation check is made now, on the model as it is,
        with the clock paused (as the one at the end of a run is outside its budget).  From
        here the schedule follows the training loss and the last model is kept.
        ``give_back`` (live runs: their labels' ``join``) gives the paint back and returns
        how many voxels; by default the split's ``HeldOut.rejoin`` and the sampler's recount.
        """
        s, d = self.s, self.s.data
        if self._checks_orientations:
            paused = time.perf_counter()
            model = copy.deepcopy(self.scored).to("cpu", memory_format=torch.contiguous_format)
            card = self.make_card(model.eval(), {"epochs": self.epoch, "steps": self.step_count})
            # a failed check leaves the card's orientations, unchecked
            self._orientations = (yield from self._compare_orientations(model, card)) or (
                None, None, None)
            self.t0 += time.perf_counter() - paused
        self._split_before_joining = None if d.held is None else d.held.to_dict()
        if give_back is None:
            back = d.held.rejoin(d.target)
            s.sampler.recount()
            s.recount()  # the loss weights counted with the paint given back
            # the card's priors count the target, now with the held-out paint (not twice)
            self._prior_memo = (d, card_priors(s.layout, replace(d, held=None), s.tile_stack))
        else:
            back = give_back()  # a new data without a split: priors counted afresh
        self.joined, s.val = self.epoch, None
        if self.best_metrics is not None:
            self.best_metrics = {**self.best_metrics, "before_joining": self.epoch}
        self.restart_judging()
        yield Note(f"The paint held out for validation ({back:,} voxels) joins training after "
                   f"epoch {self.epoch} ({self.config.val_join:.0%} of the budget); the "
                   "validation reported is that epoch's.", "info")

    @property
    def _checks_orientations(self) -> bool:
        """Whether the run compares the prediction orientations on validation: time-slice
        paint (mixed paint keeps the card's orientations unchecked: its bands favour one)."""
        return self.s.data.painted_on_time_slices and not self.s.data.mixed_paint

    def _compare_orientations(
        self, model: torch.nn.Module, card: dict[str, Any]
    ) -> Generator[Note, None, tuple[Any, Any, Any] | None]:
        """:func:`~.orientation_check.check_orientations` where the run makes it (``(None,
        None, None)`` elsewhere); None, with a warning, when it failed."""
        if not self._checks_orientations:
            return None, None, None
        d = self.s.data
        try:
            if will_compare(model, card, d.held):  # else it returns at once, comparing nothing
                yield Note("Comparing the prediction orientations on validation…", "progress")
            return check_orientations(model, card, d.image, d.held)
        except Exception as exc:  # noqa: BLE001 - the trained model must be kept whatever happens
            yield Note(f"Could not compare the prediction orientations on validation ({exc}); "
                       "prediction averages the orientations of the card.", "warning")
            return None

    def restart_judging(self) -> None:
        """The validation data changed: forget the best score, patience and plateau counts.

        The next scored epoch is kept whatever its score; early stopping and the plateau
        schedule count again from now (their past scores were on other data).
        """
        self.best_score = self.top_score = -np.inf
        self.stale, self.best_time = 0, self.elapsed()
        self.sched.best = self.sched.mode_worse
        self.sched.num_bad_epochs = 0

    def end_reason(self) -> str | None:
        """Why the run ends after this epoch (epochs, time, early stopping), or None."""
        if self.config.epochs and self.epoch >= self.config.epochs:
            return "epochs"
        if self.out_of_time():
            return "time"
        if stop_early(self.config, self.stale, self.elapsed() - self.best_time, self.budget_s,
                      self.best_metrics):
            return "early_stopping"
        return None

    def _settle_orientations(self, model: torch.nn.Module, card: dict[str, Any]) -> Generator[Note, None, None]:
        """Keep the three orientations averaged only where validation says so (time-slice
        paint, :meth:`_compare_orientations`; checked before the held-out paint joined
        training, if it did)."""
        compared = self._orientations or (yield from self._compare_orientations(model, card))
        if compared is None:
            return
        axes, record, why_not = compared
        if why_not is not None:
            yield Note(f"Prediction averages time slices, inlines and crosslines (time slices "
                       f"weighing as much as the two others together) without a check "
                       f"({why_not}); seisseg predict --axes with the time axis alone, or the "
                       "Predict widget's orientations, predicts time slices alone.", "info")
        if record is None:
            if why_not is None and len(card["input"].get("predict_axes") or []) > 1:
                yield Note(self._default_average(model, card), "info")
            return
        card["input"]["predict_axes"] = axes
        if card.get("validation") is not None:
            card["validation"]["orientations"] = (
                record if self.joined is None else {**record, "measured_epoch": self.joined})
        when = "" if self.joined is None else (
            f" (measured on the model of epoch {self.joined}, before the held-out paint joined training)")
        yield Note(describe(record).rstrip(".") + when + ".", "info")

    def _default_average(self, model: torch.nn.Module, card: dict[str, Any]) -> str:
        """What prediction averages by default, for a card of several orientations
        (:func:`~napari_seisseg.inference.passes.describe_default_passes`: the orientations,
        weights and flips ``seisseg predict`` records), and whether painted time slices are
        left out of it."""
        d = self.s.data
        order = [int(a) for a in card["input"]["predict_axes"]]
        flag = "--no-tta"
        try:
            bm = BundleModel.coerce((model, card))
            how = describe_default_passes(bm, order, d.axis_words)
            flag = "--no-tta" if bm.flips_by_default else "--tta"
        except Exception:  # noqa: BLE001 - a note must not lose the trained model
            words = [d.axis_words[a] for a in order]
            how = f"along {', '.join(words[:-1])} and {words[-1]} sections by default"
        left = ("" if d.sample_axis in order or not d.mixed_paint else
                "; not along the painted time slices, which predicted worse on every such paint "
                "measured")
        # an automatic split's bands in the painted time slices (a joined one's, as it was)
        split_axis = (self._split_before_joining["axis"] if self._split_before_joining else
                      d.held.axis if d.held is not None and d.held.automatic else None)
        if left and split_axis == d.sample_axis:
            left += (", and which validation measured on its bands: the validation reported "
                     "says little of the mask (it read 0.27-0.29 below the unpainted voxels' "
                     "score on the two such runs measured)")
        return (f"Prediction averages {how}{left} (seisseg predict --axes and {flag}, or the "
                "Predict widget's orientations and TTA box, to change them).")

    def finish(
        self, reason: str, checkpointer: Any, init_bundle: Any
    ) -> Generator[TrainEvent, None, TrainResult]:
        """Load the kept weights, build the result (saved to the run directory) and say so."""
        s, model = self.s, self.s.model
        model.load_state_dict(self.best_state)
        # the kept model is plain (contiguous, on the CPU): what a loaded bundle gives, bit for bit
        model.to("cpu", memory_format=torch.contiguous_format).eval()
        elapsed = self.elapsed()
        run = {
            "epochs": self.epoch,
            "steps": self.step_count,
            "stop_reason": reason,
            "elapsed_s": round(elapsed, 2),
            "device": describe_device(s.device),
            "precision": s.amp.describe(),
            "batch_size": s.batch_size,
        }
        yield from score_on_every_window(self, model)  # after the clock: outside the budget
        card = self.make_card(model, run)
        yield from self._settle_orientations(model, card)
        result = TrainResult(model, card, self.history, reason, self.best_epoch, self.best_metrics)
        # saving the result removes this run's checkpoint and the one it started from
        result.checkpoints = [checkpointer.path] if checkpointer is not None else []
        if isinstance(init_bundle, str | os.PathLike):
            result.checkpoints.append(Path(init_bundle))
        if self.runlog:
            result.bundle_path = save_bundle(self.runlog.bundle_path, model, card)
            self.runlog.write_config({"config": self.config.to_dict(), "card": card})
        for level, text in class_report(self.best_metrics):
            yield Note(text, level)
        yield Finished(reason, self.epoch, self.step_count, elapsed, self.best_epoch,
                       self.best_metrics, result)
        return result
