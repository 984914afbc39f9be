"""Atomic file writing: write to a temporary file beside the target, then rename.

A crash or an error half-way never leaves a truncated output, and an existing file is only
replaced once the new one is complete.

Temporary entries are hidden and named for their owner: ``.{target}.p{pid}@{host}-{random}``
plus a suffix (``.tmp``).  A process killed outright (kill -9, power loss, out of memory)
cannot remove its own; the next write to the same place does (:func:`remove_stale`): an
entry whose process no longer runs on this machine, or one from another machine a day old.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

from ..errors import SeisSegError


@contextlib.contextmanager
def atomic_path(
    target: str | os.PathLike,
    *,
    protect: Iterable[str | os.PathLike] = (),
    overwrite: bool = True,
    directory: bool = False,
) -> Iterator[Path]:
    """Yield a temporary path that replaces ``target`` when the block succeeds.

    Parameters
    ----------
    target : path
        Final path of the file (or folder, with ``directory=True``).
    protect : iterable of paths
        Files that must never be replaced (the source of the data being written).
    overwrite : bool
        When False, an existing ``target`` raises :class:`SeisSegError` before anything is
        written.
    directory : bool
        Make a temporary folder instead of a file (for Zarr stores).
    """
    target = Path(target)
    _restore_backup(target)
    check_target(target, protect=protect, overwrite=overwrite)
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale(target.parent, target.name)
    if directory:
        tmp = Path(tempfile.mkdtemp(prefix=owned_prefix(target.name), suffix=".tmp",
                                    dir=target.parent))
    else:
        fd, name = tempfile.mkstemp(prefix=owned_prefix(target.name), suffix=".tmp",
                                    dir=target.parent)
        os.close(fd)
        tmp = Path(name)
    try:
        yield tmp
        _default_permissions(tmp, directory)
        if directory and target.exists():
            backup = target.with_name(f".{target.name}.old")
            os.replace(target, backup)
            os.replace(tmp, target)
            shutil.rmtree(backup, ignore_errors=True)
        else:
            os.replace(tmp, target)
    except BaseException:
        if directory:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
        raise


#: Entries from another machine (a shared disk) are removed only when this old.
FOREIGN_STALE_S = 24 * 3600.0
_HOST = re.sub(r"[^A-Za-z0-9_.]", "_", socket.gethostname())[:40] or "host"


def owned_prefix(name: str) -> str:
    """Prefix of a temporary entry for ``name`` owned by this process.

    Parameters
    ----------
    name : str
        Name of the output (or of the job) the entry belongs to.

    Returns
    -------
    str
        ``.{name}.p{pid}@{host}-``: hidden, and telling :func:`remove_stale` who owns it.
    """
    return f".{name}.p{os.getpid()}@{_HOST}-"


def _owner_gone(entry: Path, pid: int, host: str) -> bool:
    if host != _HOST:
        try:
            return time.time() - entry.lstat().st_mtime > FOREIGN_STALE_S
        except OSError:
            return False
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # alive, owned by someone else
        return False
    return False


def remove_stale(folder: str | os.PathLike, name: str) -> list[Path]:
    """Remove temporary entries for ``name`` in ``folder`` whose process no longer runs.

    Parameters
    ----------
    folder : path
        Where the output (or the job's scratch) lives.
    name : str
        Name the entries were made for (:func:`owned_prefix`).

    Returns
    -------
    list of pathlib.Path
        What was removed.  Entries of running processes (this one included) are kept, and
        nothing else in ``folder`` is touched.
    """
    folder = Path(folder)
    pattern = re.compile(re.escape(f".{name}.p") + r"(\d+)@([A-Za-z0-9_.]+)-")
    removed = []
    try:
        entries = list(folder.iterdir())
    except OSError:
        return removed
    for entry in entries:
        m = pattern.match(entry.name)
        if m is None or not _owner_gone(entry, int(m.group(1)), m.group(2)):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                entry.unlink()
        removed.append(entry)
    return removed


def _restore_backup(target: Path) -> None:
    """Undo a replacement of a folder that was killed between its two renames.

    The old folder is moved to ``.{name}.old`` and the new one into place; a kill between
    the two leaves only the backup, which is the user's previous output: it goes back.
    With the target in place, a leftover backup is removed.
    """
    backup = target.with_name(f".{target.name}.old")
    if not backup.is_dir():
        return
    if target.exists():
        shutil.rmtree(backup, ignore_errors=True)
    else:
        os.replace(backup, target)


def _umask() -> int:
    """The process umask, read without changing it where the OS allows (Linux)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)  # elsewhere: read by setting it (briefly) and restoring it
    os.umask(mask)
    return mask


def _default_permissions(tmp: Path, directory: bool) -> None:
    """Give a finished temporary file the mode a plain ``open(..., "w")`` would have.

    ``mkstemp``/``mkdtemp`` create entries readable by their owner only (0600/0700); the
    outputs are meant to be shared like any other file the user writes.
    """
    if not tmp.exists():
        return
    mask = _umask()
    if directory:
        for root, dirs, files in os.walk(tmp):
            os.chmod(root, 0o777 & ~mask)
            for d in dirs:
                os.chmod(os.path.join(root, d), 0o777 & ~mask)
            for f in files:
                os.chmod(os.path.join(root, f), 0o666 & ~mask)
    else:
        os.chmod(tmp, 0o666 & ~mask)


def check_target(
    target: str | os.PathLike, *, protect: Iterable[str | os.PathLike] = (), overwrite: bool = True
) -> None:
    """Raise :class:`SeisSegError` when writing ``target`` would destroy a protected or existing file."""
    target = Path(target)
    for src in protect:
        if src and _same_file(target, Path(src)):
            raise SeisSegError(
                f"Refusing to overwrite the source file {src}. Write the result to another path."
            )
    if not overwrite and target.exists():
        raise SeisSegError(
            f"{target} already exists. Choose another output path, or allow replacing it "
            "(--overwrite on the command line; 'replace an existing file' in the Export widget)."
        )


def atomic_write_text(target: str | os.PathLike, text: str) -> None:
    """Write ``text`` to ``target`` atomically."""
    with atomic_path(target) as tmp:
        tmp.write_text(text)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return a.resolve() == b.resolve()
