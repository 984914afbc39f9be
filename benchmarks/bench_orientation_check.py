"""Cost of the end-of-training orientation check on large surveys.

A model painted on time slices ends its training with
:func:`napari_seisseg.training.orientation_check.check_orientations`: the validation voxels
of the painted time slices are predicted along time alone and along the three orientations,
in a block of at most 32 inlines and 32 crosslines (each read with a patch of margin), over
the whole trace length.  This script times it on memory-mapped float32 ``.npy`` cubes of
the given shapes with the default section model (``unet2d``, width 16, depth 4, 128-pixel
patches; untrained weights cost the same as trained ones), 8 painted time slices each with a
band of validation labels (a fifth of the inlines), ``--threads`` torch threads.

Usage::

    python benchmarks/bench_orientation_check.py                     # 300,300,1000 and 600,800,1500
    python benchmarks/bench_orientation_check.py --shapes 200,200,500

Results go to ``benchmarks/results_orientation_check.json``; the cubes are written to a
temporary folder and deleted.
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from napari_seisseg.bundle.normalize import Normalizer
from napari_seisseg.models import create_model, model_spec
from napari_seisseg.training.orientation_check import check_orientations
from napari_seisseg.training.split import HeldOut

HERE = Path(__file__).resolve().parent


def card(model: torch.nn.Module) -> dict:
    """A card for a 4-class unet2d painted on time slices."""
    return {
        "model": model_spec(model),
        "input": {"kind": "2d", "context": 0, "patch_size": [128, 128], "axes": [0, 1, 2],
                  "axis_names": ["inline", "crossline", "time"], "sample_axis": 2,
                  "predict_axes": [2, 0, 1]},
        "n_outputs": 4, "binary": False, "threshold": 0.5,
        "classes": [{"value": v, "name": f"class {v}", "color": [1.0, 1.0, 1.0]} for v in (1, 2, 3, 4)],
        "preprocessing": Normalizer(0.0, 1.0, 5.0).to_dict(),
    }


def one(shape: tuple[int, int, int], folder: Path) -> dict:
    """Write a cube of ``shape``, time the check on it."""
    rng = np.random.default_rng(0)
    path = folder / "cube.npy"
    mm = np.lib.format.open_memmap(path, "w+", np.float32, shape)
    for i in range(shape[0]):
        mm[i] = rng.standard_normal(shape[1:], dtype=np.float32)
    mm.flush()
    del mm
    image = np.load(path, mmap_mode="r")
    times = np.linspace(10, shape[2] - 10, 8).round().astype(int)
    a0, a1 = int(shape[0] * 0.4), int(shape[0] * 0.6)
    sections = []
    for _ in times:
        s = np.zeros(shape[:2], np.uint8)
        s[a0:a1] = rng.integers(1, 5, size=(a1 - a0, shape[1]))
        sections.append(s)
    held = HeldOut(shape, 2, [int(t) for t in times], sections, "bands")
    torch.manual_seed(0)
    model = create_model("unet2d", n_classes=4).eval()
    t0 = time.perf_counter()
    _, record, why = check_orientations(model, card(model), image, held)
    seconds = time.perf_counter() - t0
    path.unlink()
    return {"shape": list(shape), "gigabytes": round(image.nbytes / 1e9, 2), "seconds": round(seconds, 1),
            "voxels_scored": None if record is None else record["voxels"], "not_checked": why}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shapes", nargs="+", default=["300,300,1000", "600,800,1500"])
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for text in args.shapes:
            shape = tuple(int(v) for v in text.split(","))
            runs.append(one(shape, Path(tmp)))
            print(json.dumps(runs[-1]))
    out = {"date": time.strftime("%Y-%m-%d"), "machine": f"{platform.processor() or platform.machine()}, "
           f"{args.threads} torch threads, torch {torch.__version__}", "runs": runs}
    (HERE / "results_orientation_check.json").write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
