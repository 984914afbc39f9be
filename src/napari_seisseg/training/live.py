"""Live training: train while labels are painted, and preview a slice with the current weights.

>>> control = LiveControl(preview_period_s=3)                                  # doctest: +SKIP
>>> config = TrainConfig(model="unet2d", epochs=None, minutes=None)          # until stopped
>>> gen = live_train(image, labels, config, control=control)                  # doctest: +SKIP
>>> # another thread: control.request_preview(0, 40); control.update_labels(labels); control.stop()
>>> result = drain(gen, on_event=print)                                       # doctest: +SKIP
>>> result.save("best.safetensors"); result.latest.save("latest.safetensors")  # doctest: +SKIP

The run is :func:`.loop.train`'s (same session, steps, scoring and kept model), with these
differences:

* Before every step the run takes up what the :class:`~.live_control.LiveControl` holds.
  New labels (the whole array or a region) are merged and the validation split, the
  sampler's index of labeled voxels and the validation windows are rebuilt
  (:mod:`.live_labels`); a :class:`~.live_events.LabelsUpdated` event gives the count of
  labeled voxels the sampler now sees.  As the validation data changed, the next scored
  epoch is kept whatever its score (the best is then judged on the current labels).
* The watched slice is predicted with the current (scored) weights through
  :func:`~napari_seisseg.inference.bundle_prediction.predict_bundle`'s quick look (the
  Predict widget's path) and yielded as a :class:`~.live_events.Preview`: only when the
  weights or the slice changed, the same slice at most once per ``preview_period_s``, and
  never so often that previews take more than ``max_preview_share`` of the run's time
  (after a preview that took ``c`` seconds, the next waits ``c (1 - share) / share``: a
  large slice is previewed less often, a newly watched one as soon as that allows).  A
  slice outside the image is ignored.
* With ``epochs=None`` and ``minutes=None`` the run goes on until stopped, without early
  stopping.  With a budget, early stopping is the configured one, its patience counted
  again from every label update taken up (the labels changed: so did what "no better" means).
  With a budget and ``val_join`` below 1 (auto on time-slice paint), the paint held out for
  validation joins training once that share is spent (:meth:`.live_labels.LiveLabels.join`):
  no split from then on, paint added later trains at once, the last model is kept.
* Labels replaced by an array of another shape end the run (a ``Note`` at level
  ``"error"``, then ``Finished`` with reason ``"bad_labels"``), keeping the best model.
* The result is a :class:`~.live_events.LiveResult`: the best model, and the latest
  weights in ``result.latest``.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Generator, Mapping, Sequence
from dataclasses import fields
from typing import Any

import numpy as np
import torch

from ..bundle.card import model_kind
from ..bundle.model import BundleModel
from ..bundle.storage import save_bundle
from ..errors import SeisSegError
from ..inference.bundle_prediction import predict_bundle
from ..io.geometry import SurveyGeometry
from ..jobs import drain
from .config import TrainConfig
from .events import Finished, Note, TrainEvent, TrainResult
from .final_validation import score_latest
from .live_control import LiveControl, PreviewRequest
from .live_events import LabelsUpdated, LiveResult, Preview
from .live_labels import LabelsRefused, LiveLabels
from .loop import _checkpointer, _started
from .run import TrainingRun
from .session import build_session

__all__ = ["LiveControl", "live_train", "predict_preview"]


def predict_preview(
    run: TrainingRun, model: torch.nn.Module, image: Any, geometry: SurveyGeometry | None,
    axis: int, index: int,
) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """Predict one slice with ``model`` (the run's current weights), as the quick look does.

    Parameters
    ----------
    run : TrainingRun
        The run (its card settings: classes, normalisation, threshold; its device).
    model : torch.nn.Module
        The weights to predict with.
    image : array-like
        The run's image, input order.
    geometry : SurveyGeometry or None
        Its geometry.
    axis, index : int
        The slice (for a 2D image: the image).

    Returns
    -------
    probabilities, mask : numpy.ndarray
        Of the slice (its axis removed; a 2D image is predicted whole).
    card : dict
        The card of the weights, as the prediction read it.
    """
    card = run.make_card(model, {"epochs": run.epoch, "steps": run.step_count,
                                "stop_reason": "live preview",
                                "elapsed_s": round(run.elapsed(), 2)})
    bm = BundleModel.from_model(model, card)
    result = drain(predict_bundle(bm, image, geometry=geometry, slice_index=index,  # quick: no flips
                                  slice_axis=axis, device=run.s.device, tta=False))
    probs, mask = np.asarray(result.probabilities), np.asarray(result.mask())
    if len(image.shape) == 3:
        probs, mask = np.take(probs, 0, axis=axis + 1), np.take(mask, 0, axis=axis)
    return probs, mask, card


class _LiveRun:
    """What a live run does between its steps: take up labels, make previews."""

    def __init__(self, run: TrainingRun, control: LiveControl, labels: LiveLabels,
                 image: Any, geometry: SurveyGeometry | None) -> None:
        self.run, self.control, self.labels = run, control, labels
        self.image, self.geometry = image, geometry
        self.failure: str | None = None
        self.last_preview: tuple[float, int, PreviewRequest | None] = (-np.inf, -1, None)
        self.last_cost = 0.0  # seconds the last preview took
        self.plain: torch.nn.Module | None = None  # the weights previews use, contiguous

    def stopped(self) -> bool:
        """Whether the run must end (stopped, or labels it cannot go on with)."""
        return self.control.stopped or self.failure is not None

    def between(self) -> Generator[TrainEvent, None, None]:
        """Before a step: take up label updates, then preview the watched slice when due."""
        if self.control.stopped:  # Stop ends the run at once: no rebuild, no late preview
            return
        yield from self.take_labels()
        if self.failure is None:
            request = self.control.watched()
            try:
                yield from self.preview()
            except Exception as exc:  # noqa: BLE001 - a preview must never end the training
                if request is not None:
                    self.control.drop_preview(request)
                self.plain = None
                yield Note(f"the preview of slice {getattr(request, 'index', '?')} failed "
                           f"({type(exc).__name__}: {exc}); training goes on, without "
                           "previews of that slice", "warning")

    def labels_event(self) -> LabelsUpdated:
        """What the sampler and the validation split see now."""
        s = self.run.s
        return LabelsUpdated(
            self.run.step_count, s.sampler.n_labeled, int(s.train_counts.sum()),
            s.val.n_voxels if s.val is not None else 0,
            [int(n) for n in s.train_counts], s.validation_text,
            len(getattr(s.sampler, "recent", ())),
        )

    def take_labels(self) -> Generator[TrainEvent, None, None]:
        """Merge the updates handed in, rebuild the sampler, say what it now sees."""
        updates = self.control.take_labels()
        if not updates:
            return
        merged = 0
        for update in updates:
            try:
                self.labels.merge(update)
                merged += 1
            except LabelsRefused as exc:
                yield Note(str(exc), "warning")
            except SeisSegError as exc:
                self.failure = str(exc)
                yield Note(self.failure, "error")
                return
        if not merged:
            return
        try:
            self.labels.rebuild()
        except LabelsRefused as exc:
            yield Note(str(exc), "warning")
            return
        self.run.restart_judging()  # the validation data changed
        yield self.labels_event()

    def preview(self) -> Generator[TrainEvent, None, None]:
        """Predict the watched slice when the period passed and the weights or slice changed."""
        run, request = self.run, self.control.watched()
        last_t, last_step, last_request = self.last_preview
        now = time.perf_counter()
        share = self.control.max_preview_share
        wait = self.last_cost * (1.0 - share) / share  # keeps previews within their share
        if request == last_request:
            wait = max(wait, self.control.preview_period_s)
        if (request is None or run.step_count < 1 or now - last_t < wait
                or (request == last_request and run.step_count == last_step)):
            return
        shape = self.image.shape
        if not (0 <= request.axis < len(shape) and 0 <= request.index < shape[request.axis]):
            self.control.drop_preview(request)  # outside the image: refused quietly
            return
        taken = run.elapsed()
        if self.plain is None:
            # contiguous like a saved model, so a preview equals the quick look's bit for bit
            self.plain = copy.deepcopy(run.scored).to(memory_format=torch.contiguous_format)
        self.plain.load_state_dict(run.scored.state_dict())
        weights = None
        if self.control.keep_preview_weights:
            weights = {n: t.detach().to("cpu").clone() for n, t in self.plain.state_dict().items()}
        probs, mask, card = predict_preview(run, self.plain, self.image, self.geometry,
                                            request.axis, request.index)
        done = time.perf_counter()
        self.last_preview, self.last_cost = (done, run.step_count, request), done - now
        yield Preview(request.axis, request.index, probs, mask, run.step_count, run.epoch,
                      taken, run.elapsed(), card, weights)


def _latest_result(
    run: TrainingRun, result: TrainResult, state: dict[str, torch.Tensor]
) -> TrainResult | None:
    """The run's last scored weights with their own card (None when no epoch was scored)."""
    if not run.history:
        return None
    model = copy.deepcopy(result.model)
    model.load_state_dict(state)
    last = run.history[-1]
    kept = (run.best_epoch, run.best_metrics, run.best_threshold)
    # after the held-out paint joined training no epoch is validated: the last validation stays
    metrics = last["metrics"] if run.joined is None else run.best_metrics
    if run.every_window is not None:  # scored on the windows the kept model was scored on
        metrics = (run.best_metrics if last["epoch"] == run.best_epoch  # the kept weights
                   else score_latest(run, model) or metrics)
    run.best_epoch, run.best_metrics = last["epoch"], metrics
    if metrics and last["metrics"] and run.s.binary:
        run.best_threshold = float(metrics["threshold"])
    facts = {k: v for k, v in result.card.get("training", {}).items() if k != "config"}
    try:
        card = run.make_card(model, {**facts, "kept": "latest"})
    finally:
        run.best_epoch, run.best_metrics, run.best_threshold = kept
    # the orientations the kept model's validation chose (TrainingRun.finish): the same
    # weights when the last model is kept (time-slice paint), close to them otherwise
    if "predict_axes" in result.card["input"]:
        card["input"]["predict_axes"] = list(result.card["input"]["predict_axes"])
    if "orientations" in (result.card.get("validation") or {}) and card.get("validation") is not None:
        card["validation"]["orientations"] = result.card["validation"]["orientations"]
    latest = TrainResult(model, card, result.history, result.stop_reason, last["epoch"],
                         metrics)
    if run.runlog:
        path = run.runlog.bundle_path
        latest.bundle_path = save_bundle(path.with_name(f"{path.stem}-latest{path.suffix}"),
                                         model, card)
    return latest


def _finish(
    run: TrainingRun, reason: str, checkpointer: Any, init_bundle: Any
) -> Generator[TrainEvent, None, LiveResult]:
    """:meth:`TrainingRun.finish`, with the latest weights added to the result."""
    state = {n: t.detach().to("cpu").clone() for n, t in run.scored.state_dict().items()}
    live: LiveResult | None = None
    for event in run.finish(reason, checkpointer, init_bundle):
        if isinstance(event, Finished):
            base = event.result
            live = LiveResult(**{f.name: getattr(base, f.name) for f in fields(TrainResult)},
                              latest=_latest_result(run, base, state))
            event.result = live
        yield event
    return live


def _live_config(config: TrainConfig | None) -> tuple[TrainConfig, bool]:
    """The run's copy of ``config`` (until stopped by default) and whether it asked for
    validation to join training in a run without a budget (it never joins there)."""
    config = copy.deepcopy(config) if config is not None else TrainConfig(epochs=None, minutes=None)
    asked_join = False
    if config.epochs is None and config.minutes is None:
        config.early_stopping = None  # until stopped: only the user ends the run
        # nor is there a share of a budget after which validation could join training
        asked_join = config.val_join is not None and config.val_join < 1
        config.val_join = 1.0
    return config, asked_join


def live_train(
    image: Any,
    labels: Any,
    config: TrainConfig | None = None,
    *,
    control: LiveControl,
    geometry: SurveyGeometry | None = None,
    val_labels: Any = None,
    class_names: Mapping[int, str] | Sequence[str] | None = None,
    class_colors: Mapping[Any, Any] | None = None,
    pipeline: Any = None,
    init_bundle: Any = None,
    image_name: str | None = None,
) -> Generator[TrainEvent, None, LiveResult]:
    """Train while labels change, previewing a slice on request (see the module docstring).

    Parameters
    ----------
    image, labels, config, geometry, val_labels, class_names, class_colors, pipeline, init_bundle, image_name
        As for :func:`.loop.train`.  ``config.epochs`` and ``config.minutes`` may both be
        None: the run then goes on until ``control.stop()``.
    control : LiveControl
        Through which other threads hand in labels, ask for previews and stop the run.

    Yields
    ------
    TrainEvent
        Those of :func:`.loop.train`, plus :class:`~.live_events.LabelsUpdated` (once at the
        start, then after every update taken up) and :class:`~.live_events.Preview`.

    Returns
    -------
    LiveResult
        The best model (by validation) and, in ``latest``, the weights the run ended with.

    Raises
    ------
    SeisSegError
        For bad inputs or settings at the start (as :func:`.loop.train`).
    """
    t0 = time.perf_counter()
    config, asked_join = _live_config(config)
    # one snapshot of the labels for the session and the live target: a napari layer being
    # painted must not give them two different starts
    labels = np.array(labels, copy=True)
    if val_labels is not None:
        val_labels = np.array(val_labels, copy=True)
    s = build_session(
        image, labels, config, geometry=geometry, val_labels=val_labels,
        class_names=class_names, class_colors=class_colors, pipeline=pipeline,
        init_bundle=init_bundle, until_stopped=True,
    )
    run = TrainingRun(s, config, t0)
    checkpointer = _checkpointer(config, s, image, geometry=geometry, image_name=image_name)
    live = _LiveRun(run, control, LiveLabels(s, labels, val_labels, geometry, config,
                                             model_kind(s.model)), image, geometry)
    yield _started(s, run.total_steps)
    for n in s.infos:
        yield Note(n, "info")
    for n in s.notes:
        yield Note(n, "warning")
    if asked_join:
        yield Note("Validation joins training only in a run with a budget (minutes or "
                   "epochs); this one runs until stopped, so validation stays out.", "warning")
    yield live.labels_event()
    reason = None
    while reason is None:
        run.epoch += 1
        losses, reason = yield from run.train_epoch(live.stopped, live.between)
        if not losses and run.best_state is not None:
            break
        train_loss, metrics, score = run.score(losses)
        is_best = yield from run.keep_if_best(metrics, score)
        yield (end := run.record_epoch(train_loss, metrics, is_best))
        if reason is None and checkpointer is not None:
            yield from run.checkpoint(checkpointer, end.elapsed_s)
        if reason is None:
            reason = run.end_reason()
        if reason is None and run.join_due(live.labels.can_join):
            try:
                yield from run.join_validation(live.labels.join)
            except LabelsRefused as exc:  # e.g. everything erased: tried again next epoch
                yield Note(f"The held-out paint could not join training ({exc}).", "warning")
    if live.failure is not None:
        reason = "bad_labels"
    return (yield from _finish(run, reason, checkpointer, init_bundle))
