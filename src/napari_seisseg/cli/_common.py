"""Argument helpers shared by sub-commands."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from contextlib import contextmanager
from typing import Any


def positive(kind: type) -> Callable[[str], Any]:
    """An argparse ``type`` accepting numbers of ``kind`` above 0."""

    def parse(text: str) -> Any:
        try:
            v = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, not {text!r}") from None
        if not v > 0:
            raise argparse.ArgumentTypeError(f"must be positive, not {text}")
        return v

    return parse


def add_segy_options(parser: argparse.ArgumentParser) -> None:
    """Options that control how SEG-Y input is read."""
    g = parser.add_argument_group("SEG-Y input")
    g.add_argument("--iline-byte", type=int, metavar="BYTE",
                   help="trace-header byte of the inline number (default: detect; 189 is standard)")
    g.add_argument("--xline-byte", type=int, metavar="BYTE",
                   help="trace-header byte of the crossline number (default: detect; 193 is standard)")
    g.add_argument("--format", dest="sample_format", type=int, metavar="CODE",
                   help="override the sample format code of the binary header (1 IBM, 5 IEEE, ...)")
    g.add_argument("--endian", choices=("big", "little"), help="override byte-order detection")
    g.add_argument("--domain", choices=("time", "depth"),
                   help="vertical domain (default: guessed from the file name and textual header)")


def segy_options(args: argparse.Namespace) -> dict[str, Any]:
    """Keyword arguments for :func:`napari_seisseg.io.read_volume` from parsed options."""
    return {
        "iline_byte": args.iline_byte,
        "xline_byte": args.xline_byte,
        "sample_format": args.sample_format,
        "endian": args.endian,
        "domain": args.domain,
    }


def read_input(paths: Any, args: argparse.Namespace | None = None, **kwargs: Any) -> Any:
    """Read an input volume with the parsed SEG-Y options and say on stderr what was assumed.

    The reader's notes (damaged trace headers left out, an irregular survey padded, header
    bytes found elsewhere) are what the GUI shows as notifications; the CLI prints them.

    Parameters
    ----------
    paths : path or sequence of paths
        What :func:`napari_seisseg.io.read_volume` reads.
    args : argparse.Namespace, optional
        Parsed options holding the SEG-Y options (None: detect everything).
    **kwargs
        More keyword arguments for ``read_volume`` (``lazy=True``; they override ``args``).

    Returns
    -------
    napari_seisseg.io.Volume
    """
    from ..io import read_volume
    from ..io.volume import file_kind

    options = {**(segy_options(args) if args is not None else {}), **kwargs}
    volume = read_volume(paths, **options)
    many = isinstance(paths, list | tuple)
    first = paths[0] if many else paths
    # SEG-Y notes say what reading assumed; an array's sidecar notes only describe it
    segy = (many and len(paths) > 1) or file_kind(first) == "segy"
    if volume.geometry is not None and segy:
        name = f"{first} (+{len(paths) - 1} files)" if many and len(paths) > 1 else str(first)
        for note in volume.geometry.notes:
            print(f"{name}: note: {note}", file=sys.stderr)
    return volume


#: Seconds between progress-bar redraws when stderr is not a terminal (a log file, CI):
#: a redraw on every step wrote megabytes of carriage-return lines into logs.
LOG_REDRAW_S = 30.0


def new_bar(total: int, enabled: bool = True, **kwargs: Any) -> Any:
    """A tqdm bar on stderr, redrawn at most every :data:`LOG_REDRAW_S` into a log file.

    Move it with :func:`move_bar` (which honours the redraw interval), not ``refresh()``.
    """
    from tqdm import tqdm

    interactive = bool(getattr(sys.stderr, "isatty", lambda: False)())
    return tqdm(total=total, disable=not enabled, leave=False, file=sys.stderr,
                mininterval=0.1 if interactive else LOG_REDRAW_S, miniters=1, **kwargs)


def move_bar(bar: Any, n: int) -> None:
    """Set ``bar`` to ``n`` of its total, drawing only when its interval has passed."""
    bar.update(n - bar.n)


@contextmanager
def progress_bar(desc: str, enabled: bool = True) -> Callable[[float], None]:
    """A tqdm bar driven by fractions (0..1); yields the update function."""
    bar = new_bar(100, enabled, desc=desc, unit="%",
                  bar_format="{desc}: {percentage:3.0f}%|{bar}| {elapsed}<{remaining}")

    def update(fraction: float) -> None:
        move_bar(bar, round(100 * min(1.0, max(0.0, fraction))))

    try:
        yield update
    finally:
        bar.close()
