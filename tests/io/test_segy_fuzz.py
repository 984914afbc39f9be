"""Seeded fuzzing of the SEG-Y reader over the real fixtures (issue 21).

Every damaged copy must open (a Volume) or be refused with a SeisSegError, never raise
anything else, within the time and memory limits of ``benchmarks/fuzz_segy.py``.  The cases
run in a child process with an address-space limit, so a runaway allocation fails the test
instead of the machine.  The larger run (thousands of cases) is the benchmark script.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "fuzz_segy.py"


def _fuzz():
    spec = importlib.util.spec_from_file_location("fuzz_segy", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_300_damaged_fixtures_open_or_are_refused_within_limits(tmp_path):
    out = tmp_path / "fuzz.json"
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--cases", "300", "--seed", "0", "--per-worker", "150",
         "--as-gb", "4", "--json", str(out)],
        capture_output=True, text=True, timeout=600,
        env={**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"},
    )
    assert out.exists(), proc.stderr[-2000:]
    summary = json.loads(out.read_text())[-1]
    assert summary["cases"] == 300
    assert summary["crash"] == 0, summary["crashes"]
    assert summary["over_time_limit"] == 0 and summary["over_memory_limit"] == 0, summary["worst"]
    # the damages are real: many files are refused, many still open as their survey
    assert summary["refused"] > 50 and summary["opened_as_intact_shape"] > 100
    assert proc.returncode == 0


def test_mutations_are_seeded_and_damage_the_file():
    fuzz = _fuzz()
    data = (fuzz.FIXTURES / "f3.sgy").read_bytes()
    kinds = set()
    for seed in range(60):
        a, what = fuzz.mutate(data, np.random.default_rng(seed))
        b, same = fuzz.mutate(data, np.random.default_rng(seed))
        assert a == b and what == same
        assert a != data or what.startswith("binary")  # a random byte may equal the old one
        kinds.add(what.split(" ")[0].rstrip(":"))
    assert kinds >= {"truncate", "binary", "trace_header", "line_number", "flip", "insert",
                     "extended"}


def test_a_crash_is_reported_as_one(tmp_path, monkeypatch):
    """The harness itself: an exception other than SeisSegError counts as a crash."""
    fuzz = _fuzz()
    import napari_seisseg.io as io

    def broken(_path):
        raise IndexError("index 9 is out of bounds")

    monkeypatch.setattr(io, "read_volume", broken)
    result = fuzz.run_case(fuzz.FIXTURES / "f3.sgy")
    assert result["outcome"] == "crash" and "IndexError" in result["message"]
    assert fuzz.summarize([result])["crash"] == 1
