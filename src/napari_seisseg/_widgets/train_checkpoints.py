"""The Train widget's offer of a killed run's checkpoint (see :mod:`napari_seisseg.training.checkpoint`).

When the image chosen for training is a cube a killed run was training on, its best model
is loaded into the session's models (so it can be chosen in 'start from' or predicted with)
and a notification says what it is.  Each checkpoint is offered once per session.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

_OFFERED: set[Path] = set()


def offer_checkpoint(layer: Any, load: Callable[[Path], Any]) -> str | None:
    """Load the newest checkpoint left on ``layer``'s cube into the session and say so.

    Parameters
    ----------
    layer : napari.layers.Image or None
        The image chosen for training.
    load : callable
        ``load(path)`` loads a bundle into the session's models without making it the
        current one, and returns its store entry (or None).

    Returns
    -------
    str or None
        The message shown (also as a notification), or None when there is nothing to offer.
    """
    from napari.utils.notifications import show_info

    from ..io.layer_axes import layer_geometry
    from ..training.checkpoint import find_checkpoints, has_checkpoints
    from ..training.pretrain_store import cube_fingerprint

    if layer is None or getattr(layer, "multiscale", False) or not has_checkpoints():
        return None
    try:
        found = [c for c in find_checkpoints(cube_fingerprint(layer.data, layer_geometry(layer)))
                 if c.path not in _OFFERED]
        if not found:
            return None
        _OFFERED.update(c.path for c in found)  # the newest is offered; older ones never
        info = found[0]
        entry = load(info.path)
        if entry is None:
            return None
        message = (f"Train: {info.describe()}. It is loaded as '{entry.name}': choose it in "
                   "'start from' (advanced options) to continue training from it, or predict "
                   "with it.")
    except Exception:  # noqa: BLE001 - an offer must never get in the way
        logger.exception("offering a checkpoint failed")
        return None
    show_info(message)
    return message
