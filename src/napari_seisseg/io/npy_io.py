"""``.npy`` files, memory-mapped, with a JSON geometry sidecar written by napari-seisseg."""

from __future__ import annotations

import os
from collections.abc import Generator
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import SeisSegError
from ..jobs import drain
from .atomic import atomic_path, check_target
from .blocks import copy_blocks
from .geometry import SurveyGeometry, sidecar_path
from .volume import Volume


def _check_signature(p: Path) -> None:
    """Refuse a file that does not start as a .npy file does (a ``.npz``, a web page...)."""
    try:
        with open(p, "rb") as f:
            head = f.read(6)
    except OSError as exc:
        raise SeisSegError(f"{p} cannot be read: {exc}.") from exc
    if head.startswith(b"PK\x03\x04"):
        raise SeisSegError(f"{p} is a .npz archive (several arrays), not a .npy file: save the "
                           "array you want with numpy.save, or rename the file .npz and take "
                           "one array out of it.")
    if len(head) < 6:
        raise SeisSegError(f"{p} cannot be read as .npy: it holds {len(head)} bytes. Is it a "
                           "complete NumPy .npy file (a copy or download cut short, a file "
                           "still being written)?")
    if head != b"\x93NUMPY":
        raise SeisSegError(f"{p} is not a NumPy .npy file (it does not start with the .npy "
                           "signature): check the path, or save the array with numpy.save.")


def read_npy(path: str | os.PathLike, mmap: bool = True, sample_axis: int | str | None = "auto") -> Volume:
    """Open a ``.npy`` file (memory-mapped by default) and its geometry sidecar if present.

    A sidecar whose shape does not match the array is ignored; the array still opens.
    Without a sidecar, an array whose time (or depth) axis is not the last one gets a
    geometry without survey coordinates that says so (``sample_axis``: ``"auto"`` reads it
    from the amplitudes, an int names it, None keeps the last axis; see
    :mod:`.sample_axis`).
    """
    p = Path(path)
    if not p.exists():
        raise SeisSegError(f"{p} does not exist. Check the path.")
    _check_signature(p)
    try:
        data = np.load(p, mmap_mode="r" if mmap else None, allow_pickle=False)
    except ValueError as exc:
        why = str(exc).rstrip(".")
        if "Object arrays" in why or "Python objects" in why:
            raise SeisSegError(
                f"{p} is not a plain numeric .npy array ({why}). Object arrays are refused because "
                "loading them could run code; save the data with a numeric dtype."
            ) from exc
        raise SeisSegError(f"{p} cannot be read as .npy: {why}. Is it a complete NumPy .npy "
                           "file (a copy or download cut short, a file still being written)?") from exc
    except (OSError, EOFError) as exc:  # EOFError: an empty file
        raise SeisSegError(f"{p} cannot be read as .npy: {str(exc) or 'the file is empty'}. Is it "
                           "a complete NumPy .npy file?") from exc
    if data.ndim == 4:
        from .probabilities import description_path, not_a_volume

        if description_path(p).is_file():
            raise not_a_volume(p)
    if data.ndim not in (2, 3):
        raise SeisSegError(
            f"{p} holds a {data.ndim}-D array of shape {data.shape}; a seismic volume is 3-D "
            "(inline, crossline, sample) and a section 2-D (trace, sample)."
        )
    geometry = SurveyGeometry.load_sidecar(p)
    if geometry is not None and geometry.shape != data.shape:
        geometry = None
    if geometry is None:
        from .sample_axis import plain_array_geometry

        geometry = plain_array_geometry(data, sample_axis)
    return Volume(data, geometry)


def write_npy(path: str | os.PathLike, data: Any, geometry: SurveyGeometry | None = None,
              *, overwrite: bool = True) -> Path:
    """Write ``data`` as ``.npy`` at once: :func:`write_npy_job` drained.

    Returns
    -------
    pathlib.Path
    """
    return drain(write_npy_job(path, data, geometry, overwrite=overwrite))


def write_npy_job(
    path: str | os.PathLike,
    data: Any,
    geometry: SurveyGeometry | None = None,
    *,
    overwrite: bool = True,
) -> Generator[float, None, Path]:
    """Write ``data`` to ``path`` block by block (atomically), with its geometry sidecar.

    The array is stored in the order it is given (``geometry.axes``, which the sidecar
    records), so what napari shows is what comes back.  A job
    (:mod:`napari_seisseg.jobs`): it yields the fraction written after each block and
    returns the path.

    Without ``geometry`` a stale sidecar beside ``path`` is removed; an existing file is
    replaced only with ``overwrite`` (never a source file of the geometry).
    """
    p = Path(path)
    if geometry is not None:
        geometry.check_shape(data.shape)
    protect = geometry.sources if geometry is not None else []
    check_target(p, protect=protect, overwrite=overwrite)
    dtype = np.dtype(data.dtype)
    with atomic_path(p, protect=protect, overwrite=overwrite) as tmp:
        out = np.lib.format.open_memmap(tmp, mode="w+", dtype=dtype, shape=tuple(data.shape))
        yield from copy_blocks(data, out)
        out.flush()
        del out
    side = sidecar_path(p)
    if geometry is not None:
        geometry.save_sidecar(p)
    elif side.exists():
        side.unlink()  # a stale sidecar would describe another array
    return p
