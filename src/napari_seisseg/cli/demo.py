"""``seisseg demo``: the main job, headless, on the sample data.

Today it opens the real F3 sample (SEG-Y) and the synthetic labeled cube, prints their
geometry, round-trips F3 through SEG-Y export, and writes pictures of an inline of each.
Training and prediction join the demo when they exist.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo",
        help="run the main job headless on the sample data and write figures",
        description="Open the sample cubes, print their geometry, export and re-open SEG-Y, and "
        "write PNG figures of an inline into an output folder.",
    )
    p.add_argument("--out", default="demo_output", help="output folder (default: demo_output)")
    p.add_argument("--seed", type=int, default=0, help="seed of the synthetic cube")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import matplotlib

    matplotlib.use("Agg")
    from .._sample_data import F3_SAMPLE
    from ..io import read_segy, write_segy

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    t_start = time.perf_counter()

    print(f"== F3 sample: {F3_SAMPLE}")
    f3 = read_segy(F3_SAMPLE)
    print(f3.geometry.describe())
    data = np.asarray(f3.data)
    print(f"values:      min {data.min()}, max {data.max()}, mean {data.mean():.2f}")
    exported = out / "f3_export.sgy"
    write_segy(exported, f3.data, f3.geometry, overwrite=True)
    back = read_segy(exported)
    same = np.array_equal(np.asarray(back.data), data.astype(np.float32))
    print(f"exported {exported} (IEEE float) and re-opened it: values identical = {same}")
    figures = [_inline_figure(data, f3.geometry, None, out / "f3_inline.png", "F3 crop")]

    from ..synthetic import make_synthetic_cube

    print(f"\n== synthetic labeled cube (seed {args.seed})")
    cube = make_synthetic_cube(seed=args.seed)
    print(cube.geometry.describe())
    names = ", ".join(f"{i + 1} {n}" for i, n in enumerate(cube.class_names))
    fractions = ", ".join(
        f"{n} {100 * np.mean(cube.labels == i + 1):.1f}%" for i, n in enumerate(cube.class_names)
    )
    print(f"classes:     {names}; truth: {fractions}")
    figures.append(_inline_figure(cube.seismic, cube.geometry, cube.labels,
                                  out / "synthetic_inline.png", "synthetic cube"))

    print(f"\nfigures: {', '.join(str(f) for f in figures)}")
    print(f"outputs in {out.resolve()} ({time.perf_counter() - t_start:.1f} s)")
    return 0


def _inline_figure(cube, geometry, labels, path: Path, title: str) -> Path:
    """Save the middle inline (time downwards, real coordinates) as a PNG."""
    import matplotlib.pyplot as plt

    i = cube.shape[0] // 2
    section = np.asarray(cube[i], dtype=np.float32).T  # (sample, crossline)
    clip = float(np.percentile(np.abs(section), 99)) or 1.0
    x0, x1 = geometry.xlines[0], geometry.xlines[-1]
    t = geometry.samples
    extent = (x0 - 0.5, x1 + 0.5, t[-1] + geometry.dt / 2, t[0] - geometry.dt / 2)
    ncols = 2 if labels is not None else 1
    fig, axes = plt.subplots(1, ncols, figsize=(5 * ncols, 5), squeeze=False)
    ax = axes[0, 0]
    ax.imshow(section, cmap="gray", vmin=-clip, vmax=clip, aspect="auto", extent=extent,
              interpolation="nearest")
    ax.set(title=f"{title}: inline {geometry.ilines[i]}", xlabel="crossline",
           ylabel=geometry.sample_label)
    if labels is not None:
        ax = axes[0, 1]
        ax.imshow(section, cmap="gray", vmin=-clip, vmax=clip, aspect="auto", extent=extent,
                  interpolation="nearest")
        lab = np.ma.masked_equal(np.asarray(labels[i]).T, 0)
        ax.imshow(lab, cmap="tab10", vmin=0, vmax=9, alpha=0.45, aspect="auto", extent=extent,
                  interpolation="nearest")
        ax.set(title="labels (truth)", xlabel="crossline")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
