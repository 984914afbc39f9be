"""``seisseg convert IN... OUT``: convert between SEG-Y, .npy (+ sidecar) and Zarr, block by block."""

from __future__ import annotations

import argparse

from ..jobs import drain
from ._common import add_segy_options, read_input
from .printer import progress_bar

#: ``seisseg convert``: its line in ``seisseg --help``, the text above its options.
HELP = "convert between SEG-Y, .npy and Zarr (several SEG-Y files or a folder are assembled)"
DESCRIPTION = ("Convert seismic data between SEG-Y, .npy (with a JSON geometry sidecar) and "
               "Zarr, block by block so files larger than memory convert. Several SEG-Y inputs (or a "
               "folder) are assembled into one volume, e.g. one inline per file.")


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("convert", help=HELP, description=DESCRIPTION)
    p.add_argument("inputs", nargs="+", metavar="IN", help="input file(s) or folder")
    p.add_argument("output", metavar="OUT", help="output path: .sgy/.segy, .npy or .zarr")
    p.add_argument("--template", metavar="SEGY",
                   help="SEG-Y whose headers the output copies (default: the input SEG-Y, if any)")
    p.add_argument("--out-format", dest="out_format", type=int, default=5, metavar="CODE",
                   help="sample format code of SEG-Y output (default 5, IEEE float; 1 IBM, 2 int32, "
                        "3 int16, 8 int8)")
    p.add_argument("--overwrite", action="store_true", help="replace OUT if it exists")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    add_segy_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..io.atomic import check_target
    from ..io.volume import output_kind, write_volume_job

    output_kind(args.output)  # a name without a known suffix: refused before any reading
    check_target(args.output, overwrite=args.overwrite, protect=args.inputs)
    volume = read_input(args.inputs, args, lazy=True)
    with progress_bar(f"writing {args.output}", enabled=not args.quiet) as update:
        out = drain(write_volume_job(
            args.output, volume.data, volume.geometry, overwrite=args.overwrite,
            sample_format=args.out_format, template=args.template,
        ), update)
    shape = " x ".join(map(str, volume.shape))
    print(f"wrote {out} ({shape})")
    return 0
