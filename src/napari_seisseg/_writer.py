"""npe2 writers: Image and Labels layers to SEG-Y, .npy (+ geometry sidecar) and Zarr.

Each writer takes the layer's geometry from ``layer.metadata``.  Problems (no geometry for
SEG-Y, a path that is the source file) are shown as napari notifications and nothing is
written; writes are atomic, so a failed write never leaves a half-written file.
"""

from __future__ import annotations

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
    """The geometry in a layer's metadata, if it still fits the layer's data."""
    from .io.geometry import SurveyGeometry

    geometry = SurveyGeometry.from_metadata(attributes.get("metadata"))
    if geometry is not None and geometry.shape != tuple(data.shape):
        return None
    return geometry


def _write(path: str, data: Any, attributes: dict, kind: str) -> list[str]:
    from napari.utils.notifications import show_error

    from .errors import SeisSegError
    from .io.npy_io import write_npy as _npy
    from .io.segy_writer import write_segy as _segy
    from .io.zarr_io import write_zarr as _zarr

    if isinstance(data, list):  # multiscale: write the full-resolution level
        data = data[0]
    name = attributes.get("name", "layer")
    try:
        geometry = layer_geometry(data, attributes)
        if kind == "segy":
            if geometry is None:
                raise SeisSegError(
                    f"Layer '{name}' has no survey geometry, so it cannot be written as SEG-Y. "
                    "Use the Export widget (Plugins > SeisSeg > Export) and choose the seismic "
                    "layer it belongs to as the geometry, or save it as .npy."
                )
            out = _segy(path, data, geometry)
        elif kind == "npy":
            out = _npy(path, data, geometry)
        else:
            out = _zarr(path, data, geometry)
    except (SeisSegError, OSError) as exc:
        show_error(f"napari-seisseg could not save '{name}': {exc}")
        return []
    return [str(out)]
