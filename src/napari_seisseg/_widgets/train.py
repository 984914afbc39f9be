"""Train a segmentation model from a painted Labels layer, without freezing the viewer.

The computation is :func:`napari_seisseg.training.train`, a generator of progress events;
this widget only collects the settings, checks the inputs with
:func:`~napari_seisseg.training.check_inputs` (problems become notifications, no worker is
started), runs the generator in a ``thread_worker`` and maps its events onto a progress
bar, live loss and validation-IoU curves, a per-class scores table and a status line.
The settings sit in a scroll area (:mod:`.scroll`) so that Train/Stop, the progress, the
messages, the curves and the table stay in view on a small screen; the line on what is
painted names sections as on the survey (:mod:`napari_seisseg.training.painted_summary`).
The worker itself is :mod:`.train_worker`.
Stop ends the run after the current step and keeps the best model so far.  Every trained
or loaded model goes into the session's
:data:`~napari_seisseg.store.MODEL_STORE`, where the Predict widget finds
it; "Save model…" writes its bundle at exactly the chosen path.

Painting starts with "New labels layer" (:mod:`.new_labels`: an empty Labels layer over the
image, with the typed class names). After Predict, the "corrections" controls
(:mod:`.corrections`) copy what the user corrected in a predicted mask, or a whole reviewed
section of it, into the painted labels, and point "start from" at the model that predicted
the mask, so the next run fine-tunes it on painted labels plus corrections.

Preprocessed layers: an Image layer made by the Preprocess widget already holds the output
of its pipeline (``layer.metadata["seisseg_preprocess"]``).  The model is trained on the
layer as shown, and the pipeline is recorded in the model card, so the card always means
"apply this pipeline to raw amplitudes, then standardise" (what ``seisseg predict`` does
with a raw cube).  When fine-tuning such a model on a preprocessed layer, its pipeline is
not applied a second time.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any

from magicgui.widgets import Container

from ..store import MODEL_STORE, ModelEntry, autosave_path
from ..training.painted_summary import describe_painted
from .corrections import Corrections
from .live_session import LiveSession
from .new_labels import NewLabels
from .pretrain_row import PretrainRow
from .rows import tight_box
from .scroll import scroll_in_place, scroll_to
from .train_controls import (
    action_buttons,
    budget_controls,
    layer_choosers,
    live_controls,
    model_chooser,
    option_switches,
    output_lines,
)
from .train_curves import TrainingCurves
from .train_files import ModelFiles
from .train_live import add_latest_entry, predict_in_widget, set_preview_choices, show_note
from .train_options import TrainOptions
from .train_worker import Failure, run_training_worker

if TYPE_CHECKING:
    import napari

    from ..training import TrainResult

__all__ = ["TrainWidget"]

logger = logging.getLogger(__name__)

#: Height (px) the status and painted-labels lines take whole, never squeezed by the settings
#: (about six lines; longer messages scroll).
MESSAGES_HEIGHT = 100


class TrainWidget(ModelFiles, Container):
    """Train a U-Net-family model on a painted Labels layer (see the module docstring).

    Parameters
    ----------
    napari_viewer : napari.viewer.Viewer
        The viewer whose layers are offered.
    """

    def __init__(self, napari_viewer: napari.viewer.Viewer):
        super().__init__(labels=False)
        self.viewer = napari_viewer
        self.worker = None
        self.result: TrainResult | None = None
        self.current: ModelEntry | None = None
        self.summary = None
        self._stop_event: threading.Event | None = None
        self.live: LiveSession | None = None  # the running training's viewer connections
        self._predict_when_done = False
        self._training = False  # a training run (not pretraining) is going
        self._preview_entry: ModelEntry | None = None  # the model the last preview showed
        self._closing = threading.Event()
        self._reset_run_state()
        self._add_settings()
        self._add_actions()
        self._lay_out()
        self._connect()
        self._show_device()
        self._on_model_changed()
        self.offer_checkpoint()

    def _add_settings(self) -> None:
        """The layers, the painting and corrections rows, the model, budget and options."""
        self.image, self.labels_layer, self.val_labels = layer_choosers(self.viewer)
        self.painting = NewLabels(self.viewer, lambda: self.image.value, self._fail,
                                  self._on_new_labels)
        self.corrections = Corrections(self.viewer, lambda: self.labels_layer.value, self._fail,
                                       self._on_corrections)
        self.model = model_chooser()
        self.budget, self.budget_unit, self._budget_row = budget_controls()
        self.preview, self.predict_cube_button = live_controls()
        self.zero_is_background, self.show_advanced = option_switches()
        self.advanced = TrainOptions(lambda: self.image.value)

    def _add_actions(self) -> None:
        """Train/Stop, pretraining, the bundle files and the output lines."""
        self.train_button, self.stop_button, self.save_button, self.load_button = \
            action_buttons()
        self.pretraining = PretrainRow(self)
        self.progress, self.device_label, self.model_label, self.status, self.info = \
            output_lines()

    def _lay_out(self) -> None:
        """Settings that scroll; Train/Stop, progress, messages, curves and table in view."""
        run_row = tight_box([self.train_button, self.stop_button, self.predict_cube_button],
                            "Start or stop training; predict the cube.")
        file_row = Container(layout="horizontal", labels=False,
                             widgets=[self.save_button, self.load_button],
                             tooltip="Model bundle files.")
        # the settings scroll; Train/Stop, progress, messages, curves and table stay in view
        self.settings = Container(labels=True, widgets=[
            self.image, self.labels_layer, self.painting.row, *self.corrections.widgets,
            self.val_labels, self.model, self._budget_row, self.preview, self.zero_is_background,
            self.show_advanced, self.advanced, self.pretraining.row, file_row,
            self.device_label, self.model_label,
        ], tooltip="Training settings (they scroll when the panel is short).")
        messages = tight_box([self.status, self.info],
                             "What the run does, and what is painted.",
                             layout="vertical")
        self.extend([self.settings, run_row, self.progress, messages])
        self.settings_area = scroll_in_place(self.settings, stretch=0)  # the curves take the rest
        self.messages_area = scroll_in_place(messages, min_height=MESSAGES_HEIGHT,
                                             max_height=MESSAGES_HEIGHT, stretch=0,
                                             fit_width=False)  # a long path never widens it
        dark = getattr(self.viewer, "theme", "dark") != "light"
        self.curves = TrainingCurves(self.native, dark)

    def _connect(self) -> None:
        """Buttons, controls, viewer and model-store events to their handlers."""
        self.train_button.changed.connect(self.train)
        self.stop_button.changed.connect(self.stop)
        self.save_button.changed.connect(lambda: self.save_model())
        self.load_button.changed.connect(lambda: self.load_model())
        self.show_advanced.changed.connect(self._on_show_advanced)
        self.budget_unit.changed.connect(self._on_budget_unit)
        self.preview.changed.connect(self._on_preview_changed)
        self.predict_cube_button.changed.connect(lambda: self.predict_cube())
        self.image.changed.connect(lambda *_: self.advanced.axes.reset_choices())
        self.image.changed.connect(self.offer_checkpoint)
        self.advanced.device.changed.connect(self._show_device)
        self.model.changed.connect(self._on_model_changed)
        self.viewer.layers.events.inserted.connect(self._on_layers_changed)
        self.viewer.layers.events.removed.connect(self._on_layers_changed)
        MODEL_STORE.changed.connect(self._on_store_changed)
        closing = self._closing
        self.native.destroyed.connect(lambda *_: closing.set())

    # ------------------------------------------------------------------ choices
    def _on_layers_changed(self, event=None) -> None:
        for w in (self.image, self.labels_layer, self.val_labels, self.advanced.axes):
            w.reset_choices()
        self.corrections.refresh()

    def offer_checkpoint(self, *_args) -> str | None:
        """Load the checkpoint a killed run left on the chosen image's cube, and say so."""
        from ..store import load_into_store
        from .train_checkpoints import offer_checkpoint

        return offer_checkpoint(self.image.value, load_into_store)

    def _on_store_changed(self) -> None:
        self.advanced.refresh_init_choices()

    def _on_model_changed(self, *_args) -> None:
        self.advanced.set_model(self.model.value)

    def _on_show_advanced(self, *_args) -> None:
        self.advanced.visible = bool(self.show_advanced.value)
        if self.advanced.visible:  # bring the options into view under their checkbox
            scroll_to(self.settings_area, self.show_advanced.native)

    def _show_device(self, *_args) -> None:
        from ..training.layer_inputs import device_text

        self.device_label.value = device_text(self.advanced.device.value)

    # ------------------------------------------------------------------ settings
    def set_budget(self, value: float | None, unit: str = "minutes") -> None:
        """Set the budget (``unit`` "minutes", "epochs", or "until stopped": no value)."""
        self.budget_unit.value = unit
        if unit != "until stopped":
            self.budget.value = float(value)

    def config(self):
        """The :class:`~napari_seisseg.training.TrainConfig` the controls describe."""
        from ..training import TrainConfig
        from ..training.layer_inputs import budget_limits

        model = self.model.value
        epochs, minutes = budget_limits(self.budget.value, self.budget_unit.value)
        return TrainConfig(model=model, epochs=epochs, minutes=minutes,
                           zero_is_background=bool(self.zero_is_background.value),
                           **self.advanced.config_kwargs(model))

    def training_inputs(self) -> dict[str, Any]:
        """Everything training needs, checked (see :func:`.train_inputs.collect_training_inputs`).

        Raises
        ------
        SeisSegError
            With a message for the user.
        """
        from .train_inputs import collect_training_inputs

        inputs, self.summary = collect_training_inputs(
            self.image.value, self.labels_layer.value, self.val_labels.value, self.config(),
            self.advanced.init_from.value)
        return inputs

    # ------------------------------------------------------------------ painting
    def _on_new_labels(self, layer: Any, message: str) -> None:
        """A labels layer was added over the image: choose it as 'labels'."""
        self.labels_layer.reset_choices()
        self.labels_layer.value = layer
        self.status.set("idle", message)

    def _on_corrections(self, message: str, model: str | None) -> None:
        """After corrections were added: fine-tune the model that predicted the mask."""
        from napari.utils.notifications import show_info

        if model is not None and model in MODEL_STORE.names():
            self.advanced.refresh_init_choices()
            if self.advanced.init_from.value is None:
                self.advanced.init_from.value = model
            if self.advanced.init_from.value == model:
                message += f"; Train fine-tunes '{model}' (advanced options: start from)"
        self.status.set("done", message)
        show_info(f"Train: {message}")

    # ------------------------------------------------------------------ training
    def train(self, *_args):
        """Check the inputs and start training in a worker thread.

        Returns
        -------
        worker or None
            The started ``GeneratorWorker``, or None when the inputs were refused (the
            reason is shown as a notification and in the status line).
        """
        from napari.qt.threading import thread_worker

        from ..errors import SeisSegError

        if self.worker is not None:
            return self._fail("training is already running; stop it or wait for it to end")
        try:
            inputs = self.training_inputs()
        except SeisSegError as exc:
            return self._fail(str(exc))
        except Exception as exc:  # noqa: BLE001 - never a traceback dialog
            logger.exception("checking the training inputs failed")
            return self._fail(f"{type(exc).__name__}: {exc}")
        self.info.value = "" if self.summary is None else \
            describe_painted(self.summary, inputs.get("geometry"))
        self.info.visible = bool(self.info.value)
        self.messages_area.verticalScrollBar().setValue(0)
        stop = threading.Event()
        closing = self._closing
        self._stop_event = stop
        self._reset_run_state()
        self.curves.reset()
        self.progress.value = 0
        pipe = inputs.pop("pipeline_dict")
        names = inputs.pop("layer_names")
        start_path = inputs.pop("start_path")
        inputs["image_name"] = names[0]

        def should_stop() -> bool:
            return stop.is_set() or closing.is_set()

        self.live = LiveSession(self.viewer, self.image.value, self.labels_layer.value,
                                lambda: self.preview.value, self._fail, should_stop)
        self._predict_when_done = False
        worker = thread_worker(run_training_worker, start_thread=False, ignore_errors=True)(
            inputs, should_stop, pipe, lambda model: autosave_path(f"{model} · {names[1]}"),
            start_path, self.live.control,
        )
        worker.yielded.connect(self._on_event)
        worker.returned.connect(lambda res: self._on_returned(res, pipe, names))
        worker.errored.connect(lambda exc: self._fail(f"{type(exc).__name__}: {exc}"))
        worker.finished.connect(self._on_finished)
        self.worker = worker
        self.train_button.enabled, self.stop_button.enabled = False, True
        self.predict_cube_button.enabled, self._training = True, True
        self.pretraining.button.enabled = False
        self.status.set("running", f"preparing {inputs['config'].model} on '{names[1]}'")
        self.curves.start()
        worker.start()
        return worker

    def stop(self, *_args) -> None:
        """Stop after the current step, keeping the best model so far (and the latest)."""
        if self.worker is not None and self._stop_event is not None:
            self._stop_event.set()  # the live control stops on it too (its stop_when)
            self.status.set("running", "stopping after this step; the best model and the "
                                       "latest weights are kept…")

    def predict_cube(self) -> Any:
        """Predict the whole image with the model the preview shows, in the Predict widget.

        During training: stop it, then predict with the latest weights once they are in.
        After it: the last run's latest (or best) model on its image; with no run yet, the
        current model on the chosen image.

        Returns
        -------
        worker or None
            The Predict widget's worker (None: deferred until training ends, or refused).
        """
        if self.worker is not None:
            if not self._training:
                return self._fail("pretraining is running; wait for it or stop it first")
            self._predict_when_done = True
            self.stop()
            return None
        entry = self._preview_entry if self._preview_entry is not None else self.current
        if entry is None or entry.name not in MODEL_STORE.names():
            return self._fail("no model yet; train one first")
        image = self.live.image if self._preview_entry is not None else self.image.value
        return predict_in_widget(self.viewer, image, entry.name, self._fail)

    def _on_budget_unit(self, *_args) -> None:
        self.budget.enabled = self.budget_unit.value != "until stopped"

    def _on_preview_changed(self, *_args) -> None:
        if self.live is not None:
            self.live.redraw()

    def _on_event(self, event: Any) -> None:
        from ..training import EpochEnd, Finished, Note, Started, Step
        from ..training.live_events import LabelsUpdated, Preview

        if isinstance(event, Preview | LabelsUpdated):
            self._on_live_event(event)
            self.n_events += 1
            return

        if isinstance(event, Step):
            self.curves.add_step(event.global_step, event.loss)
            self.progress.value = int(round(1000 * min(1.0, max(0.0, event.progress))))
            self._last_step = event
        elif isinstance(event, EpochEnd):
            self._on_epoch(event)
        elif isinstance(event, Started):
            self.device_label.value = f"{event.device_description}, {event.precision}"
            self.curves.set_class_colors([c.color for c in event.classes])
            self.status.set("running", event.message())
            set_preview_choices(self.preview, event.classes, event.binary)
            if event.max_epochs is None and event.minutes is None:
                # until stopped: no share of a budget to show (and no busy animation, whose
                # repaints cost the event loop about a third of its time under software GL)
                self.progress.native.setFormat("until stopped")
        elif isinstance(event, Note) and event.level == "progress":
            self.status.set("running", event.text)  # what the run does now: no notification
        elif isinstance(event, Note):
            show_note(event, self._fail)
        elif isinstance(event, Finished):
            self.progress.value = 1000
            if event.best_metrics:  # the kept model's scores (on every held-out window, if read)
                self.curves.fill_table(event.best_metrics)
        self.n_events += 1

    def _on_live_event(self, event: Any) -> None:
        """A preview to draw, or labels the run took up (said in the status line)."""
        from ..training.live_events import LabelsUpdated

        if self.live is not None:
            self.live.on_event(event)
        if isinstance(event, LabelsUpdated) and event.step > 0:
            self.status.set("running", event.message())

    def _on_epoch(self, event: Any) -> None:
        from ..training.run_summary import epoch_line

        self.curves.add_epoch(event.epoch, event.global_step, event.train_loss,
                              event.metrics or {})
        self.status.set("running", epoch_line(event))

    def _on_returned(self, returned: Any, pipe: dict | None, names: tuple[str, str]) -> None:
        if isinstance(returned, Failure):
            self._fail(returned.message)
            return
        from napari.utils.notifications import show_info, show_warning

        from ..bundle.card import model_name
        from ..training.report import class_report
        from ..training.run_summary import finished_message

        result, saved, save_error = returned
        self.result = result
        # the run's name first, so its latest weights are named after it ("... (2) latest")
        name = MODEL_STORE.unique_name(f"{model_name(result.card)} · {names[1]}")
        latest = add_latest_entry(result, name)  # first: the best is the newest, preselected
        entry = ModelEntry(name, result.model, result.card, saved)
        self._set_current(entry)
        MODEL_STORE.add(entry)
        message = finished_message(result, entry.name, saved)
        if latest is not None:
            message += f"; the latest weights are '{latest.name}'"
        learned = [text for _, text in class_report(result.best_metrics)]
        # the per-class lines were notifications already (notes); the status keeps them too
        self.status.set("done", "\n".join([message, *learned]))
        show_info(f"Train: {message}. It is listed in the Predict widget; Save model… writes a "
                  "copy where you choose.")
        if save_error:
            show_warning(f"Train: the model could not be saved automatically ({save_error}); "
                         "it is only in memory until you use Save model….")
        self._preview_entry = latest or entry
        if self._predict_when_done:  # "Predict cube" during the run
            self._predict_when_done = False
            if not result.card.get("training", {}).get("steps", 1):
                self._fail("training stopped before its first step: no model to predict with")
            else:
                predict_in_widget(self.viewer, self.live.image, self._preview_entry.name,
                                  self._fail)

    def _on_finished(self) -> None:
        self.worker = None
        self._stop_event = None
        if self.live is not None:
            self.live.close()  # kept: the preview control still redraws the last preview
        self.predict_cube_button.enabled = self.current is not None
        self._training = False
        self.progress.native.setFormat("%p%")
        self.curves.stop()
        self.train_button.enabled, self.stop_button.enabled = True, False
        self.pretraining.button.enabled = True

    def _fail(self, message: str) -> None:
        from napari.utils.notifications import show_error

        self.status.set("failed", message)
        show_error(f"Train: {message}")
        return None

    # ------------------------------------------------------------------ models
    def _set_current(self, entry: ModelEntry | None) -> None:
        self.current = entry
        self.predict_cube_button.enabled = entry is not None or self.worker is not None
        self.model_label.value = "none" if entry is None else entry.name
        self.save_button.enabled = entry is not None

    # ------------------------------------------------------------------ curves and table
    @property
    def history(self) -> dict[str, list]:
        """What the curves show (see :class:`~._widgets.train_curves.TrainingCurves`)."""
        return self.curves.history

    @property
    def n_draws(self) -> int:
        """Number of redraws of the curves so far."""
        return self.curves.n_draws

    def table_rows(self) -> list[list[str]]:
        """The per-class scores table as text (for tests and logs)."""
        return self.curves.table_rows()

    def _reset_run_state(self) -> None:
        self._last_step = None
        self.n_events = 0
