"""The Train widget's side of a live run: strokes in, the shown slice out, previews drawn.

A :class:`LiveSession` lives as long as one training run.  It owns the run's
:class:`~napari_seisseg.training.live_control.LiveControl` and connects the viewer to it:

- every edit of the labels layer (a brush stroke, an erase, a fill, a polygon; napari's
  ``paint`` event) hands the new values of the edit's bounding box to the run
  (:func:`~napari_seisseg.training.live_control.stroke_region`), which merges them before
  its next step; replacing the layer's data hands the whole array (another shape ends the
  run, keeping the best model);
- the slice the viewer shows (:func:`~napari_seisseg.io.live_slice.shown_slice`, updated
  when the slider, the displayed axes or 2D/3D change) is the slice the run previews; the
  previews come back as events and are drawn by :class:`.live_preview.LivePreviewLayer`;
- removing the image or the labels layer from the viewer stops the run with a message (the
  best model so far is kept).

The widget forwards the run's events to :meth:`LiveSession.on_event` and calls
:meth:`LiveSession.close` when the run ends.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..io.live_slice import shown_slice
from ..training.live_control import LiveControl, stroke_region
from .live_preview import LivePreviewLayer

__all__ = ["PREVIEW_PERIOD_S", "LiveSession"]

#: Least time between two previews of the running training (seconds).
PREVIEW_PERIOD_S = 3.0


class LiveSession:
    """Connect a viewer to a live training run (see the module docstring).

    Parameters
    ----------
    viewer : napari.viewer.Viewer
        The viewer.
    image, labels : napari layers
        The Image layer trained on and the Labels layer painted.
    preview : callable
        Returns what the preview shows now (``"off"``, ``"mask"``, ``"P(<class>)"``).
    on_problem : callable
        Called with a message when the run must stop because of the layers.
    stop_when : callable, optional
        Also stop the run once this returns True (the widget was closed).
    """

    def __init__(self, viewer: Any, image: Any, labels: Any, preview: Callable[[], str],
                 on_problem: Callable[[str], None],
                 stop_when: Callable[[], bool] | None = None) -> None:
        self.viewer, self.image, self.labels = viewer, image, labels
        self._preview, self._on_problem = preview, on_problem
        self.control = LiveControl(PREVIEW_PERIOD_S, stop_when=stop_when)
        self.drawing = LivePreviewLayer(viewer, image)
        #: Labeled voxels the sampler draws from (the last ``LabelsUpdated``).
        self.n_labeled: int | None = None
        self._links: list[tuple[Any, Callable]] = []
        self._link(labels.events.paint, self._on_paint)
        self._link(labels.events.data, self._on_data)
        for name in ("current_step", "ndisplay", "order"):
            self._link(getattr(viewer.dims.events, name), self.watch_shown_slice)
        self._link(viewer.layers.events.removed, self._on_removed)
        self.watch_shown_slice()

    def _link(self, emitter: Any, callback: Callable) -> None:
        emitter.connect(callback)
        self._links.append((emitter, callback))

    def close(self) -> None:
        """Disconnect from the viewer and the layers (the preview layer stays)."""
        for emitter, callback in self._links:
            emitter.disconnect(callback)
        self._links = []

    def stop(self) -> None:
        """End the run before its next step (the best and the latest models are kept)."""
        self.control.stop()

    # ------------------------------------------------------------------ viewer -> run
    def watch_shown_slice(self, *_args: Any) -> tuple[int, int] | None:
        """Preview the slice the viewer shows (nothing in 3D display or with preview off)."""
        where = None if self._preview() == "off" else shown_slice(self.image, self.viewer.dims)
        if where is None:
            self.control.clear_preview()
        else:
            self.control.request_preview(*where)
        return where

    def _on_paint(self, event: Any) -> None:
        region = stroke_region(event.value, self.labels.data.shape)
        if region is None:
            return
        # napari emits ``paint`` before ``data_setitem`` writes: read the values once it has
        from qtpy.QtCore import QTimer

        QTimer.singleShot(0, lambda: self.hand_in(region))

    def hand_in(self, region: tuple[slice, ...] | None = None) -> None:
        """Give the run the labels of ``region`` (None: the whole layer) as they are now."""
        data = self.labels.data
        if region is None:
            self.control.update_labels(np.asarray(data))
        else:
            self.control.update_labels(np.asarray(data[region]), region)

    def _on_data(self, _event: Any = None) -> None:
        self.hand_in(None)  # another shape ends the run with a message; the best model is kept

    def _on_removed(self, event: Any) -> None:
        gone = event.value
        if self.control.stopped:  # stopped already (Stop, or the viewer closing): nothing to say
            return
        if gone is self.labels or gone is self.image:
            what = "labels" if gone is self.labels else "image"
            self.stop()
            self._on_problem(f"the {what} layer '{gone.name}' was removed from the viewer; "
                             "training stopped, the best model so far is kept")

    # ------------------------------------------------------------------ run -> viewer
    def on_event(self, event: Any) -> None:
        """Draw a preview; remember what the sampler sees."""
        from ..training.live_events import LabelsUpdated, Preview

        if isinstance(event, Preview):
            if self.image in self.viewer.layers:  # not over an image removed meanwhile
                self.drawing.show(event, self._preview())
        elif isinstance(event, LabelsUpdated):
            self.n_labeled = event.n_labeled

    def redraw(self) -> None:
        """Draw the last preview again as the preview control now says (or remove it)."""
        if self.image not in self.viewer.layers:
            return
        self.drawing.draw(self._preview())
        self.watch_shown_slice()
