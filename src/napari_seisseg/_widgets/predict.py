"""Predict an Image layer with a trained model: probabilities, a correctable mask, uncertainty.

The computation is :func:`~napari_seisseg.inference.bundle_predict.predict_bundle` (the
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
    CheckBox,
    ComboBox,
    Container,
    FloatSlider,
    FloatSpinBox,
    Label,
    ProgressBar,
    PushButton,
    Select,
    SpinBox,
)

from ..io.probabilities import PREDICTION_KEY  # metadata key of the layers this widget adds
from ..store import MODEL_STORE, ModelEntry
from ._status import StatusLabel
from .dialogs import bundle_dialog
from .mask_edits import rewrite_mask
from .result_layers import add_result_layers, describe, seconds_text

if TYPE_CHECKING:
    import napari



def _devices() -> list[str]:
    import torch

    out = ["auto", "cpu"]
    if torch.cuda.is_available():
        out.append("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        out.append("mps")
    return out


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

        self.layer = ComboBox(label="image", choices=self._layer_choices,
                              tooltip="Image layer to predict: raw amplitudes (the model applies "
                                      "its own preprocessing), or a layer made by the Preprocess "
                                      "widget with the model's pipeline (not applied twice).")
        self.model = ComboBox(label="model", choices=self._model_choices,
                              tooltip="A model trained in this session (Train widget) or loaded "
                                      "from a bundle file.")
        self.load_button = PushButton(text="Load bundle…",
                                      tooltip="Add a model bundle file (.safetensors written by "
                                              "the Train widget or 'seisseg train') to the list.")
        self.model_info = Label(value="", tooltip="Architecture, input kind and classes of the "
                                                  "chosen model.")
        self.model_info.native.setWordWrap(True)
        self.overlap = FloatSpinBox(label="overlap", value=0.5, min=0.0, max=0.9, step=0.05,
                                    tooltip="Overlap of neighbouring windows (3D models) or section "
                                            "tiles; overlapping windows are blended so no seams "
                                            "show. 0.5: each window half-overlaps the next.")
        self.tta = CheckBox(text="test-time augmentation (flips)", value=False,
                            tooltip="Average the predictions of flipped copies of each window: "
                                    "smoother, 4x (sections) or 8x (3D windows) slower.")
        self.device = ComboBox(label="device", choices=_devices(), value="auto",
                               tooltip="Where windows run: auto takes CUDA, then Apple MPS, then "
                                       "the CPU.")
        self.orientation_boxes = [
            CheckBox(text=f"axis {i}", value=i == 0,
                     tooltip="Section models: predict sections along this axis; several "
                             "orientations are averaged (each one costs a full pass).")
            for i in range(3)
        ]
        self.orientations = Container(layout="horizontal", labels=False, label="orientations",
                                      widgets=self.orientation_boxes,
                                      tooltip="Section (2D) models: the axes to predict along and "
                                              "average. 3D models predict 3D windows.")
        self.orientations.margins = (0, 0, 0, 0)
        self.statistics = ComboBox(
            label="statistics", choices=[("stored in the model", "stored"),
                                         ("refit on this image", "refit")], value="stored",
            tooltip="Amplitude statistics of the model's preprocessing: those of the survey it was "
                    "trained on (same survey, or one with the same amplitude range), or refitted "
                    "on this image (another survey whose amplitudes differ).")
        self.current_slice = CheckBox(text="current slice only (quick look)", value=False,
                                      tooltip="Predict only the inline shown (its neighbours are "
                                              "read for context): seconds instead of minutes, to "
                                              "judge a model before running the whole cube.")
        self.predict_button = PushButton(text="Predict", tooltip="Run the model on the image in "
                                                                 "the background and add the result "
                                                                 "layers.")
        self.cancel_button = PushButton(text="Cancel", enabled=False,
                                        tooltip="Stop the running prediction; no layer is added.")
        self.progress = ProgressBar(label="progress", min=0, max=100, value=0,
                                    tooltip="Windows (or sections) predicted so far.")
        self.status = StatusLabel()
        self.selected = Label(label="selected", value="", visible=False,
                              tooltip="The model, image and time of the selected result layer "
                                      "(its name is kept short; all of it is in the layer's "
                                      "metadata).")
        self.selected.native.setWordWrap(True)
        self.threshold = FloatSlider(label="threshold", value=0.5, min=0.0, max=1.0, step=0.01,
                                     enabled=False, visible=False, tracking=False,
                                     tooltip="Binary models: probability above which the second "
                                             "class is chosen. Moving it rewrites the last mask "
                                             "layer in place; voxels you edited keep your edit, "
                                             "and the mask's undo history is cleared.")
        self.rank_axis = ComboBox(label="rank along", choices=self._axis_choices,
                                  tooltip="Slices along this axis are ranked by the mean "
                                          "uncertainty of the last prediction.")
        self.rank_n = SpinBox(label="how many", value=5, min=1, max=500,
                              tooltip="Number of slices to suggest.")
        self.rank_gap = SpinBox(label="min gap", value=2, min=0, max=1000,
                                tooltip="Suggested slices are more than this many slices apart "
                                        "(neighbouring slices teach the model little new).")
        self.rank_button = PushButton(text="Where to label next",
                                      tooltip="Rank slices by mean uncertainty (most uncertain "
                                              "first); pick one to jump there and label it.")
        self.ranked = Select(label="next slices", choices=[], allow_multiple=False,
                             tooltip="Slices the model is least sure of; selecting one moves the "
                                     "viewer to it.")
        self.ranked.native.setMaximumHeight(140)
        model_row = Container(layout="horizontal", labels=False, label="model",
                              widgets=[self.model, self.load_button],
                              tooltip="Choose a model or load a bundle file.")
        model_row.margins = (0, 0, 0, 0)
        run_row = Container(layout="horizontal", labels=False,
                            widgets=[self.predict_button, self.cancel_button],
                            tooltip="Start or cancel the prediction.")
        self.extend([
            self.layer, model_row, self.model_info, self.overlap, self.tta, self.device,
            self.statistics, self.orientations, self.current_slice, run_row, self.progress,
            self.status, self.selected, self.threshold, self.rank_axis, self.rank_n,
            self.rank_gap, self.rank_button, self.ranked,
        ])

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
        self._on_active_layer()  # a prediction layer may be selected already
        if self._known_models:  # the newest model: the one just trained or loaded
            self.model.value = MODEL_STORE.names()[-1]
        self._on_layer_changed()
        self._on_model_changed()

    # ------------------------------------------------------------------ choices
    def _layer_choices(self, _widget=None) -> list:
        from napari.layers import Image

        return [(layer.name, layer) for layer in self.viewer.layers
                if isinstance(layer, Image) and not layer.rgb and layer.ndim in (2, 3)
                and PREDICTION_KEY not in layer.metadata]

    def _model_choices(self, _widget=None) -> list[str]:
        return MODEL_STORE.names()

    def _axis_choices(self, _widget=None) -> list:
        layer = self._source_layer()
        if layer is None:
            return [("axis 0", 0)]
        return [(self._axis_label(layer, i), i) for i in range(layer.ndim)]

    def _source_layer(self):
        widget = getattr(self, "layer", None)
        return widget.value if widget is not None else None

    def _axis_label(self, layer, axis: int) -> str:
        """Name of an axis: from the geometry (inline, time...), else the layer's axis label."""
        g = self._geometry(layer)
        if g is not None and len(g.axes) == layer.ndim:
            name = g.axes[axis]
            if name == "sample":
                return g.sample_label.split(" ")[0]
            return g.trace_key if name == "trace" else name
        labels = tuple(getattr(layer, "axis_labels", ()) or ())
        text = str(labels[axis]) if axis < len(labels) else f"axis {axis}"
        return text if text and not text.lstrip("-").isdigit() else f"axis {axis}"

    def _geometry(self, layer):
        from ..io.geometry import SurveyGeometry

        return None if layer is None else SurveyGeometry.from_metadata(layer.metadata)

    def _inline_axis(self, layer) -> int:
        g = self._geometry(layer)
        if g is not None and "inline" in g.axes and len(g.axes) == layer.ndim:
            return g.axes.index("inline")
        return 0

    def _on_layers_changed(self, event=None) -> None:
        self.layer.reset_choices()

    def _on_layer_changed(self, *_args) -> None:
        layer = self.layer.value
        ndim = layer.ndim if layer is not None else 3
        for i, box in enumerate(self.orientation_boxes):
            box.text = self._axis_label(layer, i) if layer is not None else f"axis {i}"
            box.visible = i < ndim
        self.rank_axis.reset_choices()
        if layer is not None:
            self.rank_axis.value = self._inline_axis(layer)
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
        from ..errors import SeisSegError
        from ..inference.bundle_predict import BundleModel

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
        self._default_orientation(bm)

    def _set_orientation_enabled(self, on: bool) -> None:
        for box in self.orientation_boxes:
            box.enabled = on

    def _default_orientation(self, bm=None) -> None:
        """Tick the orientation the model's labels were painted in (else inline)."""
        layer = self.layer.value
        axis = self._inline_axis(layer) if layer is not None else 0
        g = self._geometry(layer)
        if bm is not None and g is not None and len(g.axes) == getattr(layer, "ndim", 0) == 3:
            from ..io.geometry import CUBE_AXES

            first = CUBE_AXES[bm.predict_axes[0]] if bm.predict_axes else "inline"
            axis = g.axes.index(first) if first in g.axes else axis
        elif bm is not None and bm.predict_axes and getattr(layer, "ndim", 0) == 3:
            axis = bm.predict_axes[0]  # no geometry: the array's own order is the training order
        for i, box in enumerate(self.orientation_boxes):
            box.value = i == axis

    # ------------------------------------------------------------------ models
    def load_bundle(self, path: str | Path | None = None) -> ModelEntry | None:
        """Load a bundle file into the session's models and choose it (None when refused)."""
        from ..errors import SeisSegError
        from ..inference.bundle_predict import BundleModel

        if path is None:
            path = bundle_dialog(self, "Load model bundle")
            if not path:
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
        index = int(round(float(data[axis])))
        if not 0 <= index < layer.data.shape[axis]:  # another layer's range: not this image
            from ..errors import SeisSegError

            raise SeisSegError(f"The slice shown lies outside '{layer.name}'; move the slider "
                               "onto the image, or untick 'current slice only'.")
        return index

    def predict(self):
        """Check the inputs, then predict in a worker thread; return the worker (None if refused)."""
        from napari.qt.threading import create_worker

        from ..errors import SeisSegError
        from ..inference.bundle_inputs import pipeline_already_applied
        from ..inference.bundle_predict import predict_bundle
        from .train import layer_pipeline

        if self.worker is not None:
            return self._fail("a prediction is already running; cancel it or wait")
        layer = self.layer.value
        if layer is None:
            return self._fail("No Image layer to predict. Open a cube first.")
        if getattr(layer, "multiscale", False):
            return self._fail(f"'{layer.name}' is multiscale; predict a single-scale layer.")
        try:
            bm = self._bundle()
            geometry = self._geometry(layer)
            slice_index = slice_axis = None
            if self.current_slice.value and layer.ndim == 3:
                slice_axis = self._inline_axis(layer)
                slice_index = self._current_index(layer, slice_axis)
            orientations = None
            if bm.is_section_model and layer.ndim == 3 and slice_index is None:
                orientations = [i for i, b in enumerate(self.orientation_boxes) if b.value]
                if not orientations:
                    raise SeisSegError("Tick at least one orientation to predict along.")
            # a Preprocess-widget layer already holds the model's pipeline output
            applied = pipeline_already_applied(bm, layer_pipeline(layer), f"'{layer.name}'")
            stop = threading.Event()
            gen = predict_bundle(
                bm, layer.data, geometry=geometry, orientations=orientations,
                overlap=float(self.overlap.value), tta=bool(self.tta.value),
                device=self.device.value, slice_index=slice_index, slice_axis=slice_axis,
                statistics=self.statistics.value, pipeline_applied=applied, stop=stop,
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
        where = self._region_text(source, result.region)
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

    def _region_text(self, source, region) -> str | None:
        """The part of ``source`` a quick look predicted (``inline 117``); None for all of it."""
        g = self._geometry(source)
        parts = []
        for k, s in enumerate(region):
            if s != slice(None):
                value = g.axis_values(g.axes[k])[s.start] if g is not None else s.start
                parts.append(f"{self._axis_label(source, k)} {value:g}")
        return ", ".join(parts) or None

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
        label = self._axis_label(source, axis) if source is not None else f"axis {axis}"
        coords = self._coordinates(axis)
        entries = [(f"{label} {coords[offset + int(i)]}: {scores[int(i)]:.3f}", offset + int(i))
                   for i in idx]
        self.ranked.changed.disconnect(self._on_ranked)
        self.ranked.choices = entries
        self.ranked.changed.connect(self._on_ranked)
        self.status.set("done", f"{len(entries)} slices to label next along {label}")
        return [e[1] for e in entries]

    def _coordinates(self, axis: int) -> list:
        """Coordinate of every index along ``axis`` of the source (line numbers, times)."""
        g = self._geometry(self.source)
        n = self.source.data.shape[axis]
        if g is not None and len(g.axes) == self.source.ndim:
            values = g.axis_values(g.axes[axis])
            return [int(v) if float(v).is_integer() else float(v) for v in values]
        return list(range(n))

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
