"""Window planning: where the overlapping windows of a sliding-window prediction sit.

A plan lives in *plan coordinates*: the volume's axes, possibly reordered so that the axis
the windows are streamed along (the slab axis) comes first.  Along each axis the windows
have a fixed size, overlap their neighbours by at least the requested fraction, cover the
whole axis, and the last one is flush with the end.  Where the volume is smaller than the
window the single window is centred and the missing part is padded (reflect, or zeros when
the axis is too short to reflect) and cropped back afterwards.  A *halo* widens the input of
every window along an axis (the 2.5D context of section models); input beyond the volume's
border repeats the border slice.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["WindowPlan", "axis_starts"]


def axis_starts(n: int, window: int, overlap: float) -> tuple[int, ...]:
    """Start of every window along one axis.

    Parameters
    ----------
    n : int
        Length of the axis.
    window : int
        Window size along it.
    overlap : float
        Requested overlap fraction in ``[0, 1)``; the achieved overlap is at least this, the
        windows being spread evenly between the first (at 0) and the last (flush with the end).

    Returns
    -------
    tuple of int
        Increasing starts; a single negative start ``-(window - n) // 2`` when ``n < window``
        (the window is centred on the padded axis).
    """
    if n <= window:
        return (-((window - n) // 2),)
    step = max(1, int(round(window * (1.0 - overlap))))
    count = math.ceil((n - window) / step) + 1
    starts = np.round(np.linspace(0, n - window, count)).astype(np.int64)
    return tuple(int(s) for s in starts)


@dataclass(frozen=True)
class WindowPlan:
    """Windows covering an array of ``shape`` (in plan coordinates).

    Attributes
    ----------
    shape : tuple of int
        Size of the volume along each plan axis.
    window : tuple of int
        Size of the output window along each axis.
    starts : tuple of tuple of int
        Window starts along each axis (see :func:`axis_starts`); windows are the Cartesian
        product, in row-major order (first axis slowest).
    halo : tuple of int
        Extra input on each side of a window along each axis (context slices).
    """

    shape: tuple[int, ...]
    window: tuple[int, ...]
    starts: tuple[tuple[int, ...], ...]
    halo: tuple[int, ...]

    @classmethod
    def build(
        cls,
        shape: Sequence[int],
        window: Sequence[int],
        overlap: Sequence[float],
        halo: Sequence[int] | None = None,
    ) -> WindowPlan:
        """Plan the windows of size ``window`` with the given overlap per axis."""
        shape = tuple(int(n) for n in shape)
        window = tuple(int(w) for w in window)
        halo = tuple(int(h) for h in halo) if halo is not None else (0,) * len(shape)
        starts = tuple(
            axis_starts(n, w, o) for n, w, o in zip(shape, window, overlap, strict=True)
        )
        return cls(shape, window, starts, halo)

    @property
    def ndim(self) -> int:
        """Number of axes."""
        return len(self.shape)

    @property
    def n_windows(self) -> int:
        """Number of windows over the whole volume."""
        return math.prod(len(s) for s in self.starts)

    @property
    def input_window(self) -> tuple[int, ...]:
        """Size of the input of one window (the window plus its halo on both sides)."""
        return tuple(w + 2 * h for w, h in zip(self.window, self.halo, strict=True))

    def full_region(self) -> tuple[tuple[int, int], ...]:
        """The whole volume as a region ``((lo, hi), ...)``."""
        return tuple((0, n) for n in self.shape)

    def starts_in(self, region: Sequence[tuple[int, int]]) -> tuple[tuple[int, ...], ...]:
        """Per axis, the starts of the windows that intersect ``region``."""
        return tuple(
            tuple(s for s in starts if s < hi and s + w > lo)
            for starts, w, (lo, hi) in zip(self.starts, self.window, region, strict=True)
        )

    def windows_in(self, region: Sequence[tuple[int, int]] | None = None) -> list[tuple[int, ...]]:
        """Starts of every window intersecting ``region`` (default: all), row-major."""
        region = self.full_region() if region is None else region
        return list(itertools.product(*self.starts_in(region)))

    def input_hull(
        self, region: Sequence[tuple[int, int]], axis: int
    ) -> tuple[int, int]:
        """Input extent (clipped to the volume) of the windows intersecting ``region`` along ``axis``."""
        starts = self.starts_in(region)[axis]
        if not starts:
            return (0, 0)
        lo = max(0, starts[0] - self.halo[axis])
        hi = min(self.shape[axis], starts[-1] + self.window[axis] + self.halo[axis])
        return lo, hi


def pad_mode(n: int, before: int, after: int, halo: int, pad: str = "reflect") -> str:
    """How to fill input beyond the volume along one axis.

    Context slices repeat the border slice (``"edge"``).  A window larger than the volume
    is padded as training padded its patches: ``pad="reflect"`` reflects the volume
    (repeatedly, as :func:`numpy.pad` does, when the padding is longer than the axis; an
    axis of length 1 is repeated), ``pad="zeros"`` pads zeros.
    """
    if halo > 0:
        return "edge"
    if pad == "zeros":
        return "constant"
    return "reflect" if n >= 2 else "edge"
