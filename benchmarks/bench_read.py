"""Read throughput of napari-seisseg's SEG-Y reader against ``segyio.tools.cube``, and
open latency of a lazy cube larger than a quarter of this machine's memory.

Usage::

    python benchmarks/bench_read.py                 # ~600 MB cubes + a 6.5 GB lazy cube
    python benchmarks/bench_read.py --big-gb 0      # skip the big lazy cube
    python benchmarks/bench_read.py --json out.json

The test cubes are made from the real F3 fixture (tiled in inline, crossline and time) and
written to ``benchmarks/_data/`` (git-ignored), then removed unless ``--keep``.
Full reads are timed with a warm page cache (best of ``--repeat``), so both readers are
measured on decoding and copying, not on the disk.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import platform
import shutil
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
FIXTURE = HERE.parent / "tests" / "data" / "segy" / "f3.sgy"


def make_cube(path: Path, target_mb: float, sample_format: int, n_samples: int = 450) -> tuple:
    """Write a SEG-Y of about ``target_mb`` MB by tiling the F3 crop; return its shape."""
    from napari_seisseg.io import read_segy, write_segy
    from napari_seisseg.io.geometry import SurveyGeometry

    f3 = np.asarray(read_segy(FIXTURE).data).astype(np.float32)
    item = 2 if sample_format == 3 else 4
    trace_bytes = 240 + n_samples * item
    n_traces = int(target_mb * 1e6 / trace_bytes)
    n_xl = 18 * 30
    n_il = max(1, n_traces // n_xl)
    reps_t = int(np.ceil(n_samples / f3.shape[2]))
    block = np.tile(f3, (1, n_xl // 18, reps_t))[:, :, :n_samples]

    class Tiled:
        shape = (n_il, n_xl, n_samples)
        dtype = np.dtype(np.float32)
        ndim = 3

        def __getitem__(self, key):
            il, xl = key[0], key[1] if len(key) > 1 else slice(None)
            rows = np.arange(n_il)[il] % f3.shape[0]
            return block[rows][:, xl]

    geometry = SurveyGeometry(kind="cube", n_samples=n_samples, dt=4.0, t0=0.0,
                              ilines=np.arange(1, n_il + 1), xlines=np.arange(1, n_xl + 1),
                              iline_byte=189, xline_byte=193)
    write_segy(path, Tiled(), geometry, sample_format=sample_format, overwrite=True)
    return (n_il, n_xl, n_samples)


def best_of(fn, repeat: int) -> tuple[float, object]:
    times = []
    out = None
    for _ in range(repeat):
        out = None
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def bench_full_reads(workdir: Path, size_mb: float, repeat: int) -> list[dict]:
    import segyio

    from napari_seisseg.io import read_segy

    rows = []
    for code, name in ((3, "int16"), (5, "IEEE float"), (1, "IBM float")):
        path = workdir / f"cube_format{code}.sgy"
        shape = make_cube(path, size_mb, code)
        size = path.stat().st_size
        path.read_bytes()  # warm the page cache for both readers
        t_segyio, ref = best_of(lambda p=path: segyio.tools.cube(str(p)), repeat)
        t_ours, ours = best_of(lambda p=path: np.asarray(read_segy(p, lazy=False).data), repeat)
        assert np.array_equal(np.asarray(ref), ours), "readers disagree"
        del ref, ours
        rows.append({
            "format": f"{code} ({name})", "shape": list(shape), "file_mb": round(size / 1e6, 1),
            "segyio_s": round(t_segyio, 3), "ours_s": round(t_ours, 3),
            "segyio_mb_s": round(size / 1e6 / t_segyio, 1), "ours_mb_s": round(size / 1e6 / t_ours, 1),
            "speed_ratio": round(t_segyio / t_ours, 2),
        })
        print(json.dumps(rows[-1]), flush=True)
        path.unlink()
    return rows


def drop_caches() -> bool:
    try:
        os.sync()
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
        return True
    except OSError:
        return False


def bench_lazy_open(workdir: Path, big_gb: float) -> dict:
    from napari_seisseg.io import read_segy

    path = workdir / "big.sgy"
    t = time.perf_counter()
    shape = make_cube(path, big_gb * 1000, 5, n_samples=1000)
    t_make = time.perf_counter() - t
    size = path.stat().st_size
    # cold opens vary with the disk: take the median (and the worst) of several
    opens = []
    for _ in range(5):
        cold = drop_caches()
        t = time.perf_counter()
        read_segy(path)
        opens.append(time.perf_counter() - t)
    cold = drop_caches()
    rss0 = _rss_mb()
    t = time.perf_counter()
    vol = read_segy(path)  # lazy="auto": large files stay lazy
    opens.append(time.perf_counter() - t)
    t_open = float(np.median(opens))
    t = time.perf_counter()
    inline = vol.data[shape[0] // 2]
    t_inline = time.perf_counter() - t
    t = time.perf_counter()
    xline = vol.data[:, shape[1] // 2]
    t_xline = time.perf_counter() - t
    rss1 = _rss_mb()
    t = time.perf_counter()
    tslice = vol.data[:, :, 500]
    t_tslice = time.perf_counter() - t
    t = time.perf_counter()
    read_segy(path)
    t_warm = time.perf_counter() - t
    assert inline.shape == (shape[1], shape[2]) and tslice.shape == shape[:2] and xline.shape[0] == shape[0]
    path.unlink()
    row = {
        "file_gb": round(size / 1e9, 2), "shape": list(shape), "ram_gb": round(_ram_gb(), 1),
        "page_cache_dropped": cold, "make_s": round(t_make, 1), "open_s": round(t_open, 3),
        "open_s_cold_runs": [round(x, 3) for x in opens],
        "open_warm_s": round(t_warm, 3),
        "first_inline_s": round(t_inline, 3), "first_crossline_s": round(t_xline, 3),
        "time_slice_s": round(t_tslice, 3), "lazy_type": type(vol.data).__name__,
        "rss_growth_open_inline_crossline_mb": round(rss1 - rss0, 1),
    }
    print(json.dumps(row), flush=True)
    return row


def _rss_mb() -> float:
    """Current resident memory of this process (MB), file-backed mapped pages included."""
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def _ram_gb() -> float:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1e9


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size-mb", type=float, default=600, help="size of the full-read test files")
    ap.add_argument("--big-gb", type=float, default=6.5, help="size of the lazy-open test file (0: skip)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", help="write the results here")
    ap.add_argument("--keep", action="store_true", help="keep benchmarks/_data")
    args = ap.parse_args()
    workdir = HERE / "_data"
    workdir.mkdir(exist_ok=True)
    import napari_seisseg

    result = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {_ram_gb():.1f} GB RAM, "
                   f"Python {platform.python_version()}",
        "versions": {"napari_seisseg": napari_seisseg.__version__, "segyio": importlib.metadata.version("segyio"),
                     "numpy": np.__version__},
        "command": " ".join(["python", *sys.argv]),
    }
    try:
        result["full_reads"] = bench_full_reads(workdir, args.size_mb, args.repeat)
        if args.big_gb > 0:
            result["lazy_open"] = bench_lazy_open(workdir, args.big_gb)
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
