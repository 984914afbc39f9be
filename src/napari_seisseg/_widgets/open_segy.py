""""Open SEG-Y with options": header bytes, sample format, byte order, domain, laziness."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from magicgui.widgets import CheckBox, ComboBox, Container, FileEdit, FloatSpinBox, PushButton

from ._status import StatusLabel
from .auto_spinbox import AutoSpinBox

if TYPE_CHECKING:
    import napari

FORMAT_CHOICES = [
    ("detect (binary header)", 0), ("1: IBM float", 1), ("2: int32", 2), ("3: int16", 3),
    ("5: IEEE float", 5), ("6: IEEE double", 6), ("7: int24", 7), ("8: int8", 8),
    ("9: int64", 9), ("10: uint32", 10), ("11: uint16", 11), ("12: uint64", 12),
    ("15: uint24", 15), ("16: uint8", 16),
]


class OpenSegyWidget(Container):
    """Open one SEG-Y file, several, or a folder of them, with explicit reading options."""

    def __init__(self, napari_viewer: napari.viewer.Viewer):
        super().__init__(labels=True)
        self.viewer = napari_viewer
        from .survey_status import watch_viewer

        watch_viewer(self.viewer)  # the status bar reads inline 122, 200 ms
        self.path = FileEdit(label="SEG-Y file(s)", mode="rm", filter="SEG-Y (*.sgy *.segy *.SGY *.SEGY)",
                             tooltip="One file, or several holding parts of one survey (e.g. one "
                                     "inline per file); they are assembled into one cube.")
        self.folder = CheckBox(text="all SEG-Y files in the folder of the first file", value=False,
                               tooltip="Assemble every .sgy/.segy file of that folder into one volume.")
        self.iline_byte = AutoSpinBox("detect", label="inline byte", max=237, value=0,
                                      tooltip="Trace-header byte of the inline number; detect "
                                              "(0): 189, then 9, 5 ...")
        self.xline_byte = AutoSpinBox("detect", label="crossline byte", max=237, value=0,
                                      tooltip="Trace-header byte of the crossline number; "
                                              "detect (0): 193, then 21, 17 ...")
        self.sample_format = ComboBox(label="sample format", choices=FORMAT_CHOICES, value=0,
                                      tooltip="Override the binary header's sample format when it is wrong.")
        self.endian = ComboBox(label="byte order", choices=["detect", "big", "little"], value="detect",
                               tooltip="Override byte-order detection.")
        self.domain = ComboBox(label="vertical axis", choices=["detect", "time", "depth"], value="detect",
                               tooltip="Time (ms) or depth (m/ft); detected from the file name and "
                                       "textual header.")
        self.loading = ComboBox(label="loading", choices=["auto", "lazy (read on demand)", "into memory"],
                                value="auto",
                                tooltip="auto: files over 256 MB are read slice by slice as you browse.")
        self.coordinates = ComboBox(
            label="coordinates", value="survey",
            choices=[("survey (line numbers, ms or m)", "survey"), ("samples (square pixels)", "samples")],
            tooltip="survey: napari coordinates are inline/crossline numbers, time or depth "
                    "stretched by the vertical exaggeration (the status bar reads true units); "
                    "samples: one unit per trace and per sample. Exports keep the survey "
                    "geometry either way.")
        self.exaggeration = FloatSpinBox(
            label="vertical exaggeration", min=0.0, max=50.0, step=0.05, value=0.0,
            tooltip="survey coordinates: how much time or depth is stretched (1: one sample as "
                    "tall as a trace is wide). auto: a section fills the view. Change it later "
                    "for every layer in the View widget.")
        self.exaggeration.native.setSpecialValueText("auto")
        self.colormap = ComboBox(label="colormap", choices=["gray", "gray_r", "seismic", "RdGy"], value="gray",
                                 tooltip="Colormap of the new layer (contrast is symmetric around zero).")
        self.open_button = PushButton(text="Open", tooltip="Read the file(s) and add an Image layer.")
        self.status = StatusLabel()
        self.open_button.changed.connect(self.open)
        self.extend([self.path, self.folder, self.iline_byte, self.xline_byte, self.sample_format,
                     self.endian, self.domain, self.loading, self.coordinates,
                     self.exaggeration, self.colormap,
                     self.open_button, self.status])

    def options(self) -> dict:
        """Reading options chosen in the widget, as keyword arguments of ``read_segy``."""
        lazy = {"auto": "auto", "lazy (read on demand)": True, "into memory": False}[self.loading.value]
        return {
            "iline_byte": self.iline_byte.value or None,
            "xline_byte": self.xline_byte.value or None,
            "sample_format": self.sample_format.value or None,
            "endian": None if self.endian.value == "detect" else self.endian.value,
            "domain": None if self.domain.value == "detect" else self.domain.value,
            "lazy": lazy,
        }

    def _paths(self) -> list[Path]:
        value = self.path.value
        paths = [Path(p) for p in (value if isinstance(value, list | tuple) else [value]) if str(p) not in ("", ".")]
        if self.folder.value and paths:
            first = paths[0]
            return [first if first.is_dir() else first.parent]
        return paths

    def open(self) -> list:
        """Open the chosen file(s); errors become a notification and the status line."""
        from napari.utils.notifications import show_error, show_info

        from .._reader import segy_layer_data
        from ..errors import SeisSegError

        paths = self._paths()
        if not paths:
            self.status.set("failed", "choose a SEG-Y file first")
            show_error("Open SEG-Y: choose a SEG-Y file (or several) first.")
            return []
        options = self.options()
        if (options["iline_byte"] is None) != (options["xline_byte"] is None):
            self.status.set("failed", "give both header bytes or neither")
            show_error("Open SEG-Y: give both the inline and the crossline byte, or leave both at 0 to detect them.")
            return []
        self.status.set("running", f"reading {paths[0].name}")
        try:
            layers = segy_layer_data(paths if len(paths) > 1 else paths[0],
                                     coordinates=self.coordinates.value,
                                     exaggeration=self.exaggeration.value or None, **options)
        except (SeisSegError, OSError) as exc:
            self.status.set("failed", str(exc))
            show_error(f"Open SEG-Y: {exc}")
            return []
        added = []
        for data, kwargs, kind in layers:
            if kind == "labels":  # a mask exported as SEG-Y: paintable, as a correction
                added.append(self.viewer.add_labels(data, **kwargs))
                show_info(f"Open SEG-Y: {kwargs['name']} holds class labels; opened as a "
                          "Labels layer.")
            else:
                kwargs["colormap"] = self.colormap.value
                added.append(self.viewer.add_image(data, **kwargs))
            for note in kwargs["metadata"].get("notes", []):
                show_info(f"{kwargs['name']}: {note}")
            shape = " x ".join(map(str, data.shape))
            self.status.set("done", f"opened {kwargs['name']} ({shape})")
        return added
