"""A seeded random sample of whole traces, read without touching the rest of the cube.

Statistics for preprocessing (percentiles, mean, std) come from this sample, so they can be
fitted on lazy cubes far larger than memory: only the sampled traces are read, a run of
traces of the same inline (or line) at a time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import SeisSegError

#: Traces sampled by default (2000 traces of 1000 samples: 2 million values, 16 MB).
DEFAULT_SAMPLE_TRACES = 2000
_TOP_UP_ROUNDS = 3


@dataclass
class TraceSample:
    """Live traces drawn at random from a cube.

    Attributes
    ----------
    traces : numpy.ndarray
        ``(n_live, n_samples)`` float64 amplitudes; NaN where the data held NaN or inf.
    positions : numpy.ndarray
        ``(n_live, n_grid_axes)`` grid index of each trace (the array's index without the
        time axis).
    n_requested : int
        Traces asked for.
    n_read : int
        Traces read (dead ones included).
    n_dead : int
        Traces read and skipped because every sample was zero or non-finite.
    n_nonfinite : int
        NaN/inf samples in the live traces kept (excluded from statistics).
    seed : int
        Seed of the random generator.
    """

    traces: np.ndarray
    positions: np.ndarray
    n_requested: int
    n_read: int
    n_dead: int
    n_nonfinite: int
    seed: int

    @property
    def n_live(self) -> int:
        """Live traces kept."""
        return int(self.traces.shape[0])

    @property
    def n_samples(self) -> int:
        """Samples per trace."""
        return int(self.traces.shape[1])

    def values(self) -> np.ndarray:
        """The finite amplitudes of the sample as a 1D float64 array."""
        v = self.traces.ravel()
        return v[np.isfinite(v)]

    def info(self) -> dict[str, int]:
        """Counts for reports and the pipeline JSON."""
        return {
            "n_traces_requested": int(self.n_requested),
            "n_traces_read": int(self.n_read),
            "n_traces_live": self.n_live,
            "n_traces_dead_skipped": int(self.n_dead),
            "n_nonfinite_skipped": int(self.n_nonfinite),
            "n_values": int(self.traces.size - self.n_nonfinite),
            "seed": int(self.seed),
        }


def sample_traces(
    data: Any,
    axis: int = -1,
    n_traces: int = DEFAULT_SAMPLE_TRACES,
    seed: int = 0,
    live: np.ndarray | None = None,
) -> TraceSample:
    """Read a seeded random sample of live traces of ``data``.

    Parameters
    ----------
    data : array-like
        numpy array, memmap, dask or zarr array, or any object with ``shape``, ``dtype`` and
        numpy-style ``__getitem__`` accepting one 1D integer array (lazy SEG-Y arrays do).
    axis : int
        Time axis of ``data``.
    n_traces : int
        Live traces wanted.  Dead traces met are skipped and replaced by fresh draws (up to
        three rounds), so a cube padded with dead traces still yields about ``n_traces``.
    seed : int
        Seed of :func:`numpy.random.default_rng`; the same seed gives the same sample.
    live : numpy.ndarray of bool, optional
        Mask over the trace grid (``data.shape`` without ``axis``) of traces that exist,
        e.g. ``SurveyGeometry.live``; only those are drawn.

    Returns
    -------
    TraceSample

    Raises
    ------
    SeisSegError
        If no live trace is found.
    """
    grid_shape, pool = _trace_grid(data, axis, live)
    axis = axis % len(data.shape)
    n_pool = int(np.prod(grid_shape, dtype=np.int64)) if pool is None else len(pool)
    n_traces = int(n_traces)
    if n_traces < 1:
        raise SeisSegError(f"Sample at least one trace, not {n_traces}.")
    rng = np.random.default_rng(seed)

    drawn = np.empty(0, dtype=np.int64)
    kept: list[np.ndarray] = []
    kept_pos: list[np.ndarray] = []
    n_live = n_dead = n_bad = 0
    want = min(n_traces, n_pool)
    for _round in range(_TOP_UP_ROUNDS + 1):
        if want <= 0:
            break
        new = _draw(rng, n_pool, drawn, want)
        if len(new) == 0:
            break
        drawn = np.concatenate([drawn, new])
        flat = np.sort(new if pool is None else pool[new])
        traces, positions, dead, bad = _read_live(data, axis, flat, grid_shape)
        n_dead += dead
        n_bad += bad
        kept.append(traces)
        kept_pos.append(positions)
        n_live += len(traces)
        need = n_traces - n_live
        if need <= 0 or len(drawn) >= n_pool:
            break
        live_fraction = max(n_live / len(drawn), 0.05)
        want = min(n_pool - len(drawn), int(np.ceil(need / live_fraction * 1.1)))
    if n_live == 0:
        raise SeisSegError(
            f"None of the {len(drawn)} traces sampled holds data (all are zero or NaN), so no "
            "statistics can be fitted. Check that this is the right cube, or load statistics "
            "from a pipeline file."
        )
    traces = np.concatenate(kept)
    positions = np.concatenate(kept_pos)
    if n_live > n_traces:  # keep exactly what was asked, dropping the last draws' surplus
        traces, positions = traces[:n_traces], positions[:n_traces]
        n_bad = int((~np.isfinite(traces)).sum())
    return TraceSample(traces, positions, n_traces, len(drawn), n_dead, n_bad, int(seed))


def _trace_grid(
    data: Any, axis: int, live: np.ndarray | None
) -> tuple[tuple[int, ...], np.ndarray | None]:
    """The trace grid's shape and the flat indices of the traces to draw from (None: all)."""
    shape = tuple(int(n) for n in data.shape)
    ndim = len(shape)
    if ndim < 2:
        raise SeisSegError(
            f"Preprocessing needs traces: an array of 2 or 3 dimensions, not {ndim}. "
            "Give a section (trace, sample) or a cube (inline, crossline, sample)."
        )
    axis = axis % ndim
    grid_shape = shape[:axis] + shape[axis + 1:]
    if live is None:
        return grid_shape, None
    live = np.asarray(live, dtype=bool)
    if live.shape != grid_shape:
        raise SeisSegError(
            f"The live-trace mask has shape {live.shape} but the data's trace grid is "
            f"{grid_shape}. Pass the mask of the same survey, or none."
        )
    return grid_shape, np.flatnonzero(live)


def _draw(rng: np.random.Generator, n_pool: int, drawn: np.ndarray, want: int) -> np.ndarray:
    """Up to ``want`` new draws from ``range(n_pool)``, none of them already ``drawn``."""
    if len(drawn) == 0:
        return rng.choice(n_pool, size=want, replace=False)
    extra = min(n_pool, len(drawn) + 2 * want)
    cand = rng.choice(n_pool, size=extra, replace=False)
    return cand[~np.isin(cand, drawn)][:want]


def _read_live(
    data: Any, axis: int, flat: np.ndarray, grid_shape: tuple[int, ...]
) -> tuple[np.ndarray, np.ndarray, int, int]:
    """Read traces ``flat`` (sorted): the live ones, their positions, dead and non-finite counts.

    Non-finite samples become NaN; a trace is dead when no sample is finite and non-zero.
    """
    traces = read_traces(data, axis, np.unravel_index(flat, grid_shape))
    finite = np.isfinite(traces)
    traces[~finite] = np.nan
    dead = ~np.any(finite & (traces != 0), axis=1)
    alive = ~dead
    n_bad = int((~finite[alive]).sum())
    positions = np.stack(np.unravel_index(flat[alive], grid_shape), axis=1)
    return traces[alive], positions, int(dead.sum()), n_bad


def read_traces(data: Any, axis: int, grid_index: tuple[np.ndarray, ...]) -> np.ndarray:
    """Read the traces at the given grid positions as an ``(n, n_samples)`` float64 array.

    Traces are grouped by their index on every grid axis but the last, and each group is read
    with length-1 slices on those axes and one integer array on the last grid axis (numpy,
    dask, zarr and the lazy SEG-Y array all read that the same way), so only the traces asked
    for are read.  Positions should be sorted in
    row-major grid order; the result follows that order.
    """
    ndim = len(data.shape)
    axis = axis % ndim
    grid_axes = [a for a in range(ndim) if a != axis]
    n = len(grid_index[0])
    if n == 0:
        return np.empty((0, data.shape[axis]), dtype=np.float64)
    outer = np.stack(grid_index[:-1], axis=1) if len(grid_index) > 1 else np.zeros((n, 0), np.int64)
    last = np.asarray(grid_index[-1])
    if outer.shape[1]:
        change = np.any(outer[1:] != outer[:-1], axis=1)
        starts = np.concatenate([[0], np.flatnonzero(change) + 1, [n]])
    else:
        starts = np.array([0, n])
    # after integer-indexing the outer grid axes, the last grid axis is before or after time
    time_first = axis < grid_axes[-1]
    parts = []
    for a, b in zip(starts[:-1], starts[1:], strict=True):
        key: list[Any] = [slice(None)] * ndim
        for g, ax in enumerate(grid_axes[:-1]):
            u = int(outer[a, g])
            key[ax] = slice(u, u + 1)  # not an int: numpy would treat it as a fancy index
        key[grid_axes[-1]] = last[a:b]
        parts.append(data[tuple(key)])
    if parts and _is_dask(parts[0]):
        import dask

        parts = list(dask.compute(*parts))
    out = np.empty((n, data.shape[axis]), dtype=np.float64)
    for (a, b), part in zip(zip(starts[:-1], starts[1:], strict=True), parts, strict=True):
        part = np.squeeze(np.asarray(part), axis=tuple(grid_axes[:-1]))
        out[a:b] = part.T if time_first else part
    return out


def _is_dask(obj: Any) -> bool:
    return type(obj).__module__.startswith("dask.") and hasattr(obj, "dask")
