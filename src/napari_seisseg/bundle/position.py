"""Position along time (depth) as an input channel of section models.

Many seismic classes are told apart by where they sit as much as by their texture: two
facies with the same reflection character at different depths, salt below a given time,
a reservoir interval.  A network that sees a 128-pixel patch cannot know where the patch
sits in the trace.  Section models (``unet2d``, ``resunet``) can therefore take a second
channel per slice: the sample index of every pixel, scaled to ``[-1, 1]`` over the
training survey's trace length::

    p(t) = 2 * t / (n_samples - 1) - 1

Training patches, validation windows and prediction windows all build it from the
*absolute* sample index of each pixel (padding beyond the trace continues the ramp), so a
window anywhere in the cube sees the same values.  The scale (``n_samples`` of the
training image) is stored in the model card (``input.position``) and used unchanged for
any cube the model predicts later.

With position on, the channels of one slice are ``(amplitude, position)``; a 2.5D model
with ``context`` neighbours stacks them slice-major, as for any multi-channel slice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["PositionSpec", "position_ramp", "interleave_position"]


@dataclass(frozen=True)
class PositionSpec:
    """How the position channel is made.

    Attributes
    ----------
    n_samples : int
        Trace length of the training image; sample ``t`` maps to ``2 t / (n - 1) - 1``.
    """

    n_samples: int

    def value(self, t: Any) -> np.ndarray:
        """Channel value at absolute sample index (or indices) ``t``."""
        span = max(int(self.n_samples) - 1, 1)
        return (2.0 * np.asarray(t, dtype=np.float32) / span - 1.0).astype(np.float32)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (stored in the model card as ``input.position``)."""
        return {"axis": "sample", "n_samples": int(self.n_samples)}

    @classmethod
    def from_card(cls, entry: Mapping[str, Any] | None) -> PositionSpec | None:
        """The spec stored in a card's ``input.position`` (None when the model has none)."""
        if not entry:
            return None
        return cls(int(entry["n_samples"]))


def position_ramp(
    spec: PositionSpec, shape: Sequence[int], sample_dim: int | None, first: int
) -> np.ndarray:
    """The position channel of one slice.

    Parameters
    ----------
    spec : PositionSpec
        Scale of the channel.
    shape : sequence of int
        Shape of the slice (2 axes).
    sample_dim : int or None
        Which slice axis runs along the samples; None when the slice is a time slice (every
        pixel has the same sample index, ``first``).
    first : int
        Absolute sample index of the slice's first row/column along ``sample_dim`` (may be
        negative for a window padded before the trace), or of the whole time slice.

    Returns
    -------
    numpy.ndarray
        float32 of ``shape``.
    """
    shape = tuple(int(s) for s in shape)
    if sample_dim is None:
        return np.full(shape, spec.value(first), dtype=np.float32)
    ramp = spec.value(np.arange(first, first + shape[sample_dim]))
    view = [1] * len(shape)
    view[sample_dim] = shape[sample_dim]
    return np.ascontiguousarray(np.broadcast_to(ramp.reshape(view), shape), dtype=np.float32)


def interleave_position(
    slices: np.ndarray,
    spec: PositionSpec,
    sample_dim: int | None,
    first: int | Sequence[int],
) -> np.ndarray:
    """Add the position channel after every slice: ``(S, h, w)`` -> ``(2 S, h, w)``.

    Parameters
    ----------
    slices : numpy.ndarray
        The amplitude slices (the 2.5D context), ``(S, h, w)``.
    spec : PositionSpec
        Scale of the channel.
    sample_dim : int or None
        In-slice axis (0 or 1) along the samples, or None for time slices.
    first : int or sequence of int
        Absolute sample index of the first row/column along ``sample_dim``; for time slices,
        the sample index of every slice (one per slice).

    Returns
    -------
    numpy.ndarray
        float32 ``(2 S, h, w)``: amplitude, position, amplitude, position...
    """
    s = slices.shape[0]
    out = np.empty((2 * s, *slices.shape[1:]), dtype=np.float32)
    out[0::2] = slices
    if sample_dim is None:
        firsts = [int(first)] * s if np.ndim(first) == 0 else [int(f) for f in first]
        for i, f in enumerate(firsts):
            out[2 * i + 1] = spec.value(f)
    else:
        out[1::2] = position_ramp(spec, slices.shape[1:], sample_dim, int(first))[None]
    return out
