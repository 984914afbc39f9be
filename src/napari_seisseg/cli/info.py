"""``seisseg info FILE``: print the survey geometry of a seismic file."""

from __future__ import annotations

import argparse
import json

import numpy as np

from ._common import add_segy_options, segy_options

#: ``seisseg info``: its line in ``seisseg --help``, the text above its options.
HELP = "print the geometry of a SEG-Y, .npy or Zarr file"
DESCRIPTION = "Print the survey geometry (lines, samples, format, live traces) of seismic data."


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("info", help=HELP, description=DESCRIPTION)
    p.add_argument("paths", nargs="+", metavar="FILE",
                   help="SEG-Y file(s) or folder (assembled as one survey), .npy or .zarr")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.add_argument("--stats", action="store_true",
                   help="also read the data and print min, max, mean and std of the live traces, "
                        "NaN/inf left out (reads the whole file)")
    add_segy_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..io import read_volume
    from ..io.probabilities import is_probabilities

    if len(args.paths) == 1 and is_probabilities(args.paths[0]):
        return _probabilities(args)
    volume = read_volume(args.paths, lazy=True, **segy_options(args))
    g = volume.geometry
    stats = _stats(volume) if args.stats else None
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
        if stats["n"] == 0:
            print("values:      none (every trace is dead or every sample NaN/inf)")
        else:
            print("values:      min {min:g}, max {max:g}, mean {mean:.4g}, std {std:.4g}"
                  .format(**stats) + f" over {stats['n']:,} samples of live traces")
        if stats["n_nonfinite"]:
            print(f"             {stats['n_nonfinite']:,} NaN/inf samples left out")
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


def _stats(volume) -> dict:
    """Min, max, mean and std of the live traces' finite samples, and what was left out.

    Dead traces (missing from an irregular survey, stored as zeros) would pull the mean and std
    towards zero, and one NaN would make every figure NaN; both are left out and counted.
    """
    from ..io.blocks import iter_blocks

    vol = volume.canonical()
    g = vol.geometry
    live = g.live if g is not None and g.live.shape == tuple(vol.shape[:-1]) else None
    n = n_bad = 0
    total = total2 = 0.0
    lo, hi = np.inf, -np.inf
    for s, block in iter_blocks(vol.data):
        b = block.astype(np.float64)
        if live is not None:
            b = b[live[s]]
        finite = np.isfinite(b)
        n_bad += int(b.size - np.count_nonzero(finite))
        b = b[finite]
        if not b.size:
            continue
        n += b.size
        total += b.sum()
        total2 += (b * b).sum()
        lo, hi = min(lo, b.min()), max(hi, b.max())
    out = {"n": n, "n_nonfinite": n_bad,
           "n_dead_traces": 0 if live is None else int(live.size - np.count_nonzero(live))}
    if n:
        mean = total / n
        out.update(min=float(lo), max=float(hi), mean=float(mean),
                   std=float(np.sqrt(max(0.0, total2 / n - mean * mean))))
    return out
