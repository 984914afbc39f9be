"""The training loop, as a generator of events (one code path for widget, CLI and tests).

>>> gen = train(image, labels, TrainConfig(model="unet2d", epochs=5))   # doctest: +SKIP
>>> result = drain(gen, on_event=print)                           # doctest: +SKIP
>>> result.save("salt.safetensors")                                      # doctest: +SKIP

Each epoch runs ``steps_per_epoch`` AdamW steps on sampled, augmented patches, then scores
the validation windows; the model with the best validation mean IoU over the painted
classes is kept (a tie goes to the later model; without validation data: the last one).
The learning rate drops on plateaus; the run ends after ``epochs``, when ``minutes`` are
spent, when ``stop()`` returns True (the model is then scored once more, and the best so
far kept), or early: after ``early_stopping`` epochs without improvement, or, with a time
budget, after :data:`PATIENCE_SHARE` of the budget without improvement.  A run never
stops early while its best model predicts a single class on validation data that holds
several.  Everything random derives from ``config.seed``: on the CPU the same
seed gives the same losses.
"""

from __future__ import annotations

import copy
import math
import os
import time
from collections.abc import Callable, Generator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..bundle.card import build_card
from ..bundle.storage import save_bundle
from ..device import autocast, describe_device, is_oom
from ..errors import SeisSegError
from ..io.geometry import SurveyGeometry
from ..jobs import stop_requested
from .config import TrainConfig
from .data import prepare_data
from .ema import WeightAverage
from .events import BestUpdated, EpochEnd, Finished, Note, Started, Step, TrainEvent, TrainResult
from .labels import LabelSummary
from .metrics import headline
from .report import class_report
from .runlog import RunLog
from .session import Session, build_session

__all__ = ["check_inputs", "train"]

StopFlag = Callable[[], bool] | Any
#: Lowest learning rate of either schedule, as a share of the configured one.  Without a
#: floor, plateau decay driven by a noisy training loss (no validation) halved the rate 11
#: times in 10 minutes on the TGS benchmark, to 5e-7: the rest of the budget learnt nothing.
MIN_LR_FACTOR = 0.01
#: With a time budget, early stopping waits this share of the budget without improvement
#: (epochs of a few seconds made a 10-epoch patience end a 10-minute run after 4 minutes;
#: a quarter still ended a noisy few-label run at 42 % of its budget).
PATIENCE_SHARE = 0.5


def _stop_early(
    config: TrainConfig,
    stale: int,
    stale_s: float,
    budget_s: float | None,
    best_metrics: Mapping[str, Any] | None,
) -> bool:
    """Early stopping: patience in epochs, or in time with a time budget; never on a constant model."""
    if not config.early_stopping or stale < 1 or is_degenerate(best_metrics):
        return False
    if budget_s is not None:
        return stale_s >= PATIENCE_SHARE * budget_s
    return stale >= config.early_stopping


def check_inputs(
    image: Any, labels: Any, config: TrainConfig | None = None, **kwargs: Any
) -> LabelSummary:
    """Check training inputs without training (for a widget's first check).

    Takes the arguments of :func:`train` (``geometry``, ``val_labels``, ``class_names``,
    ``class_colors``) and returns what is labeled, or raises :class:`SeisSegError`.
    """
    config = config or TrainConfig()
    config.validate()
    return prepare_data(
        image, labels, zero_is_background=config.zero_is_background, axes=config.axes, **kwargs
    ).summary


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


def _started(s: Session, total_steps: int | None) -> Started:
    c = s.config
    return Started(
        device=str(s.device),
        device_description=describe_device(s.device),
        precision=s.amp.describe(),
        model=s.spec["name"],
        n_parameters=sum(p.numel() for p in s.model.parameters()),
        classes=list(s.data.classes),
        binary=s.binary,
        batch_size=s.batch_size,
        patch_size=s.layout.size,
        steps_per_epoch=c.steps_per_epoch,
        max_epochs=c.epochs,
        minutes=c.minutes,
        total_steps=total_steps,
        n_train_voxels=int(s.train_counts.sum()),
        n_val_voxels=s.val.n_voxels if s.val is not None else 0,
        validation=s.validation_text,
        summary=s.data.summary,
        notes=list(s.notes),
    )


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


def train(
    image: Any,
    labels: Any,
    config: TrainConfig | None = None,
    *,
    geometry: SurveyGeometry | None = None,
    val_labels: Any = None,
    class_names: Mapping[int, str] | Sequence[str] | None = None,
    class_colors: Mapping[Any, Any] | None = None,
    pipeline: Any = None,
    init_bundle: Any = None,
    stop: StopFlag = None,
    image_name: str | None = None,
) -> Generator[TrainEvent, None, TrainResult]:
    """Train a segmentation model on painted labels, yielding progress events.

    Parameters
    ----------
    image : array-like
        Amplitudes, 2 or 3 axes (numpy, memmap, dask, Zarr, lazy SEG-Y).
    labels : array-like
        Labels of the image's shape: 0 = not labeled, 1..K classes (see
        ``config.zero_is_background``).
    config : TrainConfig, optional
        Settings (defaults when None).
    geometry : SurveyGeometry, optional
        Geometry of the input; its ``axes`` tell the axis order (see :mod:`.data`).
    val_labels : array-like, optional
        Validation labels (another Labels layer) instead of an automatic split.
    class_names, class_colors : mapping, optional
        Names and colours by label value (e.g. from a Labels layer's features/colormap).
    pipeline : object, optional
        Fitted preprocessing pipeline applied to every patch (``apply``, ``to_dict``).
    init_bundle : path, (model, card) or TrainResult, optional
        Start from this bundle's weights (fine-tuning); its classes are kept (labels holding
        other values are refused), and so are its architecture and, unless ``pipeline`` is
        given, its input normalisation.
    stop : callable or threading.Event, optional
        Polled before every step; when it returns True (is set) training ends, keeping
        the best model so far.
    image_name : str, optional
        What the image is called (a path, a layer name), for the checkpoint of a run
        that is killed (``config.checkpoint_minutes``; see :mod:`.checkpoint`).

    Yields
    ------
    TrainEvent
        :class:`Started`, then :class:`Step` per step, :class:`EpochEnd` (and
        :class:`BestUpdated`) per epoch, :class:`Note` when something needs saying, and
        :class:`Finished` last.

    Returns
    -------
    TrainResult
        The kept model, its card and the history (also in ``Finished.result``).

    Raises
    ------
    SeisSegError
        For bad inputs or settings, with a message saying what to do.
    """
    kept: list[Any] = []  # the run's checkpointer, named in an error that ends the run
    try:
        return (yield from _train(
            image, labels, config, geometry=geometry, val_labels=val_labels,
            class_names=class_names, class_colors=class_colors, pipeline=pipeline,
            init_bundle=init_bundle, stop=stop, image_name=image_name, holder=kept,
        ))
    except SeisSegError as exc:
        if kept and kept[0].saved:
            raise SeisSegError(
                f"{exc} The best model so far is saved at {kept[0].path}: load it, or "
                "continue from it (--init, or 'start from' in the Train widget)."
            ) from exc
        raise


def _train(
    image: Any,
    labels: Any,
    config: TrainConfig | None,
    *,
    geometry: SurveyGeometry | None,
    val_labels: Any,
    class_names: Any,
    class_colors: Any,
    pipeline: Any,
    init_bundle: Any,
    stop: StopFlag,
    image_name: str | None,
    holder: list[Any],
) -> Generator[TrainEvent, None, TrainResult]:
    """The body of :func:`train`; ``holder`` receives the run's checkpointer."""
    t0 = time.perf_counter()
    config = copy.deepcopy(config) if config is not None else TrainConfig()
    s = build_session(
        image,
        labels,
        config,
        geometry=geometry,
        val_labels=val_labels,
        class_names=class_names,
        class_colors=class_colors,
        pipeline=pipeline,
        init_bundle=init_bundle,
    )
    model, device, val, k = s.model, s.device, s.val, len(s.data.classes)
    names, values = s.class_names, s.data.class_values
    opt = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(
        opt,
        mode="max" if val is not None else "min",
        factor=config.lr_factor,
        patience=config.lr_patience,
        min_lr=config.lr * MIN_LR_FACTOR,
    )
    scaler = torch.amp.GradScaler("cuda") if s.amp.scaler else None
    use_aux = config.aux_weight > 0 and hasattr(model, "forward_with_aux")
    average = WeightAverage(model, config.ema) if config.ema else None
    scored = average.module if average is not None else model  # validated and kept
    runlog = RunLog(config.run_dir, names) if config.run_dir else None
    total_steps = config.epochs * config.steps_per_epoch if config.epochs else None
    budget_s = config.minutes * 60.0 if config.minutes else None
    if runlog:
        runlog.write_config(
            {
                "config": config.to_dict(),
                "model": s.spec,
                "classes": [c.to_dict() for c in s.data.classes],
                "device": describe_device(device),
                "validation": s.validation_text,
                "labels": s.data.summary.to_dict(s.data.coordinates),
            }
        )
    checkpointer = None
    if config.checkpoint_minutes:
        from .checkpoint import Checkpointer
        from .pretrain import cube_fingerprint

        checkpointer = Checkpointer(s.spec["name"], image_name or "an unnamed image",
                                    lambda: cube_fingerprint(image),
                                    60.0 * config.checkpoint_minutes)
        holder.append(checkpointer)
    yield _started(s, total_steps)
    for n in s.infos:
        yield Note(n, "info")
    for n in s.notes:
        yield Note(n, "warning")

    fine = None
    if s.init_card:
        fine = {
            "source": s.init_source,
            "created": s.init_card.get("created"),
            "validation": s.init_card.get("validation"),
        }

    def make_card(kept: torch.nn.Module, run: dict[str, Any]) -> dict[str, Any]:
        """The card of ``kept`` (the best model so far) after ``run``."""
        return build_card(
            spec=s.spec, model=kept, layout=s.layout, data=s.data, normalizer=s.normalizer,
            binary=s.binary, threshold=best_threshold, config=config, best_epoch=best_epoch,
            best_metrics=best_metrics, run=run, fine_tuned_from=fine,
        )

    history: list[dict[str, Any]] = []
    best_state, best_epoch, best_metrics, best_score = None, None, None, -np.inf
    best_time = 0.0
    best_threshold = float(s.init_card.get("threshold", 0.5)) if s.init_card else 0.5
    step_count, epoch, stale, skipped = 0, 0, 0, 0
    reason = None
    while reason is None:
        epoch += 1
        model.train()
        losses: list[float] = []
        while len(losses) < config.steps_per_epoch:
            if stop_requested(stop):
                reason = "stopped"
                break
            if budget_s is not None and time.perf_counter() - t0 >= budget_s:
                reason = "time"
                break
            if config.lr_schedule == "cosine":
                done = max(
                    step_count / total_steps if total_steps else 0.0,
                    (time.perf_counter() - t0) / budget_s if budget_s else 0.0,
                )
                for group in opt.param_groups:
                    group["lr"] = cosine_lr(config.lr, done)
            x_np, y_np = s.sampler.batch(s.batch_size)
            x, y = torch.from_numpy(x_np).to(device), torch.from_numpy(y_np).to(device)
            try:
                loss = _optimise(s, opt, scaler, x, y, epoch, use_aux)
            except Exception as exc:  # noqa: BLE001 - only out-of-memory is handled
                if not is_oom(exc):
                    raise
                opt.zero_grad(set_to_none=True)
                x = y = None
                if device.type == "cuda":
                    torch.cuda.empty_cache()
                if s.batch_size == 1:
                    raise SeisSegError(
                        f"Out of memory on {describe_device(device)} even with one patch per "
                        "batch. Use a smaller patch_size or a narrower model (width)."
                    ) from None
                s.batch_size //= 2
                yield Note(f"Out of memory: batch size lowered to {s.batch_size}.", "warning")
                continue
            if loss is None:
                skipped += 1
                if skipped >= 10:
                    raise SeisSegError(
                        "The loss is not finite (training diverged). Lower the learning rate "
                        "(lr) and train again."
                    )
                continue
            skipped = 0
            if average is not None:
                average.update(model)
            losses.append(loss)
            step_count += 1
            elapsed = time.perf_counter() - t0
            progress = max(
                step_count / total_steps if total_steps else 0.0,
                elapsed / budget_s if budget_s else 0.0,
            )
            yield Step(
                epoch,
                len(losses),
                step_count,
                total_steps,
                loss,
                opt.param_groups[0]["lr"],
                elapsed,
                min(progress, 1.0),
            )
        if not losses and best_state is not None:
            break
        train_loss = float(np.mean(losses)) if losses else float("nan")
        metrics = None
        if val is not None:
            metrics = val.evaluate(
                scored, device, n_classes=k, binary=s.binary, batch_size=s.batch_size,
                amp=s.amp, names=names, values=values,
            )  # fmt: skip
            score = selection_score(metrics)
        else:
            score = -train_loss if np.isfinite(train_loss) else -np.inf
        if config.lr_schedule == "plateau":
            sched.step(score)
        # ties go to the later model: an early perfect score must not freeze the kept model
        is_best = val is None or best_state is None or score >= best_score
        improved = val is None or best_state is None or score > best_score
        if is_best:
            best_score, best_epoch, best_metrics = score, epoch, metrics
            if improved:  # a tie keeps the later weights but does not reset the patience
                best_time = time.perf_counter() - t0
            best_state = {n: t.detach().to("cpu").clone() for n, t in scored.state_dict().items()}
            if metrics and s.binary:
                best_threshold = float(metrics["threshold"])
            stale = 0 if improved else stale + 1
            iou = headline(metrics)
            yield BestUpdated(epoch, iou, metrics, best_threshold if s.binary else None)
        else:
            stale += 1
        elapsed = time.perf_counter() - t0
        lr = opt.param_groups[0]["lr"]
        row = {"epoch": epoch, "steps": step_count, "elapsed_s": elapsed, "lr": lr}
        history.append({**row, "train_loss": train_loss, "metrics": metrics})
        if runlog:
            runlog.log_epoch(**row, train_loss=train_loss, metrics=metrics)
        yield EpochEnd(epoch, step_count, train_loss, metrics, lr, elapsed, is_best, best_epoch)
        if reason is None and checkpointer is not None and checkpointer.due(elapsed, best_epoch):
            card = make_card(scored, {"epochs": epoch, "steps": step_count,
                                      "stop_reason": "checkpoint", "elapsed_s": round(elapsed, 2)})
            try:
                path = checkpointer.save(best_state, card, elapsed, best_epoch,
                                         headline(best_metrics))
            except Exception as exc:  # noqa: BLE001 - a checkpoint must never end the run
                checkpointer.failed = True
                yield Note(f"Could not write the checkpoint ({exc}); training goes on.",
                           "warning")
            else:
                yield Note(f"Checkpoint: the best model so far (epoch {best_epoch}) is saved "
                           f"at {path} until the result is saved.", "info")
        if reason is None:
            if config.epochs and epoch >= config.epochs:
                reason = "epochs"
            elif budget_s is not None and time.perf_counter() - t0 >= budget_s:
                reason = "time"
            elif _stop_early(config, stale, time.perf_counter() - t0 - best_time, budget_s,
                             best_metrics):
                reason = "early_stopping"

    model.load_state_dict(best_state)
    # the kept model is plain (contiguous, on the CPU): what a loaded bundle gives, bit for bit
    model.to("cpu", memory_format=torch.contiguous_format).eval()
    elapsed = time.perf_counter() - t0
    run = {
        "epochs": epoch,
        "steps": step_count,
        "stop_reason": reason,
        "elapsed_s": round(elapsed, 2),
        "device": describe_device(device),
        "precision": s.amp.describe(),
        "batch_size": s.batch_size,
    }
    card = make_card(model, run)
    result = TrainResult(model, card, history, reason, best_epoch, best_metrics)
    # saving the result removes this run's checkpoint and the one it started from
    result.checkpoints = [checkpointer.path] if checkpointer is not None else []
    if isinstance(init_bundle, str | os.PathLike):
        result.checkpoints.append(Path(init_bundle))
    if runlog:
        result.bundle_path = save_bundle(runlog.bundle_path, model, card)
        runlog.write_config({"config": config.to_dict(), "card": card})
    for level, text in class_report(best_metrics):
        yield Note(text, level)
    yield Finished(reason, epoch, step_count, elapsed, best_epoch, best_metrics, result)
    return result
