"""Compose a preprocessing pipeline, preview it on the slice in view, apply it to a new layer.

The computation lives in :mod:`napari_seisseg.preprocess`; this widget only collects
parameters, shows a lazy preview layer (each slice napari asks for is computed on demand,
so scrolling updates it) and runs :func:`~napari_seisseg.preprocess.apply_blocks` in a
``thread_worker``.  The source layer is never modified.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from magicgui.widgets import (
    CheckBox,
    ComboBox,
    Container,
    FloatSpinBox,
    Label,
    ProgressBar,
    PushButton,
    SpinBox,
)

from ._status import StatusLabel
from .scroll import scroll_in_place, scroll_to

if TYPE_CHECKING:
    import napari

    from ..preprocess import Pipeline, Step

#: (menu text, step kind) of the steps a user can add.
STEP_MENU = [
    ("Percentile clip", "clip_percentile"),
    ("Clip at ±k std", "clip_std"),
    ("Standardise (mean / std)", "standardize"),
    ("Robust scale (median / IQR)", "robust_scale"),
    ("AGC (automatic gain control)", "agc"),
    ("Log + uint8 (compress)", "log_uint8"),
]
_TITLES = dict((k, t) for t, k in STEP_MENU)
RESULT_MODES = ["auto", "in memory", "lazy"]
#: Largest output computed into memory by the "auto" result mode for a lazy source.
AUTO_MEMORY_BYTES = 2 << 30
#: Metadata key of the preprocessing pipeline of a layer made by this widget.
PREPROCESS_KEY = "seisseg_preprocess"


def _float(label: str, value: float, tip: str, lo: float = 0.0, hi: float = 100.0,
           step: float = 0.1) -> FloatSpinBox:
    return FloatSpinBox(label=label, value=value, min=lo, max=hi, step=step, tooltip=tip)


class StepRow(Container):
    """One step of the pipeline: its title, its parameters, and move/remove buttons."""

    def __init__(self, kind: str, owner: PreprocessWidget, **params: Any):
        super().__init__(labels=True, tooltip=f"Step: {_TITLES[kind]}")
        self.kind = kind
        self.owner = owner
        self.title = Label(value=_TITLES[kind], tooltip="Steps run from top to bottom.")
        self.up = PushButton(text="↑", tooltip="Move this step one place earlier.")
        self.down = PushButton(text="↓", tooltip="Move this step one place later.")
        self.remove_button = PushButton(text="✕", tooltip="Remove this step.")
        header = Container(layout="horizontal", labels=False,
                           widgets=[self.title, self.up, self.down, self.remove_button],
                           tooltip="Step name and its move/remove buttons.")
        header.margins = (0, 0, 0, 0)
        self.header = header
        self.inputs: dict[str, Any] = {}
        if kind in ("clip_percentile", "log_uint8"):
            self.inputs["lower"] = _float("lower %", params.get("lower", 0.5),
                                          "Lower percentile of the sampled amplitudes (0-100).")
            self.inputs["upper"] = _float("upper %", params.get("upper", 99.5),
                                          "Upper percentile; must be above the lower one.")
        if kind == "log_uint8":
            self.inputs["symmetric"] = CheckBox(
                text="symmetric range (zero at code 128)", value=params.get("symmetric", True),
                tooltip="Use ±max(|lower|, |upper|) so zero amplitude (and dead traces) encode as "
                        "128; off: the lower..upper range fills codes 1..255.")
        if kind == "clip_std":
            self.inputs["k"] = _float("k", params.get("k", 3.0),
                                      "Clip to mean ± k standard deviations of the sample.",
                                      lo=0.01, hi=1000.0)
        if kind == "robust_scale":
            self.inputs["q_low"] = _float("low %", params.get("q_low", 25.0),
                                          "Lower quantile of the spread (25: interquartile range).")
            self.inputs["q_high"] = _float("high %", params.get("q_high", 75.0),
                                           "Upper quantile of the spread (75: interquartile range).")
        if kind == "agc":
            self.inputs["window"] = _float("window", params.get("window", 500.0),
                                           "AGC window length, centred on each sample; must be "
                                           "shorter than the trace.", lo=1.0, hi=1e6, step=10.0)
            self.inputs["unit"] = ComboBox(label="unit", choices=["ms", "samples"],
                                           value=params.get("unit", "ms"),
                                           tooltip="Window in milliseconds (time data with a "
                                                   "sample interval) or in samples.")
        widgets = [header, *self.inputs.values()]
        if not self.inputs:
            widgets.append(Label(value="no parameters (statistics from the sample)",
                                 tooltip="This step only needs statistics fitted on the sample."))
        self.extend(widgets)
        self.up.changed.connect(lambda: owner.move_step(self, -1))
        self.down.changed.connect(lambda: owner.move_step(self, +1))
        self.remove_button.changed.connect(lambda: owner.remove_step(self))
        for w in self.inputs.values():
            w.changed.connect(owner._on_steps_changed)

    def params(self) -> dict[str, Any]:
        """The parameters entered."""
        return {k: w.value for k, w in self.inputs.items()}

    def step(self) -> Step:
        """The step, not fitted."""
        from ..preprocess import Step

        return Step.from_dict({"kind": self.kind, **self.params()})


class PreprocessWidget(Container):
    """Condition the amplitudes of an Image layer into a new layer, with a live preview."""

    def __init__(self, napari_viewer: napari.viewer.Viewer):
        super().__init__(labels=False)
        self.viewer = napari_viewer
        self._preview = None
        self._stored: Pipeline | None = None
        self._sample_cache: tuple[Any, Any] | None = None
        self._building = False
        self.worker = None
        self.last_pipeline: Pipeline | None = None
        self.last_report = None

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
        add_row = Container(layout="horizontal", labels=False,
                            widgets=[self.add_kind, self.add_button],
                            tooltip="Add a step at the end of the pipeline.")
        run_row = Container(layout="horizontal", labels=False,
                            widgets=[self.apply_button, self.stop_button],
                            tooltip="Run or stop.")
        file_row = Container(layout="horizontal", labels=False,
                             widgets=[self.save_button, self.load_button],
                             tooltip="Pipeline files.")
        run_row.margins = file_row.margins = (0, 0, 0, 0)
        # the steps and settings scroll; Apply/Stop, files, progress and messages stay in view
        self.settings = Container(labels=True, widgets=[
            self.layer, self.time_axis, add_row, self.steps_box, self.n_traces, self.seed,
            self.use_stored, self.preview, self.result_mode,
        ], tooltip="The pipeline and its settings (they scroll when the panel is short).")
        messages = Container(labels=False, widgets=[self.status, self.report],
                             tooltip="What the preview or the last run did.")
        messages.margins = (0, 0, 0, 0)
        self.extend([self.settings, run_row, file_row, self.progress, messages])
        self.settings_area = scroll_in_place(self.settings)
        scroll_in_place(messages, min_height=120, max_height=120, stretch=0, fit_width=False)

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
        self._sample_cache = None
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
        from ..io.geometry import SurveyGeometry

        if layer is None:
            return None, -1, None
        g = SurveyGeometry.from_metadata(layer.metadata)
        if g is not None and len(g.axes) != layer.ndim:
            g = None
        chosen = self.time_axis.value if hasattr(self, "time_axis") else -1
        if chosen is not None and 0 <= chosen < layer.ndim:
            axis = chosen
        else:
            axis = g.axes.index("sample") if g is not None else layer.ndim - 1
        dt = g.dt if g is not None and g.unit == "ms" and g.axes[axis] == "sample" else None
        return g, axis, dt

    def fitted_pipeline(self, layer=None) -> Pipeline:
        """The composed pipeline, checked against ``layer`` and fitted (or the stored statistics).

        Raises
        ------
        SeisSegError
            Bad parameters, a layer that is not a volume of traces, or no live trace.
        """
        from ..errors import SeisSegError
        from ..preprocess import Pipeline, sample_traces

        layer = self.layer.value if layer is None else layer
        if layer is None:
            raise SeisSegError("No Image layer chosen. Open a cube or choose a layer.")
        if getattr(layer, "multiscale", False):
            raise SeisSegError(f"'{layer.name}' is multiscale; preprocess a single-scale layer.")
        if not self.rows:
            raise SeisSegError("The pipeline has no steps. Add a step first.")
        geometry, axis, dt = self._source_info(layer)
        pipe = self.pipeline()
        ns = int(layer.data.shape[axis])
        pipe.validate(ns, dt)
        stored = self._stored
        if self.use_stored.value and stored is not None and stored.same_parameters(pipe):
            pipe = Pipeline.from_dict(stored.to_dict())
            pipe.validate(ns, dt)
            return pipe
        key = (id(layer), id(layer.data), axis, self.n_traces.value, self.seed.value)
        if self._sample_cache is None or self._sample_cache[0] != key:
            grid = tuple(n for a, n in enumerate(layer.data.shape) if a != axis)
            live = geometry.live if geometry is not None and geometry.live.shape == grid else None
            sample = sample_traces(layer.data, axis, n_traces=self.n_traces.value,
                                   seed=self.seed.value, live=live)
            self._sample_cache = (key, sample)
        return pipe.fit_sample(self._sample_cache[1], dt=dt)

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
        from ..errors import SeisSegError
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
        limits = _contrast(pipe)
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

        from ..errors import SeisSegError
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
        mode = self.result_mode.value
        if mode == "auto":
            out_bytes = int(np.prod(data.shape, dtype=np.int64)) * pipe.output_dtype.itemsize
            in_memory = isinstance(data, np.ndarray) and not isinstance(data, np.memmap)
            mode = "in memory" if in_memory or out_bytes <= AUTO_MEMORY_BYTES else "lazy"

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
        from ..errors import SeisSegError

        if path is None:
            path = _file_dialog(self, save=True)
            if not path:
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
        from ..errors import SeisSegError
        from ..preprocess import Pipeline

        if path is None:
            path = _file_dialog(self, save=False)
            if not path:
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


PREVIEW_KEY = "seisseg_preview"


def _contrast(pipe: Pipeline) -> tuple[float, float]:
    lo, hi = (pipe.fit_info or {}).get("output_range", (0.0, 1.0))
    if lo < 0 < hi:
        m = max(-lo, hi)
        lo, hi = -m, m
    if not hi > lo:
        hi = lo + 1.0
    return float(lo), float(hi)


def chained(source, pipe: Pipeline) -> Pipeline:
    """``pipe`` preceded by the pipeline ``source`` already went through, if it carries one."""
    from ..errors import SeisSegError
    from ..preprocess import Pipeline

    before = (getattr(source, "metadata", None) or {}).get(PREPROCESS_KEY)
    if not isinstance(before, dict):
        return pipe
    try:
        return Pipeline.from_dict(before).then(pipe)
    except SeisSegError as exc:
        raise SeisSegError(f"'{source.name}': {exc}") from None


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
        "contrast_limits": _contrast(pipe),
    }


def _file_dialog(widget: Container, save: bool) -> str | None:
    from qtpy.QtWidgets import QFileDialog

    if save:
        path, _ = QFileDialog.getSaveFileName(widget.native, "Save pipeline", "pipeline.json",
                                              "Pipeline JSON (*.json)")
    else:
        path, _ = QFileDialog.getOpenFileName(widget.native, "Load pipeline", "",
                                              "Pipeline JSON (*.json)")
    return path or None
