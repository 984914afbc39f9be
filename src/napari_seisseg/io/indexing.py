"""Index keys of lazy arrays, their shared numpy-like attributes, and a view adding an axis.

Every lazy array of the package (SEG-Y traces, preprocessed views, prediction outputs)
takes numpy-style keys; :func:`expand_key` turns one into exactly one entry per axis, so
each ``__getitem__`` then only deals with ints, slices and arrays.  :class:`LazyArray` gives
such an array the attributes numpy code reads (size, nbytes, len, ``np.asarray``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["LazyArray", "WithLeadingAxis", "expand_key"]


def expand_key(key: Any, ndim: int, owner: str = "This array") -> tuple[Any, ...]:
    """One key entry per axis: the ellipsis expanded, missing trailing axes taken whole.

    Parameters
    ----------
    key : object
        A numpy-style key: an int, a slice, an array, or a tuple of them with at most one
        ``...``.
    ndim : int
        Axes of the indexed array.
    owner : str
        The array's name in the message refusing ``np.newaxis``.

    Returns
    -------
    tuple
        ``ndim`` entries, each as given in ``key`` or ``slice(None)``.

    Raises
    ------
    IndexError
        For ``np.newaxis`` (None), more than one ellipsis, or more entries than axes.
    """
    if not isinstance(key, tuple):
        key = (key,)
    if any(k is None for k in key):
        raise IndexError(f"{owner} does not support np.newaxis; index, then reshape")
    n_ell = sum(1 for k in key if k is Ellipsis)
    if n_ell > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    if n_ell:
        i = next(i for i, k in enumerate(key) if k is Ellipsis)
        key = key[:i] + (slice(None),) * (ndim - len(key) + 1) + key[i + 1 :]
    if len(key) > ndim:
        raise IndexError(f"too many indices: array is {ndim}-dimensional, {len(key)} given")
    return tuple(key) + (slice(None),) * (ndim - len(key))


class LazyArray:
    """The numpy-like attributes a lazy array derives from its ``shape``, ``dtype`` and indexing.

    A subclass sets ``shape``, ``ndim`` and ``dtype`` and implements ``__getitem__``;
    ``np.asarray`` then reads the whole array through it.
    """

    shape: tuple[int, ...]
    ndim: int
    dtype: np.dtype

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def nbytes(self) -> int:
        return self.size * self.dtype.itemsize

    def __len__(self) -> int:
        return self.shape[0]

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        out = self[(slice(None),) * self.ndim]
        return out if dtype is None else out.astype(dtype, copy=False)


class WithLeadingAxis:
    """A 2D array seen as ``(1, H, W)`` (reads only what is indexed).

    Parameters
    ----------
    data : array-like
        A 2D array (numpy, memmap, lazy SEG-Y, Zarr...).
    """

    def __init__(self, data: Any):
        self.data = data
        self.shape = (1, *tuple(data.shape))
        self.dtype = data.dtype
        self.ndim = 3

    def __getitem__(self, key: Any) -> np.ndarray:
        if key is Ellipsis:
            key = (slice(None),) * 3
        first, rest = key[0], tuple(key[1:])
        block = np.asarray(self.data[rest])
        if isinstance(first, (int, np.integer)):
            return block
        return block[None][first]
