"""Export a layer as SEG-Y (with a geometry chosen from another layer), .npy or Zarr.

A Labels layer keeps its class names and colours: they go into a ``.classes.json`` sidecar
beside the file (and a ``SEISSEG CLASSES`` card of a SEG-Y textual header), see
:mod:`napari_seisseg.io.label_classes`, so the export re-opens as the same layer.
"""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from magicgui.widgets import CheckBox, ComboBox, Container, FileEdit, ProgressBar, PushButton

from ._status import StatusLabel

if TYPE_CHECKING:
    import napari

SEGY_FORMATS = [("5: IEEE float", 5), ("1: IBM float", 1), ("2: int32", 2), ("3: int16", 3),
                ("8: int8", 8), ("16: uint8", 16)]


class ExportWidget(Container):
    """Write an Image or Labels layer; SEG-Y copies the headers of the survey it belongs to.

    A Labels layer painted in napari has no geometry of its own: pick the seismic layer it
    was painted on as "geometry from", and the export gets that survey's headers.  Only
    layers that can lend their geometry are offered there: those with a survey geometry of
    the exported layer's shape, other than probability and uncertainty layers of a
    prediction.  A Labels layer's class names and colours are written beside the file.
    """

    def __init__(self, napari_viewer: napari.viewer.Viewer):
        super().__init__(labels=True)
        self.viewer = napari_viewer
        self.layer = ComboBox(label="layer", choices=self._layer_choices,
                              tooltip="The Image or Labels layer to write.")
        self.geometry_from = ComboBox(label="geometry from", choices=self._geometry_choices,
                                      tooltip="Layer whose survey geometry (and source SEG-Y headers) "
                                              "the export uses; same shape as the layer. none: a "
                                              "plain array, in its file's order (a survey's layer: "
                                              "inline, crossline, time).")
        self.path = FileEdit(label="output", mode="w", filter="*.sgy *.segy *.npy *.zarr",
                             tooltip=".sgy/.segy: SEG-Y with the survey's headers; .npy: array + JSON "
                                     "geometry sidecar; .zarr: chunked array for large cubes.")
        self.sample_format = ComboBox(label="SEG-Y samples", choices=SEGY_FORMATS, value=5,
                                      tooltip="Sample format of SEG-Y output (IEEE float is standard; "
                                              "int8/uint8 keep masks small).")
        self.overwrite = CheckBox(text="replace an existing file", value=False,
                                  tooltip="Never replaces the source SEG-Y, whatever this says.")
        self.export_button = PushButton(text="Export", tooltip="Write the file (atomically, in "
                                                               "the background).")
        self.progress = ProgressBar(value=0, min=0, max=100, visible=False,
                                    tooltip="Share of the file written.")
        self.status = StatusLabel()
        self.worker = None
        self.last_written: Path | None = None
        self.export_button.changed.connect(self.export)
        self.layer.changed.connect(self._default_geometry)
        self.extend([self.layer, self.geometry_from, self.path, self.sample_format, self.overwrite,
                     self.export_button, self.progress, self.status])
        self.viewer.layers.events.inserted.connect(self.reset_choices)
        self.viewer.layers.events.removed.connect(self.reset_choices)
        self._default_geometry()

    def _layer_choices(self, _widget=None) -> list:
        from napari.layers import Image, Labels

        return [(layer.name, layer) for layer in self.viewer.layers if isinstance(layer, Image | Labels)]

    def _geometry_choices(self, _widget=None) -> list:
        layer = self.layer.value if hasattr(self, "layer") else None
        choices: list = [("none (plain array)", None)]
        if layer is None:
            return choices
        shape = tuple(layer.data.shape)
        choices += [(c.name, c) for c in self.viewer.layers if lends_geometry(c, shape)]
        return choices

    def _default_geometry(self, *_args) -> None:
        layer = self.layer.value
        if layer is None:
            return
        # the layer list may have changed before this widget's choices were refreshed
        self.geometry_from.reset_choices()
        offered = [c for c in self.geometry_from.choices if c is not None and not _guessed(c)]
        # a survey's geometry first; a plain array's (lines from 0, no headers) is offered
        # but not chosen: "none" writes such a layer back as its file was stored
        self.geometry_from.value = offered[0] if offered else None

    def export(self):
        """Check the choices, then write the chosen layer in a worker thread.

        Returns the started worker, or None when the export is refused (the reason is a
        notification and the status line). The viewer stays responsive while a large cube is
        written; a Labels layer is copied first, so painting can go on (images are not
        edited in place, and are written from the layer's own array). When the worker is
        done, :attr:`last_written` is the path written.
        """
        from napari.layers import Labels
        from napari.qt.threading import create_worker
        from napari.utils.notifications import show_error

        from ..errors import SeisSegError
        from ..io.atomic import check_target
        from ..io.geometry import SurveyGeometry
        from ..io.label_classes import LabelClasses, check_classes_target, without_class_notes
        from ..io.volume import output_kind

        if self.worker is not None:
            return self._fail("an export is already being written; wait for it", show_error)
        layer = self.layer.value
        path = Path(str(self.path.value))
        if layer is None:
            return self._fail("choose a layer to export", show_error)
        if str(self.path.value) in ("", ".") or not path.suffix:
            return self._fail("choose an output file ending in .sgy, .segy, .npy or .zarr", show_error)
        source = self.geometry_from.value
        geometry = SurveyGeometry.from_metadata(source.metadata) if source is not None else None
        if geometry is not None and geometry.shape != tuple(layer.data.shape):
            return self._fail(
                f"'{layer.name}' has shape {tuple(layer.data.shape)} but '{source.name}' describes "
                f"{geometry.shape}; pick the layer it was painted on or predicted from", show_error)
        if geometry is not None:  # notes about the class sidecar of a file read are not the export's
            geometry.notes = without_class_notes(geometry.notes)
        labels = isinstance(layer, Labels)
        try:  # refused at once, before any work: a wrong name, an existing file, the source
            output_kind(path)
            check_target(path, protect=geometry.sources if geometry is not None else [],
                         overwrite=self.overwrite.value)
            if labels:  # ... or the class names of another export
                check_classes_target(path, overwrite=self.overwrite.value)
        except SeisSegError as exc:
            return self._fail(str(exc), show_error)
        data = layer.data[0] if getattr(layer, "multiscale", False) else layer.data
        if labels and isinstance(data, np.ndarray):
            data = data.copy()  # a snapshot: the layer may be painted on while it is written
        if geometry is None:
            data = plain_order(layer, data)
        options = {"overwrite": self.overwrite.value, "sample_format": self.sample_format.value}
        if labels:  # a snapshot of the names and colours too
            options["classes"] = LabelClasses.from_layer(layer.features, layer.colormap)
        worker = create_worker(_export_job, path, data, geometry, options,
                               _start_thread=False, _ignore_errors=True)
        worker.yielded.connect(lambda f: setattr(self.progress, "value", int(round(100 * f))))
        worker.returned.connect(lambda out: self._done(layer, out))
        worker.errored.connect(self._errored)
        worker.finished.connect(self._finished)
        self.worker = worker
        self.last_written = None
        self.export_button.enabled = False
        self.progress.value = 0
        self.progress.visible = True
        self.status.set("running", f"writing {path.name}")
        worker.start()
        return worker

    def _done(self, layer, out: Path) -> None:
        from napari.utils.notifications import show_info

        self.last_written = out
        self.progress.value = 100
        self.status.set("done", f"wrote {out}")
        show_info(f"Exported '{layer.name}' to {out}")

    def _errored(self, exc: BaseException) -> None:
        from napari.utils.notifications import show_error

        from ..errors import SeisSegError

        text = str(exc) if isinstance(exc, SeisSegError | OSError) else f"{type(exc).__name__}: {exc}"
        self._fail(text, show_error)

    def _finished(self) -> None:
        self.worker = None
        self.export_button.enabled = True
        self.progress.visible = False

    def _fail(self, message: str, show_error) -> None:
        self.status.set("failed", message)
        show_error(f"Export: {message}")
        return None


def lends_geometry(layer, shape: tuple[int, ...]) -> bool:
    """Whether ``layer`` can be the "geometry from" of an export of a layer of ``shape``.

    Parameters
    ----------
    layer : napari.layers.Layer
        A layer of the viewer.
    shape : tuple of int
        Shape of the layer being exported.

    Returns
    -------
    bool
        True when the layer carries a survey geometry of that shape and is not the
        probability or uncertainty layer of a prediction (its predicted mask is offered).
    """
    from ..errors import SeisSegError
    from ..io.geometry import SurveyGeometry
    from ..io.probabilities import PREDICTION_KEY

    metadata = getattr(layer, "metadata", None) or {}
    prediction = metadata.get(PREDICTION_KEY)
    if isinstance(prediction, dict) and prediction.get("role") in ("probability", "uncertainty"):
        return False
    try:
        geometry = SurveyGeometry.from_metadata(metadata)
    except (SeisSegError, TypeError, ValueError):  # damaged metadata: this layer lends nothing
        return False
    return geometry is not None and geometry.shape == tuple(shape)


def _guessed(layer) -> bool:
    """Whether ``layer``'s geometry was made for a plain array (no survey behind it)."""
    from ..errors import SeisSegError
    from ..io.geometry import SurveyGeometry
    from ..io.sample_axis import is_guessed

    try:
        return is_guessed(SurveyGeometry.from_metadata(getattr(layer, "metadata", None) or {}))
    except (SeisSegError, TypeError, ValueError):
        return False


def plain_order(layer, data):
    """``data`` of ``layer`` in the order a plain array of it is written ("none").

    napari shows a survey's layers in display order (time downwards); written without a
    geometry, that order would be read back as ``(inline, crossline, time)`` and be wrong.
    A layer of a plain array goes back in its file's order (its :data:`FILE_AXES_KEY`),
    another layer with a geometry in seisseg's canonical order; a layer without one as it is.

    Parameters
    ----------
    layer : napari.layers.Layer
        The layer exported.
    data : array-like
        Its data (or a snapshot of it), in the layer's order.

    Returns
    -------
    array-like
        A transposed view, or ``data`` itself.
    """
    from ..errors import SeisSegError
    from ..io.geometry import SurveyGeometry
    from ..io.sample_axis import file_axes

    metadata = getattr(layer, "metadata", None) or {}
    try:
        geometry = SurveyGeometry.from_metadata(metadata)
    except (SeisSegError, TypeError, ValueError):
        return data
    if geometry is None or geometry.shape != tuple(data.shape):
        return data
    return geometry.transpose_to(data, file_axes(metadata, geometry) or geometry.canonical_axes)[0]


def _export_job(path: Path, data, geometry, options: dict) -> Generator[float, None, Path]:
    """The export as a job (:mod:`napari_seisseg.jobs`): yields the fraction written.

    A Labels layer (``options["classes"]`` given, None for one without names and colours)
    is written with :func:`~napari_seisseg.io.label_classes.write_labels_job`, which keeps
    its classes beside the file; other layers with
    :func:`~napari_seisseg.io.volume.write_volume_job`.
    """
    from ..io.label_classes import write_labels_job
    from ..io.volume import write_volume_job

    options = dict(options)
    if "classes" in options:
        classes = options.pop("classes")
        return (yield from write_labels_job(path, data, geometry, classes, **options))
    return (yield from write_volume_job(path, data, geometry, **options))
