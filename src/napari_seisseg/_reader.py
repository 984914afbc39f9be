"""npe2 reader: SEG-Y, .npy (with our geometry sidecar) and Zarr, in survey coordinates.

``get_reader`` only looks at the path and returns None for what it cannot take.  The
returned reader never raises for bad input: it shows a napari notification that says what
is wrong and what to do, and returns napari's "nothing to add" sentinel.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

LayerData = tuple


def get_reader(path: str | list[str]) -> Callable[[Any], list[LayerData]] | None:
    """Return a reader for ``path``, or None when this plugin cannot read it."""
    if isinstance(path, list | tuple):
        if len(path) == 1:
            path = path[0]
        elif path and all(_suffix(p) in (".sgy", ".segy") for p in path):
            return _guarded(_read_segy_files)
        else:
            return None
    suffix = _suffix(path)
    if suffix in (".sgy", ".segy"):
        return _guarded(_read_segy_files)
    if suffix in (".npy", ".zarr"):
        from .io.probabilities import is_probabilities

        if is_probabilities(path):
            return _guarded(probability_layer_data)
    if suffix == ".npy":
        return _guarded(_read_npy)
    if suffix == ".zarr" and Path(path).is_dir():
        return _guarded(_read_zarr)
    return None


def probability_layer_data(path: Any) -> list[LayerData]:
    """One Image layer per class of probabilities written by ``seisseg predict``.

    Each layer is named ``P(class)``, coloured with the class colour (black to colour,
    additive blending, so classes mix as in the Predict widget) and placed in survey
    coordinates; only the first class of a two-class prediction is shown at first.
    """
    from .io.layer_colors import probability_colormap
    from .io.layers import volume_layer_data
    from .io.probabilities import PREDICTION_KEY, read_probabilities
    from .io.sample_axis import FILE_AXES_KEY, time_last_geometry

    probs = read_probabilities(path)
    # of a plain array: laid out as its image opens (time along the last axis, shown down)
    geometry = probs.geometry if probs.geometry is not None else time_last_geometry(
        tuple(probs.data.shape[1:]))
    stem = Path(os.fspath(path)).stem
    layers = []
    binary = bool(probs.description.get("binary"))
    for k, cls in enumerate(probs.channels):
        name = str(cls.get("name", k))
        cmap = probability_colormap(name, cls.get("color") or (1.0, 1.0, 1.0))
        meta = {PREDICTION_KEY: {"role": "probability", "class": name, "value": cls.get("value"),
                                 "model": probs.description.get("model"), "source": str(path),
                                 "priors": probs.description.get("priors"),
                                 "passes": probs.description.get("passes")}}
        data, kw, kind = volume_layer_data(probs.channel(k), geometry,
                                           f"{stem} P({name})", layer_type="image")
        kw.update(colormap=cmap, blending="additive", contrast_limits=[0.0, probs.scale],
                  opacity=0.8, visible=(k == 0) if binary else True)
        kw.setdefault("metadata", {}).update(meta)
        if probs.geometry is None and geometry is not None:
            kw["metadata"][FILE_AXES_KEY] = list(geometry.axes)
        layers.append((data, kw, kind))
    return layers


def segy_layer_data(
    path: Any, name: str | None = None, coordinates: str = "survey",
    exaggeration: float | None = None, **options: Any
) -> list[LayerData]:
    """Layer data for SEG-Y file(s); raises :class:`~napari_seisseg.errors.SeisSegError`.

    ``coordinates`` is ``"survey"`` (line numbers across, time or depth stretched by
    ``exaggeration``, None: automatic) or ``"samples"`` (square pixels);
    ``options`` go to :func:`~napari_seisseg.io.segy_reader.read_segy`.
    """
    from .io.segy_reader import read_segy

    volume = read_segy(path, **options)
    paths = list(path) if isinstance(path, list | tuple) else [path]
    first = Path(paths[0])
    if name is None:
        name = first.stem if not first.is_dir() else first.name
    one_file = len(paths) == 1 and first.is_file()  # a class sidecar belongs to one file
    return [volume_or_labels(volume, name, first if one_file else None,
                             text_header=volume.geometry.text_header, coordinates=coordinates,
                             exaggeration=exaggeration)]


def volume_or_labels(
    volume: Any, name: str, path: Any = None, text_header: str | None = None,
    coordinates: str = "survey",
    exaggeration: float | None = None,
) -> LayerData:
    """An Image or, for class labels, a Labels layer of ``volume``, with its class names.

    A Labels layer gets the class names and colours kept beside its file (``path``'s
    ``.classes.json`` sidecar, else the ``SEISSEG CLASSES`` card of ``text_header``; see
    :mod:`napari_seisseg.io.label_classes`).  A readable sidecar of the right shape counts as
    a name that says labels; what is wrong with one is a note, never an error.

    Parameters
    ----------
    volume : Volume
        Data and geometry as read.
    name : str
        Layer name.
    path : path, optional
        The file read (None for several SEG-Y files: only the textual header is looked at).
    text_header : str, optional
        The decoded SEG-Y textual header.
    coordinates : {"survey", "samples"}
        As in :func:`~napari_seisseg.io.layers.volume_layer_data`.
    exaggeration : float, optional
        Vertical exaggeration (None: automatic), as there.

    Returns
    -------
    tuple
        ``(data, kwargs, layer_type)``.
    """
    from .io.label_classes import NOTE_PREFIX, LabelClasses, read_classes
    from .io.layers import looks_like_labels, volume_layer_data
    from .io.sample_axis import FILE_AXES_KEY, is_guessed

    shape = volume.display().shape
    classes, notes = read_classes(path, shape, text_header, stored_shape=tuple(volume.shape))
    # only a sidecar's class table says "labels" on its own; a header card alone (it may
    # have been copied from a template) leaves the usual checks of the values to decide
    from_sidecar = classes is not None and classes != LabelClasses.from_text_header(text_header)
    hint = f"{name} (class table)" if from_sidecar else name  # 'class': a labels name
    is_labels = looks_like_labels(volume.data, hint)
    as_stored = None
    if is_labels and volume.geometry is None:
        volume, as_stored = _like_open_image(volume)
    if as_stored is None:
        volume = _shown_as_a_survey(volume, is_labels)
    else:
        notes.append(f"laid out as stored, as '{as_stored}' is shown (no time axis to turn "
                     "downwards)")
    if classes is not None and not is_labels:
        notes.append(f"{NOTE_PREFIX}the data are not whole non-negative numbers, so they open "
                     "as an image and the class names are not used")
    extra = classes.layer_kwargs() if classes is not None and is_labels else {}
    layer = volume_layer_data(volume.data, volume.geometry, name,
                              layer_type="labels" if is_labels else "image",
                              coordinates=coordinates, exaggeration=exaggeration, **extra)
    meta = layer[1].setdefault("metadata", {})
    if notes:
        meta["notes"] = [*(meta.get("notes") or []), *notes]
    if is_guessed(volume.geometry):  # the file's own order, for labels beside it and exports
        meta[FILE_AXES_KEY] = list(volume.geometry.axes)
    if not is_labels and (volume.geometry is None or is_guessed(volume.geometry)):
        shown = tuple(volume.data.shape)
        if volume.geometry is None and len(shown) == 3 and shown[-1] in (3, 4):
            shown = shown[:-1]  # napari shows it as an RGB(A) picture
        _warn_labels_laid_out_apart(meta, name, shown)
    return layer


def _warn_labels_laid_out_apart(metadata: dict, name: str, shape: tuple[int, ...]) -> None:
    """A warning for each open plain labels layer that lies transposed over this plain image
    (``shape``: the image's, shown as stored when it has no geometry)."""
    from .io.sample_axis import laid_out_apart

    viewer = _current_viewer()
    for layer in [] if viewer is None else list(viewer.layers):
        if type(layer).__name__ == "Labels" and laid_out_apart(metadata, layer.metadata, shape):
            from napari.utils.notifications import show_warning

            show_warning(f"'{layer.name}' is stored as '{name}' is, but was laid out before it, "
                         f"with time along its last axis: it lies transposed over '{name}'. Remove "
                         "it and open its file again (save it first if it was painted here).")


def _current_viewer() -> Any:
    """napari's current viewer, or None (headless use of the reader)."""
    try:
        import napari

        return napari.current_viewer()
    except Exception:  # noqa: BLE001 - no viewer
        return None


def _shown_as_a_survey(volume: Any, is_labels: bool) -> Any:
    """A plain array (no geometry) with the geometry seisseg reads it by: time last.

    napari then shows a cube as a survey is (time downwards, :func:`time_last_geometry`),
    as it does arrays whose time axis was read from the amplitudes.  A 2-D image is a
    section only when its amplitudes wiggle along the last axis (a map of a horizon or an
    attribute stays as stored); labels do not wiggle and are taken as the command line
    takes them, time last; arrays that cannot be traces along their last axis (1-D, 4-D, a
    last axis of a few values) stay as stored.
    """
    from .io.sample_axis import guess_sample_axis, time_last_geometry

    if volume.geometry is not None:
        return volume
    shape = tuple(volume.shape)
    if len(shape) == 2 and not is_labels and guess_sample_axis(volume.data).axis != 1:
        return volume
    geometry = time_last_geometry(shape)
    return volume if geometry is None else type(volume)(volume.data, geometry)


def _suffix(path: Any) -> str:
    return Path(os.fspath(path)).suffix.lower()


def _read_segy_files(path: Any) -> list[LayerData]:
    return segy_layer_data(list(path) if isinstance(path, list | tuple) else path)


def _read_npy(path: Any) -> list[LayerData]:
    from .io.npy_io import read_npy

    return [volume_or_labels(read_npy(path), Path(path).stem, path)]


def _read_zarr(path: Any) -> list[LayerData]:
    from .io.zarr_io import read_zarr

    return [volume_or_labels(read_zarr(path), Path(path).stem, path)]


def _like_open_image(volume: Any) -> tuple[Any, str | None]:
    """Plain labels (no geometry) laid out like an open image, or as stored like one.

    Such an image is shown transposed and stretched by its geometry; a labels file of the
    same stored layout has no geometry of its own, and would otherwise lie beside it.  An
    image whose time axis was guessed lends its layout (:func:`layout_like`, the image's
    file order first); a survey's image (SEG-Y, a geometry sidecar) its geometry, when the
    labels have its shape in seisseg's order (a mask exported as a plain array).  Failing
    both, an image shown as stored (a 2-D map, an array another reader opened) of the
    labels' shape keeps them as stored too, not time last: the second value names it (None
    otherwise).
    """
    viewer = _current_viewer()
    from dataclasses import replace

    from .errors import SeisSegError
    from .io.geometry import SurveyGeometry
    from .io.sample_axis import GUESSED_NOTE, file_axes, is_guessed, layout_like

    shape = tuple(volume.shape)
    as_stored = None  # an image shown as stored of this shape: the fallback
    for layer in [] if viewer is None else list(viewer.layers)[::-1]:
        if as_stored is None and _shown_as_stored(layer, shape):
            as_stored = layer.name
        try:
            theirs = SurveyGeometry.from_metadata(layer.metadata)
            geometry = layout_like(shape, theirs, file_axes(layer.metadata, theirs))
        except (SeisSegError, TypeError, ValueError):  # a layer's metadata we cannot read
            continue
        if geometry is not None:
            note = (f"{GUESSED_NOTE}: laid out like '{layer.name}' (time along its axis of "
                    f"{geometry.n_samples} values)")
            return type(volume)(volume.data, replace(geometry, notes=[note])), None
        if theirs is None or is_guessed(theirs):
            continue
        # a survey's mask written as a plain array: in seisseg's order, as Export's "none"
        # writes it, or in napari's display order, as it wrote it before 2026-12-07
        fits = [g for g in (replace(theirs, axes=theirs.canonical_axes), theirs) if g.shape == shape]
        if fits:
            note = (f"laid out like '{layer.name}': a plain array in "
                    + ("seisseg's order (inline, crossline, time)" if fits[0].axes == theirs.canonical_axes
                       else "napari's order (inline, time, crossline)")
                    + ", given that survey's geometry")
            if len(fits) == 2 and fits[0].axes != fits[1].axes:
                note += ("; its shape fits napari's order (inline, time, crossline) too, as "
                         "Export's 'none' wrote masks before 2026-12-07: if it lies across the "
                         "reflections, it is one of those (numpy.swapaxes(mask, 1, 2) turns it)")
            return type(volume)(volume.data, replace(fits[0], notes=[note])), None
    return volume, as_stored


def _shown_as_stored(layer: Any, shape: tuple[int, ...]) -> bool:
    """Whether ``layer`` is an image without any geometry (shown as stored) of ``shape``.

    A 2-D map, or an array another reader opened; not seisseg's live preview or result
    layers (their metadata names them), and an RGB picture by its rows and columns.
    """
    from .io.sample_axis import image_shape

    meta = getattr(layer, "metadata", None) or {}  # every seisseg key starts so (LIVE_KEY too)
    return (type(layer).__name__ == "Image" and not any(str(k).startswith("seisseg") for k in meta)
            and image_shape(layer) == shape)


def _guarded(read: Callable[[Any], list[LayerData]]) -> Callable[[Any], list[LayerData]]:
    """Wrap ``read`` so user errors become notifications instead of tracebacks."""

    def reader(path: Any) -> list[LayerData]:
        from napari.utils.notifications import show_error, show_info

        from .errors import SeisSegError

        try:
            layers = read(path)
        except SeisSegError as exc:
            show_error(f"napari-seisseg could not open {_display(path)}: {exc}")
            return [(None,)]
        except (OSError, MemoryError) as exc:
            show_error(f"napari-seisseg could not open {_display(path)}: {exc}")
            return [(None,)]
        for _data, kwargs, _kind in layers:
            notes = kwargs.get("metadata", {}).get("notes") or []
            for note in notes:
                show_info(f"{kwargs.get('name')}: {note}")
        from ._widgets.survey_status import watch_viewer

        watch_viewer()  # the status bar reads inline 122, 1200 ms
        return layers

    return reader


def _display(path: Any) -> str:
    if isinstance(path, list | tuple):
        return f"{len(path)} files" if len(path) > 1 else str(path[0])
    return str(path)
