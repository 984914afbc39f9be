"""A napari Labels layer's features table and colormap as plain JSON values.

No napari import: features tables are read as mappings of columns (a pandas DataFrame or a
dict), colormaps by duck typing (a ``color_dict``, or a ``{value: colour}`` mapping).
:mod:`.label_classes` keeps what these give beside exported masks.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from typing import Any

__all__ = ["Color", "direct_colors", "features_table", "hex_color", "is_plain", "plain_value", "rgba"]

#: An RGBA colour, floats in 0..1.
Color = tuple[float, float, float, float]


def is_plain(v: Any) -> bool:
    """Whether ``v`` is a JSON scalar (None, str, int, float or bool)."""
    return v is None or isinstance(v, str | int | float | bool)


def plain_value(v: Any) -> Any:
    """A JSON value for ``v`` (numpy scalars unwrapped, NaN as None); raises TypeError otherwise."""
    if hasattr(v, "item") and not isinstance(v, str | bytes):
        v = v.item()
    if v is None or isinstance(v, bool | str):
        return v
    if isinstance(v, int):
        return int(v)
    if isinstance(v, float):
        return None if math.isnan(v) or math.isinf(v) else float(v)
    try:  # pandas' missing values
        import pandas as pd

        if pd.isna(v):
            return None
    except (ImportError, TypeError, ValueError):
        pass
    raise TypeError(f"{type(v).__name__} is not a plain value")


def features_table(features: Any) -> dict[str, list]:
    """A features table as ``{column: [plain values]}``; empty when it has no rows."""
    if features is None or not hasattr(features, "keys"):
        return {}
    out: dict[str, list] = {}
    for name in list(features.keys()):
        col = features[name]
        values = col.tolist() if hasattr(col, "tolist") else list(col)
        try:
            out[str(name)] = [plain_value(v) for v in values]
        except (TypeError, ValueError):
            continue  # a column of objects or arrays: left out
    if not out or not any(len(v) for v in out.values()):
        return {}
    return out


def direct_colors(colormap: Any) -> tuple[dict[int, Color], Color | None]:
    """Colours of a direct colormap (or a ``{value: colour}`` mapping); none for a cyclic one."""
    mapping = getattr(colormap, "color_dict", None)
    if mapping is None and isinstance(colormap, Mapping):
        mapping = colormap
    if mapping is None:
        return {}, None
    colors: dict[int, Color] = {}
    default: Color | None = None
    for k, c in dict(mapping).items():
        try:
            color = rgba(c)
        except ValueError:
            continue
        if k is None:
            default = color
        elif isinstance(k, numbers.Integral) and not isinstance(k, bool):
            colors[int(k)] = color
    return colors, default


def rgba(c: Any) -> Color:
    """RGBA floats in 0..1 from 3 or 4 numbers; ValueError otherwise."""
    if isinstance(c, str) or not hasattr(c, "__len__"):
        raise ValueError(f"the colour {c!r} is not 3 or 4 numbers")
    try:
        vals = [float(x) for x in list(c)]
    except (TypeError, ValueError) as exc:
        raise ValueError(f"the colour {c!r} is not 3 or 4 numbers") from exc
    if len(vals) == 3:
        vals.append(1.0)
    if len(vals) != 4 or not all(0.0 <= x <= 1.0 for x in vals):
        raise ValueError(f"the colour {c!r} is not 3 or 4 numbers between 0 and 1")
    return (vals[0], vals[1], vals[2], vals[3])


def hex_color(c: Color) -> str:
    """``#rrggbb`` (``#rrggbbaa`` when not opaque) of an RGBA colour."""
    parts = [round(x * 255) for x in (c if c[3] < 1.0 else c[:3])]
    return "#" + "".join(f"{p:02x}" for p in parts)
