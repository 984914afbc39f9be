"""Positions in survey words: what the status line says, what the user types to go to a slice.

A layer carrying a survey geometry is placed in world coordinates (line numbers, or indices,
and a stretched vertical axis, :meth:`~napari_seisseg.io.geometry.SurveyGeometry.napari_kwargs`);
:func:`survey_words` turns a world position back into line numbers and times, and
:func:`parse_goto` reads what an interpreter types (``inline 122``, ``1200 ms``).  Plain
functions of metadata and text (no napari import).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from .geometry import DISPLAY_KEY, METADATA_KEY

__all__ = ["GoTo", "parse_goto", "survey_words"]

_LINES = {"inline": "ilines", "crossline": "xlines", "trace": "traces"}


def _nearest(values: Any, w: float) -> float:
    values = np.asarray(values, dtype=float)
    return float(values[int(np.argmin(np.abs(values - w)))]) if values.size else w


def survey_words(metadata: dict[str, Any], world: Sequence[float]) -> list[str]:
    """``["inline 122", "1200 ms", "crossline 885"]`` for a world position of a layer.

    Line numbers and times are those of the nearest trace and sample.

    Parameters
    ----------
    metadata : dict
        The layer's metadata (its geometry and display settings, in the layer's axis order).
    world : sequence of float
        World position along the layer's axes.

    Returns
    -------
    list of str
        One entry per axis (empty when the metadata holds no survey geometry).
    """
    if not metadata or METADATA_KEY not in metadata:
        return []
    axes = list(metadata.get("axes") or [])
    display = metadata.get(DISPLAY_KEY) or {}
    per_world = display.get("vertical_per_world")
    t0, dt = float(metadata.get("t0", 0.0) or 0.0), float(metadata.get("dt", 0.0) or 0.0)
    unit = metadata.get("unit", "ms")
    out = []
    for name, w in zip(axes, world, strict=False):
        values = metadata.get(_LINES.get(name, ""))
        if name == "sample":
            index = (w * per_world - t0) / dt if per_world and dt else w
            index = max(0, round(index))
            t = t0 + index * dt if dt else float(index)
            out.append(f"{t:g} {unit}" if dt and unit != "sample" else f"sample {round(t)}")
            continue
        label = metadata.get("trace_key", "trace") if name == "trace" else name
        if per_world:  # world = line number
            line = _nearest(values, w) if values is not None else round(w)
        else:  # world = index
            i = round(w)
            line = float(np.asarray(values)[i]) if values is not None and \
                0 <= i < len(values) else i
        out.append(f"{label} {line:g}")
    return out


_ALIASES = {"inline": "inline", "il": "inline", "iline": "inline",
            "crossline": "crossline", "xl": "crossline", "xline": "crossline",
            "trace": "trace", "cdp": "trace", "time": "sample", "t": "sample",
            "depth": "sample", "z": "sample", "sample": "sample", "samples": "sample"}


class GoTo(NamedTuple):
    """A position typed to go to: the axis, its value and how it was named."""

    #: "inline", "crossline", "trace" or "sample"
    axis: str
    value: float
    #: the unit typed after the value ("ms", "m", "ft"), or None ("time 1200", "sample 30")
    unit: str | None = None
    #: whether a sample number was typed ("sample 30"), not a time or depth
    by_index: bool = False


_GOTO = re.compile(r"(?:([a-z]+)\s*=?\s*)?(-?(?:\d+\.?\d*|\.\d+))\s*(ms|m|ft)?")


def parse_goto(text: str) -> GoTo:
    """``"inline 122"`` -> ``GoTo("inline", 122.0)``; ``"1200 ms"`` -> ``GoTo("sample", 1200.0, "ms")``.

    A unit alone names a time or depth; ``sample N`` (``samples N``) a sample number.

    Raises
    ------
    ValueError
        With the accepted forms, for anything else.
    """
    m = _GOTO.fullmatch(text.strip().lower())
    word, unit = (m.group(1), m.group(3)) if m else (None, None)
    if word in ("sample", "samples") and unit is not None:
        raise ValueError(f"'{text.strip()}': 'sample' counts samples from 0 and takes no unit; "
                         f"type 'sample {m.group(2)}' or '{m.group(2)} {unit}'.")
    if _ALIASES.get(word) in ("inline", "crossline", "trace") and unit is not None:
        raise ValueError(f"'{text.strip()}': a line number takes no unit; type "
                         f"'{word} {m.group(2)}' or '{m.group(2)} {unit}'.")
    if m and (word in _ALIASES or (word is None and unit is not None)):
        return GoTo(_ALIASES[word] if word else "sample", float(m.group(2)), unit,
                    word in ("sample", "samples"))
    raise ValueError(f"'{text}' is not a position: type e.g. 'inline 122', 'crossline 885', "
                     "'1200 ms', 'depth 1500' or 'sample 30'.")
