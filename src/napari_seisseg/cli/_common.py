"""Argument helpers shared by sub-commands."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import SeisSegError


def number_in(kind: type, expected: str, ok: Callable[[Any], bool], rule: str) -> Callable[[str], Any]:
    """An argparse ``type``: a number of ``kind`` for which ``ok`` holds.

    Parameters
    ----------
    kind : type
        ``int`` or ``float``.
    expected : str
        What a text that is no such number should have been (``"a whole number"``).
    ok : callable
        True for the values accepted.
    rule : str
        The rule in the message of a refused value (``"at least 1"``).
    """

    def parse(text: str) -> Any:
        try:
            v = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {expected}, not {text!r}") from None
        if not ok(v):
            raise argparse.ArgumentTypeError(f"must be {rule}, not {text}")
        return v

    return parse


def positive(kind: type) -> Callable[[str], Any]:
    """An argparse ``type`` accepting numbers of ``kind`` above 0."""
    return number_in(kind, "a number", lambda v: v > 0, "positive")


def add_width_depth(group: Any, note: str) -> None:
    """``--width`` and ``--model-depth``: the size of the network, ``note`` closing their help.

    Parameters
    ----------
    group : argparse.ArgumentParser or argument group
        Where the options go.
    note : str
        What an omitted value means, in parentheses at the end of each help.
    """
    group.add_argument("--width", type=positive(int), metavar="W",
                       help=f"channels of the first stage ({note})")
    group.add_argument("--model-depth", type=positive(int), metavar="D",
                       help=f"number of down-sampling stages ({note})")


def int_list(text: str) -> tuple[int, ...]:
    """An argparse ``type``: ``"0"`` or ``"0,1"`` (or ``"64,128"``) as a tuple of ints."""
    parts = [p for p in text.replace(" ", "").split(",") if p]
    try:
        values = tuple(int(p) for p in parts)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected whole numbers separated by commas, not {text!r}"
        ) from None
    if not values:
        raise argparse.ArgumentTypeError("expected at least one number")
    return values


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
    a = parser.add_argument_group("plain arrays (.npy, Zarr without a geometry)")
    a.add_argument("--sample-axis", type=sample_axis_option, default="auto", metavar="AXIS",
                   help="the axis of the image that holds time or depth: auto (default) reads "
                        "it from the amplitudes (the axis they oscillate along; the last axis "
                        "when none stands out), or 0, 1, 2. Outputs keep the input's layout")


def sample_axis_option(text: str) -> int | str:
    """An argparse ``type`` for ``--sample-axis``.

    Parameters
    ----------
    text : str
        ``auto`` (any case) or a whole number.

    Returns
    -------
    int or str
        ``"auto"`` or the axis number (checked against the array when it is read).
    """
    if text.strip().lower() == "auto":
        return "auto"
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected auto or an axis number (0, 1, 2), not {text!r}") from None


def segy_options(args: argparse.Namespace) -> dict[str, Any]:
    """Keyword arguments for :func:`napari_seisseg.io.read_volume` from parsed options."""
    return {
        "iline_byte": args.iline_byte,
        "xline_byte": args.xline_byte,
        "sample_format": args.sample_format,
        "endian": args.endian,
        "domain": args.domain,
        "sample_axis": getattr(args, "sample_axis", "auto"),
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
    from ..io.sample_axis import is_guessed
    from ..io.volume import file_kind

    options = {**(segy_options(args) if args is not None else {}), **kwargs}
    volume = read_volume(paths, **options)
    many = isinstance(paths, list | tuple)
    first = paths[0] if many else paths
    # SEG-Y notes say what reading assumed; an array's sidecar notes only describe it
    segy = (many and len(paths) > 1) or file_kind(first) == "segy"
    if volume.geometry is not None and (segy or is_guessed(volume.geometry)):
        name = f"{first} (+{len(paths) - 1} files)" if many and len(paths) > 1 else str(first)
        for note in volume.geometry.notes:
            print(f"{name}: note: {note}", file=sys.stderr)
    return volume


def read_named(path: str, what: str, args: argparse.Namespace, like: Any = None) -> Any:
    """Read one input of a training command, named ``what`` in messages; the SEG-Y options describe the image.

    Masks exported by seisseg copy the image's trace headers, so ``--iline-byte`` and
    ``--xline-byte`` hold for label files too; their sample format, byte order and domain are
    their own (read from the file), so ``--format``, ``--endian`` and ``--domain`` are not
    applied to them (nor ``--sample-axis``: labels do not wiggle, and a plain labels array is
    taken in the image's layout).  With ``like`` (the image's Volume), a volume whose geometry
    names the same axes in another order is put in the image's order (a Labels layer saved
    from napari in display order, beside an image that keeps its own order), and beside a
    plain image (no geometry) in the canonical order the image is read in.
    """
    if not Path(path).exists():
        raise SeisSegError(f"{what} {path} does not exist.")
    options = segy_options(args)
    if what != "image":  # labels do not wiggle: never guessed, taken in the image's layout
        options = {**{k: options[k] for k in ("iline_byte", "xline_byte")}, "sample_axis": None}
    try:
        volume = read_input(path, **options)
    except SeisSegError as exc:
        raise SeisSegError(f"cannot read {what} {path}: {exc}") from None
    g, image_g = volume.geometry, getattr(like, "geometry", None)
    if g is not None and like is not None and image_g is None:
        # a plain image is read (inline, crossline, sample): labels painted over it in napari
        # (shown time downwards) were saved in display order with a sidecar
        canonical = volume.canonical()
        return canonical if tuple(canonical.shape) == tuple(like.shape) else volume
    if g is None or image_g is None or g.axes == image_g.axes or sorted(g.axes) != sorted(image_g.axes):
        return volume
    return volume.in_order(image_g.axes)


def check_labels(volume: Any, path: str, image_shape: tuple[int, ...], image_path: str) -> None:
    """Refuse labels that are not numbers or not of the image's shape (the message names both files)."""
    dtype = np.dtype(volume.data.dtype)
    if dtype.kind not in "iubf":
        raise SeisSegError(
            f"labels {path} have dtype {dtype}; labels must be integers (0 = not labeled, "
            "1..K = classes)."
        )
    if tuple(volume.shape) != tuple(image_shape):
        raise SeisSegError(
            f"labels {path} have shape {tuple(volume.shape)} but image {image_path} has shape "
            f"{tuple(image_shape)}; give labels of the image's shape (0 = not labeled, "
            "1..K = classes)."
        )


@contextmanager
def ctrl_c_stops(stop: threading.Event, say: Callable[[str], None]) -> Iterator[None]:
    """First Ctrl-C sets ``stop`` (training ends after this step); a second one aborts."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        say("Ctrl-C: stopping after this step and keeping the best model so far "
            "(press Ctrl-C again to abort without saving).")

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
