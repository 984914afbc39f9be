"""Atomic file writing: write to a temporary file beside the target, then rename.

A crash or an error half-way never leaves a truncated output, and an existing file is only
replaced once the new one is complete.

Temporary entries are hidden and named for their owner: ``.{target}.p{pid}@{host}-{random}``
plus a suffix (``.tmp``).  A process killed outright (kill -9, power loss, out of memory)
cannot remove its own; the next write to the same place does (:func:`remove_stale`): an
entry whose process no longer runs on this machine.  Entries of other machines (a shared
disk) are left alone.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import socket
import tempfile
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
            backup = target.with_name(f"{owned_prefix(target.name)}old")
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


_HOST = hashlib.sha1(socket.gethostname().encode()).hexdigest()[:10]


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` runs on this machine (True when that cannot be told).

    Parameters
    ----------
    pid : int
        Process id.

    Returns
    -------
    bool
        False only when the process is known to be gone: an entry is never removed, nor a
        checkpoint offered, on a guess.
    """
    if pid == os.getpid():
        return True
    try:
        import psutil  # a napari dependency; right on every OS

        return bool(psutil.pid_exists(pid))
    except ImportError:  # pragma: no cover - napari always brings it
        pass
    if os.name != "posix":  # pragma: no cover - os.kill(pid, 0) is not a probe there
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # alive, owned by someone else
        return True
    return True


def owned_prefix(name: str) -> str:
    """Prefix of a temporary entry for ``name`` owned by this process.

    Parameters
    ----------
    name : str
        Name of the output (or of the job) the entry belongs to.

    Returns
    -------
    str
        ``.{name}.p{pid}@{host}-``, the host a hash of this machine's name: hidden, and
        telling :func:`remove_stale` who owns it.
    """
    return f".{name}.p{os.getpid()}@{_HOST}-"


def _stale_entries(folder: Path, name: str) -> list[Path]:
    """Entries for ``name`` in ``folder`` left by processes of this machine that are gone.

    Entries of other machines (a shared disk) are never returned: whether their process
    still runs cannot be told from here.
    """
    pattern = re.compile(re.escape(f".{name}.p") + r"(\d+)@([0-9a-f]+)-")
    try:
        entries = list(folder.iterdir())
    except OSError:
        return []
    out = []
    for entry in entries:
        m = pattern.match(entry.name)
        if m and m.group(2) == _HOST and not pid_alive(int(m.group(1))):
            out.append(entry)
    return out


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
        What was removed.  Entries of running processes (this one included) and of other
        machines are kept, and nothing else in ``folder`` is touched.
    """
    removed = []
    for entry in _stale_entries(Path(folder), name):
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                entry.unlink()
        removed.append(entry)
    return removed


def _restore_backup(target: Path) -> None:
    """Undo a replacement of a folder that was killed between its two renames.

    The old folder is moved aside (``.{name}.p{pid}@{host}-old``) and the new one into
    place; a kill between the two leaves only the backup, which is the user's previous
    output: it goes back.  With the target in place, :func:`remove_stale` removes it.
    """
    if target.exists():
        return
    for entry in _stale_entries(target.parent, target.name):
        if entry.name.endswith("-old") and entry.is_dir():
            os.replace(entry, target)
            return


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
