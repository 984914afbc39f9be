"""A seismic array with its survey geometry, and format-dispatching read/write functions."""

from __future__ import annotations

import os
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import SeisSegError
from ..jobs import drain
from .geometry import SurveyGeometry


@dataclass
class Volume:
    """An array (numpy, memmap, dask, zarr or lazy SEG-Y) and its geometry (or None).

    ``data`` is in ``geometry.axes`` order; readers return the canonical order
    ``(inline, crossline, sample)`` for cubes and ``(trace, sample)`` for sections, except for
    a plain array whose time axis was read from its amplitudes or given
    (:mod:`.sample_axis`), which keeps the order it is stored in.
    """

    data: Any
    geometry: SurveyGeometry | None = None

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.data.shape)

    def in_order(self, axes: tuple[str, ...]) -> Volume:
        """The same volume with its axes in the order ``axes`` names (a view; as it is
        without a geometry)."""
        if self.geometry is None:
            return self
        data, geom = self.geometry.transpose_to(self.data, tuple(axes))
        return Volume(data, geom)

    def display(self) -> Volume:
        """The same volume transposed for napari (vertical axis shown downwards)."""
        return self if self.geometry is None else self.in_order(self.geometry.display_axes)

    def canonical(self) -> Volume:
        """The same volume in canonical axis order."""
        return self if self.geometry is None else self.in_order(self.geometry.canonical_axes)


def file_kind(path: str | os.PathLike) -> str:
    """``"segy"``, ``"npy"`` or ``"zarr"`` from the path's suffix (folders of SEG-Y: ``"segy"``)."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix in (".sgy", ".segy"):
        return "segy"
    if suffix == ".npy":
        return "npy"
    if suffix == ".zarr":
        return "zarr"
    if p.is_dir():
        return "segy"
    raise SeisSegError(
        f"Cannot tell the format of {p}: use a .sgy/.segy, .npy or .zarr path "
        "(or a folder of SEG-Y files)."
    )


def output_kind(path: str | os.PathLike, what: str = "") -> str:
    """``"segy"``, ``"npy"`` or ``"zarr"`` of an output path, which must say it by its suffix.

    Parameters
    ----------
    path : path
        Where something will be written.
    what : str, optional
        What is written (``"mask"``), to name it in the message.

    Raises
    ------
    SeisSegError
        When the suffix is not .sgy, .segy, .npy or .zarr (a file named without a suffix
        could not be opened again).
    """
    p = Path(path)
    if p.suffix.lower() not in (".sgy", ".segy", ".npy", ".zarr"):
        label = f"the {what} output" if what else "the output"
        raise SeisSegError(
            f"Cannot tell the format of {label} {p} from its name: end it in .sgy or .segy "
            "(SEG-Y), .npy or .zarr."
        )
    return file_kind(p)


def read_volume(path: Any, **options: Any) -> Volume:
    """Read SEG-Y (file, files or folder), .npy (+ geometry sidecar) or Zarr.

    Parameters
    ----------
    path : path or sequence of paths
        What to read; several paths (or a folder) are assembled as one SEG-Y survey.
    **options
        SEG-Y options for :func:`~napari_seisseg.io.segy_reader.read_segy` (``iline_byte``,
        ``xline_byte``, ``sample_format``, ``endian``, ``domain``, ``lazy``); ignored for
        .npy and Zarr except ``lazy``.  ``sample_axis`` (.npy and Zarr without a geometry,
        ignored for SEG-Y): ``"auto"`` (default), an axis number or None, as in
        :func:`~napari_seisseg.io.npy_io.read_npy`.

    Returns
    -------
    Volume
        Data in canonical axis order, and its geometry (None for plain arrays read as
        canonical without a given ``sample_axis``).  A plain array whose time axis was read
        from its amplitudes or given keeps the order it is stored in, with a geometry naming
        it (:mod:`.sample_axis`), so that what is written from it keeps the input's layout.
    """
    sample_axis = options.pop("sample_axis", "auto")
    if isinstance(path, list | tuple):
        if len(path) == 1:
            path = path[0]
        else:
            from .segy_reader import read_segy

            return read_segy(path, **options)
    kind = file_kind(path)
    if kind == "segy":
        from .segy_reader import read_segy

        return read_segy(path, **options)
    from .sample_axis import is_guessed

    lazy = options.get("lazy", "auto")
    if kind == "npy":
        from .npy_io import read_npy

        volume = read_npy(path, mmap=lazy is not False, sample_axis=sample_axis)
    else:
        from .zarr_io import read_zarr

        volume = read_zarr(path, sample_axis=sample_axis)
    return volume if is_guessed(volume.geometry) else volume.canonical()


def write_volume(path: str | os.PathLike, data: Any, geometry: SurveyGeometry | None = None,
                 **options: Any) -> Path:
    """Write ``data`` at once: :func:`write_volume_job` drained.

    Parameters
    ----------
    path, data, geometry, **options
        As for :func:`write_volume_job`.

    Returns
    -------
    pathlib.Path
        The path written.
    """
    return drain(write_volume_job(path, data, geometry, **options))


def write_volume_job(
    path: str | os.PathLike,
    data: Any,
    geometry: SurveyGeometry | None = None,
    *,
    overwrite: bool = False,
    sample_format: int = 5,
    template: Any = None,
    chunks: Any = None,
    cards: Any = None,
    kind: str | None = None,
) -> Generator[float, None, Path]:
    """Write ``data`` (in ``geometry.axes`` order) as SEG-Y, .npy (+ sidecar) or Zarr.

    A job (:mod:`napari_seisseg.jobs`): it yields the fraction written after each block
    and returns the path; drain it with :func:`~napari_seisseg.jobs.drain`, run it in a
    napari worker, or call :func:`write_volume` to write at once.

    Parameters
    ----------
    path : path
        Output; the suffix picks the format.
    data : array-like
        Numpy, memmap, dask, zarr or lazy SEG-Y array; written block by block.
    geometry : SurveyGeometry, optional
        Survey geometry of ``data``; required for SEG-Y.
    overwrite : bool
        Replace an existing output (never the source file of the data).
    sample_format : int
        SEG-Y sample format code (default 5, IEEE float).
    template : path or sequence of paths, optional
        SEG-Y file(s) whose headers are copied (default: the geometry's source files).
    chunks : tuple, optional
        Zarr chunk shape.
    cards : mapping, optional
        SEG-Y textual-header cards (see :func:`~napari_seisseg.io.segy_writer.write_segy_job`).
    kind : {"segy", "npy", "zarr"}, optional
        The format; default from the suffix of ``path``.

    Yields
    ------
    float
        The fraction written (0..1).

    Returns
    -------
    pathlib.Path
        The path written.
    """
    kind = kind or output_kind(path)
    if kind == "segy":
        from .segy_writer import write_segy_job

        return (yield from write_segy_job(path, data, geometry, template=template,
                                          sample_format=sample_format, overwrite=overwrite,
                                          cards=cards))
    if kind == "npy":
        from .npy_io import write_npy_job

        return (yield from write_npy_job(path, data, geometry, overwrite=overwrite))
    from .zarr_io import write_zarr_job

    return (yield from write_zarr_job(path, data, geometry, overwrite=overwrite, chunks=chunks))
