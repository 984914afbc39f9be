"""What a run learned, per painted class, in words the user can act on.

At the end of training, the kept model's validation scores become one line per painted
class ("fault: IoU 0.62, found 71 % of its 1,234 validation voxels") and a warning for
every class the model misses ("channel: 0 of 1,234 validation voxels found; paint more of
it").  Before training, classes painted on very few voxels are named with their count.
The CLI prints these lines and the Train widget shows them in its status and as
notifications, from the same function.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["class_report", "few_voxel_warnings", "FEW_VOXELS", "MISSED_RECALL"]

#: A class painted on fewer voxels than this gets a warning before training.
FEW_VOXELS = 200
#: A class whose validation voxels are found less often than this is reported as missed.
MISSED_RECALL = 0.1


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
        line)`` for each class found on under :data:`MISSED_RECALL` of them; empty
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
