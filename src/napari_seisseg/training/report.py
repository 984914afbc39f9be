"""What a run learned, per painted class, in words the user can act on.

At the end of training, the kept model's validation scores become one line per painted
class ("fault: IoU 0.62, found 71 % of its 1,234 validation voxels") and a warning for
every class the model misses ("channel: 0 of 1,234 validation voxels found; paint more of
it").  Before training, classes painted on very few voxels are named with their count, and
classes painted as a few separate patches only (say three gas sands) are named too: the
validation bands lie in those patches, so they cannot tell how the unpainted ones fare.
The CLI prints these lines and the Train widget shows them in its status and as
notifications, from the same function.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from .run_summary import measured_when

__all__ = [
    "FEW_BODIES", "FEW_VOXELS", "MISSED_RECALL", "class_report", "few_body_classes", "few_body_texts",
    "few_body_warnings",
    "few_voxel_warnings",
]

#: A class painted on fewer voxels than this gets a warning before training.
FEW_VOXELS = 200
#: A class whose validation voxels are found less often than this is reported as missed.
MISSED_RECALL = 0.1
#: A class painted as at most this many separate compact patches gets a warning.
FEW_BODIES = 5
#: Painted sections, and their voxels, beyond which the paint is not "a few sections" (no
#: body count).
_MAX_SECTIONS = 64
_MAX_SECTION_VOXELS = 20_000_000


def class_report(metrics: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """Lines ``(level, text)`` describing the kept model's validation scores per class.

    Parameters
    ----------
    metrics : mapping or None
        Validation metrics of the kept model (``classes`` entries with ``name``, ``iou``,
        ``recall``, ``support``), as :class:`~napari_seisseg.training.metrics.MetricAccumulator`
        gives them.

    Returns
    -------
    list of (str, str)
        ``("info", line)`` per painted class with validation voxels and ``("warning",
        line)`` for each class found on under :data:`MISSED_RECALL` of them (led by a line
        saying when they were measured, when the held-out paint joined training); empty
        without validation metrics.
    """
    if not metrics:
        return []
    lines: list[tuple[str, str]] = []
    for c in metrics.get("classes", []):
        support = int(c.get("support") or 0)
        name = c.get("name") or f"class {c.get('value', c.get('index'))}"
        if support == 0:
            continue
        recall = c.get("recall")
        recall = 0.0 if recall is None or (isinstance(recall, float) and math.isnan(recall)) else recall
        found = int(round(recall * support))
        iou = c.get("iou")
        iou_text = "n/a" if iou is None or math.isnan(iou) else f"{iou:.2f}"
        if recall < MISSED_RECALL:
            lines.append((
                "warning",
                f"{name}: {found:,} of {support:,} validation voxels found (IoU {iou_text}); "
                "the model misses it: paint more of it, on more sections, and train again.",
            ))
        else:
            lines.append((
                "info",
                f"{name}: validation IoU {iou_text}, found {100 * recall:.0f}% of its "
                f"{support:,} validation voxels.",
            ))
    if lines and (when := measured_when(metrics)):
        lines.insert(0, ("info", f"Validation per class{when}:"))
    return lines


def few_voxel_warnings(
    counts: Sequence[int], names: Sequence[str], minimum: int = FEW_VOXELS
) -> list[str]:
    """A warning for each class painted on fewer than ``minimum`` (but some) voxels."""
    out = []
    for n, name in zip(counts, names, strict=True):
        if 0 < int(n) < minimum:
            out.append(
                f"{name} is painted on only {int(n):,} voxels: too few to learn it well. Paint "
                f"it on more sections (a few hundred voxels or more)."
            )
    return out


def few_body_warnings(target: Any, summary: Any, names: Sequence[str],
                      minimum: int = FEW_BODIES) -> list[str]:
    """A warning for each class :func:`few_body_classes` names (arguments as there)."""
    return few_body_texts(few_body_classes(target, summary, len(names), minimum), names)


def few_body_texts(found: Sequence[tuple[int, int]], names: Sequence[str]) -> list[str]:
    """The warnings of :func:`few_body_classes`' ``(class index, patches)`` pairs."""
    return [
        f"{names[k]} is painted as only {n} separate patch{'es' if n != 1 else ''}: the "
        "model learns how these look and may miss it where it looks different, and "
        "validation (inside these patches) cannot tell. Paint it in a few more places, on "
        "other slices or sections where it shows."
        for k, n in found
    ]


def few_body_classes(target: Any, summary: Any, n_classes: int,
                     minimum: int = FEW_BODIES) -> list[tuple[int, int]]:
    """The classes painted as at most ``minimum`` separate compact patches.

    Every painted section (``LabelSummary``: the orientation each stroke was painted in)
    is cut into the connected patches of each class; a patch is *compact* when it spans
    less than half of the painted extent of its orientation (the box around the paint of
    all its painted sections) both ways.  A class with a patch that spans it (a layer, a
    fault across a time slice) is never named, nor one :func:`few_voxel_warnings` names.
    Nothing is counted for a single section labeled almost whole (over 90 %: nowhere left to
    paint), nor when more than 64 sections or 20 million section voxels are painted (not a
    few painted sections).  Paint of another orientation crossing a section
    adds fragments to it, which only makes a class less likely to be named.  On the survey
    stand-in (8 painted time slices, 10 minutes) the gas sands scored 0.07 on the unpainted
    slices when the paint held 3 sand patches (two draws), 0.31 and 0.14 with 5 (two draws)
    and 0.47 with 10; their validation IoU (bands inside the painted patches) read 0.27, 0.08,
    0.53, 0.26 and 0.64: above the unseen score by 0.12-0.22 on all draws but one.

    Parameters
    ----------
    target : numpy.ndarray
        Training targets (0 = not labeled, ``k + 1`` = class ``k``), training order.
    summary : LabelSummary
        :func:`~napari_seisseg.training.labels.summarize_labels` of ``target``.
    n_classes : int
        Number of classes.
    minimum : int
        Largest number of patches that is named.

    Returns
    -------
    list of (int, int)
        Class index and its number of patches, for each class named.
    """
    import numpy as np

    sections = [(a.axis, int(s)) for a in summary.axes for s in a.sections]
    area = sum(target.size // target.shape[axis] for axis, _ in sections)
    if not sections or len(sections) > _MAX_SECTIONS or area > _MAX_SECTION_VOXELS:
        return []
    cuts = [(axis, np.asarray(np.take(target, index, axis=axis))) for axis, index in sections]
    if target.shape[0] == 1 and np.count_nonzero(cuts[0][1]) > 0.9 * cuts[0][1].size:
        return []  # a single section labeled (almost) whole: nowhere left to paint
    compact = np.zeros(n_classes, int)
    spans = np.zeros(n_classes, bool)
    extents = {a: _painted_extent([c for b, c in cuts if b == a]) for a in {a for a, _ in cuts}}
    for axis, cut in cuts:
        extent = extents[axis]
        for k in np.unique(cut[cut > 0]) - 1:
            if not spans[k] and compact[k] <= minimum:
                n, wide = _patches(cut == k + 1, extent)
                compact[k] += n
                spans[k] |= wide
    return [
        (k, int(n)) for k, (n, wide, voxels) in enumerate(zip(compact, spans, summary.class_counts,
                                                               strict=True))
        if 0 < n <= minimum and not wide and voxels >= FEW_VOXELS  # else: too few voxels
    ]


def _painted_extent(cuts: Sequence[Any]) -> tuple[int, int]:
    """Rows and columns of the box around the paint of several sections of one orientation."""
    import numpy as np

    rows = np.flatnonzero(np.any([np.any(c, axis=1) for c in cuts], axis=0))
    cols = np.flatnonzero(np.any([np.any(c, axis=0) for c in cuts], axis=0))
    return int(rows[-1] - rows[0] + 1), int(cols[-1] - cols[0] + 1)


def _patches(mask: Any, extent: tuple[int, int]) -> tuple[int, bool]:
    """Compact patches of ``mask`` (8-connected), and whether one spans half of ``extent``."""
    from scipy import ndimage

    labels, _ = ndimage.label(mask, structure=[[1, 1, 1]] * 3)
    n, wide = 0, False
    for box in ndimage.find_objects(labels):
        spans = (box[0].stop - box[0].start >= 0.5 * extent[0]
                 or box[1].stop - box[1].start >= 0.5 * extent[1])
        wide |= spans
        n += not spans
    return n, wide
