"""Throughput and peak memory of ``seisseg preprocess`` on a ~1 GB memory-mapped float32 cube.

Usage::

    python benchmarks/bench_preprocess.py                  # 1 GB cube, all cases
    python benchmarks/bench_preprocess.py --gb 0.2 --json benchmarks/_out/pre.json

The cube (``benchmarks/_data/``, git-ignored) is written inline block by inline block, with
a few dead traces and NaN samples, and deleted at the end unless ``--keep``.  Every case runs
in a fresh Python process that calls the ``seisseg`` CLI in-process, so its figures are its
own: wall time (sampling + fitting + processing + writing), throughput in MB of input per
second, peak RSS (``VmHWM``: includes the input and output file pages the kernel keeps
mapped, which it can drop at any time) and peak anonymous memory (``RssAnon`` sampled every
20 ms: the memory the process itself allocated, the figure that must stay far below the cube).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
DATA = HERE / "_data"

CASES = {
    "copy (seisseg convert, baseline)": ["convert", "{src}", "{out}.npy"],
    "clip 0.5/99.5 + standardize -> float32": ["preprocess", "{src}", "{out}.npy", "--clip",
                                               "0.5,99.5", "--standardize"],
    "AGC 51 samples + standardize -> float32": ["preprocess", "{src}", "{out}.npy",
                                                "--agc-samples", "51", "--standardize"],
    "standardize + log-uint8 -> uint8": ["preprocess", "{src}", "{out}.npy", "--standardize",
                                         "--log-uint8"],
}


def make_cube(path: Path, gb: float, n_samples: int = 1000) -> tuple[int, int, int]:
    """Write a float32 .npy of about ``gb`` GB block by block; return its shape."""
    n_traces = int(gb * 1e9 / (4 * n_samples))
    n_xl = int(np.sqrt(n_traces))
    n_il = max(1, n_traces // n_xl)
    shape = (n_il, n_xl, n_samples)
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=shape)
    rng = np.random.default_rng(0)
    t = np.arange(n_samples, dtype=np.float32)
    envelope = (1 + 20 * t / n_samples)  # amplitude grows with time, as uncorrected data does
    for i in range(0, n_il, 16):
        b = rng.standard_normal((min(16, n_il - i), n_xl, n_samples), dtype=np.float32)
        b *= envelope * 1000
        out[i:i + len(b)] = b
    out[:, :5] = 0.0  # dead traces
    out[::50, 10, 100] = np.nan
    out.flush()
    del out
    return shape


def _anon_kb() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("RssAnon:"):
                return int(line.split()[1])
    return 0


def _hwm_kb() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def run_case(argv: list[str]) -> dict:
    """Run one CLI command in this process and measure it."""
    from napari_seisseg.cli import main

    peak = [_anon_kb()]
    stop = threading.Event()

    def poll() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], _anon_kb())
            time.sleep(0.02)

    th = threading.Thread(target=poll, daemon=True)
    base_anon = _anon_kb()
    th.start()
    t0 = time.perf_counter()
    rc = main([*argv, "--quiet", "--overwrite"])
    seconds = time.perf_counter() - t0
    stop.set()
    th.join()
    return {"rc": rc, "seconds": seconds, "peak_anon_mb": peak[0] / 1024,
            "start_anon_mb": base_anon / 1024, "peak_rss_mb": _hwm_kb() / 1024}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--gb", type=float, default=1.0, help="cube size in GB (default 1)")
    ap.add_argument("--keep", action="store_true", help="keep the cube and outputs")
    ap.add_argument("--json", help="write the results here too")
    ap.add_argument("--case", help=argparse.SUPPRESS)  # internal: run one case
    args, rest = ap.parse_known_args()
    if args.case:
        print(json.dumps(run_case(json.loads(args.case))))
        return 0

    DATA.mkdir(parents=True, exist_ok=True)
    src = DATA / "bench_preprocess_cube.npy"
    out = DATA / "bench_preprocess_out"
    t0 = time.perf_counter()
    shape = make_cube(src, args.gb)
    size_mb = src.stat().st_size / 1e6
    print(f"cube {shape} float32, {size_mb:.0f} MB, written in {time.perf_counter() - t0:.1f} s")
    results = {"machine": f"{platform.node()} {os.cpu_count()} cores, {platform.processor()}",
               "python": sys.version.split()[0], "shape": shape, "cube_mb": size_mb, "cases": {}}
    try:
        for name, template in CASES.items():
            argv = [a.format(src=src, out=out) for a in template]
            r = subprocess.run([sys.executable, __file__, "--case", json.dumps(argv)],
                               capture_output=True, text=True, check=True)
            res = json.loads(r.stdout.strip().splitlines()[-1])
            res["throughput_mb_s"] = size_mb / res["seconds"]
            results["cases"][name] = res
            print(f"{name:42s} {res['seconds']:6.1f} s  {res['throughput_mb_s']:6.0f} MB/s  "
                  f"peak anon {res['peak_anon_mb']:5.0f} MB  peak RSS {res['peak_rss_mb']:5.0f} MB")
            for p in DATA.glob("bench_preprocess_out*"):
                if not args.keep:
                    p.unlink()
    finally:
        if not args.keep:
            src.unlink(missing_ok=True)
            for p in DATA.glob("bench_preprocess_out*"):
                p.unlink()
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
