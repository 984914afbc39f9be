"""Validation windows over the held-out labels, read once and scored every epoch.

The held-out voxels are covered by windows of the training patch size laid on a grid
(the last window of an axis shifted back inside the array).  Each voxel is scored once:
where two windows overlap, each scores the half of the overlap nearer its centre.  Section
models are scored on sections along the held-out axis (or, for an explicit validation
layer, along the allowed axis on which its voxels lie in the fewest slices).  When there are more
windows than ``max_windows``, a seeded random subset is kept.  The windows' images are
read and normalised once and cached.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from ..device import AmpSettings, autocast
from .metrics import MetricAccumulator, binary_confusion, scores_from_confusion, tune_threshold
from .patches import PatchLayout, inplane_axes, read_window
from .split import HeldOut

__all__ = ["MIN_GROUPS", "ValidationSet", "bootstrap_spread", "tile_starts"]

#: Held-out sections needed to resample them (rather than windows) for the spread.
MIN_GROUPS = 20


def tile_starts(n: int, size: int) -> list[tuple[int, int, int]]:
    """Windows of ``size`` covering ``[0, n)``: ``(start, own_lo, own_hi)`` in array coordinates.

    ``[own_lo, own_hi)`` is the part each window scores, so every index is scored once.
    Where two windows overlap, each owns the half of the overlap nearer its own centre, so
    no window is left with a sliver (and every scored voxel has context on both sides).
    """
    if size >= n:
        return [(-((size - n) // 2), 0, n)]
    starts = list(range(0, n - size, size)) + [n - size]
    bounds = [0] + [(b + a + size) // 2 for a, b in zip(starts[:-1], starts[1:], strict=True)] + [n]
    return [(s, bounds[i], bounds[i + 1]) for i, s in enumerate(starts)]


@dataclass
class ValidationSet:
    """Cached validation windows.

    Attributes
    ----------
    images : list of numpy.ndarray
        Network inputs (as :func:`~napari_seisseg.training.patches.read_window` gives them).
    targets : list of numpy.ndarray
        Class indices, ``-1`` = not scored.
    windows : list of tuple
        ``(start, axis, index)`` of every window: which window it is (two sets built over the
        same held-out paint name a window alike: the end-of-run score leaves out the ones
        each epoch read by these).
    """

    images: list[np.ndarray] = field(default_factory=list)
    targets: list[np.ndarray] = field(default_factory=list)
    windows: list[tuple] = field(default_factory=list)
    held_axis: int | None = None

    @property
    def n_voxels(self) -> int:
        """Scored voxels."""
        return int(sum(int((t >= 0).sum()) for t in self.targets))

    def __len__(self) -> int:
        return len(self.images)

    @classmethod
    def build(
        cls,
        image: Any,
        held: HeldOut,
        layout: PatchLayout,
        normalize: Callable,
        *,
        max_windows: int,
        seed: int,
    ) -> ValidationSet:
        """Lay windows over ``held`` and read them (see the module docstring)."""
        cands: list[tuple[tuple[int, ...], int | None, int | None, np.ndarray]] = []
        shape = held.shape
        if layout.kind == "3d":
            grids = [tile_starts(n, p) for n, p in zip(shape, layout.size, strict=True)]
            held_idx = np.asarray(held.indices)
            for tiles in itertools.product(*grids):
                lo, hi = tiles[held.axis][1], tiles[held.axis][2]
                if not np.any((held_idx >= lo) & (held_idx < hi)):
                    continue
                start = tuple(t[0] for t in tiles)
                _, tgt = read_window(None, held, layout, normalize, start)
                tgt = _own(tgt, tiles)
                if (tgt >= 0).any():
                    cands.append((start, None, None, tgt))
        else:
            axis = _section_axis(held, layout.axes)
            counts = held.counts_along(axis)
            plane = inplane_axes(axis, len(shape))
            grids = [tile_starts(shape[a], p) for a, p in zip(plane, layout.size, strict=True)]
            for index in np.flatnonzero(counts):
                for tiles in itertools.product(*grids):
                    start = tuple(t[0] for t in tiles)
                    _, tgt = read_window(
                        None, held, layout, normalize, start, axis=axis, index=int(index)
                    )
                    tgt = _own(tgt, tiles)
                    if (tgt >= 0).any():
                        cands.append((start, axis, int(index), tgt))
        if len(cands) > max_windows:
            rng = np.random.default_rng(np.random.SeedSequence([int(seed), 104729]))
            keep = np.sort(rng.choice(len(cands), size=max_windows, replace=False))
            cands = [cands[i] for i in keep]
        out = cls(held_axis=held.axis)
        for start, axis, index, tgt in cands:
            img, _ = read_window(image, None, layout, normalize, start, axis=axis, index=index)
            out.images.append(img)
            out.targets.append(tgt)
            out.windows.append((start, axis, index))
        return out

    @torch.no_grad()
    def evaluate(
        self,
        model: torch.nn.Module,
        device: torch.device,
        *,
        n_classes: int,
        binary: bool,
        batch_size: int,
        amp: AmpSettings,
        names: Sequence[str] | None = None,
        values: Sequence[int] | None = None,
        report: Sequence[int] | None = None,
    ) -> dict[str, Any]:
        """Score ``model`` on every window (eval mode; the caller restores train mode).

        With ``report`` (window indices) the scores and their spread are those of these
        windows alone, a binary model's threshold still tuned on every window.
        """
        model.eval()
        acc = MetricAccumulator(n_classes, binary)
        per_window = []  # each window's accumulator, for the spread
        for i in range(0, len(self.images), max(1, batch_size)):
            x = torch.from_numpy(np.stack(self.images[i : i + batch_size])).to(device)
            y = torch.from_numpy(np.stack(self.targets[i : i + batch_size])).to(device)
            with autocast(device, amp):
                logits = model(x).float()
            acc.update(logits, y)
            for j in range(logits.shape[0]):
                one = MetricAccumulator(n_classes, binary)
                one.update(logits[j : j + 1], y[j : j + 1])
                per_window.append(one)
        if report is None:
            out = acc.result(names, values)
        else:
            part = MetricAccumulator(n_classes, binary)
            for i in report:
                part.add(per_window[i])
            threshold = tune_threshold(acc.pos_hist, acc.neg_hist)[0] if binary else None
            out = part.result(names, values, threshold=threshold)
            per_window = [per_window[i] for i in report]
        windows = self.windows if report is None else [self.windows[i] for i in report]
        out["spread"] = bootstrap_spread(per_window, out.get("threshold"),
                                         groups=self._groups(windows))
        return out

    def _groups(self, windows: Sequence[tuple] | None = None) -> list[Any] | None:
        """The held-out section of every window (of ``windows``; default all), when the
        windows lie in the held-out sections and there are enough of them to resample
        (:data:`MIN_GROUPS`: whole held-out tiles or sections, whose windows are not
        independent); None (resample the windows) for a few painted sections' bands, 3D
        windows or windows across the held-out sections."""
        windows = self.windows if windows is None else windows
        if any(w[1] is None or w[1] != self.held_axis for w in windows):
            return None
        sections = [w[1:] for w in windows]
        return sections if len(set(sections)) >= MIN_GROUPS else None


def bootstrap_spread(
    windows: Sequence[MetricAccumulator], threshold: float | None, draws: int = 200, seed: int = 0,
    groups: Sequence[Any] | None = None,
) -> float | None:
    """Standard deviation of the painted mean IoU over windows resampled with replacement.

    Parameters
    ----------
    windows : sequence of MetricAccumulator
        One accumulator per validation window.
    threshold : float or None
        Binary tasks: the threshold the scores use.
    draws : int
        Bootstrap resamples.
    seed : int
        Seed of the resampling.
    groups : sequence, optional
        One key per window: windows of one key (one held-out section) are resampled
        together, as one unit.

    Returns
    -------
    float or None
        How much the validation score would move with other windows (or sections) of the
        same kind: an honest error bar for a few held-out bands (None with fewer than two
        units).
    """
    if len(windows) < 2:
        return None
    cms = []
    for w in windows:
        if w.binary:
            cms.append(binary_confusion(w.pos_hist, w.neg_hist, 0.5 if threshold is None
                                        else float(threshold)))
        else:
            cms.append(w.cm)
    cms = np.stack(cms).astype(np.int64)
    if groups is not None:  # one confusion matrix per group
        keys = {k: i for i, k in enumerate(dict.fromkeys(groups))}
        if len(keys) < 2:
            return None
        summed = np.zeros((len(keys), *cms.shape[1:]), np.int64)
        np.add.at(summed, [keys[k] for k in groups], cms)
        cms = summed
    rng = np.random.default_rng(seed)
    scores = []
    for _ in range(draws):
        cm = cms[rng.integers(len(cms), size=len(cms))].sum(0)
        painted = scores_from_confusion(cm).get("painted_mean_iou")
        if painted is not None and np.isfinite(painted):
            scores.append(painted)
    return float(np.std(scores)) if len(scores) > 1 else None


def _own(tgt: np.ndarray, tiles: Sequence[tuple[int, int, int]]) -> np.ndarray:
    """Mark the part of a window outside its own range as not scored."""
    tgt = tgt.copy()
    for d, (start, lo, hi) in enumerate(tiles):
        key: list[Any] = [slice(None)] * tgt.ndim
        a, b = lo - start, hi - start
        key[d] = slice(0, max(a, 0))
        tgt[tuple(key)] = -1
        key[d] = slice(b, None)
        tgt[tuple(key)] = -1
    return tgt


def _section_axis(held: HeldOut, axes: Sequence[int]) -> int:
    if held.axis in axes:
        return held.axis
    return min(axes, key=lambda a: (np.count_nonzero(held.counts_along(a)), a))
