"""Generate docs/cli.md from the ``seisseg`` argument parser (run after changing the CLI)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from napari_seisseg.cli import build_parser

OUT = Path(__file__).resolve().parent.parent / "docs" / "cli.md"


def main() -> int:
    os.environ["COLUMNS"] = "100"  # stable wrapping whatever the terminal
    parser = build_parser()
    parts = [
        "# `seisseg` command-line reference",
        "",
        "Generated from the argument parser by `python scripts/gen_cli_docs.py`; do not edit by hand.",
        "Every error prints one line on stderr. Exit status: 0 done, 2 a problem with the "
        "input or options (the message says what to change), 1 a system failure (disk, "
        "permissions) or an internal error, 130 interrupted by Ctrl-C (seisseg train saves the "
        "best model first).",
        "",
        "```text",
        parser.format_help().rstrip(),
        "```",
    ]
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name, p in sub.choices.items():
        parts += ["", f"## `seisseg {name}`", "", "```text", p.format_help().rstrip(), "```"]
    OUT.write_text("\n".join(parts) + "\n")
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
