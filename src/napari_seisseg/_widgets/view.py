"""The View widget: vertical exaggeration, where the current slice is, and "go to".

- **vertical exaggeration**: 1 shows one sample as tall as a trace is wide; the layers open
  with an automatic value that makes a section fill the view (a layer added later joins
  the viewer's value, :mod:`.survey_status`).  Changing it rescales every layer carrying a
  survey geometry together, so they stay overlaid, and keeps the slice shown.
- **position**: the current slice in survey words (``inline 122``, ``1200 ms``).
- **go to**: ``inline 122``, ``crossline 885`` (or ``xl 885``), ``1200 ms`` / ``time 1200`` /
  ``depth 1500`` (``sample 300`` for a plain array, whose samples are counted from 0): shows
  that slice (the axis becomes the slider's).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from magicgui.widgets import Container, FloatSpinBox, Label, LineEdit, PushButton

from ..io.geometry import DISPLAY_KEY
from ..io.survey_text import parse_goto
from ._status import StatusLabel
from .survey_status import (
    describe_point,
    rescale_layer,
    shared_exaggeration,
    survey_layers,
    watch_viewer,
)

if TYPE_CHECKING:
    import napari

def set_exaggeration(viewer: Any, value: float) -> int:
    """Rescale the vertical axis of every survey layer to exaggeration ``value``.

    The slice shown stays the same: a time slice's slider position is rescaled with the
    layers (napari keeps the world position, which the rescaling moves).

    Returns
    -------
    int
        Number of layers changed.
    """
    if not value > 0:
        raise ValueError(f"The vertical exaggeration must be positive, not {value}.")
    layers = survey_layers(viewer)
    if not layers:
        return 0
    ratio = value / float(layers[0].metadata[DISPLAY_KEY]["exaggeration"])
    hidden_samples = {
        viewer.dims.ndim - layer.ndim + list(layer.metadata["axes"]).index("sample")
        for layer in layers} - set(viewer.dims.displayed)
    points = {a: float(viewer.dims.point[a]) for a in hidden_samples}
    changed = sum(rescale_layer(layer, value) for layer in layers)
    for axis, point in points.items():
        viewer.dims.set_point(axis, point * ratio)
    return changed


def go_to(viewer: Any, text: str) -> str:
    """Show the slice ``text`` names (see :func:`parse_goto`); returns what is shown.

    The named axis becomes the slider's; a section is shown with time or depth downwards.

    Raises
    ------
    ValueError
        For text that names no position, an axis the survey lacks, a position outside every
        survey layer, or a 3D view.
    """
    name, value, unit, by_index = parse_goto(text)
    if viewer.dims.ndisplay != 2:
        raise ValueError("Go to shows a slice: switch the viewer to 2D first.")
    found_axis = False
    counted = None  # a layer skipped for counting samples where a unit was named
    for layer in reversed(survey_layers(viewer)):
        meta = layer.metadata
        axes = list(meta["axes"])
        if name not in axes and name in ("inline", "crossline") and "trace" in axes \
                and meta.get("trace_key") == name:
            name_here = "trace"  # a section along that axis
        else:
            name_here = name
        if name_here not in axes:
            continue
        if name_here == "sample" and unit is not None and meta.get("unit") == "sample":
            counted = layer.name  # no times or depths (a plain array): the lowest layer named
            continue
        found_axis = True
        k = axes.index(name_here)
        world = value
        if name_here == "sample":
            world = _sample_world(meta, value, by_index)
        lo, hi = sorted(float(x) for x in np.asarray(layer.extent.world)[:, k])
        if not lo - 1e-6 <= world <= hi + 1e-6:
            continue  # another layer may cover it
        offset = viewer.dims.ndim - layer.ndim
        axis = offset + k
        others = [a for a in viewer.dims.order if a != axis]
        sample = offset + axes.index("sample") if "sample" in axes else None
        if sample is not None and sample != axis:  # a section: time or depth as the rows
            rest = [a for a in others if a != sample]
            viewer.dims.order = (*rest[:-1], axis, sample, *rest[-1:])
        else:  # a time slice (or no time axis): the other two as they were
            viewer.dims.order = (*others[:-2], axis, *others[-2:])
        viewer.dims.set_point(axis, world)
        return describe_point(viewer)
    if found_axis:
        raise ValueError(f"{text.strip()} is outside every survey layer.")
    if counted is not None:
        raise ValueError(f"'{counted}' has no times or depths (a plain array: its samples are "
                         f"counted from 0): type 'sample {value:g}', not '{text.strip()}'.")
    raise ValueError(f"No layer in survey coordinates has a {name} axis for '{text.strip()}'.")


def _sample_world(meta: dict, value: float, by_index: bool) -> float:
    """World position of a time or depth (``by_index``: of the sample numbered ``value``)."""
    t0, dt = float(meta.get("t0", 0.0) or 0.0), float(meta.get("dt", 1.0) or 1.0)
    per_world = (meta.get(DISPLAY_KEY) or {}).get("vertical_per_world")
    if per_world is None:  # layers placed by sample index ("samples" coordinates)
        return value if by_index else (value - t0) / dt
    return (t0 + value * dt if by_index else value) / float(per_world)


class ViewWidget(Container):
    """Vertical exaggeration, the current position in survey words, and go to."""

    def __init__(self, napari_viewer: napari.viewer.Viewer):
        super().__init__()
        self.viewer = napari_viewer
        watch_viewer(napari_viewer)
        self.exaggeration = FloatSpinBox(
            label="vertical exaggeration", min=0.001, max=50.0, step=0.05, value=1.0,
            tooltip="1 shows one sample as tall as a trace is wide. Layers open with a value "
                    "that makes a section fill the view; every survey layer follows.")
        self.automatic = PushButton(
            text="Fit sections to the view",
            tooltip="The automatic exaggeration: the longer section about 1.5 times as wide "
                    "as tall.")
        self.exaggeration.native.setDecimals(3)  # automatic values such as 0.025
        self.position = Label(label="position", tooltip="The slice shown, in survey units.")
        self.goto = LineEdit(label="go to", tooltip="e.g. 'inline 122', 'crossline 885', "
                                                    "'1200 ms', 'depth 1500' or 'sample 30' "
                                                    "(counted from 0); press Enter.")
        self.status = StatusLabel()
        self.extend([self.exaggeration, self.automatic, self.position, self.goto, self.status])
        self._sync_exaggeration()
        self.exaggeration.changed.connect(self._on_exaggeration)
        self.goto.native.returnPressed.connect(self._on_goto)
        self.automatic.changed.connect(self._on_automatic)
        napari_viewer.dims.events.current_step.connect(self.update_position)
        napari_viewer.dims.events.order.connect(self.update_position)
        napari_viewer.layers.events.inserted.connect(self._sync_exaggeration)
        napari_viewer.layers.events.removed.connect(self._sync_exaggeration)
        self.update_position()

    def _sync_exaggeration(self, *_args) -> None:
        value = shared_exaggeration(self.viewer)
        if value is not None:
            with self.exaggeration.changed.blocked():
                self.exaggeration.value = value
        self.update_position()

    def _on_exaggeration(self, value: float) -> None:
        set_exaggeration(self.viewer, float(value))

    def _on_automatic(self, *_args) -> None:
        from ..io.geometry import SurveyGeometry

        layers = survey_layers(self.viewer)
        if not layers:
            self.status.set("failed", "no layer in survey coordinates")
            return
        self.exaggeration.value = SurveyGeometry.from_metadata(
            layers[-1].metadata).auto_exaggeration()

    def _on_goto(self) -> None:
        try:
            self.status.set("done", f"showing {go_to(self.viewer, self.goto.value)}")
        except ValueError as exc:
            from napari.utils.notifications import show_warning

            self.status.set("failed", str(exc))
            show_warning(f"View: {exc}")

    def update_position(self, *_args) -> None:
        """Show the current slice in survey words."""
        self.position.value = describe_point(self.viewer) or "(no survey layer)"
