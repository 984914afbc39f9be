"""The class list: label value, name and colour of every class.

Names and colours come from the caller (a napari Labels layer's ``features`` table and
colormap, or the CLI); classes without them get ``"class <value>"`` and a palette colour.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import SeisSegError

__all__ = ["PALETTE", "ClassInfo", "build_classes", "class_names_from_features", "parse_class_names"]

#: Colours for classes without one (RGBA, 0..1), cycled.
PALETTE: tuple[tuple[float, float, float, float], ...] = (
    (0.95, 0.78, 0.25, 1.0),
    (0.85, 0.25, 0.85, 1.0),
    (1.0, 0.1, 0.1, 1.0),
    (0.2, 0.6, 1.0, 1.0),
    (0.3, 0.85, 0.3, 1.0),
    (1.0, 0.55, 0.1, 1.0),
    (0.55, 0.35, 0.2, 1.0),
    (0.6, 0.6, 0.6, 1.0),
)
#: Voxels handled at once when scanning large label arrays.


@dataclass(frozen=True)
class ClassInfo:
    """One class: its value in the Labels layer, a name and an RGBA colour (0..1)."""

    value: int
    name: str
    color: tuple[float, float, float, float]

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form ``{"value", "name", "color"}``."""
        return {
            "value": int(self.value),
            "name": self.name,
            "color": [float(c) for c in self.color],
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ClassInfo:
        """Inverse of :meth:`to_dict`."""
        return cls(int(d["value"]), str(d["name"]), tuple(float(c) for c in d["color"]))


def parse_class_names(text: str | None) -> list[str]:
    """Class names from a comma-separated list, e.g. ``"sediment, salt, fault"``.

    Parameters
    ----------
    text : str or None
        Names separated by commas; spaces around a name are dropped.

    Returns
    -------
    list of str
        The names in order (empty for an empty or blank ``text``).

    Raises
    ------
    SeisSegError
        If a name is empty (two commas in a row, a trailing comma), a name is repeated or is
        "unlabeled" (what 0 means), or there are more than 255 names.
    """
    if text is None or not str(text).strip():
        return []
    names = [n.strip() for n in str(text).split(",")]
    if any(not n for n in names):
        raise SeisSegError(
            f"An empty class name in '{text}'. Write the names separated by single commas, "
            "e.g. 'sediment, salt, fault'."
        )
    if any(n.casefold() in ("unlabeled", "not labeled") for n in names):
        raise SeisSegError(
            "'unlabeled' is what value 0 means (not labeled); name only the classes, "
            "e.g. 'sediment, salt'."
        )
    seen: set[str] = set()
    repeated = [n for n in names if n.casefold() in seen or seen.add(n.casefold())]
    if repeated:
        raise SeisSegError(
            f"The class name '{repeated[0]}' is given twice in '{text}'; every class needs its "
            "own name."
        )
    if len(names) > 255:
        raise SeisSegError(f"{len(names)} class names given; at most 255 classes are supported.")
    return names


def class_names_from_features(features: Any) -> dict[int, str]:
    """Read class names from a napari Labels layer's ``features`` table.

    Parameters
    ----------
    features : pandas.DataFrame or mapping of column name to sequence
        Needs a ``"class"`` or ``"name"`` column; the label value of each row is taken from an
        ``"index"``, ``"value"`` or ``"label"`` column when there is one, else it is the row
        number (napari's convention).

    Returns
    -------
    dict
        ``{label value: name}`` (empty when the table has no name column).
    """
    if features is None:
        return {}
    cols = {str(c): features[c] for c in features.keys()}
    name_col = next((cols[c] for c in ("class", "name", "class_name") if c in cols), None)
    if name_col is None:
        return {}
    names = [str(n) for n in list(name_col)]
    value_col = next((cols[c] for c in ("index", "value", "label") if c in cols), None)
    values = list(range(len(names))) if value_col is None else [int(v) for v in list(value_col)]
    return dict(zip(values, names, strict=True))


def _is_table(obj: Any) -> bool:
    """A features table (DataFrame or dict of columns) with a name column."""
    if obj is None or not hasattr(obj, "keys"):
        return False
    return any(str(k) in ("class", "name", "class_name") for k in obj.keys())


def _rgba(color: Any) -> tuple[float, float, float, float]:
    if isinstance(color, str):
        h = color.lstrip("#")
        if len(h) not in (6, 8):
            raise SeisSegError(f"Cannot read colour {color!r}; use '#rrggbb' or RGBA floats.")
        vals = [int(h[i : i + 2], 16) / 255.0 for i in range(0, len(h), 2)]
    else:
        vals = [float(c) for c in np.asarray(color, dtype=float).ravel()]
        if vals and max(vals) > 1.0:
            vals = [v / 255.0 for v in vals]
    if len(vals) == 3:
        vals.append(1.0)
    if len(vals) != 4:
        raise SeisSegError(f"Cannot read colour {color!r}; use '#rrggbb' or 3-4 numbers.")
    return tuple(vals)  # type: ignore[return-value]


def build_classes(
    values: Sequence[int],
    class_names: Mapping[int, str] | Sequence[str] | None = None,
    class_colors: Mapping[Any, Any] | None = None,
    *,
    zero_is_background: bool = False,
) -> list[ClassInfo]:
    """Make the class list for the given label values.

    Parameters
    ----------
    values : sequence of int
        Label values of the classes, sorted.
    class_names : mapping, sequence or features table, optional
        ``{value: name}``, names listed from value 1 (value 0 with ``zero_is_background``),
        or a Labels layer's ``features`` table (see :func:`class_names_from_features`).
    class_colors : mapping, optional
        ``{value: colour}`` (RGBA floats, RGB, 0-255 values or ``"#rrggbb"``), e.g. a napari
        Labels colormap dict; other keys (``None``) are ignored.
    zero_is_background : bool
        How a sequence of names is numbered.

    Returns
    -------
    list of ClassInfo
    """
    if _is_table(class_names):
        class_names = class_names_from_features(class_names)
    if class_names is not None and not isinstance(class_names, Mapping):
        start = 0 if zero_is_background else 1
        class_names = {start + i: str(n) for i, n in enumerate(class_names)}
    names = {int(k): str(v) for k, v in (class_names or {}).items()}
    colors = {}
    for k, v in (class_colors or {}).items():
        if isinstance(k, (int, np.integer)) and v is not None:
            colors[int(k)] = _rgba(v)
    out = []
    for i, v in enumerate(values):
        name = names.get(int(v)) or f"class {int(v)}"
        out.append(ClassInfo(int(v), name, colors.get(int(v), PALETTE[i % len(PALETTE)])))
    return out
