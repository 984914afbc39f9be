"""The ``seisseg`` command line.

Each sub-command lives in its own module exposing ``add_parser(subparsers)``, which
registers the sub-command and sets ``func`` to a ``run(args) -> int`` function.  Errors a
user can cause (:class:`~napari_seisseg.errors.SeisSegError`) are printed as one line on
stderr with a non-zero exit status, and so are argument errors.  Anything else is a bug: it
is reported as one line too (exit status 1), with the traceback when ``SEISSEG_DEBUG`` is set.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from .. import __version__
from ..errors import SeisSegError

#: Sub-command modules, in the order they appear in ``seisseg --help``.
COMMANDS = ("info", "convert", "preprocess", "pretrain", "train", "predict", "demo")


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose errors are one line on stderr (exit status 2)."""

    def error(self, message: str):  # noqa: D102 - argparse API
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser (also used to generate the CLI reference)."""
    parser = OneLineParser(
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


def _silence_stdout() -> None:
    """Point stdout at the null device, so Python's flush at exit finds no broken pipe."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # stdout without a descriptor (tests)
        pass


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
    except BrokenPipeError:  # the reader went away (`seisseg info F | head`): quietly
        _silence_stdout()
        return 141  # what a shell reports for SIGPIPE
    except OSError as exc:
        print(f"seisseg {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # a bug: still one line, the traceback on request
        if os.environ.get("SEISSEG_DEBUG"):
            raise
        print(f"seisseg {args.command}: internal error: {type(exc).__name__}: {exc} (please "
              "report it; set SEISSEG_DEBUG=1 to see the traceback)", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
