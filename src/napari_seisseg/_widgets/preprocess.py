"""Compose a preprocessing pipeline, preview it on the slice in view, apply it to a new layer.

The computation lives in :mod:`napari_seisseg.preprocess`; this widget only collects
parameters, shows a lazy preview layer (each slice napari asks for is computed on demand,
so scrolling updates it) and runs :func:`~napari_seisseg.preprocess.apply_blocks` in a
``thread_worker``.  The source layer is never modified.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from magicgui.widgets import (
    CheckBox,
    ComboBox,
    Container,
    Label,
    ProgressBar,
    PushButton,
    SpinBox,
)

from ..errors import SeisSegError
from ..preprocess.fitting import (
    RESULT_MODES,
    SampleCache,
    check_preprocessable,
    fit_pipeline,
    result_mode,
    trace_axis,
)
from ..preprocess.recorded import PREPROCESS_KEY, PREVIEW_KEY, chained, output_contrast
from ._status import StatusLabel
from .dialogs import given_or_asked, pipeline_dialog
from .preprocess_steps import STEP_MENU, StepRow
from .rows import tight_box
from .scroll import scroll_in_place, scroll_to

if TYPE_CHECKING:
    import napari

    from ..preprocess import Pipeline


class PreprocessWidget(Container):
    """Condition the amplitudes of an Image layer into a new layer, with a live preview."""

    def __init__(self, napari_viewer: napari.viewer.Viewer):
        super().__init__(labels=False)
        self.viewer = napari_viewer
        self._preview = None
        self._stored: Pipeline | None = None
        self._samples = SampleCache()
        self._building = False
        self.worker = None
        self.last_pipeline: Pipeline | None = None
        self.last_report = None
        self._add_settings()
        self._add_actions()
        self._lay_out()
        self._connect()

    def _add_settings(self) -> None:
        """The source layer, the steps and the fitting settings."""
        self.layer = ComboBox(label="layer", choices=self._layer_choices,
                              tooltip="Image layer to condition (it is never changed).")
        self.time_axis = ComboBox(label="time axis", choices=self._axis_choices,
                                  tooltip="Axis along which traces run. Layers opened by this "
                                          "plugin know it; plain arrays default to the last axis.")
        self.add_kind = ComboBox(label="step", choices=STEP_MENU, value="clip_percentile",
                                 tooltip="Operation to add at the end of the pipeline.")
        self.add_button = PushButton(text="Add step", tooltip="Append the chosen step.")
        self.steps_box = Container(labels=False, tooltip="The pipeline, applied top to bottom.")
        self.n_traces = SpinBox(label="sample traces", value=2000, min=10, max=10_000_000,
                                step=100, tooltip="Live traces drawn at random for the statistics "
                                                  "(percentiles, mean, std); only they are read.")
        self.seed = SpinBox(label="seed", value=0, min=0, max=2**31 - 1,
                            tooltip="Seed of the random trace sample (same seed, same statistics).")
        self.use_stored = CheckBox(text="use statistics of the loaded pipeline", value=False,
                                   enabled=False,
                                   tooltip="Apply the statistics stored in the loaded pipeline file "
                                           "(e.g. of the training survey) instead of refitting on "
                                           "this layer. Editing a step refits.")
        self.preview = CheckBox(text="live preview", value=True,
                                tooltip="Show the result on the slice in view as a temporary "
                                        "layer; it follows the slider (2D view only).")
        self.result_mode = ComboBox(label="result", choices=RESULT_MODES, value="auto",
                                    tooltip="in memory: compute the whole cube now; lazy: compute "
                                            "each slice when viewed or exported; auto: in memory "
                                            "unless the source is lazy and the result over 2 GB.")

    def _add_actions(self) -> None:
        """Apply/Stop, the pipeline files, the progress and the messages."""
        self.apply_button = PushButton(text="Apply", tooltip="Run the pipeline on the whole cube "
                                                             "and add the result as a new layer.")
        self.stop_button = PushButton(text="Stop", enabled=False,
                                      tooltip="Stop a running Apply (no layer is added).")
        self.save_button = PushButton(text="Save pipeline…",
                                      tooltip="Write the steps and their fitted statistics to JSON "
                                              "(for the CLI: seisseg preprocess --pipeline).")
        self.load_button = PushButton(text="Load pipeline…",
                                      tooltip="Read steps (and statistics) from a pipeline JSON.")
        self.progress = ProgressBar(label="progress", min=0, max=100, value=0,
                                    tooltip="Progress of Apply.")
        self.status = StatusLabel()
        self.report = Label(value="", tooltip="What the last run found: dead traces, NaN/inf "
                                              "samples, and the fitted statistics.")
        self.report.native.setWordWrap(True)

    def _lay_out(self) -> None:
        """Settings that scroll; Apply/Stop, files, progress and messages that stay in view."""
        add_row = Container(layout="horizontal", labels=False,
                            widgets=[self.add_kind, self.add_button],
                            tooltip="Add a step at the end of the pipeline.")
        run_row = tight_box([self.apply_button, self.stop_button], "Run or stop.")
        file_row = tight_box([self.save_button, self.load_button], "Pipeline files.")
        # the steps and settings scroll; Apply/Stop, files, progress and messages stay in view
        self.settings = Container(labels=True, widgets=[
            self.layer, self.time_axis, add_row, self.steps_box, self.n_traces, self.seed,
            self.use_stored, self.preview, self.result_mode,
        ], tooltip="The pipeline and its settings (they scroll when the panel is short).")
        messages = tight_box([self.status, self.report],
                             "What the preview or the last run did.",
                             layout="vertical")
        self.extend([self.settings, run_row, file_row, self.progress, messages])
        self.settings_area = scroll_in_place(self.settings)
        scroll_in_place(messages, min_height=120, max_height=120, stretch=0, fit_width=False)

    def _connect(self) -> None:
        """Buttons, settings and viewer events to their handlers."""
        self.add_button.changed.connect(lambda: self.add_step(self.add_kind.value))
        self.apply_button.changed.connect(self.apply)
        self.stop_button.changed.connect(self.stop)
        self.save_button.changed.connect(lambda: self.save_pipeline())
        self.load_button.changed.connect(lambda: self.load_pipeline())
        self.layer.changed.connect(self._on_layer_changed)
        for w in (self.time_axis, self.n_traces, self.seed, self.use_stored, self.preview):
            w.changed.connect(self.update_preview)
        self.viewer.layers.events.inserted.connect(self._on_layers_changed)
        self.viewer.layers.events.removed.connect(self._on_layers_changed)
        self.viewer.dims.events.ndisplay.connect(self._on_ndisplay)

    # ------------------------------------------------------------------ choices
    def _layer_choices(self, _widget=None) -> list:
        from napari.layers import Image

        return [(layer.name, layer) for layer in self.viewer.layers
                if isinstance(layer, Image) and not layer.rgb and layer is not self._preview
                and PREVIEW_KEY not in layer.metadata]

    def _axis_choices(self, _widget=None) -> list:
        layer = getattr(self, "layer", None)
        layer = layer.value if layer is not None else None
        ndim = layer.ndim if layer is not None else 3
        return [("auto (geometry, else last)", -1)] + [(f"axis {i}", i) for i in range(ndim)]

    def _on_layers_changed(self, event=None) -> None:
        if self._preview is not None and self._preview not in self.viewer.layers:
            self._preview = None
        self.reset_choices()
        source = self.layer.value
        if self._preview is not None and (source is None or source not in self.viewer.layers):
            self._drop_preview()

    def _on_layer_changed(self, *_args) -> None:
        self._samples.clear()
        self._drop_preview()
        self.time_axis.reset_choices()
        self.update_preview()

    def _on_ndisplay(self, event=None) -> None:
        if self._preview is not None:  # a 3D view would ask for the whole preprocessed cube
            self._preview.visible = self.viewer.dims.ndisplay == 2 and self.preview.value

    # ------------------------------------------------------------------ steps
    @property
    def rows(self) -> list[StepRow]:
        """The step rows, in pipeline order."""
        return list(self.steps_box)

    def add_step(self, kind: str, **params: Any) -> StepRow:
        """Append a step of ``kind`` with ``params`` (defaults for the rest)."""
        if kind == "agc" and "unit" not in params:
            _, axis, dt = self._source_info(self.layer.value)
            params["unit"] = "ms" if dt is not None else "samples"
            if dt is None:
                params.setdefault("window", 25.0)
        row = StepRow(kind, self, **params)
        self.steps_box.append(row)
        self._on_steps_changed()
        scroll_to(self.settings_area, row.native)  # the new step in view
        return row

    def remove_step(self, row: StepRow) -> None:
        """Remove a step."""
        self.steps_box.remove(row)
        self._on_steps_changed()

    def move_step(self, row: StepRow, offset: int) -> None:
        """Move a step ``offset`` places (−1: earlier)."""
        i = self.rows.index(row)
        j = min(max(i + offset, 0), len(self.rows) - 1)
        if i == j:
            return
        self.steps_box.remove(row)
        self.steps_box.insert(j, row)
        self._on_steps_changed()

    def clear_steps(self) -> None:
        """Remove every step."""
        while len(self.steps_box):
            self.steps_box.pop()
        self._on_steps_changed()

    def _on_steps_changed(self, *_args) -> None:
        if self._building:
            return
        if self.use_stored.value and self._stored is not None and \
                not self._stored.same_parameters(self.pipeline()):
            self.use_stored.value = False  # edited: the stored statistics no longer apply
        self.update_preview()

    def pipeline(self) -> Pipeline:
        """The pipeline as composed (not fitted)."""
        from ..preprocess import Pipeline

        return Pipeline([row.step() for row in self.rows])

    # ------------------------------------------------------------------ fitting
    def _source_info(self, layer) -> tuple[Any, int, float | None]:
        """(geometry, time axis, sample interval in ms or None) of a layer."""
        if layer is None:
            return None, -1, None
        chosen = self.time_axis.value if hasattr(self, "time_axis") else -1
        return trace_axis(layer.metadata, layer.ndim, chosen)

    def fitted_pipeline(self, layer=None) -> Pipeline:
        """The composed pipeline, checked against ``layer`` and fitted (or the stored statistics).

        Raises
        ------
        SeisSegError
            Bad parameters, a layer that is not a volume of traces, or no live trace.
        """
        layer = self.layer.value if layer is None else layer
        check_preprocessable(layer, len(self.rows))
        geometry, axis, dt = self._source_info(layer)
        stored = self._stored if self.use_stored.value else None

        def sample():
            return self._samples.sample(layer, layer.data, axis, geometry,
                                        self.n_traces.value, self.seed.value)

        return fit_pipeline(self.pipeline(), layer.data.shape, axis, dt, sample, stored)

    def recorded_pipeline(self, layer=None) -> Pipeline:
        """What the result of Apply on ``layer`` will have gone through, from the raw amplitudes.

        On a layer this widget made (it carries a pipeline) that is the layer's pipeline followed
        by the fitted one, so that training and prediction apply both to raw data.
        """
        layer = self.layer.value if layer is None else layer
        return chained(layer, self.fitted_pipeline(layer))

    # ------------------------------------------------------------------ preview
    def update_preview(self, *_args) -> None:
        """Refit on the cached sample and show the result on the slice in view."""
        from ..preprocess import PreprocessedArray

        if self._building:
            return
        layer = self.layer.value
        if not self.preview.value or layer is None or not self.rows:
            self._drop_preview()
            return
        try:
            pipe = self.fitted_pipeline(layer)
            recorded = chained(layer, pipe)
        except SeisSegError as exc:
            self._drop_preview()
            self.status.set("failed", str(exc))
            return
        _, axis, _ = self._source_info(layer)
        lazy = PreprocessedArray(layer.data, pipe, axis)
        limits = output_contrast(pipe)
        if self._preview is None or self._preview not in self.viewer.layers:
            kw = _layer_kwargs(layer, f"{layer.name} [preview]", recorded)
            kw["metadata"][PREVIEW_KEY] = True
            self._preview = self.viewer.add_image(lazy, **kw)
        else:
            self._preview.data = lazy
            self._preview.contrast_limits_range = limits
            self._preview.contrast_limits = limits
        self._preview.visible = self.viewer.dims.ndisplay == 2
        self.last_pipeline = pipe
        self.status.set("idle", "preview: " + "; ".join(pipe.describe().splitlines()))

    def _drop_preview(self) -> None:
        if self._preview is not None and self._preview in self.viewer.layers:
            self.viewer.layers.remove(self._preview)
        self._preview = None

    # ------------------------------------------------------------------ apply
    def apply(self):
        """Check the parameters, then run the whole cube in a worker and add the result.

        Returns the started worker, or None when the parameters are refused (the reason is
        shown as a notification and in the status line).
        """
        from napari.qt.threading import create_worker

        from ..preprocess import preprocess_job

        if self.worker is not None:
            return self._fail("a run is already going; stop it or wait")
        layer = self.layer.value
        try:
            pipe = self.fitted_pipeline(layer)
            recorded = chained(layer, pipe)
        except SeisSegError as exc:
            return self._fail(str(exc))
        _, axis, _ = self._source_info(layer)
        data = layer.data
        mode = result_mode(self.result_mode.value, data, pipe)

        # errors are handled below (errored): not re-raised in the Qt event loop as well
        worker = create_worker(preprocess_job, pipe, data, axis, lazy=mode == "lazy",
                               _start_thread=False, _ignore_errors=True)
        worker.yielded.connect(lambda f: setattr(self.progress, "value", int(round(100 * f))))
        worker.returned.connect(lambda res: self._done(layer, recorded, mode, *res))
        worker.errored.connect(lambda exc: self._fail(f"{type(exc).__name__}: {exc}"))
        worker.aborted.connect(lambda: self.status.set("idle", "stopped; no layer added"))
        worker.finished.connect(self._finished)
        self.worker = worker
        self.apply_button.enabled, self.stop_button.enabled = False, True
        self.progress.value = 0
        self.status.set("running", f"preprocessing '{layer.name}' ({mode})")
        worker.start()
        return worker

    def stop(self) -> None:
        """Ask a running Apply to stop after the current block."""
        if self.worker is not None:
            self.worker.quit()

    def _finished(self) -> None:
        self.worker = None
        self.apply_button.enabled, self.stop_button.enabled = True, False

    def _done(self, source, pipe: Pipeline, mode: str, data, report) -> None:
        from napari.utils.notifications import show_info

        self._drop_preview()
        name = f"{source.name} [preprocessed]"
        layer = self.viewer.add_image(data, **_layer_kwargs(source, name, pipe))
        self.progress.value = 100
        self.last_pipeline, self.last_report = pipe, report
        if mode == "lazy":
            text = pipe.describe() + "\nresult is lazy: computed as it is viewed or exported"
        else:
            text = report.summary()
        self.report.value = text
        self.status.set("done", f"added '{layer.name}'")
        show_info(f"Preprocess: added '{layer.name}' ({report.n_dead_traces} dead traces, "
                  f"{report.n_nonfinite_samples} NaN/inf samples)" if mode != "lazy"
                  else f"Preprocess: added lazy layer '{layer.name}'")

    def _fail(self, message: str) -> None:
        from napari.utils.notifications import show_error

        self.status.set("failed", message)
        show_error(f"Preprocess: {message}")
        return None

    # ------------------------------------------------------------------ files
    def save_pipeline(self, path: str | Path | None = None) -> Path | None:
        """Write the pipeline (fitted on the chosen layer when there is one) to JSON."""
        path = given_or_asked(path, lambda: pipeline_dialog(self, save=True))
        if path is None:
            return None
        layer = self.layer.value
        try:
            pipe = self.recorded_pipeline(layer) if layer is not None else self.pipeline()
            out = pipe.save(path)
        except (SeisSegError, OSError) as exc:
            return self._fail(str(exc))
        note = ""
        if layer is not None and len(pipe.steps) > len(self.rows):
            note = (f" ('{layer.name}' was preprocessed before: its {len(pipe.steps) - len(self.rows)}"
                    " earlier steps come first, so the file applies to the original amplitudes)")
        self.status.set("done", f"saved the pipeline to {out}{note}")
        return out

    def load_pipeline(self, path: str | Path | None = None) -> Pipeline | None:
        """Replace the steps by those of a pipeline JSON; its statistics can be reused."""
        from ..preprocess import Pipeline

        path = given_or_asked(path, lambda: pipeline_dialog(self, save=False))
        if path is None:
            return None
        try:
            pipe = Pipeline.load(path)
        except (SeisSegError, OSError) as exc:
            return self._fail(str(exc))
        self._building = True
        try:
            while len(self.steps_box):
                self.steps_box.pop()
            for step in pipe.steps:
                self.steps_box.append(StepRow(step.kind, self, **step.params()))
            self._stored = pipe
            self.use_stored.enabled = pipe.is_fitted
            self.use_stored.value = pipe.is_fitted
        finally:
            self._building = False
        self.update_preview()
        self.status.set("done", f"loaded {len(pipe.steps)} steps from {Path(path).name}"
                        + (" with statistics" if pipe.is_fitted else ""))
        return pipe


def _layer_kwargs(source, name: str, pipe: Pipeline) -> dict[str, Any]:
    """Keyword arguments placing a new layer exactly over ``source``, with the pipeline noted."""
    metadata = dict(source.metadata)
    metadata[PREPROCESS_KEY] = pipe.to_dict()
    metadata.pop(PREVIEW_KEY, None)
    return {
        "name": name,
        "scale": tuple(source.scale),
        "translate": tuple(source.translate),
        "axis_labels": tuple(source.axis_labels),
        "units": tuple(source.units),
        "metadata": metadata,
        "colormap": source.colormap.name,
        "contrast_limits": output_contrast(pipe),
    }
