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


def _dead_pid() -> int:
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    return int(proc.stdout)


def test_a_killed_write_leaves_a_hidden_entry_the_next_write_removes(tmp_path):
    """kill -9 inside the atomic block: the target is untouched, the temporary file stays;
    the next write to the same target removes it (issue 21)."""
    import subprocess
    import sys

    target = tmp_path / "mask.npy"
    target.write_bytes(b"the user's file")
    code = (
        "import os, sys\n"
        "from napari_seisseg.io.atomic import atomic_path\n"
        "with atomic_path(sys.argv[1]) as tmp:\n"
        "    tmp.write_bytes(b'half')\n"
        "    os.kill(os.getpid(), 9)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code, str(target)])
    assert proc.returncode == -9
    left = [p for p in tmp_path.iterdir() if p != target]
    assert len(left) == 1 and left[0].name.startswith(".mask.npy.p") and left[0].suffix == ".tmp"
    assert target.read_bytes() == b"the user's file"
    write_volume(target, np.ones((2, 2, 2), np.float32), overwrite=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mask.npy"]


def test_stale_entries_of_running_processes_other_machines_and_names_are_kept(tmp_path):
    from napari_seisseg.io.atomic import owned_prefix, remove_stale

    dead = _dead_pid()
    host = owned_prefix("a").split("@")[1].rstrip("-")
    mine = tmp_path / f"{owned_prefix('a.zarr')}x1.tmp"
    mine.mkdir()
    gone = tmp_path / f".a.zarr.p{dead}@{host}-x2.tmp"
    gone.mkdir()
    (gone / "chunk").write_bytes(b"0")
    other_name = tmp_path / f".b.zarr.p{dead}@{host}-x3.tmp"
    other_name.write_bytes(b"0")
    foreign = tmp_path / f".a.zarr.p{dead}@0123456789-x4.tmp"  # another machine's
    foreign.write_bytes(b"0")
    long_ago = os.path.getmtime(foreign) - 30 * 24 * 3600
    os.utime(foreign, (long_ago, long_ago))
    users = tmp_path / ".a.zarr.p1-notours"  # no host: not an entry of ours
    users.write_bytes(b"0")
    removed = remove_stale(tmp_path, "a.zarr")
    assert [p.name for p in removed] == [gone.name]
    assert mine.exists() and other_name.exists() and foreign.exists() and users.exists()


def test_a_folder_replacement_killed_between_its_renames_is_undone(tmp_path):
    """A Zarr output being replaced: the old one is moved aside first; when the process dies
    before the new one is moved in, the next write puts the user's folder back first."""
    from napari_seisseg.io.atomic import owned_prefix

    target = tmp_path / "p.zarr"
    host = owned_prefix("a").split("@")[1].rstrip("-")
    backup = tmp_path / f".p.zarr.p{_dead_pid()}@{host}-old"
    backup.mkdir()
    (backup / "data").write_bytes(b"previous output")
    with pytest.raises(SeisSegError, match="already exists"):
        write_volume(target, np.zeros((2, 2, 2), np.float32), overwrite=False)
    assert (target / "data").read_bytes() == b"previous output" and not backup.exists()


def test_a_users_folder_named_like_a_backup_is_never_touched(tmp_path):
    target = tmp_path / "p.zarr"
    mine = tmp_path / ".p.zarr.old"  # the user's, not ours
    mine.mkdir()
    write_volume(target, np.zeros((2, 2, 2), np.float32))
    write_volume(target, np.ones((2, 2, 2), np.float32), overwrite=True)
    assert mine.is_dir() and sorted(p.name for p in tmp_path.iterdir()) == [".p.zarr.old",
                                                                           "p.zarr"]
