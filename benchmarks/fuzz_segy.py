"""Damaged SEG-Y files: every one opens or is refused clearly, in bounded time and memory.

Copies of the real SEG-Y fixtures (``tests/data/segy``) are damaged at random, the way
files are damaged in practice: truncated, random bytes in the binary header (sample count,
interval, format code, extended-header count), in trace headers (line numbers, CDP, sample
counts), random byte flips anywhere, garbage inserted.  Each copy is read with
``read_volume`` and ``np.asarray`` (the whole array, as the viewer does).  A case passes when
it ends in a ``Volume`` or a ``SeisSegError`` (a clear message), never another exception,
within the time and memory limits.

The test suite runs 300 cases (``tests/io/test_segy_fuzz.py``); this script runs thousands
in worker processes with an address-space limit, so a case that tries to allocate too much
fails as a ``MemoryError`` instead of freezing the machine::

    python benchmarks/fuzz_segy.py --cases 3000 --seed 1
    python benchmarks/fuzz_segy.py --cases 3000 --seed 2 --json benchmarks/results_fuzz.json

Memory is the peak of Python and numpy allocations during a case (``tracemalloc``); time is
wall time of the case.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
import tracemalloc
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
FIXTURES = HERE.parent / "tests" / "data" / "segy"
#: The limits every case must meet.
TIME_LIMIT_S = 20.0
MEMORY_LIMIT_MB = 200.0
#: Address-space limit of a worker process (a hard stop for a runaway allocation).
WORKER_AS_GB = 6.0

# binary-header words a damage is aimed at: samples per trace, interval, format code,
# extended textual headers, revision, fixed-length flag
_BINARY_WORDS = (3217, 3221, 3225, 3255, 3501, 3503, 3505)
# trace-header words: line numbers at every candidate byte, CDP, offset, sample count, interval
_TRACE_WORDS = (5, 9, 17, 21, 37, 115, 117, 181, 185, 189, 193)


def fixtures(folder: Path = FIXTURES) -> list[Path]:
    """The single-file SEG-Y fixtures (sorted by name)."""
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in (".sgy", ".segy"))


def _trace_size(data: bytes) -> int:
    """Trace length in bytes from the (intact) binary header, or 0 when unreadable."""
    if len(data) < 3600:
        return 0
    for order in ("big", "little"):
        ns = int.from_bytes(data[3220:3222], order)
        fmt = int.from_bytes(data[3224:3226], order)
        size = {1: 4, 2: 4, 3: 2, 5: 4, 6: 8, 8: 1, 9: 8, 10: 4, 11: 2, 12: 8, 16: 1}.get(fmt)
        if size and 0 < ns < 100_000:
            return 240 + ns * size
    return 0


def mutate(data: bytes, rng: np.random.Generator) -> tuple[bytes, str]:
    """One random damage of a SEG-Y file's bytes, and what it was.

    Parameters
    ----------
    data : bytes
        The intact file.
    rng : numpy.random.Generator
        Source of randomness (seeded by the caller).

    Returns
    -------
    bytes, str
        The damaged file and a short description (kind of damage first).
    """
    b = bytearray(data)
    kind = str(rng.choice(["truncate", "binary", "trace_header", "line_number", "flip",
                           "insert", "extended"]))
    trace = _trace_size(data)
    n_traces = (len(data) - 3600) // trace if trace else 0
    if kind == "truncate":
        cut = int(rng.integers(0, len(b)))
        return bytes(b[:cut]), f"truncate at {cut}"
    if kind == "binary":
        word = int(rng.choice(_BINARY_WORDS))
        n = int(rng.integers(1, 3))
        for i in range(n):
            b[word - 1 + i] = int(rng.integers(0, 256))
        return bytes(b), f"binary header bytes {word}..{word + n - 1}"
    if kind == "extended":
        value = int(rng.choice([-1, 1, 2, 100, 30000, int(rng.integers(0, 65536))]))
        b[3504:3506] = (value & 0xFFFF).to_bytes(2, "big")
        return bytes(b), f"extended textual headers = {value}"
    if kind in ("trace_header", "line_number") and n_traces:
        n_hit = int(rng.integers(1, 4))
        what = []
        for _ in range(n_hit):
            t = int(rng.integers(0, n_traces))
            word = int(rng.choice(_TRACE_WORDS if kind == "trace_header" else (9, 21, 189, 193)))
            i = int(rng.integers(0, 4))
            b[3600 + t * trace + word - 1 + i] = int(rng.integers(0, 256))
            what.append(f"trace {t} byte {word + i}")
        return bytes(b), f"{kind}: " + ", ".join(what)
    if kind == "insert":
        at = int(rng.integers(0, len(b)))
        junk = rng.integers(0, 256, int(rng.integers(1, 600)), dtype=np.uint8).tobytes()
        return bytes(b[:at] + junk + b[at:]), f"insert {len(junk)} bytes at {at}"
    n = int(rng.integers(1, 64))
    where = rng.integers(0, len(b), n)
    for w in where:
        b[int(w)] = int(rng.integers(0, 256))
    return bytes(b), f"flip {n} bytes"


def run_case(path: Path) -> dict[str, Any]:
    """Read ``path`` as the viewer would and say how it ended.

    Returns
    -------
    dict
        ``outcome`` ("opened", "refused" or "crash"), ``seconds``, ``peak_mb``, ``shape``
        (opened) or ``message`` (refused, crash).
    """
    from napari_seisseg.errors import SeisSegError
    from napari_seisseg.io import read_volume

    out: dict[str, Any] = {}
    tracemalloc.start()
    t0 = time.perf_counter()
    try:
        vol = read_volume(path)
        np.asarray(vol.data)
        out.update(outcome="opened", shape=list(vol.shape))
    except SeisSegError as exc:
        out.update(outcome="refused", message=str(exc)[:300])
    except Exception as exc:  # noqa: BLE001 - what the fuzzing is for
        out.update(outcome="crash", message=f"{type(exc).__name__}: {exc}"[:300])
    finally:
        out["seconds"] = round(time.perf_counter() - t0, 4)
        out["peak_mb"] = round(tracemalloc.get_traced_memory()[1] / 1e6, 2)
        tracemalloc.stop()
    return out


def cases(n: int, seed: int, folder: Path = FIXTURES) -> list[tuple[Path, int]]:
    """``n`` (fixture, case seed) pairs, fixtures taken in turn."""
    files = fixtures(folder)
    rng = np.random.default_rng(seed)
    return [(files[i % len(files)], int(rng.integers(0, 2**31))) for i in range(n)]


def run_cases(todo: list[tuple[Path, int]], work: Path) -> list[dict[str, Any]]:
    """Damage and read each case in this process; one result per case."""
    results = []
    originals: dict[Path, bytes] = {}
    intact: dict[Path, list[int] | None] = {}
    for src, case_seed in todo:
        data = originals.setdefault(src, src.read_bytes())
        if src not in intact:
            intact[src] = run_case(src).get("shape")
        damaged, what = mutate(data, np.random.default_rng(case_seed))
        path = work / f"case{src.suffix}"
        path.write_bytes(damaged)
        result = run_case(path)
        result.update(fixture=src.name, seed=case_seed, damage=what,
                      same_shape=result.get("shape") == intact[src])
        results.append(result)
    return results


def _worker(args: argparse.Namespace) -> int:
    """Run the cases on stdin (JSON) with an address-space limit; results on stdout."""
    try:
        import resource  # POSIX only; elsewhere the cases run without the hard stop

        limit = int(args.as_gb * 2**30)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ImportError, ValueError, OSError):
        pass
    todo = [(Path(p), s) for p, s in json.load(sys.stdin)]
    print(json.dumps(run_cases(todo, Path(args.work))))
    return 0


def summarize(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Counts by outcome and the cases over the limits."""
    outcomes = Counter(r["outcome"] for r in results)
    slow = [r for r in results if r["seconds"] > TIME_LIMIT_S]
    big = [r for r in results if r["peak_mb"] > MEMORY_LIMIT_MB]
    return {
        "cases": len(results), **{k: outcomes.get(k, 0) for k in ("opened", "refused", "crash")},
        # opened with the shape of the undamaged file (the survey, not a section of it)
        "opened_as_intact_shape": sum(1 for r in results if r.get("same_shape")),
        "over_time_limit": len(slow), "over_memory_limit": len(big),
        "max_seconds": max((r["seconds"] for r in results), default=0.0),
        "max_peak_mb": max((r["peak_mb"] for r in results), default=0.0),
        "crashes": [r for r in results if r["outcome"] == "crash"][:20],
        "worst": sorted(slow + big, key=lambda r: -r["peak_mb"])[:20],
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cases", type=int, default=3000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--per-worker", type=int, default=250, help="cases per worker process")
    p.add_argument("--as-gb", type=float, default=WORKER_AS_GB, help=argparse.SUPPRESS)
    p.add_argument("--work", help=argparse.SUPPRESS)
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--json", help="append the summary to this JSON list")
    args = p.parse_args(argv)
    if args.worker:
        return _worker(args)
    import tempfile

    todo = cases(args.cases, args.seed)
    results: list[dict[str, Any]] = []
    t0 = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(0, len(todo), args.per_worker):
            chunk = [(str(f), s) for f, s in todo[i:i + args.per_worker]]
            proc = subprocess.run(
                [sys.executable, __file__, "--worker", "--work", tmp, "--as-gb", str(args.as_gb)],
                input=json.dumps(chunk), capture_output=True, text=True,
                env={**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"},
            )
            if proc.returncode != 0:  # a worker killed outright: every case of it counts
                results += [{"outcome": "crash", "seconds": 0.0, "peak_mb": 0.0,
                             "fixture": Path(f).name, "seed": s,
                             "message": f"worker exited {proc.returncode}: {proc.stderr[-300:]}"}
                            for f, s in chunk]
                continue
            results += json.loads(proc.stdout.strip().splitlines()[-1])
            print(f"{len(results)}/{len(todo)} cases, {time.time() - t0:.0f} s", file=sys.stderr)
    summary = summarize(results)
    summary.update(seed=args.seed, wall_s=round(time.time() - t0, 1),
                   limits={"seconds": TIME_LIMIT_S, "peak_mb": MEMORY_LIMIT_MB},
                   machine={"cpu": platform.machine(), "cores": os.cpu_count(),
                            "python": platform.python_version()},
                   date=time.strftime("%Y-%m-%d"))
    print(json.dumps({k: v for k, v in summary.items() if k not in ("crashes", "worst")},
                     indent=1))
    for r in summary["crashes"] + summary["worst"]:
        print(json.dumps(r), file=sys.stderr)
    if args.json:
        path = Path(args.json)
        runs = json.loads(path.read_text()) if path.exists() else []
        path.write_text(json.dumps(runs + [summary], indent=1) + "\n")
    bad = summary["crash"] + summary["over_time_limit"] + summary["over_memory_limit"]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
