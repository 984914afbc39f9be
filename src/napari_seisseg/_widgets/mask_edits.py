"""napari's side of tracking the user's edits of a predicted mask.

The bookkeeping (what the plugin wrote, what the user changed) is
:mod:`napari_seisseg.training.mask_edits`; here are the two writes into napari layers that go
with it: rewriting a mask except the edited voxels (clearing napari's undo history, whose
entries would bring back the old prediction), and copying voxels into painted labels as one
undo step.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..training.mask_edits import copy_targets, rewrite_unedited

__all__ = ["clear_undo_history", "copy_into_labels", "rewrite_mask"]


def rewrite_mask(layer: Any, new: np.ndarray) -> int:
    """Write ``new`` into the mask ``layer`` except where the user edited it; redraw it.

    The layer's undo history is cleared: its entries hold values from before the rewrite,
    and undoing one would bring back the old prediction, which would then count as an edit.

    Returns
    -------
    int
        Number of edited voxels kept as the user left them.
    """
    kept = rewrite_unedited(layer, new)
    clear_undo_history(layer)
    layer.refresh()
    return kept


def clear_undo_history(layer: Any) -> None:
    """Empty the undo and redo history of a Labels layer, through public API only.

    napari clears a Labels layer's history when it stops being editable (and puts it in pan
    and zoom mode); the layer is made editable again at once and given back its mode.
    """
    if not getattr(layer, "editable", False):
        return
    mode = layer.mode
    layer.editable = False
    layer.editable = True
    layer.mode = mode


def copy_into_labels(labels: Any, source: Any, where: np.ndarray, *, region: Any = None) -> int:
    """Copy ``source`` voxels selected by ``where`` into the Labels layer ``labels``.

    Only voxels whose source value is a class (non-zero) and differs from the labels are
    written (:func:`~napari_seisseg.training.mask_edits.copy_targets`), through
    :meth:`napari.layers.Labels.data_setitem`, so one Ctrl+Z on the labels layer takes the
    whole copy back. A hidden labels layer is shown first.

    Parameters
    ----------
    labels : napari.layers.Labels
        The painted labels (written in place).
    source, where, region
        As for :func:`~napari_seisseg.training.mask_edits.copy_targets`.

    Returns
    -------
    int
        Number of voxels changed in ``labels``.
    """
    targets = copy_targets(labels, source, where, region=region)
    if targets is None:
        return 0
    index, values = targets
    if not getattr(labels, "visible", True):
        # show what was added (napari's data_setitem also fails on a hidden layer's empty view)
        labels.visible = True
    labels.data_setitem(index, values)
    return int(values.size)
