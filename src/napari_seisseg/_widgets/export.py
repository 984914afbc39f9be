"""Export a layer as SEG-Y (with a geometry chosen from any layer), .npy or Zarr."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from magicgui.widgets import CheckBox, ComboBox, Container, FileEdit, PushButton

from ._status import StatusLabel

if TYPE_CHECKING:
    import napari

SEGY_FORMATS = [("5: IEEE float", 5), ("1: IBM float", 1), ("2: int32", 2), ("3: int16", 3),
                ("8: int8", 8), ("16: uint8", 16)]


class ExportWidget(Container):
    """Write an Image or Labels layer; SEG-Y copies the headers of the survey it belongs to.

    A Labels layer painted in napari has no geometry of its own: pick the seismic layer it
    was painted on as "geometry from", and the export gets that survey's headers.
    """

    def __init__(self, napari_viewer: napari.viewer.Viewer):
        super().__init__(labels=True)
        self.viewer = napari_viewer
        self.layer = ComboBox(label="layer", choices=self._layer_choices,
                              tooltip="The Image or Labels layer to write.")
        self.geometry_from = ComboBox(label="geometry from", choices=self._geometry_choices,
                                      tooltip="Layer whose survey geometry (and source SEG-Y headers) "
                                              "the export uses; same shape as the layer.")
        self.path = FileEdit(label="output", mode="w", filter="*.sgy *.segy *.npy *.zarr",
                             tooltip=".sgy/.segy: SEG-Y with the survey's headers; .npy: array + JSON "
                                     "geometry sidecar; .zarr: chunked array for large cubes.")
        self.sample_format = ComboBox(label="SEG-Y samples", choices=SEGY_FORMATS, value=5,
                                      tooltip="Sample format of SEG-Y output (IEEE float is standard; "
                                              "int8/uint8 keep masks small).")
        self.overwrite = CheckBox(text="replace an existing file", value=False,
                                  tooltip="Never replaces the source SEG-Y, whatever this says.")
        self.export_button = PushButton(text="Export", tooltip="Write the file (atomically).")
        self.status = StatusLabel()
        self.export_button.changed.connect(self.export)
        self.layer.changed.connect(self._default_geometry)
        self.extend([self.layer, self.geometry_from, self.path, self.sample_format, self.overwrite,
                     self.export_button, self.status])
        self.viewer.layers.events.inserted.connect(self.reset_choices)
        self.viewer.layers.events.removed.connect(self.reset_choices)
        self._default_geometry()

    def _layer_choices(self, _widget=None) -> list:
        from napari.layers import Image, Labels

        return [(layer.name, layer) for layer in self.viewer.layers if isinstance(layer, Image | Labels)]

    def _geometry_choices(self, _widget=None) -> list:
        from ..io.geometry import SurveyGeometry

        choices = [("none (plain array)", None)]
        for layer in self.viewer.layers:
            if SurveyGeometry.from_metadata(getattr(layer, "metadata", None)) is not None:
                choices.append((layer.name, layer))
        return choices

    def _default_geometry(self, *_args) -> None:
        from ..io.geometry import SurveyGeometry

        layer = self.layer.value
        if layer is None:
            return
        # the layer list may have changed before this widget's choices were refreshed
        self.geometry_from.reset_choices()
        offered = [c for c in self.geometry_from.choices if c is not None]
        for candidate in offered:
            g = SurveyGeometry.from_metadata(candidate.metadata)
            if g is not None and g.shape == tuple(layer.data.shape):
                self.geometry_from.value = candidate
                return

    def export(self) -> Path | None:
        """Write the chosen layer; problems become a notification and the status line."""
        from napari.utils.notifications import show_error, show_info

        from ..errors import SeisSegError
        from ..io import write_volume
        from ..io.geometry import SurveyGeometry

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
        data = layer.data[0] if getattr(layer, "multiscale", False) else layer.data
        self.status.set("running", f"writing {path.name}")
        try:
            out = write_volume(path, data, geometry, overwrite=self.overwrite.value,
                               sample_format=self.sample_format.value)
        except (SeisSegError, OSError) as exc:
            return self._fail(str(exc), show_error)
        self.status.set("done", f"wrote {out}")
        show_info(f"Exported '{layer.name}' to {out}")
        return out

    def _fail(self, message: str, show_error) -> None:
        self.status.set("failed", message)
        show_error(f"Export: {message}")
        return None
