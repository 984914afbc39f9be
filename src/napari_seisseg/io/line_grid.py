"""Regular grids of line numbers: what the trace headers' inline, crossline or CDP numbers span.

:func:`regular_axis` builds the grid ``min, min+step, ..., max`` (the step is the greatest
common divisor of the gaps, so missing lines are padded); :func:`axis_length` gives its
length without building it, so a damaged header cannot allocate a huge grid.
"""

from __future__ import annotations

import numpy as np

__all__ = ["axis_length", "regular_axis"]


def axis_length(values: np.ndarray) -> int:
    """Length of :func:`regular_axis` of ``values``, computed without building it.

    Parameters
    ----------
    values : numpy.ndarray
        Line numbers.

    Returns
    -------
    int
        ``(max - min) / step + 1`` with the step :func:`regular_axis` would use.
    """
    u = np.unique(np.asarray(values, dtype=np.int64))
    if len(u) == 1:
        return 1
    step = int(np.gcd.reduce(np.diff(u)))
    return int((int(u[-1]) - int(u[0])) // step + 1)


def regular_axis(values: np.ndarray) -> np.ndarray:
    """The regular grid ``min, min+step, ..., max`` covering the given line numbers.

    The step is the greatest common divisor of the gaps between sorted unique values, so
    missing lines are padded rather than assumed away.
    """
    u = np.unique(np.asarray(values, dtype=np.int64))
    if len(u) == 1:
        return u
    step = int(np.gcd.reduce(np.diff(u)))
    return np.arange(u[0], u[-1] + 1, step, dtype=np.int64)
