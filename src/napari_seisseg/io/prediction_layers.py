"""Names and descriptions of the layers a prediction adds (no napari import).

The Predict widget's layers carry ``metadata["seisseg_prediction"]`` (the model, the source
image, the time, the part predicted); their names are kept short and numbered alike when
taken (:func:`numbered_names`), and :func:`describe` gives the line shown for the selected
layer.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from .probabilities import PREDICTION_KEY

__all__ = ["describe", "numbered_names", "prediction_info", "seconds_text"]


def numbered_names(taken: Iterable[str], bases: Sequence[str]) -> list[str]:
    """``bases`` as they are, or all numbered alike (``name (2)``...) if one is ``taken``.

    Parameters
    ----------
    taken : iterable of str
        Names already in use (the viewer's layers).
    bases : sequence of str
        The names wanted for the layers of one prediction.

    Returns
    -------
    list of str
        ``bases``, or each with the smallest `` (n)``, n >= 2, that frees all of them.
    """
    used = set(taken)
    if not used.intersection(bases):
        return list(bases)
    n = 2
    while any(f"{b} ({n})" in used for b in bases):
        n += 1
    return [f"{b} ({n})" for b in bases]


def seconds_text(seconds: float) -> str:
    """A duration for a status line: ``12.3 s``, or ``40 ms`` under a tenth of a second."""
    seconds = float(seconds)
    return f"{seconds:.1f} s" if seconds >= 0.1 else f"{seconds * 1000:.0f} ms"


def prediction_info(layer: Any) -> dict:
    """The prediction metadata a layer carries (empty for other layers)."""
    info = getattr(layer, "metadata", {}).get(PREDICTION_KEY)
    return info if isinstance(info, dict) else {}


def describe(layer: Any) -> str | None:
    """Where a predicted layer comes from, in one line (None for other layers).

    Parameters
    ----------
    layer : napari.layers.Layer
        Any layer.

    Returns
    -------
    str or None
        E.g. ``'mask (2)': facies on 'synthetic seismic', inline 117 only, along inline
        sections, 2025-05-01 14:03:12 (40 ms)`` (what was averaged, when recorded: the
        orientations, their weights, the axes flipped); None when ``layer`` holds no
        prediction metadata.
    """
    info = prediction_info(layer)
    if not info:
        return None
    text = f"'{layer.name}': {info.get('model') or 'a model'}"
    if info.get("source"):
        text += f" on '{info['source']}'"
    if info.get("slice"):
        text += f", {info['slice']} only"
    passes = info.get("passes")
    if isinstance(passes, dict) and passes.get("text"):
        text += f", {passes['text']}"
    if info.get("time"):
        text += f", {info['time']}"
        if info.get("seconds") is not None:
            text += f" ({seconds_text(info['seconds'])})"
    return text
