"""Predict an Image layer with a trained model: probabilities, a correctable mask, uncertainty.

The computation is :func:`~napari_seisseg.inference.bundle_prediction.predict_bundle` (the
generator ``seisseg predict`` runs too); this widget collects the settings, runs it in a
``thread_worker`` with a progress bar and a Cancel button, and turns the result into layers
placed exactly over the source (its scale, translate, axis labels, units and geometry
metadata, so they export to SEG-Y like the source):

- one Image layer per class probability, coloured from black to the class colour and
  blended additively, so the classes co-render over the seismic and each can be toggled or
  re-contrasted on its own (a multichannel layer would hide that per-class control, and the
  mask already shows all classes at once).  A binary model's single probability layer is
  shown; with several classes they start hidden (all at once they saturate the view: the
  dominant class covers the seismic), to be switched on one or two at a time;
- a Labels layer holding the mask in the training convention (the model card's label
  values, class names in its ``features`` and class colours in its colormap), ready to be
  corrected with the brush; the mask as written is remembered
  (:mod:`napari_seisseg.training.mask_edits`), so the Train widget can take the corrections
  into the painted labels;
- an uncertainty (normalised entropy) Image layer, hidden at first.

The layers get short names (``P(<class>)``, ``mask``, ``uncertainty``; numbered alike when
taken, ``mask (2)``) with the model, the image and the time in their metadata, shown in the
status line and, for the selected layer, below it (:mod:`.result_layers`); a quick look
replaces the previous quick look of the same model on the same image.
A binary model gets a threshold slider that rewrites its mask in place, except the voxels
the user has edited; "Where to label next" ranks slices by mean uncertainty and jumps the
viewer to the one picked.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from magicgui.widgets import (
    Container,
)

from ..inference.run_choices import (
    check_layer_to_predict,
    default_orientations,
    section_orientations,
    slice_in_layer,
)
from ..io.layer_axes import axis_coordinates, axis_label, inline_axis, region_text, survey_geometry
from ..io.live_slice import is_live_preview
from ..io.prediction_layers import describe, seconds_text
from ..io.probabilities import PREDICTION_KEY  # metadata key of the layers this widget adds
from ..preprocess.recorded import layer_pipeline
from ..store import MODEL_STORE, ModelEntry
from .dialogs import bundle_dialog, given_or_asked
from .mask_edits import rewrite_mask
from .predict_controls import (
    model_controls,
    prior_boxes,
    review_controls,
    run_outputs,
    run_settings,
)
from .result_layers import add_result_layers
from .rows import tight_box

if TYPE_CHECKING:
    import napari


class PredictWidget(Container):
    """Apply a trained model to an Image layer and add probability, mask and uncertainty layers."""

    def __init__(self, napari_viewer: napari.viewer.Viewer):
        super().__init__(labels=True)
        self.viewer = napari_viewer
        self.worker = None
        self._stop: threading.Event | None = None
        #: The last prediction (a :class:`BundlePrediction`), its source layer and its layers.
        self.result = None
        self.source = None
        self.uncertainty: np.ndarray | None = None
        self.layers: dict[str, Any] = {}
        self._known_models = set(MODEL_STORE.names())
        self._tta_model: str | None = None  # the model whose default the TTA box last took
        self.layer, self.model, self.load_button, self.model_info = model_controls(
            self._layer_choices, self._model_choices)
        (self.overlap, self.tta, self.device, self.orientation_boxes, self.orientations,
         self.statistics, self.current_slice) = run_settings()
        self.time_prior, self.lateral_prior = prior_boxes()
        self.predict_button, self.cancel_button, self.progress, self.status, self.selected = \
            run_outputs()
        (self.threshold, self.rank_axis, self.rank_n, self.rank_gap, self.rank_button,
         self.ranked) = review_controls(self._axis_choices)
        self._lay_out()
        self._connect()
        self._on_active_layer()  # a prediction layer may be selected already
        if self._known_models:  # the newest model: the one just trained or loaded
            self.model.value = MODEL_STORE.names()[-1]
        self._on_layer_changed()
        self._on_model_changed()

    def _lay_out(self) -> None:
        """The controls in one column, the model chooser beside Load bundle…."""
        model_row = tight_box([self.model, self.load_button],
                              "Choose a model or load a bundle file.",
                              label="model")
        priors_row = tight_box([self.time_prior, self.lateral_prior],
                               "Combine the network with what was painted: at each time "
                               "sample (time) and on the nearest painted trace (lateral).",
                               label="paint priors")
        run_row = Container(layout="horizontal", labels=False,
                            widgets=[self.predict_button, self.cancel_button],
                            tooltip="Start or cancel the prediction.")
        self.extend([
            self.layer, model_row, self.model_info, self.overlap, self.tta, self.device,
            self.statistics, priors_row, self.orientations, self.current_slice, run_row,
            self.progress,
            self.status, self.selected, self.threshold, self.rank_axis, self.rank_n,
            self.rank_gap, self.rank_button, self.ranked,
        ])

    def _connect(self) -> None:
        """Buttons, controls, viewer and model-store events to their handlers."""
        self.load_button.changed.connect(lambda: self.load_bundle())
        self.predict_button.changed.connect(self.predict)
        self.cancel_button.changed.connect(self.cancel)
        self.threshold.changed.connect(self._on_threshold)
        self.rank_button.changed.connect(self.rank_slices)
        self.ranked.changed.connect(self._on_ranked)
        self.model.changed.connect(self._on_model_changed)
        self.layer.changed.connect(self._on_layer_changed)
        self.viewer.layers.events.inserted.connect(self._on_layers_changed)
        self.viewer.layers.events.removed.connect(self._on_layers_changed)
        MODEL_STORE.changed.connect(self._on_models_changed)
        self.viewer.layers.selection.events.active.connect(self._on_active_layer)

    # ------------------------------------------------------------------ choices
    def _layer_choices(self, _widget=None) -> list:
        from napari.layers import Image

        return [(layer.name, layer) for layer in self.viewer.layers
                if isinstance(layer, Image) and not layer.rgb and layer.ndim in (2, 3)
                and PREDICTION_KEY not in layer.metadata and not is_live_preview(layer)]

    def _model_choices(self, _widget=None) -> list[str]:
        return MODEL_STORE.names()

    def _axis_choices(self, _widget=None) -> list:
        layer = self._source_layer()
        if layer is None:
            return [("axis 0", 0)]
        return [(axis_label(layer, i), i) for i in range(layer.ndim)]

    def _source_layer(self):
        widget = getattr(self, "layer", None)
        return widget.value if widget is not None else None

    def _on_layers_changed(self, event=None) -> None:
        self.layer.reset_choices()

    def _on_layer_changed(self, *_args) -> None:
        layer = self.layer.value
        ndim = layer.ndim if layer is not None else 3
        for i, box in enumerate(self.orientation_boxes):
            box.text = axis_label(layer, i) if layer is not None else f"axis {i}"
            box.visible = i < ndim
        self.rank_axis.reset_choices()
        if layer is not None:
            self.rank_axis.value = inline_axis(layer)
        self._default_orientation(self._bundle_or_none())

    def _on_models_changed(self) -> None:
        names = MODEL_STORE.names()
        new = [n for n in names if n not in self._known_models]
        self._known_models = set(names)
        try:
            self.model.reset_choices()
            if new:
                self.model.value = new[-1]  # a model just trained or loaded: offer it
            self._on_model_changed()
        except RuntimeError:  # the widget was closed (its Qt objects deleted): stop listening
            MODEL_STORE.changed.disconnect(self._on_models_changed)

    def _bundle(self):
        """The chosen model as a BundleModel (raises SeisSegError when there is none)."""
        from ..bundle import BundleModel
        from ..errors import SeisSegError

        name = self.model.value
        entry = MODEL_STORE.get(name) if name else None
        if entry is None:
            raise SeisSegError("No model chosen. Train one in the Train widget, or Load bundle….")
        return BundleModel.coerce(entry, name=entry.name)

    def _bundle_or_none(self):
        from ..errors import SeisSegError

        try:
            return self._bundle() if self.model.value else None
        except SeisSegError:
            return None

    def _on_model_changed(self, *_args) -> None:
        from ..errors import SeisSegError

        if not self.model.value:
            self.model_info.value = "no model yet: train one, or load a bundle file"
            self._set_orientation_enabled(False)
            return
        try:
            bm = self._bundle()
        except SeisSegError as exc:
            self.model_info.value = f"unusable: {exc}"
            self._set_orientation_enabled(False)
            return
        self.model_info.value = bm.describe()
        self._set_orientation_enabled(bm.is_section_model)
        self.time_prior.enabled = bool(bm.input.get("time_prior"))
        self.lateral_prior.enabled = bool(bm.input.get("lateral_prior"))
        if self.model.value != self._tta_model:  # a model chosen, not the store refreshed
            self._tta_model = self.model.value
            self.tta.value = bm.flips_by_default
        self._default_orientation(bm)

    def _set_orientation_enabled(self, on: bool) -> None:
        for box in self.orientation_boxes:
            box.enabled = on

    def _default_orientation(self, bm=None) -> None:
        """Tick the orientations the model predicts along by default (else inline)."""
        axes = default_orientations(self.layer.value, bm)
        for i, box in enumerate(self.orientation_boxes):
            box.value = i in axes

    # ------------------------------------------------------------------ models
    def load_bundle(self, path: str | Path | None = None) -> ModelEntry | None:
        """Load a bundle file into the session's models and choose it (None when refused)."""
        from ..bundle import BundleModel
        from ..errors import SeisSegError

        path = given_or_asked(path, lambda: bundle_dialog(self, "Load model bundle"))
        if path is None:
            return None
        try:
            bm = BundleModel.load(path)
        except (SeisSegError, OSError) as exc:
            return self._fail(str(exc))
        entry = MODEL_STORE.add(ModelEntry(MODEL_STORE.unique_name(bm.name), bm.model, bm.card,
                                           bm.path))
        self.model.value = entry.name
        self.status.set("idle", f"loaded '{entry.name}': {bm.describe()}")
        return entry

    # ------------------------------------------------------------------ predict
    def _current_index(self, layer, axis: int) -> int:
        point = np.asarray(self.viewer.dims.point, dtype=float)[-layer.ndim:]
        data = np.asarray(layer.world_to_data(point), dtype=float)
        return slice_in_layer(layer, int(round(float(data[axis]))), axis)

    def predict(self):
        """Check the inputs, then predict in a worker thread; return the worker (None if refused)."""
        from napari.qt.threading import create_worker

        from ..bundle import pipeline_already_applied
        from ..errors import SeisSegError
        from ..inference import predict_bundle

        if self.worker is not None:
            return self._fail("a prediction is already running; cancel it or wait")
        layer = self.layer.value
        try:
            check_layer_to_predict(layer)
            bm = self._bundle()
            slice_index = slice_axis = None
            if self.current_slice.value and layer.ndim == 3:
                slice_axis = inline_axis(layer)
                slice_index = self._current_index(layer, slice_axis)
            orientations = section_orientations(bm, layer.ndim, slice_index,
                                                [b.value for b in self.orientation_boxes])
            # a Preprocess-widget layer already holds the model's pipeline output
            applied = pipeline_already_applied(bm, layer_pipeline(layer), f"'{layer.name}'")
            stop = threading.Event()
            gen = predict_bundle(
                bm, layer.data, geometry=survey_geometry(layer), orientations=orientations,
                overlap=float(self.overlap.value), tta=bool(self.tta.value),
                device=self.device.value, slice_index=slice_index, slice_axis=slice_axis,
                statistics=self.statistics.value, pipeline_applied=applied, stop=stop,
                time_prior=bool(self.time_prior.value), lateral_prior=bool(self.lateral_prior.value),
            )
        except SeisSegError as exc:
            return self._fail(str(exc))

        def work():
            result = yield from gen
            if result is None or stop.is_set():
                return None
            mask = result.mask()
            unc = result.uncertainty()
            if stop.is_set():
                return None
            return result, np.asarray(result.probabilities), mask, unc

        # errors are handled below (errored): not re-raised in the Qt event loop as well
        worker = create_worker(work, _start_thread=False, _ignore_errors=True)
        worker.yielded.connect(self._on_event)
        worker.returned.connect(lambda payload: self._done(layer, payload))
        worker.errored.connect(self._on_error)
        worker.aborted.connect(lambda: self.status.set("idle", "cancelled; no layer added"))
        worker.finished.connect(self._finished)
        self.worker, self._stop = worker, stop
        self.predict_button.enabled, self.cancel_button.enabled = False, True
        self.progress.value = 0
        what = f"slice {slice_index} of '{layer.name}'" if slice_index is not None else f"'{layer.name}'"
        self.status.set("running", f"predicting {what} with {bm.name}")
        worker.start()
        return worker

    def cancel(self) -> None:
        """Stop a running prediction before its next batch; nothing is added."""
        if self.worker is not None and self._stop is not None:
            self._stop.set()
            self.status.set("running", "cancelling…")

    def _on_event(self, event) -> None:
        from ..inference import PredictionProgress, PredictionStarted

        if isinstance(event, PredictionProgress):
            self.progress.value = int(round(100 * event.fraction))
            if self._stop is None or not self._stop.is_set():
                self.status.set("running", f"predicting: {event.done}/{event.total} {event.unit}")
        elif isinstance(event, PredictionStarted):
            self.status.set("running", f"predicting {event.total} {event.unit} on {event.device}")

    def _on_error(self, exc: Exception) -> None:
        from ..errors import SeisSegError

        text = str(exc) if isinstance(exc, SeisSegError) else f"{type(exc).__name__}: {exc}"
        self._fail(text)

    def _finished(self) -> None:
        self.worker, self._stop = None, None
        self.predict_button.enabled, self.cancel_button.enabled = True, False

    def _fail(self, message: str) -> None:
        from napari.utils.notifications import show_error

        self.status.set("failed", message)
        show_error(f"Predict: {message}")
        return None

    # ------------------------------------------------------------------ results
    def _done(self, source, payload) -> None:
        if payload is None:
            self.status.set("idle", "cancelled; no layer added")
            return
        result, probs, mask, unc = payload
        where = region_text(source, result.region)
        self.layers, replaced = add_result_layers(self.viewer, source, result, probs, mask, unc,
                                                  where=where)
        self.result, self.source, self.uncertainty = result, source, unc
        self.progress.value = 100
        bm = result.bundle
        two = bm.binary or len(bm.classes) == 2
        self.threshold.enabled = self.threshold.visible = two
        if two:
            self.threshold.changed.disconnect(self._on_threshold)
            self.threshold.value = bm.threshold if bm.binary else 0.5
            self.threshold.changed.connect(self._on_threshold)
        self.ranked.choices = []
        self.rank_axis.reset_choices()
        if where is None:
            n = len(self.layers) - 2
            what = (f"added '{self.layers['mask'].name}', '{self.layers['uncertainty'].name}' "
                    f"and {n} probability layer{'s' if n != 1 else ''}")
        else:
            what = (f"quick look of {where} ({len(self.layers)} layers"
                    + (", replacing the previous one)" if replaced else ")"))
        clock = self.layers["mask"].metadata[PREDICTION_KEY]["time"].split(" ")[-1]
        self.status.set("done", f"{what}: {bm.name} on '{source.name}', {clock}, "
                                f"{seconds_text(result.seconds)}")
        skipped = [n for n in result.notes if "not applied" in n]
        if skipped:
            from napari.utils.notifications import show_warning

            show_warning("Predict: " + " ".join(skipped))

    def _on_active_layer(self, _event=None) -> None:
        """Show where the selected layer comes from, when it is a prediction."""
        try:
            text = describe(self.viewer.layers.selection.active)
            self.selected.value = text or ""
            self.selected.visible = bool(text)
        except RuntimeError:  # the widget was closed (its Qt objects deleted): stop listening
            self.viewer.layers.selection.events.active.disconnect(self._on_active_layer)

    # ------------------------------------------------------------------ threshold
    def _on_threshold(self, value: float | None = None) -> None:
        self.apply_threshold(self.threshold.value if value is None else value)

    def apply_threshold(self, threshold: float) -> None:
        """Rewrite the last mask layer (in place) with ``threshold`` (two-class models)."""
        layer = self.layers.get("mask")
        if self.result is None or layer is None or layer not in self.viewer.layers:
            return
        bm = self.result.bundle
        if not (bm.binary or len(bm.classes) == 2):
            return
        try:
            kept = rewrite_mask(layer, self.result.mask(float(threshold)))
        except ValueError:  # the layer's data was replaced by another array
            self._fail(f"The data of '{layer.name}' was replaced since it was predicted; "
                       "predict again to use the threshold.")
            return
        layer.metadata[PREDICTION_KEY]["threshold"] = float(threshold)
        note = f"; {kept:,} voxels you edited kept" if kept else ""
        self.status.set("done", f"mask at threshold {float(threshold):.2f}{note}")

    # ------------------------------------------------------------------ where to label next
    def rank_slices(self, *_args) -> list[int]:
        """Rank slices of the last prediction by mean uncertainty; fill the list; return them."""
        from ..errors import SeisSegError

        if self.result is None or self.uncertainty is None:
            self._fail("Predict first: slices are ranked by the uncertainty of a prediction.")
            return []
        axis = int(self.rank_axis.value or 0)
        if axis >= self.uncertainty.ndim:
            self._fail(f"The prediction has no axis {axis}.")
            return []
        try:
            idx = self.result.rank_slices(axis, int(self.rank_n.value), unc=self.uncertainty,
                                          min_gap=int(self.rank_gap.value))
        except SeisSegError as exc:
            self._fail(str(exc))
            return []
        from ..inference import slice_uncertainty

        scores = slice_uncertainty(self.uncertainty, axis, dead_mask=self.result.dead_mask)
        offset = self.result.region[axis].start or 0 if self.result.region else 0
        source = self.source
        label = axis_label(source, axis) if source is not None else f"axis {axis}"
        coords = axis_coordinates(self.source, axis)
        entries = [(f"{label} {coords[offset + int(i)]}: {scores[int(i)]:.3f}", offset + int(i))
                   for i in idx]
        self.ranked.changed.disconnect(self._on_ranked)
        self.ranked.choices = entries
        self.ranked.changed.connect(self._on_ranked)
        self.status.set("done", f"{len(entries)} slices to label next along {label}")
        return [e[1] for e in entries]

    def _on_ranked(self, value=None) -> None:
        value = self.ranked.value
        if isinstance(value, list | tuple):
            value = value[0] if value else None
        if value is not None:
            self.jump_to(int(value))

    def jump_to(self, index: int, axis: int | None = None) -> None:
        """Move the viewer to slice ``index`` along ``axis`` (default: the ranking axis)."""
        source = self.source if self.source is not None else self.layer.value
        if source is None:
            return
        axis = int(self.rank_axis.value or 0) if axis is None else int(axis)
        world_axis = self.viewer.dims.ndim - source.ndim + axis
        coords = np.zeros(source.ndim)
        coords[axis] = index
        world = float(np.asarray(source.data_to_world(coords))[axis])
        rng = self.viewer.dims.range[world_axis]
        step = int(round((world - rng.start) / rng.step)) if rng.step else 0
        self.viewer.dims.set_current_step(world_axis, step)
