"""Helpers of the training tests: tiny models, a learnable toy cube, a lazy array."""

from __future__ import annotations

import numpy as np

#: Options of a tiny U-Net (a few thousand parameters).
TINY = {"width": 4, "depth": 2}


def smooth_field(shape, seed: int = 0, passes: int = 3) -> np.ndarray:
    """Smooth random field (box-filtered noise), unit standard deviation, float32."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    for _ in range(passes):
        for ax in range(len(shape)):
            x = (np.roll(x, 1, ax) + x + np.roll(x, -1, ax)) / 3.0
    x = (x - x.mean()) / x.std()
    return x.astype(np.float32)


def toy_cube(shape=(12, 24, 24), seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A learnable task: class 1 where the amplitude is negative, 2 where positive."""
    image = smooth_field(shape, seed)
    truth = np.where(image > 0, 2, 1).astype(np.uint8)
    return image, truth


def sections_only(truth: np.ndarray, axis: int, indices) -> np.ndarray:
    """Truth kept only on the given slices along ``axis`` (0 elsewhere)."""
    out = np.zeros_like(truth)
    key = [slice(None)] * truth.ndim
    key[axis] = list(indices)
    out[tuple(key)] = truth[tuple(key)]
    return out


class LazyArray:
    """A read-only array that only supports slicing; records how much every read took."""

    def __init__(self, data: np.ndarray):
        self._data = data
        self.shape = data.shape
        self.dtype = data.dtype
        self.ndim = data.ndim
        self.reads: list[int] = []

    def __getitem__(self, key):
        out = np.array(self._data[key])
        self.reads.append(out.size)
        return out

    def transpose(self, perm):
        return LazyArray(self._data.transpose(perm))

    def __array__(self, *args, **kwargs):
        raise AssertionError("the whole lazy array was converted to numpy")
