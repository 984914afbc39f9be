"""Index keys of lazy arrays and the leading-axis view."""

from __future__ import annotations

import numpy as np
import pytest

from napari_seisseg.io.indexing import LazyArray, WithLeadingAxis, expand_key


def test_expand_key_gives_one_entry_per_axis():
    assert expand_key(2, 3) == (2, slice(None), slice(None))
    assert expand_key((Ellipsis, 1), 3) == (slice(None), slice(None), 1)
    assert expand_key((0, Ellipsis, 1), 3) == (0, slice(None), 1)
    assert expand_key(Ellipsis, 2) == (slice(None), slice(None))


@pytest.mark.parametrize(
    ("key", "match"),
    [((None, 0), "Thing does not support np.newaxis"), ((Ellipsis, 0, Ellipsis), "single ellipsis"),
     ((0, 0, 0, 0), "too many indices")],
)
def test_expand_key_refuses_bad_keys(key, match):
    with pytest.raises(IndexError, match=match):
        expand_key(key, 3, "Thing")


def test_with_leading_axis_reads_like_a_3d_array():
    data = np.arange(12.0).reshape(3, 4)
    view = WithLeadingAxis(data)
    assert view.shape == (1, 3, 4) and view.ndim == 3 and view.dtype == data.dtype
    np.testing.assert_array_equal(view[0, 1:, :2], data[1:, :2])
    np.testing.assert_array_equal(view[:, 1], data[None, 1])
    np.testing.assert_array_equal(view[...], data[None])


class _Doubled(LazyArray):
    """A lazy array computing twice the values of a numpy array."""

    def __init__(self, data):
        self.data = data
        self.shape, self.ndim, self.dtype = data.shape, data.ndim, data.dtype

    def __getitem__(self, key):
        return self.data[key] * 2


def test_lazy_array_derives_size_nbytes_len_and_asarray_from_shape_dtype_and_indexing():
    data = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    lazy = _Doubled(data)
    assert (lazy.size, lazy.nbytes, len(lazy)) == (24, 96, 2)
    np.testing.assert_array_equal(np.asarray(lazy), data * 2)
    assert np.asarray(lazy, dtype=np.float64).dtype == np.float64
