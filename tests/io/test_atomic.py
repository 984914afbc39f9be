"""Atomic writes: the temporary file becomes the target with ordinary permissions."""

from __future__ import annotations

import os
import stat

import numpy as np
import pytest

from napari_seisseg.errors import SeisSegError
from napari_seisseg.io import write_volume
from napari_seisseg.io.atomic import atomic_path


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_outputs_get_the_umask_permissions_not_mkstemp_ones(tmp_path):
    old = os.umask(0o022)
    try:
        write_volume(tmp_path / "a.npy", np.zeros((2, 3, 4), np.float32))
        write_volume(tmp_path / "a.zarr", np.zeros((2, 3, 4), np.float32))
    finally:
        os.umask(old)
    assert _mode(tmp_path / "a.npy") == 0o644
    assert _mode(tmp_path / "a.zarr") == 0o755
    inner = [p for p in (tmp_path / "a.zarr").rglob("*") if p.is_file()]
    assert inner and all(_mode(p) == 0o644 for p in inner)


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "keep.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("disk full")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]
    with pytest.raises(SeisSegError, match="already exists"), atomic_path(target, overwrite=False):
        pass
