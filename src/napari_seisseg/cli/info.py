"""``seisseg info FILE``: print the survey geometry of a seismic file."""

from __future__ import annotations

import argparse
import json

import numpy as np

from ._common import add_segy_options, segy_options


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "info",
        help="print the geometry of a SEG-Y, .npy or Zarr file",
        description="Print the survey geometry (lines, samples, format, live traces) of seismic data.",
    )
    p.add_argument("paths", nargs="+", metavar="FILE",
                   help="SEG-Y file(s) or folder (assembled as one survey), .npy or .zarr")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.add_argument("--stats", action="store_true",
                   help="also read the data and print min, max, mean and std (reads the whole file)")
    add_segy_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..io import read_volume
    from ..io.probabilities import read_description

    if len(args.paths) == 1 and read_description(args.paths[0]) is not None:
        return _probabilities(args)
    volume = read_volume(args.paths, lazy=True, **segy_options(args))
    g = volume.geometry
    stats = None
    if args.stats:
        from ..io.blocks import iter_blocks

        n = 0
        total = 0.0
        total2 = 0.0
        lo, hi = np.inf, -np.inf
        for _s, block in iter_blocks(volume.data):
            b = block.astype(np.float64)
            n += b.size
            total += b.sum()
            total2 += (b * b).sum()
            lo, hi = min(lo, b.min()), max(hi, b.max())
        mean = total / n
        stats = {"min": float(lo), "max": float(hi), "mean": float(mean),
                 "std": float(np.sqrt(max(0.0, total2 / n - mean * mean)))}
    if args.json:
        out = {"shape": list(volume.shape), "dtype": str(np.dtype(volume.data.dtype))}
        if g is not None:
            d = g.to_json_dict()
            d["live"] = {"n_live": g.n_live, "grid_shape": list(g.grid_shape)}
            out["geometry"] = d
        if stats:
            out["stats"] = stats
        print(json.dumps(out, indent=1))
        return 0
    print(f"{', '.join(map(str, args.paths))}")
    print(f"dtype:       {np.dtype(volume.data.dtype)}")
    if g is None:
        print(f"shape:       {volume.shape} (no survey geometry)")
    else:
        print(g.describe())
    if stats:
        print("values:      min {min:g}, max {max:g}, mean {mean:.4g}, std {std:.4g}".format(**stats))
    return 0


def _probabilities(args: argparse.Namespace) -> int:
    """``seisseg info P.npy`` of probabilities written by ``seisseg predict``."""
    from ..io.probabilities import read_probabilities

    probs = read_probabilities(args.paths[0])
    if args.json:
        out = {"shape": list(probs.data.shape), "dtype": str(np.dtype(probs.data.dtype)),
               "probabilities": probs.description}
        print(json.dumps(out, indent=1))
        return 0
    print(args.paths[0])
    print(probs.describe())
    return 0
