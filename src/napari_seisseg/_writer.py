"""npe2 writers: Image and Labels layers to SEG-Y, .npy (+ geometry sidecar) and Zarr.

Each writer takes the layer's geometry from ``layer.metadata``.  Problems (no geometry for
SEG-Y, a path that is the source file) are shown as napari notifications and nothing is
written; writes are atomic, so a failed write never leaves a half-written file.

A Labels layer's class names (``features``) and colours (its colormap) are kept in a
``.classes.json`` sidecar and, for SEG-Y, a ``SEISSEG CLASSES`` textual-header card
(:mod:`napari_seisseg.io.label_classes`), so the file re-opens as the same layer.  An existing
sidecar is only replaced along with its file (napari's save dialog asked about that one);
beside a new file it is refused, as an existing file is.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def write_segy(path: str, data: Any, attributes: dict) -> list[str]:
    """Write one layer as SEG-Y, using its source SEG-Y as header template."""
    return _write(path, data, attributes, "segy")


def write_npy(path: str, data: Any, attributes: dict) -> list[str]:
    """Write one layer as .npy with a JSON geometry sidecar."""
    return _write(path, data, attributes, "npy")


def write_zarr(path: str, data: Any, attributes: dict) -> list[str]:
    """Write one layer as a Zarr array with its geometry in the attributes."""
    return _write(path, data, attributes, "zarr")


def layer_geometry(data: Any, attributes: dict):
    """The geometry in a layer's metadata, if it still fits the layer's data.

    Notes the reader made about the class sidecar of the file the layer came from are left
    out: they are not about the file being written.
    """
    from .io.geometry import SurveyGeometry
    from .io.label_classes import without_class_notes

    geometry = SurveyGeometry.from_metadata(attributes.get("metadata"))
    if geometry is not None and geometry.shape != tuple(data.shape):
        return None
    if geometry is not None:
        geometry.notes = without_class_notes(geometry.notes)
    return geometry


def _in_file_order(data: Any, geometry: Any, attributes: dict, kind: str) -> tuple[Any, Any]:
    """A layer of a plain array back in its file's order (napari shows it time downwards).

    What is painted on a plain ``(inline, crossline, time)`` array is then saved as that
    array is stored, and ``numpy.load`` gives the two in the same order; the sidecar names
    another order, and labels in that order are written plain (no geometry sidecar).
    """
    from .io.sample_axis import file_axes, is_guessed

    axes = file_axes(attributes.get("metadata"), geometry)
    if axes is None or not is_guessed(geometry):
        return data, geometry
    data, geometry = geometry.transpose_to(data, axes)
    if kind != "segy" and is_labels_state(attributes) and geometry.axes == geometry.canonical_axes:
        # time last says nothing a plain labels array does not (and labels opened without
        # their image may have been taken time last wrongly): written plain, as it came,
        # and laid out again by its image wherever it is read
        return data, None
    return data, geometry


def is_labels_state(attributes: dict) -> bool:
    """Whether npe2 ``attributes`` are a Labels layer's (only those have a ``features`` table)."""
    return "features" in attributes


def _write(path: str, data: Any, attributes: dict, kind: str) -> list[str]:
    from napari.utils.notifications import show_error

    from .errors import SeisSegError
    from .io.label_classes import LabelClasses, write_labels
    from .io.npy_io import write_npy as _npy
    from .io.segy_writer import write_segy as _segy
    from .io.zarr_io import write_zarr as _zarr

    if isinstance(data, list):  # multiscale: write the full-resolution level
        data = data[0]
    name = attributes.get("name", "layer")
    try:
        geometry = layer_geometry(data, attributes)
        data, geometry = _in_file_order(data, geometry, attributes, kind)
        if kind == "segy":
            if geometry is None:
                raise SeisSegError(
                    f"Layer '{name}' has no survey geometry, so it cannot be written as SEG-Y. "
                    "Use the Export widget (Plugins > SeisSeg > Export) and choose the seismic "
                    "layer it belongs to as the geometry, or save it as .npy."
                )
        if is_labels_state(attributes):
            classes = LabelClasses.from_layer(attributes.get("features"), attributes.get("colormap"))
            # the file itself is replaced as before (napari asked); its sidecar goes with it
            out = write_labels(path, data, geometry, classes, overwrite=True,
                               sidecar_overwrite=Path(path).exists(), kind=kind)
        elif kind == "segy":
            out = _segy(path, data, geometry)
        elif kind == "npy":
            out = _npy(path, data, geometry)
        else:
            out = _zarr(path, data, geometry)
    except (SeisSegError, OSError) as exc:
        show_error(f"napari-seisseg could not save '{name}': {exc}")
        return []
    return [str(out)]
