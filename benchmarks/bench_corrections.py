"""Retraining from corrections: what to learn from after correcting a predicted mask.

Usage::

    python benchmarks/bench_corrections.py                       # cubes 0, 1, 2; 3 epochs a run
    python benchmarks/bench_corrections.py --cube-seeds 0 --epochs 1   # a quick check
    python benchmarks/bench_corrections.py --json benchmarks/results_corrections.json

On a synthetic cube (:func:`napari_seisseg.synthetic.make_synthetic_cube`, one per seed) an
interpreter paints 2 inlines and 1 crossline, trains a ``unet2d`` and predicts the cube. They
then review the two not-painted inlines where the mask is worst and correct them fully (the
corrected mask equals the truth there). Three ways to retrain, each fine-tuning the first
model for the same number of steps:

- ``whole corrected mask``: the corrected mask as the labels (every voxel labeled, almost
  all of them the first model's own prediction);
- ``painted + reviewed sections``: the painted labels plus the two reviewed inlines (what
  the Train widget's "Add shown section" builds);
- ``painted + changed voxels``: the painted labels plus only the voxels the correction
  changed ("Add my edits");

and, for reference, a fresh model trained on painted + reviewed sections. Every run is
scored against the dense truth: mean IoU over the three classes on the voxels that were
neither painted nor reviewed. Budgets are epochs, not minutes, so the runs compare the same
number of steps whatever else the machine is doing.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from napari_seisseg.jobs import drain

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_train_tgs import class_ious, machine  # noqa: E402


def _fit(cube: Any, labels: np.ndarray, epochs: int, init: Any = None) -> Any:
    from napari_seisseg.synthetic import CLASS_NAMES
    from napari_seisseg.training import TrainConfig, train

    config = TrainConfig(model="unet2d", epochs=epochs, steps_per_epoch=100, seed=0,
                         device="cpu", early_stopping=None)
    return drain(train(cube.seismic, labels, config, geometry=cube.geometry,
                              class_names=list(CLASS_NAMES), class_colors=cube.class_colors,
                              init_bundle=init))


def _predict(cube: Any, result: Any) -> np.ndarray:

    from napari_seisseg.inference import predict_bundle

    return drain(predict_bundle(result, cube.seismic, geometry=cube.geometry,
                                            device="cpu")).mask()


def run_cube(seed: int, epochs: int) -> dict[str, Any]:
    """The three retraining choices (and a fresh model) on the cube of ``seed``."""
    from napari_seisseg.synthetic import make_synthetic_cube

    cube = make_synthetic_cube(seed=seed)
    truth = cube.labels
    painted = cube.sparse_labels(n_inlines=2, n_crosslines=1)

    def score(pred: np.ndarray, where: np.ndarray) -> float:
        return float(np.nanmean(list(class_ious(pred[where], truth[where], [1, 2, 3]).values())))

    t0 = time.perf_counter()
    first = _fit(cube, painted, epochs)
    mask = _predict(cube, first)
    # review the two inlines (never painted) where the mask is worst, and correct them fully
    err = (mask != truth).reshape(len(truth), -1).mean(1)
    err[(painted > 0).reshape(len(truth), -1).any(1)] = -1.0
    reviewed_inlines = np.sort(np.argsort(err)[-2:])
    corrected = mask.copy()
    corrected[reviewed_inlines] = truth[reviewed_inlines]
    changed = corrected != mask
    scored = painted == 0
    scored[reviewed_inlines] = False
    reviewed = painted.copy()
    reviewed[reviewed_inlines] = truth[reviewed_inlines]
    choices = {
        "whole corrected mask": corrected,
        "painted + reviewed sections": reviewed,
        "painted + changed voxels": np.where(changed, corrected, painted).astype(np.uint8),
    }
    out: dict[str, Any] = {
        "cube_seed": seed,
        "shape": list(truth.shape),
        "painted_share": float((painted > 0).mean()),
        "reviewed_inlines": [int(i) for i in reviewed_inlines],
        "changed_voxels": int(changed.sum()),
        "first_model": score(mask, scored),
    }
    for name, labels in choices.items():
        out[name] = score(_predict(cube, _fit(cube, labels, epochs, init=first)), scored)
    out["fresh model on painted + reviewed"] = score(_predict(cube, _fit(cube, reviewed, epochs)),
                                                     scored)
    out["wall_s"] = round(time.perf_counter() - t0, 1)
    print(json.dumps(out), flush=True)
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cube-seeds", default="0,1,2", help="comma-separated cube seeds")
    p.add_argument("--epochs", type=int, default=3, help="epochs of 100 steps per run")
    p.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    args = p.parse_args(argv)
    seeds = [int(s) for s in args.cube_seeds.split(",")]
    cubes = [run_cube(s, args.epochs) for s in seeds]
    names = ["first_model", "whole corrected mask", "painted + reviewed sections",
             "painted + changed voxels", "fresh model on painted + reviewed"]
    out = {
        "metric": "mean IoU (3 classes) on voxels neither painted nor reviewed",
        "epochs_per_run": args.epochs,
        "cubes": cubes,
        "mean": {n: float(np.mean([c[n] for c in cubes])) for n in names},
        "machine": machine(),
    }
    text = json.dumps(out, indent=2)
    print(text)
    if args.json:
        Path(args.json).write_text(text + "\n")
    return out


if __name__ == "__main__":
    main(sys.argv[1:])
