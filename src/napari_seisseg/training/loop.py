"""The training loop, as a generator of events (one code path for widget, CLI and tests).

>>> gen = train(image, labels, TrainConfig(model="unet2d", epochs=5))   # doctest: +SKIP
>>> result = drain(gen, on_event=print)                           # doctest: +SKIP
>>> result.save("salt.safetensors")                                      # doctest: +SKIP

Each epoch runs ``steps_per_epoch`` AdamW steps on sampled, augmented patches, then scores
the validation windows; the model with the best validation mean IoU over the painted
classes is kept (a tie goes to the later model; without validation data, or with ``keep``
"last": the last one).  With ``val_join`` below 1 the paint an automatic split held out
joins training once that share of the budget is spent; validation then ends, the last model
is kept and the validation reported is the one measured just before.
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
import time
from collections.abc import Generator, Mapping, Sequence
from typing import Any

from ..device import describe_device
from ..errors import SeisSegError
from ..io.geometry import SurveyGeometry
from ..jobs import StopLike, stop_requested
from .config import TrainConfig
from .data import prepare_data
from .events import Note, Started, TrainEvent, TrainResult
from .labels import LabelSummary
from .run import TrainingRun
from .session import Session, build_session

__all__ = ["check_inputs", "train"]

def check_inputs(
    image: Any, labels: Any, config: TrainConfig | None = None, *,
    until_stopped: bool = False, **kwargs: Any
) -> LabelSummary:
    """Check training inputs without training (for a widget's first check).

    Takes the arguments of :func:`train` (``geometry``, ``val_labels``, ``class_names``,
    ``class_colors``) and returns what is labeled, or raises :class:`SeisSegError`.
    ``until_stopped``: the run needs no budget (a live run, ended by its control).
    """
    config = config or TrainConfig()
    config.validate(until_stopped=until_stopped)
    return prepare_data(
        image, labels, zero_is_background=config.zero_is_background, axes=config.axes, **kwargs
    ).summary


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
    stop: StopLike = None,
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


def _checkpointer(
    config: TrainConfig, s: Session, image: Any, *, geometry: SurveyGeometry | None,
    image_name: str | None,
) -> Any:
    """The run's :class:`~.checkpoint.Checkpointer`, or None without ``checkpoint_minutes``."""
    if not config.checkpoint_minutes:
        return None
    from .checkpoint import Checkpointer
    from .pretrain_store import cube_fingerprint

    return Checkpointer(s.spec["name"], image_name or "an unnamed image",
                        lambda: cube_fingerprint(image, geometry), 60.0 * config.checkpoint_minutes)


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
    stop: StopLike,
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
    run = TrainingRun(s, config, t0)
    checkpointer = _checkpointer(config, s, image, geometry=geometry, image_name=image_name)
    if checkpointer is not None:
        holder.append(checkpointer)
    yield _started(s, run.total_steps)
    for n in s.infos:
        yield Note(n, "info")
    for n in s.notes:
        yield Note(n, "warning")

    reason = None
    while reason is None:
        run.epoch += 1
        losses, reason = yield from run.train_epoch(lambda: stop_requested(stop))
        if not losses and run.best_state is not None:
            break
        train_loss, metrics, score = run.score(losses)
        is_best = yield from run.keep_if_best(metrics, score)
        end = run.record_epoch(train_loss, metrics, is_best)
        yield end
        if reason is None and checkpointer is not None:
            yield from run.checkpoint(checkpointer, end.elapsed_s)
        if reason is None:
            reason = run.end_reason()
        if reason is None and run.join_due():
            yield from run.join_validation()
    return (yield from run.finish(reason, checkpointer, init_bundle))
