"""Atomic file writing: write to a temporary file beside the target, then rename.

A crash or an error half-way never leaves a truncated output, and an existing file is only
replaced once the new one is complete.
"""

from __future__ import annotations

import contextlib
import os
import shutil
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
    check_target(target, protect=protect, overwrite=overwrite)
    target.parent.mkdir(parents=True, exist_ok=True)
    if directory:
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    else:
        fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
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
