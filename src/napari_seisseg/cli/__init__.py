"""The ``seisseg`` command line.

Each sub-command lives in its own module exposing ``add_parser(subparsers)``, which
registers the sub-command and sets ``func`` to a ``run(args) -> int`` function.  Errors a
user can cause (:class:`~napari_seisseg.errors.SeisSegError`) are printed as one line on
stderr with a non-zero exit status; nothing else is caught, so real bugs keep their traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from .. import __version__
from ..errors import SeisSegError

#: Sub-command modules, in the order they appear in ``seisseg --help``.
COMMANDS = ("info", "convert", "preprocess", "train", "predict", "demo")


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser (also used to generate the CLI reference)."""
    parser = argparse.ArgumentParser(
        prog="seisseg",
        description="Segment seismic volumes with deep learning: inspect, convert, "
        "condition, train and predict from the command line.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:  # a sub-command still being written
            if exc.name != f"{__name__}.{name}":
                raise
            continue
        module.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``seisseg`` with ``argv`` (default: ``sys.argv[1:]``) and return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except SeisSegError as exc:
        print(f"seisseg {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"seisseg {args.command}: interrupted", file=sys.stderr)
        return 130
    except OSError as exc:
        print(f"seisseg {args.command}: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
