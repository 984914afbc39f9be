"""Colours of the plugin's layers: class colours of a Labels layer, colormaps of probabilities.

No napari import: a Labels layer's colormap is read by duck typing, and a probability
colormap is given as the dict napari builds a ``Colormap`` from, so the reader and the
Predict widget colour probability layers alike.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["class_mask_style", "label_colors", "probability_colormap"]


def class_mask_style(classes: Any) -> dict[str, Any]:
    """``colormap`` and ``features`` of a mask Labels layer holding ``classes``.

    Parameters
    ----------
    classes : sequence of mapping
        ``{"value", "name", "color"}`` per class (a bundle's classes).

    Returns
    -------
    dict
        Keyword arguments of ``viewer.add_labels``: 0 (not labeled) transparent, every class
        in its colour, and the features table naming the values.
    """
    colors: dict[Any, Any] = {None: (0.0, 0.0, 0.0, 0.0), 0: (0.0, 0.0, 0.0, 0.0)}
    colors.update({c["value"]: tuple(c["color"]) for c in classes})
    return {"colormap": colors,
            "features": {"index": [0, *(c["value"] for c in classes)],
                         "class": ["unlabeled", *(c["name"] for c in classes)]}}


def label_colors(layer: Any, values: list[int]) -> dict[int, tuple[float, ...]]:
    """RGBA colour of each label value in a Labels layer's colormap (transparent ones left out).

    Parameters
    ----------
    layer : Any
        A Labels layer (anything whose ``colormap`` has a ``map`` method).
    values : list of int
        The label values wanted.

    Returns
    -------
    dict
        ``value -> (r, g, b, a)``; empty when the colormap cannot be read.
    """
    cmap = getattr(layer, "colormap", None)
    if cmap is None or not values:
        return {}
    try:
        colors = np.asarray(cmap.map(np.asarray(values, dtype=np.int64)), dtype=float)
    except Exception:  # noqa: BLE001 - an unusual colormap: fall back to the palette
        return {}
    out = {}
    for v, c in zip(values, colors.reshape(len(values), -1), strict=True):
        if c.size == 4 and c[3] > 0:
            out[int(v)] = tuple(float(x) for x in c)
    return out


def probability_colormap(name: str, color: Any) -> dict[str, Any]:
    """Black to the class ``color``: the colormap of a class's probability layer.

    Parameters
    ----------
    name : str
        The class name (part of the colormap's name).
    color : sequence of float
        The class colour, RGB or RGBA in 0..1 (alpha ignored).

    Returns
    -------
    dict
        ``colors`` and ``name``, as napari's ``Colormap`` takes them (a layer's ``colormap``
        argument accepts the dict).
    """
    r, g, b = (float(c) for c in list(color)[:3])
    return {"colors": [[0.0, 0.0, 0.0, 1.0], [r, g, b, 1.0]],
            "name": f"seisseg {name} {r:.3f},{g:.3f},{b:.3f}"}
