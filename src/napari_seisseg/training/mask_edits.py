"""What the user changed in a predicted mask, and taking it into the painted labels.

The Predict widget remembers, for every mask layer it writes, the mask as it wrote it. The
difference between that and the layer now is what the user painted over the prediction:
their corrections. Two things follow:

- re-thresholding a two-class mask rewrites only the voxels the user has not edited, so
  moving the threshold never undoes a correction;
- the Train widget copies the corrections (or a whole reviewed section) into the painted
  Labels layer, and the next run learns from painted labels plus corrections. On the
  synthetic cube this beats training on the whole corrected mask, in which the corrections
  are a fraction of a percent of voxels and the rest is the model's own prediction (mean IoU
  on never-labeled voxels 0.92 against 0.86; docs/training.md, "Fine-tuning").

The remembered masks are held in a weak dictionary keyed by layer: once nothing else holds
the layer (the Predict widget keeps its last result until the next prediction), its copy is
freed.  This module is the bookkeeping, with no napari import (a layer is anything with
``data``, ``ndim`` and ``name``); :mod:`napari_seisseg._widgets.mask_edits` adds what napari
needs around it (its undo history, one undo step per copy).
"""

from __future__ import annotations

import weakref
from typing import Any

import numpy as np
from psygnal import Signal

from ..errors import SeisSegError
from .corrections import check_fits

__all__ = [
    "EVENTS",
    "changed_voxels",
    "copy_targets",
    "edited_voxels",
    "is_tracked",
    "remember_written",
    "rewrite_unedited",
    "written_mask",
]

_WRITTEN: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class _Events:
    #: Emitted with the layer when a mask starts being tracked (the Train widget offers it).
    tracked = Signal(object)


EVENTS = _Events()
#: Voxels edited before the last rewrite (their value may equal the rewritten prediction).
_KEPT: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def remember_written(layer: Any, data: Any) -> None:
    """Remember ``data`` (a copy) as what the plugin wrote into ``layer``; no edits yet."""
    new = layer not in _WRITTEN
    _WRITTEN[layer] = np.array(data, copy=True)
    _KEPT.pop(layer, None)
    if new:
        EVENTS.tracked.emit(layer)


def written_mask(layer: Any) -> np.ndarray | None:
    """The mask as last written into ``layer`` by the plugin, or None for other layers."""
    try:
        return _WRITTEN.get(layer)
    except TypeError:  # not weak-referenceable: never tracked
        return None


def is_tracked(layer: Any) -> bool:
    """Whether ``layer`` is a mask whose written state is remembered (and of its shape)."""
    w = written_mask(layer)
    return w is not None and tuple(w.shape) == tuple(np.shape(layer.data))


def changed_voxels(current: Any, written: np.ndarray) -> np.ndarray:
    """Boolean array: where ``current`` differs from ``written`` (same shape)."""
    current = np.asarray(current)
    if current.shape != written.shape:
        raise ValueError(f"shapes differ: {current.shape} and {written.shape}")
    return current != written


def edited_voxels(layer: Any, key: Any = None) -> np.ndarray | None:
    """Where the user changed ``layer`` since the plugin wrote it (None when not tracked).

    ``key`` (an index tuple, e.g. one section) restricts the answer to that part.
    """
    if not is_tracked(layer):
        return None
    key = (slice(None),) * layer.ndim if key is None else tuple(key)
    edited = changed_voxels(layer.data[key], written_mask(layer)[key])
    kept = _KEPT.get(layer)
    return edited if kept is None else edited | kept[key]


def rewrite_unedited(layer: Any, new: np.ndarray) -> int:
    """Write ``new`` into ``layer`` except where the user edited it; remember ``new``.

    The caller clears the layer's undo history (napari's): its entries hold values from
    before the rewrite, and undoing one would bring back the old prediction, which would
    then count as an edit.

    Returns
    -------
    int
        Number of edited voxels kept as the user left them.
    """
    if tuple(np.shape(layer.data)) != tuple(np.shape(new)):
        raise ValueError(f"the layer holds shape {np.shape(layer.data)}, not {np.shape(new)}")
    edited = edited_voxels(layer)
    where = np.nonzero(edited) if edited is not None else None
    if where is None or where[0].size == 0:
        layer.data[...] = new
        kept = 0
    else:
        keep = np.asarray(layer.data)[where]
        layer.data[...] = new
        layer.data[where] = keep
        kept = int(where[0].size)
    remember_written(layer, new)
    if kept:
        _KEPT[layer] = edited  # edits stay edits even where they equal the new prediction
    return kept


def copy_targets(labels: Any, source: Any, where: np.ndarray, *,
                 region: Any = None) -> tuple[tuple[np.ndarray, ...], np.ndarray] | None:
    """Where and what to write to copy ``source`` voxels selected by ``where`` into ``labels``.

    Only voxels whose source value is a class (non-zero) and differs from the labels are
    copied.

    Parameters
    ----------
    labels : layer
        The painted labels (``data``, ``name``); not written here.
    source : array-like
        Values to copy (a mask of the labels' shape), or the part of it at ``region``.
    where : numpy.ndarray of bool
        Which voxels to copy, of ``source``'s shape.
    region : tuple of slice, optional
        Where ``source`` and ``where`` sit in the labels (default: the whole array).

    Returns
    -------
    tuple or None
        ``(index, values)``: the full index into the labels of each voxel to write and its
        value (of the labels' dtype); None when nothing is to change.

    Raises
    ------
    SeisSegError
        The labels are read-only, or cannot hold a copied class.
    """
    source = np.asarray(source)
    region = tuple(region) if region is not None else (slice(None),) * source.ndim
    data = labels.data
    if not isinstance(data, np.ndarray) or not data.flags.writeable:
        raise SeisSegError(f"'{labels.name}' is read-only (opened from a file as it is stored); "
                           "make a 'New labels layer', or open the labels with the SeisSeg "
                           "reader, which loads them for painting.")
    current = np.asarray(labels.data[region])
    pick = np.asarray(where, bool) & (source != 0) & (source != current)
    local = np.nonzero(pick)
    if local[0].size == 0:
        return None
    starts = [s.start or 0 if isinstance(s, slice) else int(s) for s in region]
    full: list[np.ndarray] = []
    k = 0
    for axis, s in enumerate(region):
        if isinstance(s, slice):
            full.append(local[k] + starts[axis])
            k += 1
        else:  # an integer index: a section
            full.append(np.full(local[0].size, int(s), dtype=np.intp))
    values = source[local]
    check_fits(int(values.max()), labels.data.dtype, f"'{labels.name}'")
    return tuple(full), values.astype(labels.data.dtype, copy=False)
