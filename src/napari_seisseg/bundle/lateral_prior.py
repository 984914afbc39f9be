"""What the painted traces say about their neighbours, combined with the network at prediction.

Layers of a survey run on sideways: a facies painted at some time on a trace is very likely
the facies at that time a few traces away, and still likely a hundred traces away.  The
network alone forgets it where the reflections change character: on Penobscot, with the left
half of two inlines painted, it lost two thin layers 150-250 traces from the paint although
every layer still sat where the nearest painted trace had it.  The *lateral prior* measures,
on the paint itself, how well a painted trace predicts another one ``d`` traces away, and
applies that to every unpainted trace from its nearest painted trace:

    T_a(k | j, d) = P(class k at a trace d away along axis a | class j at the same sample here),

counted over pairs of painted traces ``d`` apart along one lateral axis, both ways
(distances binned by powers of two; in each bin at most :data:`DISTANCES_PER_BIN` of the
distances that occur and about :data:`MAX_PAIRS` pairs; ``K prior(k)`` pseudo-counts per
row).  A voxel whose nearest painted trace is ``(d_0, d_1)`` away and holds class ``j`` at that
sample has its class probabilities multiplied by

    ratio(k) = T(k | j) / prior(k),   T = (T_0(d_0) T_1(d_1) + T_1(d_1) T_0(d_0)) / 2

(at least :data:`MIN_RATIO`; one factor when the offset runs along one axis), then
renormalised (Bayes' rule, as :mod:`.time_prior`; dividing by ``prior(k)`` keeps the class
balance training chose).  Composing the axes keeps a stack of unrelated tiles (no persistence
across them) from borrowing the persistence inside a tile.  The measurement decides how much
a class carries: a layer keeps a diagonal near 1 at the largest distances painted, so far
traces follow the paint; a fault or a channel crossing the section loses its diagonal within
a few traces, and its ratio falls to about 1 (the network decides).  Next to the paint the
network has seen the context itself, and the prior would count what it saw twice: within
:data:`REACH` traces the ratio is raised to ``d / REACH`` (a salt flank painted 3 traces away
is left to the network; 16 traces and beyond, the full ratio).  A distance between two
measured bins uses the nearest bin above; beyond the largest bin measured along an axis, that
largest one; an axis with no pair at all (a single painted inline) borrows the other axis's
measurements; samples the nearest painted trace left unpainted get no ratio.

The prior belongs to the survey it was painted on: the card stores the painted traces
(positions in the training grid, classes run-length coded), the grid's shape and, with a
geometry, its first and last inline and crossline numbers; prediction applies it only to an
image of that shape and those lines (:mod:`.prior_application`).  Traces count as painted
with at least :data:`MIN_PAINTED` labeled samples (sections and long strokes, not time slices).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .time_prior import MIN_RATIO, _rle, _unrle

__all__ = ["MAX_TRACES", "MIN_PAINTED", "REACH", "LateralPrior", "painted_lateral_prior"]

#: Labeled samples a trace needs to count as painted (fewer when traces are shorter than twice this).
MIN_PAINTED = 16
#: Most painted traces stored in a card (evenly spaced beyond).
MAX_TRACES = 20000
#: Distance (traces) from the paint at which the prior takes its full weight; nearer, its
#: ratio is raised to ``d / REACH`` (none on the painted traces themselves).
REACH = 16.0
#: Most distances sampled per distance bin and axis (evenly, among those that occur).
DISTANCES_PER_BIN = 16
#: Most trace pairs counted per distance bin and axis.
MAX_PAIRS = 4096


def _bin(d: np.ndarray) -> np.ndarray:
    """Distance bin: 0 for ``d <= 1``, ``j`` for ``2**(j-1) < d <= 2**j``."""
    return np.ceil(np.log2(np.maximum(np.asarray(d, dtype=np.float64), 1.0))).astype(np.int64)


@dataclass
class LateralPrior:
    """Painted traces of a survey and the lateral prior they give.

    Attributes
    ----------
    shape : tuple of int
        Shape of the training grid (training order, sample axis included).
    line_axis : int
        Axis the painted lines run along: the sample axis (traces of painted sections).
    positions : numpy.ndarray
        int64 ``(M, n_lateral)``: lateral index of every painted trace (axes in order, the
        sample axis left out).
    columns : numpy.ndarray
        uint16 ``(M, n_samples)``: its labels (0 = not painted, ``k + 1`` = class ``k``).
    n_classes : int
        ``K``.
    lines : dict
        ``{axis: (first, last)}``: the line numbers of the first and last index of the
        lateral axes the survey's geometry named (inline, crossline), to recognise it.
    """

    shape: tuple[int, ...]
    line_axis: int
    positions: np.ndarray
    columns: np.ndarray
    n_classes: int
    lines: dict[int, tuple[float, float]] = field(default_factory=dict)
    _cache: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    _lock: Any = field(default_factory=threading.RLock, repr=False, compare=False)

    @property
    def lateral_shape(self) -> tuple[int, ...]:
        """The grid without its sample axis."""
        return tuple(n for a, n in enumerate(self.shape) if a != self.line_axis)

    def overall(self) -> np.ndarray:
        """``prior(k) = (n_k + 1) / (N + K)`` over the painted samples."""
        c = np.bincount(self.columns[self.columns > 0].astype(np.int64) - 1, minlength=self.n_classes)
        return (c[: self.n_classes] + 1.0) / (c[: self.n_classes].sum() + self.n_classes)

    def _row_grid(self) -> np.ndarray:
        grid = np.full(self.lateral_shape, -1, dtype=np.int64)
        grid[tuple(self.positions.T)] = np.arange(len(self.positions))
        return grid

    def log_ratios(self) -> dict[int, dict[int, np.ndarray]]:
        """``{axis: {bin: log ratio (K from, K to)}}`` for every lateral axis and distance bin measured."""
        ov = self.overall()
        return {a: {j: np.log(_ratio_matrix(t, ov)) for j, t in bins.items()}
                for a, bins in self.transitions().items()}

    def transitions(self) -> dict[int, dict[int, np.ndarray]]:
        """``{axis: {bin: T (K from, K to)}}`` for every lateral axis and distance bin measured."""
        if "ratios" in self._cache:
            return self._cache["ratios"]
        k, ov = self.n_classes, self.overall()
        out = {}
        for axis in range(len(self.lateral_shape)):
            joint: dict[int, np.ndarray] = {}
            for d, r1, r2 in self._pairs(axis):
                c1, c2 = self.columns[r1].astype(np.int64), self.columns[r2].astype(np.int64)
                both = (c1 > 0) & (c2 > 0) & (c1 <= k) & (c2 <= k)
                c = np.bincount((c1[both] - 1) * k + (c2[both] - 1), minlength=k * k).reshape(k, k)
                j = int(_bin(d))
                joint[j] = joint.get(j, 0) + c + c.T  # both ways: the paint may lie on either side
            out[axis] = {j: (c + k * ov[None]) / (c.sum(1, keepdims=True) + k)
                         for j, c in sorted(joint.items()) if c.sum() > 0}
        self._cache["ratios"] = out
        return out

    def _pairs(self, axis: int):
        """``(d, rows, rows d further along axis)`` for the distances that occur between painted
        traces along one line (counted exactly, by autocorrelating each line of the painted grid),
        at most :data:`DISTANCES_PER_BIN` distances per bin and about :data:`MAX_PAIRS` pairs
        per bin (evenly spaced)."""
        n = self.lateral_shape[axis]
        grid = np.zeros(self.lateral_shape, dtype=np.float64)
        grid[tuple(self.positions.T)] = 1.0
        spectrum = np.fft.rfft(grid, n=2 * n, axis=axis)  # pairs per distance, line by line
        counts = np.fft.irfft(spectrum * spectrum.conj(), n=2 * n, axis=axis)
        counts = counts.sum(axis=tuple(a for a in range(grid.ndim) if a != axis))[1:n]
        occurs = np.flatnonzero(counts > 0.5) + 1  # the distances d = 1 .. n-1 with a pair
        lin = np.ravel_multi_index(tuple(self.positions.T), self.lateral_shape)
        order = np.argsort(lin)
        lin_sorted = lin[order]
        stride = int(np.prod(self.lateral_shape[axis + 1:], dtype=np.int64))
        bins = _bin(occurs)
        for j in np.unique(bins):
            ds = occurs[bins == j]
            ds = ds[np.linspace(0, len(ds) - 1, min(len(ds), DISTANCES_PER_BIN)).astype(int)]
            for d in ds:
                ok = self.positions[:, axis] + d < n
                target = lin[ok] + int(d) * stride
                at = np.clip(np.searchsorted(lin_sorted, target), 0, len(lin_sorted) - 1)
                hit = lin_sorted[at] == target
                r1, r2 = np.flatnonzero(ok)[hit], order[at[hit]]
                if len(r1) == 0:
                    continue
                keep = np.linspace(0, len(r1) - 1, min(len(r1), -(-MAX_PAIRS // len(ds)))).astype(int)
                yield int(d), r1[keep], r2[keep]

    def _nearest(self) -> tuple[np.ndarray, np.ndarray]:
        """Row of the nearest painted trace and the offset to it, for every lateral position."""
        if "nearest" not in self._cache:
            from scipy.ndimage import distance_transform_edt

            grid = self._row_grid()
            _, idx = distance_transform_edt(grid < 0, return_indices=True)
            rows = grid[tuple(idx)]
            offset = np.stack([idx[a] - np.indices(grid.shape)[a] for a in range(grid.ndim)])
            self._cache["nearest"] = (rows.astype(np.int32), offset.astype(np.int32))
        return self._cache["nearest"]

    def _axis_transition(self, axis: int, j: int) -> np.ndarray | None:
        """T along ``axis`` at distance bin ``j`` (the nearest bin above measured, else the
        largest; the other axis's when this one has none; identity for ``j = -1``)."""
        k = self.n_classes
        if j < 0:
            return np.eye(k)
        measured = self.transitions()
        own = measured.get(axis) or next((t for t in measured.values() if t), {})
        if not own:
            return None
        above = [b for b in own if b >= j]
        return own[min(above) if above else max(own)]

    def _table(self) -> tuple[np.ndarray, int]:
        """Ratios ``(K to, combinations * K from + 1)`` (the last column all 1: nothing
        measured) and the number of distance bins per axis (bin -1, offset 0, included).

        An offset along both lateral axes composes the two axes' transitions (one step along
        each, both orders averaged): a layer persists along both, while a stack of unrelated
        tiles (an axis without persistence) makes any offset across it uninformative.
        """
        if "table" in self._cache:
            return self._cache["table"]
        k, n_lat, ov = self.n_classes, len(self.lateral_shape), self.overall()
        n_bins = 2 + max(1, int(_bin(max(self.lateral_shape) * math.sqrt(n_lat))))  # -1 .. top
        mats = []
        for combo in np.ndindex(*(n_bins,) * n_lat):
            parts = [self._axis_transition(a, j - 1) for a, j in enumerate(combo)]
            if any(t is None for t in parts) or all(j == 0 for j in combo):
                mats.append(np.ones((k, k)))  # nothing measured, or on the paint itself
                continue
            t = parts[0] if n_lat == 1 else 0.5 * (parts[0] @ parts[1] + parts[1] @ parts[0])
            mats.append(_ratio_matrix(t, ov))
        flat = np.concatenate([*mats, np.ones((1, k))]).T  # (K to, rows)
        self._cache["table"] = (np.ascontiguousarray(flat, dtype=np.float32), n_bins)
        return self._cache["table"]

    def ratio(self, region: Sequence[slice]) -> np.ndarray:
        """float32 ``(K, *region shape)``: the ratio of every voxel of ``region`` (training order;
        1 where the nearest painted line holds no label at that sample)."""
        region = tuple(slice(*s.indices(n)) for s, n in zip(region, self.shape, strict=True))
        lat = tuple(s for a, s in enumerate(region) if a != self.line_axis)
        with self._lock:  # measured once, even when a preview and the Predict widget ask together
            rows, offset = self._nearest()
            table, n_bins = self._table()
        rows = rows[lat]
        off = offset[(slice(None), *lat)].reshape(len(lat), -1)
        dist = np.sqrt((off.astype(np.float64) ** 2).sum(0))
        mat = np.zeros(off.shape[1], dtype=np.int64)
        for a in range(len(lat)):  # bin of each axis's offset, 0 for none: one matrix per combination
            d = np.abs(off[a])
            mat = mat * n_bins + np.where(d == 0, 0, np.minimum(_bin(d) + 1, n_bins - 1))
        cls = self.columns[:, region[self.line_axis]][rows.reshape(-1)].astype(np.int32)
        k = self.n_classes
        idx = mat.astype(np.int32)[:, None] * k + cls - 1  # (positions, samples) -> a column of the table
        idx[(cls <= 0) | (cls > k)] = table.shape[1] - 1
        out = np.take(table, idx, axis=1)  # (K, positions, samples)
        near = np.flatnonzero(dist < REACH)  # next to the paint: the network has seen it
        if len(near):
            out[:, near] **= (dist[near] / REACH).astype(np.float32)[None, :, None]
        out = out.reshape(k, *rows.shape, idx.shape[1])
        return np.moveaxis(out, -1, 1 + self.line_axis)  # samples back in place

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (the card's ``input.lateral_prior``; traces run-length coded)."""
        return {"shape": [int(n) for n in self.shape], "line_axis": int(self.line_axis),
                "n_classes": int(self.n_classes), "positions": self.positions.tolist(),
                "columns": [_rle(c) for c in self.columns],
                "lines": {str(a): [float(v) for v in fl] for a, fl in self.lines.items()}}

    @classmethod
    def from_card(cls, entry: Mapping[str, Any] | None) -> LateralPrior | None:
        """The prior a card's ``input.lateral_prior`` holds (None when it holds none)."""
        if not entry or not entry.get("positions"):
            return None
        shape = tuple(int(n) for n in entry["shape"])
        columns = np.stack([_unrle(c) for c in entry["columns"]]).astype(np.uint16)
        positions = np.asarray(entry["positions"], dtype=np.int64).reshape(len(columns), -1)
        lines = {int(a): (float(fl[0]), float(fl[1])) for a, fl in (entry.get("lines") or {}).items()}
        return cls(shape, int(entry["line_axis"]), positions, columns, int(entry["n_classes"]), lines)


def _ratio_matrix(t: np.ndarray, overall: np.ndarray) -> np.ndarray:
    """``T(k | j) / prior(k)``, at least :data:`MIN_RATIO`."""
    return np.maximum(t / overall[None], MIN_RATIO)


def _lateral_last(arr: np.ndarray, line_axis: int) -> np.ndarray:
    return np.moveaxis(np.asarray(arr), line_axis, -1)


def painted_lateral_prior(
    target: np.ndarray, sample_axis: int, n_classes: int, held: Any = None,
    coordinates: Mapping[int, np.ndarray] | None = None,
) -> LateralPrior | None:
    """The painted traces of the training target and the held-out validation labels.

    Time slices give no trace (a few samples each): tried with lines along a crossline in
    their place, the prior took 0.03 from the fault of a synthetic cube painted on 8 time
    slices (faults move sideways between slices) and gave nothing to its channels, so they
    get none.

    Parameters
    ----------
    target : numpy.ndarray
        Training labels (0 = not labeled, ``k + 1`` = class ``k``), training order.
    sample_axis : int
        Axis of ``target`` along time/depth.
    n_classes : int
        ``K``.
    held : HeldOut, optional
        Validation labels (slices along ``held.axis``, the other axes in increasing order).
    coordinates : mapping, optional
        ``{axis: line number of every index}`` of the survey's geometry (inlines and
        crosslines; other axes are ignored): kept to recognise the survey at prediction.

    Returns
    -------
    LateralPrior or None
        None when no trace holds :data:`MIN_PAINTED` labeled samples (time slices, dots, short
        strokes).
    """
    prior = _painted_lines(target, sample_axis, n_classes, held)
    if prior is not None and coordinates:
        for a, values in coordinates.items():
            values = np.asarray(values, dtype=np.float64).ravel()
            if int(a) not in (sample_axis, prior.line_axis) and len(values) == target.shape[int(a)] and len(values):
                prior.lines[int(a)] = (float(values[0]), float(values[-1]))
    return prior


def _painted_lines(target: np.ndarray, line_axis: int, n_classes: int, held: Any) -> LateralPrior | None:
    """The lines along ``line_axis`` with at least :data:`MIN_PAINTED` labeled voxels."""
    tl = _lateral_last(target, line_axis)
    n_t = tl.shape[-1]
    counts = np.count_nonzero(tl, axis=-1)
    sections = []
    if held is not None and held.axis != line_axis:
        lat_axis = [a for a in range(target.ndim) if a != line_axis].index(held.axis)
        others = [a for a in range(target.ndim) if a != held.axis]
        for index, sec in zip(held.indices, held.sections, strict=True):
            sec = _lateral_last(sec, others.index(line_axis))
            np.moveaxis(counts, lat_axis, 0)[index] += np.count_nonzero(sec, axis=-1)
            sections.append((lat_axis, index, sec))
    painted = counts >= min(MIN_PAINTED, max(1, n_t // 2))
    positions = np.argwhere(painted)
    if len(positions) == 0:
        return None
    if len(positions) > MAX_TRACES:
        positions = positions[np.linspace(0, len(positions) - 1, MAX_TRACES).astype(int)]
    columns = tl[tuple(positions.T)].astype(np.uint16)
    for lat_axis, index, sec in sections:
        rows = np.flatnonzero(positions[:, lat_axis] == index)
        rest = np.delete(positions[rows], lat_axis, axis=1)
        vals = sec[tuple(rest.T)]
        columns[rows] = np.where(vals > 0, vals, columns[rows])
    columns[columns > n_classes] = 0
    return LateralPrior(tuple(int(n) for n in target.shape), int(line_axis), positions, columns, n_classes)

