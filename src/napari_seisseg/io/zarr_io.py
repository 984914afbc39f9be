"""Zarr stores with survey geometry in their attributes (for cubes larger than memory)."""

from __future__ import annotations

import json
import os
from collections.abc import Generator
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import SeisSegError
from ..jobs import drain
from .atomic import atomic_path
from .blocks import copy_blocks
from .geometry import METADATA_KEY, SurveyGeometry
from .volume import Volume


def read_zarr(path: str | os.PathLike, sample_axis: int | str | None = "auto") -> Volume:
    """Open a Zarr array lazily (as a dask array), with the geometry stored in its attributes.

    Without one, ``sample_axis`` as in :func:`~napari_seisseg.io.npy_io.read_npy`.
    """
    import dask.array as da
    import zarr

    p = Path(path)
    if not p.exists():
        raise SeisSegError(f"{p} does not exist. Check the path.")
    try:
        arr = zarr.open_array(store=str(p), mode="r")
    except Exception as exc:  # zarr raises several types for "not an array"
        raise SeisSegError(
            f"{p} is not a Zarr array ({type(exc).__name__}: {exc}). Give the path of an array, "
            "not of a group."
        ) from exc
    from .probabilities import PREDICTION_KEY, not_a_volume

    if arr.ndim == 4 and PREDICTION_KEY in arr.attrs:
        raise not_a_volume(p)
    geometry = None
    raw = arr.attrs.get(METADATA_KEY)
    if raw:
        geometry = SurveyGeometry.from_json_dict(raw if isinstance(raw, dict) else json.loads(raw))
        if geometry.shape != tuple(arr.shape):
            geometry = None
    if geometry is None:
        from .sample_axis import plain_array_geometry

        geometry = plain_array_geometry(arr, sample_axis)
    return Volume(da.from_zarr(arr), geometry)


def write_zarr(path: str | os.PathLike, data: Any, geometry: SurveyGeometry | None = None,
               *, overwrite: bool = True, chunks: Any = None) -> Path:
    """Write ``data`` as a Zarr store at once: :func:`write_zarr_job` drained.

    Returns
    -------
    pathlib.Path
    """
    return drain(write_zarr_job(path, data, geometry, overwrite=overwrite, chunks=chunks))


def write_zarr_job(
    path: str | os.PathLike,
    data: Any,
    geometry: SurveyGeometry | None = None,
    *,
    overwrite: bool = True,
    chunks: Any = None,
) -> Generator[float, None, Path]:
    """Write ``data`` to a Zarr store block by block (atomically), geometry in its attributes.

    A job (:mod:`napari_seisseg.jobs`): it yields the fraction written after each block and
    returns the path.

    ``chunks`` defaults to up to 64 along each axis; an existing store is replaced only
    with ``overwrite`` (never a source file of the geometry).
    """
    import zarr

    p = Path(path)
    if geometry is not None:
        geometry.check_shape(data.shape)
    shape = tuple(int(n) for n in data.shape)
    if chunks is None:
        chunks = tuple(min(n, 64) for n in shape)
    protect = geometry.sources if geometry is not None else []
    with atomic_path(p, protect=protect, overwrite=overwrite, directory=True) as tmp:
        arr = zarr.create_array(store=str(tmp), shape=shape, chunks=chunks,
                                dtype=np.dtype(data.dtype), overwrite=True)
        if geometry is not None:
            arr.attrs[METADATA_KEY] = geometry.to_json_dict()
        yield from copy_blocks(data, arr)
    return p
