"""Class names and colours of a mask, kept beside it so an exported mask re-opens the same.

A napari Labels layer names its classes in its ``features`` table (a ``class`` column, and an
``index`` column of label values) and colours them in its colormap (a direct colormap: a
colour per label value).  Neither survives a plain array file, so exports of a Labels layer
(the npe2 writers and the Export widget) keep them in two places:

- a JSON sidecar beside the file, named after the whole file name (``mask.sgy`` ->
  ``mask.sgy.classes.json``, ``mask.npy`` -> ``mask.npy.classes.json``: masks of the same
  name in several formats never share one) (the features table, the colours, the shape of the layer and the
  name of the file it was written for), written atomically;
- for SEG-Y, one card of the textual header, ``C38 SEISSEG CLASSES 1=salt#d62728 2=fault``
  (names percent-encoded; colours dropped, then classes, when they do not fit, ending in
  ``...``), so names come back from the file alone.

The reader (:func:`read_classes`) never fails: a missing, damaged or inconsistent sidecar is
ignored with a note (starting with :data:`NOTE_PREFIX`), falling back to the SEG-Y card when
there is one.  No napari import here: colormaps are read by duck typing.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Generator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from .. import __version__
from ..errors import SeisSegError
from .layer_values import Color, direct_colors, features_table, hex_color, is_plain, rgba

__all__ = ["CLASSES_SUFFIX", "HEADER_KEY", "NOTE_PREFIX", "LabelClasses", "check_classes_target",
           "classes_path", "read_classes", "save_classes", "without_class_notes"]

#: Sidecar suffix: ``mask.sgy`` -> ``mask.sgy.classes.json``.
CLASSES_SUFFIX = ".classes.json"
#: First words of the SEG-Y textual-header card holding the class names.
HEADER_KEY = "SEISSEG CLASSES"
#: Characters of a card after ``Cnn ``.
CARD_TEXT_WIDTH = 76
#: Every note :func:`read_classes` makes starts with this (so writers can leave them out).
NOTE_PREFIX = "class names: "
_FORMAT_VERSION = 1
_NAME_COLUMNS = ("class", "name", "class_name")
_VALUE_COLUMNS = ("index", "value", "label")
_TRANSPARENT = (0.0, 0.0, 0.0, 0.0)
_CARD = re.compile(r"^C\s*\d+\s+" + re.escape(HEADER_KEY) + r"(?:\s+(.*))?$")
_ENTRY = re.compile(r"^(\d+)=([^#]*)(?:#([0-9a-fA-F]{8}|[0-9a-fA-F]{6}))?$")



def classes_path(data_path: str | os.PathLike) -> Path:
    """Path of the class sidecar of a data file: ``mask.sgy`` -> ``mask.sgy.classes.json``.

    Parameters
    ----------
    data_path : path
        The SEG-Y, .npy or Zarr file (a Zarr store is a folder).

    Returns
    -------
    pathlib.Path
        Beside ``data_path``.
    """
    p = Path(data_path)
    return p.with_name(p.name + CLASSES_SUFFIX)


@dataclass
class LabelClasses:
    """The class table and colours of a Labels layer.

    Attributes
    ----------
    features : dict
        Column name -> list of values (str, int, float, bool or None): the layer's
        ``features`` table, one row per class.
    colors : dict
        Label value -> RGBA floats, from a direct colormap; empty when the layer uses napari's
        default (cyclic) colours.
    default_color : tuple or None
        Colour of label values without one of their own (the direct colormap's ``None`` key).
    """

    features: dict[str, list] = field(default_factory=dict)
    colors: dict[int, Color] = field(default_factory=dict)
    default_color: Color | None = None

    # ------------------------------------------------------------------ from a layer
    @classmethod
    def from_layer(cls, features: Any, colormap: Any) -> LabelClasses | None:
        """Read a layer's ``features`` table and colormap; None when they hold nothing to keep.

        Parameters
        ----------
        features : pandas.DataFrame, mapping of columns, or None
            ``layer.features``.  Columns whose values are not plain numbers, strings or
            booleans are left out.
        colormap : napari colormap, mapping or None
            ``layer.colormap``: colours are kept from a direct colormap (``color_dict``) or a
            ``{value: colour}`` mapping; napari's default cyclic colormap needs nothing kept.

        Returns
        -------
        LabelClasses or None
        """
        table = features_table(features)
        colors, default = direct_colors(colormap)
        if not table and not colors:
            return None
        return cls(table, colors, default)

    # ------------------------------------------------------------------ for a layer
    def names(self) -> dict[int, str]:
        """``{label value: class name}`` from the features table (empty without a name column).

        Values come from an ``index`` (or ``value``, ``label``) column, else the row number
        (napari's convention), as in
        :func:`napari_seisseg.bundle.classes.class_names_from_features`.
        """
        name_col = next((self.features[c] for c in _NAME_COLUMNS if c in self.features), None)
        if name_col is None:
            return {}
        value_col = next((self.features[c] for c in _VALUE_COLUMNS if c in self.features), None)
        values = range(len(name_col)) if value_col is None else value_col
        out = {}
        for v, n in zip(values, name_col, strict=False):
            if isinstance(v, int | float) and not isinstance(v, bool) and float(v).is_integer() \
                    and n is not None:
                out[int(v)] = str(n)
        return out

    def layer_kwargs(self) -> dict[str, Any]:
        """``features`` and ``colormap`` keyword arguments for a napari Labels layer."""
        kw: dict[str, Any] = {}
        if self.features:
            kw["features"] = {k: list(v) for k, v in self.features.items()}
        if self.colors:
            cmap: dict[Any, Any] = {None: self.default_color or _TRANSPARENT}
            cmap.update(self.colors)
            kw["colormap"] = cmap
        return kw

    # ------------------------------------------------------------------ JSON sidecar
    def to_json_dict(self, shape: Sequence[int], data_file: str) -> dict[str, Any]:
        """The sidecar's content.

        Parameters
        ----------
        shape : sequence of int
            Shape of the Labels layer (napari's axis order), checked on reading.
        data_file : str
            Name of the file the sidecar belongs to.

        Returns
        -------
        dict
        """
        return {
            "written_by": f"napari-seisseg {__version__}",
            "format_version": _FORMAT_VERSION,
            "data_file": data_file,
            "shape": [int(n) for n in shape],
            "features": self.features,
            "colors": {str(k): list(c) for k, c in sorted(self.colors.items())},
            "default_color": None if self.default_color is None else list(self.default_color),
        }

    @classmethod
    def from_json_dict(cls, d: Any) -> LabelClasses:
        """Inverse of :meth:`to_json_dict`; raises ValueError for anything malformed."""
        if not isinstance(d, dict):
            raise ValueError("it does not hold a JSON object")
        features = d.get("features") or {}
        if not isinstance(features, dict):
            raise ValueError("'features' is not a table of columns")
        lengths = set()
        for name, col in features.items():
            if not isinstance(col, list) or not all(is_plain(v) for v in col):
                raise ValueError(f"the column {name!r} is not a list of plain values")
            lengths.add(len(col))
        if len(lengths) > 1:
            raise ValueError("the columns of 'features' differ in length")
        raw = d.get("colors") or {}
        if not isinstance(raw, dict):
            raise ValueError("'colors' is not a mapping of label values to colours")
        colors = {}
        for k, c in raw.items():
            if not str(k).lstrip("-").isdigit():
                raise ValueError(f"the colour key {k!r} is not a label value")
            colors[int(k)] = rgba(c)
        default = d.get("default_color")
        return cls(dict(features), colors, None if default is None else rgba(default))

    # ------------------------------------------------------------------ SEG-Y card
    def header_text(self, width: int = CARD_TEXT_WIDTH) -> str:
        """The textual-header card text, ``SEISSEG CLASSES 1=salt#d62728 2=fault ...``.

        Value 0 is left out when it is the usual ``unlabeled``.  Colours (``#rrggbb``, or
        ``#rrggbbaa`` when not opaque) are dropped when they do not all fit; then the last
        classes, replaced by ``...``.

        Parameters
        ----------
        width : int
            Characters available (76 on a card after ``Cnn``).

        Returns
        -------
        str
        """
        names = {v: n for v, n in sorted(self.names().items())
                 if not (v == 0 and n.strip().lower() == "unlabeled")}
        plain = [f"{v}={quote(n, safe='')}" for v, n in names.items()]
        colored = [e + (hex_color(self.colors[v]) if v in self.colors else "")
                   for e, v in zip(plain, names, strict=True)]
        for entries in (colored, plain):
            text = " ".join([HEADER_KEY, *entries])
            if len(text) <= width:
                return text
        text = HEADER_KEY
        for entry in plain:
            if len(text) + 1 + len(entry) + len(" ...") > width:
                break
            text += " " + entry
        return text + " ..."

    @classmethod
    def from_text_header(cls, text: str | None) -> LabelClasses | None:
        """Classes from a ``SEISSEG CLASSES`` card of a decoded textual header, or None.

        Value 0 is named ``unlabeled`` when the card does not name it; colours come as a
        direct colormap (0 and other values transparent) when the card has them.
        """
        for line in (text or "").splitlines():
            m = _CARD.match(line.strip())
            if not m:
                continue
            names: dict[int, str] = {}
            colors: dict[int, Color] = {}
            for token in (m.group(1) or "").split():
                e = _ENTRY.match(token)
                if e is None:
                    continue
                v = int(e.group(1))
                names[v] = unquote(e.group(2))
                if e.group(3):
                    h = e.group(3)
                    channels = [int(h[i : i + 2], 16) / 255.0 for i in range(0, len(h), 2)]
                    colors[v] = tuple([*channels, 1.0][:4])  # type: ignore[assignment]
            if not names:
                return None
            names.setdefault(0, "unlabeled")
            values = sorted(names)
            features = {"index": values, "class": [names[v] for v in values]}
            if colors:
                colors.setdefault(0, _TRANSPARENT)
            return cls(features, colors, _TRANSPARENT if colors else None)
        return None


def check_classes_target(data_path: str | os.PathLike, *, overwrite: bool) -> None:
    """Refuse, before anything is written, to replace a class sidecar not meant to be replaced.

    The sidecar of ``data_path`` is replaced (or removed, when the new mask has no classes,
    so that it cannot describe the new file) only with ``overwrite``; otherwise an existing
    one is refused as an existing output file is.

    Parameters
    ----------
    data_path : path
        The output file.
    overwrite : bool
        Whether the user allowed replacing existing files.

    Raises
    ------
    SeisSegError
        When the sidecar exists and ``overwrite`` is False.
    """
    side = classes_path(data_path)
    if not overwrite and (side.exists() or side.is_symlink()):
        raise SeisSegError(
            f"{side} already exists (the class names of another export) and would describe "
            f"{Path(data_path).name}. Choose another output name, delete it, or allow replacing "
            "files ('replace an existing file' in the Export widget)."
        )


def save_classes(
    data_path: str | os.PathLike, classes: LabelClasses | None, shape: Sequence[int]
) -> Path | None:
    """Write the class sidecar of ``data_path`` (atomically), or remove a stale one.

    Call :func:`check_classes_target` first: this replaces what is there.

    Parameters
    ----------
    data_path : path
        The file just written.
    classes : LabelClasses or None
        What to keep; None removes an existing sidecar (it would describe another mask).
    shape : sequence of int
        Shape of the Labels layer (napari's axis order).

    Returns
    -------
    pathlib.Path or None
        The sidecar written, or None.
    """
    from .atomic import atomic_write_text

    side = classes_path(data_path)
    if classes is None:
        if side.is_file() or side.is_symlink():
            side.unlink()
        return None
    content = classes.to_json_dict(shape, Path(data_path).name)
    text = ",\n".join(f" {json.dumps(k)}: {json.dumps(v)}" for k, v in content.items())
    atomic_write_text(side, "{\n" + text + "\n}\n")  # one line a key: easy to read and edit
    return side


def read_classes(
    data_path: str | os.PathLike | None, shape: Sequence[int], text_header: str | None = None,
    stored_shape: Sequence[int] | None = None,
) -> tuple[LabelClasses | None, list[str]]:
    """Classes of the mask at ``data_path``: from its sidecar, else from its SEG-Y card.

    Never raises for a bad sidecar: a damaged one, one for another shape, or one written for
    another file that lies beside it, is ignored with a note.

    Parameters
    ----------
    data_path : path or None
        The file opened (None: only ``text_header`` is looked at).
    shape : sequence of int
        Shape of its Labels layer (napari's axis order).
    text_header : str, optional
        Decoded SEG-Y textual header, for the ``SEISSEG CLASSES`` card.
    stored_shape : sequence of int, optional
        The mask's shape as its file stores it, also accepted: a plain array's layer is
        saved in its file's order, and shown transposed.

    Returns
    -------
    classes : LabelClasses or None
    notes : list of str
        What was ignored and why, each starting with :data:`NOTE_PREFIX`.
    """
    notes: list[str] = []
    header = LabelClasses.from_text_header(text_header)
    fallback = "; names from the SEG-Y textual header instead" if header is not None else \
        "; opened without class names"
    if data_path is None:
        return header, notes
    p = Path(data_path)
    side = classes_path(p)
    if not side.is_file():
        if header is not None:
            notes.append(f"{NOTE_PREFIX}{side.name} (names and colours) is missing{fallback}")
        return header, notes
    try:
        d = json.loads(side.read_text(encoding="utf-8"))
        classes = LabelClasses.from_json_dict(d)
        written_shape = tuple(int(n) for n in d.get("shape") or ())
    except (OSError, UnicodeDecodeError, ValueError, TypeError) as exc:
        notes.append(f"{NOTE_PREFIX}{side.name} is damaged ({exc}), ignored{fallback}")
        return header, notes
    accepted = {tuple(int(n) for n in shape)}
    if stored_shape is not None:
        accepted.add(tuple(int(n) for n in stored_shape))
    if written_shape not in accepted:
        notes.append(f"{NOTE_PREFIX}{side.name} describes a mask of shape {written_shape}, not "
                     f"{tuple(shape)}, so it belongs to another file; ignored{fallback}")
        return header, notes
    owner = d.get("data_file")
    if isinstance(owner, str) and owner and owner != p.name and (p.parent / owner).exists():
        notes.append(f"{NOTE_PREFIX}{side.name} was written for {owner}, not {p.name}; "
                     f"ignored{fallback}")
        return header, notes
    return classes, notes


def without_class_notes(notes: Sequence[str]) -> list[str]:
    """``notes`` less those :func:`read_classes` made (they are about the file read, not written)."""
    return [n for n in notes if not str(n).startswith(NOTE_PREFIX)]


def write_labels(path: str | os.PathLike, data: Any, geometry: Any,
                 classes: LabelClasses | None, **options: Any) -> Path:
    """Write a Labels layer at once: :func:`write_labels_job` drained (same parameters)."""
    from ..jobs import drain

    return drain(write_labels_job(path, data, geometry, classes, **options))


def write_labels_job(
    path: str | os.PathLike,
    data: Any,
    geometry: Any,
    classes: LabelClasses | None,
    *,
    overwrite: bool = False,
    sidecar_overwrite: bool | None = None,
    sample_format: int = 5,
    kind: str | None = None,
) -> Generator[float, None, Path]:
    """Write a Labels layer's data as SEG-Y, .npy or Zarr and keep its class names and colours.

    A job (:mod:`napari_seisseg.jobs`): yields the fraction of the data written.

    Both outputs are checked before anything is written; the data file is written first
    (atomically), then the sidecar (:func:`save_classes`), so a sidecar never describes a
    file that failed.  SEG-Y also gets the ``SEISSEG CLASSES`` card (a stale one, copied from
    a template, is blanked when the layer has no classes).

    Parameters
    ----------
    path : path
        Output file; its suffix picks the format.
    data : array-like
        The layer's data, in ``geometry.axes`` order (napari's).
    geometry : SurveyGeometry or None
        Survey geometry of ``data`` (required for SEG-Y).
    classes : LabelClasses or None
        From :meth:`LabelClasses.from_layer`; None removes a stale sidecar.
    overwrite : bool
        Replace an existing data file (never the source SEG-Y).
    sidecar_overwrite : bool, optional
        Replace an existing sidecar; default ``overwrite``.
    sample_format : int
        SEG-Y sample format code.
    kind : {"segy", "npy", "zarr"}, optional
        The format; default from the suffix of ``path``.

    Yields
    ------
    float
        The fraction of the data written.

    Returns
    -------
    pathlib.Path
        The data file written.
    """
    from .volume import output_kind, write_volume_job

    kind = kind or output_kind(path)
    check_classes_target(path, overwrite=overwrite if sidecar_overwrite is None else sidecar_overwrite)
    card = classes.header_text() if classes is not None and classes.names() else None
    out = yield from write_volume_job(path, data, geometry, sample_format=sample_format,
                                      overwrite=overwrite, cards={HEADER_KEY: card}, kind=kind)
    save_classes(out, classes, tuple(int(n) for n in data.shape))
    return out
