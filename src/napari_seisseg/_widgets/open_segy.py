""""Open with options": SEG-Y header bytes, sample format, byte order, domain, laziness; the
time axis of a plain .npy or Zarr array."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from magicgui.widgets import CheckBox, ComboBox, Container, FileEdit, FloatSpinBox, PushButton

from ._status import StatusLabel
from .auto_spinbox import AutoSpinBox

if TYPE_CHECKING:
    import napari

logger = logging.getLogger(__name__)

ARRAY_SUFFIXES = (".npy", ".zarr")
TIME_AXIS_CHOICES = [("auto (read from the amplitudes)", "auto"), ("axis 0", 0), ("axis 1", 1),
                     ("axis 2", 2)]
FORMAT_CHOICES = [
    ("detect (binary header)", 0), ("1: IBM float", 1), ("2: int32", 2), ("3: int16", 3),
    ("5: IEEE float", 5), ("6: IEEE double", 6), ("7: int24", 7), ("8: int8", 8),
    ("9: int64", 9), ("10: uint32", 10), ("11: uint16", 11), ("12: uint64", 12),
    ("15: uint24", 15), ("16: uint8", 16),
]


def _zarr_root(path: Path) -> Path:
    """``path``, or the Zarr array that holds it (the file dialog picks files).

    Inside a ``*.zarr`` store, the nearest folder holding an array's metadata (``.zarray``,
    or a ``zarr.json`` of an array): an array in a group too.  Else ``path``.
    """
    chain = [path, *path.parents]
    if not any(p.suffix.lower() == ".zarr" for p in chain):
        return path
    for folder in chain:
        if folder.is_dir() and _is_zarr_array(folder):
            return folder
        if folder.suffix.lower() == ".zarr":
            return folder  # the store itself: read_zarr says what is wrong with it
    return path


def _is_zarr_array(folder: Path) -> bool:
    """Whether ``folder`` holds a Zarr array's metadata (format 2 or 3)."""
    if (folder / ".zarray").is_file():
        return True
    try:
        import json

        return json.loads((folder / "zarr.json").read_text()).get("node_type") == "array"
    except (OSError, ValueError, AttributeError):
        return False


class OpenSegyWidget(Container):
    """Open one SEG-Y file, several, or a folder of them, with explicit reading options; or
    one .npy / Zarr array with its time axis named."""

    def __init__(self, napari_viewer: napari.viewer.Viewer):
        super().__init__(labels=True)
        self.viewer = napari_viewer
        from .survey_status import watch_viewer

        watch_viewer(self.viewer)  # the status bar reads inline 122, 200 ms
        self.path = FileEdit(label="file(s)", mode="rm",
                             filter="SEG-Y (*.sgy *.segy *.SGY *.SEGY);;NumPy array (*.npy);;All files (*)",
                             tooltip="One SEG-Y file, or several holding parts of one survey (e.g. "
                                     "one inline per file): they are assembled into one cube. Or "
                                     "one .npy array (a Zarr folder: type its path).")
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
        self.time_axis = ComboBox(
            label="time axis (arrays)", choices=TIME_AXIS_CHOICES, value="auto",
            tooltip="For a .npy or Zarr array without a geometry sidecar: the axis that holds "
                    "time or depth, counted in the file's own order. auto: read from the "
                    "amplitudes (the last axis unless another one clearly oscillates as a "
                    "trace does); the axis named here is used as given. A sidecar's geometry "
                    "wins. SEG-Y files have their own.")
        self.colormap = ComboBox(label="colormap", choices=["gray", "gray_r", "seismic", "RdGy"], value="gray",
                                 tooltip="Colormap of the new layer (contrast is symmetric around zero).")
        self.open_button = PushButton(text="Open", tooltip="Read the file(s) and add an Image layer.")
        self.status = StatusLabel()
        self.open_button.changed.connect(self.open)
        self.extend([self.path, self.folder, self.iline_byte, self.xline_byte, self.sample_format,
                     self.endian, self.domain, self.loading, self.coordinates,
                     self.exaggeration, self.time_axis, self.colormap,
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
        """The chosen paths; a file inside a Zarr folder (the dialog picks files) is that folder."""
        value = self.path.value
        paths = [_zarr_root(Path(p)) for p in (value if isinstance(value, list | tuple) else [value])
                 if str(p) not in ("", ".")]
        if (self.folder.value and paths and paths[0].suffix.lower() not in ARRAY_SUFFIXES
                and not _is_zarr_array(paths[0])):
            first = paths[0]
            return [first if first.is_dir() else first.parent]
        return paths

    def open(self) -> list:
        """Open the chosen file(s); errors become a notification and the status line."""
        from napari.utils.notifications import show_error

        from .._reader import segy_layer_data
        from ..errors import SeisSegError

        paths = self._paths()
        if not paths:
            self.status.set("failed", "choose a file first")
            show_error("Open: choose a SEG-Y file (or several), a .npy file or a Zarr folder first.")
            return []
        arrays = [p for p in paths if p.suffix.lower() in ARRAY_SUFFIXES or _is_zarr_array(p)]
        if arrays and len(paths) > 1:
            self.status.set("failed", "one array at a time")
            show_error("Open: choose one .npy file or Zarr folder at a time (several files are "
                       "assembled only when they are all SEG-Y).")
            return []
        if arrays:
            return self._add(self._array_layers(arrays[0]))
        options = self.options()
        if (options["iline_byte"] is None) != (options["xline_byte"] is None):
            self.status.set("failed", "give both header bytes or neither")
            show_error("Open: give both the inline and the crossline byte, or leave both at 0 to detect them.")
            return []
        self.status.set("running", f"reading {paths[0].name}")
        try:
            layers = segy_layer_data(paths if len(paths) > 1 else paths[0],
                                     coordinates=self.coordinates.value,
                                     exaggeration=self.exaggeration.value or None, **options)
        except (SeisSegError, OSError) as exc:
            self.status.set("failed", str(exc))
            show_error(f"Open: {exc}")
            return []
        return self._add(layers)

    def _array_layers(self, path: Path) -> list:
        """Layer data of one .npy / Zarr array read with the chosen time axis ([] on failure)."""
        from napari.utils.notifications import show_error, show_info

        from .._reader import volume_or_labels
        from ..errors import SeisSegError
        from ..io.npy_io import read_npy
        from ..io.sample_axis import plain_array_geometry
        from ..io.zarr_io import read_zarr

        axis = self.time_axis.value
        self.status.set("running", f"reading {path.name}")
        try:
            read = read_npy if path.suffix.lower() == ".npy" else read_zarr
            volume = read(path, sample_axis=None)  # the geometry stored with it, if any
            stored = volume.geometry is not None
            if not stored:  # the time axis chosen here, on the array already open
                volume = type(volume)(volume.data, plain_array_geometry(volume.data, axis))
            layer = volume_or_labels(volume, path.stem, path, coordinates=self.coordinates.value,
                                     exaggeration=self.exaggeration.value or None)
        except (SeisSegError, OSError) as exc:
            self.status.set("failed", str(exc))
            show_error(f"Open: {exc}")
            return []
        except Exception as exc:  # noqa: BLE001 - a damaged file must not leave a traceback
            logger.exception("opening %s failed", path)
            self.status.set("failed", f"{path.name} could not be read")
            show_error(f"Open: {path.name} could not be read as an array ({type(exc).__name__}: "
                       f"{exc}). Is it a NumPy .npy file or a Zarr array, and complete?")
            return []
        if axis != "auto" and stored:
            show_info(f"Open: {path.name} holds its own geometry (axes "
                      f"{', '.join(volume.geometry.axes)}); it is used, and the time axis chosen "
                      "here is not (seisseg convert --sample-axis writes a copy read another way).")
        return [layer]

    def _add(self, layers: list) -> list:
        """Add the layers read; say what was read and the notes that came with them."""
        from napari.utils.notifications import show_info

        added = []
        for data, kwargs, kind in layers:
            if kind == "labels":  # a mask exported earlier: paintable, as a correction
                added.append(self.viewer.add_labels(data, **kwargs))
                show_info(f"Open: {kwargs['name']} holds class labels; opened as a Labels layer.")
            else:
                kwargs["colormap"] = self.colormap.value
                added.append(self.viewer.add_image(data, **kwargs))
            for note in (kwargs.get("metadata") or {}).get("notes", []):
                show_info(f"{kwargs['name']}: {note}")
            shape = " x ".join(map(str, data.shape))
            self.status.set("done", f"opened {kwargs['name']} ({shape})")
        return added
