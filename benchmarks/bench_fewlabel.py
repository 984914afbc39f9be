"""Few labels, rare classes, real data: what the defaults find on slices nobody painted.

Runs ``seisseg train`` with the defaults (only ``--minutes``) and ``seisseg predict`` as a
user would, then scores per-class IoU on the voxels whose labels were not kept, beside two
trivial baselines that need no network:

* *time-sample majority*: at every time sample, the class most often painted at that
  sample (on the kept labels);
* *nearest painted section*: every inline copies the nearest painted inline (scenario b:
  every trace copies the nearest painted trace of the nearest painted inline, i.e. the
  last painted column is extended).

Scenarios on the real Penobscot stack (``../shared/data/penobscot_36il_facies.npz``, CC BY
4.0, Baroni et al. 2019; 36 inlines, 8 facies):

* ``a``: keep the labels of inlines 1080 and 1105; score the 34 other inlines;
* ``b``: keep crosslines 0-255 of those two inlines; score crosslines 256-511 of all 36;
* ``c``: scribbles: strokes over about 5 % of three inlines (1077, 1092, 1107); score the
  33 other inlines.

And a synthetic cube with thin, rare classes (``synthetic``): 96 x 96 x 128 with a salt
diapir, one fault (2 % of the voxels) and ten sinuous channels (2.5 %, best seen on time
slices); labels on 8 time slices only (``--slices N`` for another number; ``--lines N``
paints N inlines and N crosslines as well: mixed paint), scored on the others.  And ``survey``: a synthetic stand-in for the issue's held-out survey, 160 x 200
x 174 without salt: background about 93 %, two faults (2 %), 24 channels (2.7 %) and 20
gas sands (amplitude anomalies, 1.4-1.8 %), classes 1 background, 2 fault, 3 channel,
4 amplitude anomaly; labels on 8 time slices, scored on the 166 others (``--snr 2`` for a
noisier cube, ``--shape 320,400,174`` for a larger one, to see how far the defaults carry
beyond the figures they were chosen on).  And the TGS salt tiles
(``tgs``): folds 0-2 labeled, fold 3 scored (pixel IoU and the challenge metric), with
``seisseg train --axes 0`` and nothing else.

Usage::

    python benchmarks/bench_fewlabel.py penobscot --scenario a --minutes 10 --seed 0
    python benchmarks/bench_fewlabel.py penobscot --scenario a --baselines-only
    python benchmarks/bench_fewlabel.py table        # the saved runs, mean and spread

Results are appended to ``benchmarks/results_fewlabel.json`` (one entry per run).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

HERE = Path(__file__).resolve().parent
SHARED = Path(os.environ.get("SEISSEG_SHARED", HERE.parent.parent / "shared"))
RESULTS = HERE / "results_fewlabel.json"
KEEP_INLINES = (1080, 1105)
SNR = 7.0  # make_synthetic_cube's default noise
SCRIBBLE_INLINES = (1077, 1092, 1107)


def load_penobscot() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cube ``(inline, crossline, sample)`` uint8, labels 0..7 of the same shape, inline numbers."""
    path = SHARED / "data" / "penobscot_36il_facies.npz"
    if not path.exists():
        raise SystemExit(f"{path} not found: set SEISSEG_SHARED to the folder holding data/.")
    z = np.load(path)
    return (np.ascontiguousarray(z["seismic"].transpose(0, 2, 1)),
            np.ascontiguousarray(z["labels"].transpose(0, 2, 1)), z["inlines"])


def scribbles(truth: np.ndarray, share: float, rng: np.random.Generator) -> np.ndarray:
    """Strokes on one section ``(crossline, sample)``: short horizontal and vertical runs.

    Strokes are drawn until ``share`` of the section is covered; each stroke keeps the true
    class of the voxels it covers (a careful interpreter's scribble), 3 voxels thick.  Every
    class of the section gets strokes, rare ones as many as common ones.
    """
    out = np.zeros(truth.shape, np.uint8)
    target = share * truth.size
    classes = np.unique(truth)
    while np.count_nonzero(out) < target:
        for c in classes:
            ys, xs = np.nonzero(truth == c)
            i = rng.integers(ys.size)
            y, x = int(ys[i]), int(xs[i])
            if rng.random() < 0.5:  # along the crosslines (a stroke along a layer)
                a, b = max(0, y - 40), min(truth.shape[0], y + 40)
                sl = (slice(a, b), slice(max(0, x - 1), x + 2))
            else:  # down a trace
                a, b = max(0, x - 30), min(truth.shape[1], x + 30)
                sl = (slice(max(0, y - 1), y + 2), slice(a, b))
            block = truth[sl]
            keep = block == c
            out[sl][keep] = c + 1
    return out


def scenario(name: str, labels: np.ndarray, inlines: np.ndarray, seed: int):
    """Kept labels (0 = not labeled, 1..8), the mask of scored voxels, painted inline indices."""
    kept = np.zeros(labels.shape, np.uint8)
    scored = np.ones(labels.shape, bool)
    idx = [int(np.flatnonzero(inlines == n)[0]) for n in
           (SCRIBBLE_INLINES if name == "c" else KEEP_INLINES)]
    if name == "a":
        for i in idx:
            kept[i] = labels[i] + 1
            scored[i] = False
    elif name == "b":
        half = labels.shape[1] // 2
        for i in idx:
            kept[i, :half] = labels[i, :half] + 1
        scored[:, :half] = False
    elif name == "c":
        rng = np.random.default_rng(seed)
        for i in idx:
            kept[i] = scribbles(labels[i], 0.05, rng)
            scored[i] = False
    else:
        raise SystemExit(f"unknown scenario {name!r}")
    return kept, scored, idx


def class_ious(pred: np.ndarray, truth: np.ndarray, n: int) -> list[float]:
    """IoU of classes 0..n-1."""
    cm = np.bincount(truth.astype(np.int64) * n + pred.astype(np.int64), minlength=n * n)
    cm = cm.reshape(n, n)
    tp = np.diag(cm)
    denom = cm.sum(0) + cm.sum(1) - tp
    return [float(t / d) if d else float("nan") for t, d in zip(tp, denom, strict=True)]


def baseline_majority(kept: np.ndarray, n: int) -> np.ndarray:
    """Every voxel gets the class most painted at its time sample (0-based classes)."""
    counts = np.zeros((kept.shape[2], n + 1), np.int64)
    for i in range(kept.shape[0]):
        for c in range(1, n + 1):
            counts[:, c] += np.count_nonzero(kept[i] == c, axis=0)
    best = counts[:, 1:].argmax(1)
    return np.broadcast_to(best[None, None, :], kept.shape)


def baseline_nearest(kept: np.ndarray, painted: list[int]) -> np.ndarray:
    """Copy the nearest painted inline; within it, the nearest painted trace (0-based classes)."""
    out = np.zeros(kept.shape, np.uint8)
    painted = np.asarray(painted)
    sections = {}
    for i in painted:
        sec = kept[i].astype(np.int16) - 1
        live = np.flatnonzero((sec >= 0).any(axis=1))
        near = live[np.abs(np.arange(sec.shape[0])[:, None] - live[None, :]).argmin(1)]
        filled = sec[near]
        # scribbles: fill each trace's unpainted samples from the nearest painted sample
        for x in range(filled.shape[0]):
            row = filled[x]
            hit = np.flatnonzero(row >= 0)
            if hit.size and hit.size < row.size:
                row[:] = row[hit[np.abs(np.arange(row.size)[:, None] - hit[None, :]).argmin(1)]]
        sections[int(i)] = np.clip(filled, 0, None).astype(np.uint8)
    for j in range(kept.shape[0]):
        out[j] = sections[int(painted[np.abs(painted - j).argmin()])]
    return out


def machine() -> dict[str, Any]:
    """Where the figures come from (and the commit that made them)."""
    import torch

    def git(*cmd: str) -> str:
        done = subprocess.run(["git", *cmd], capture_output=True, text=True, cwd=HERE)
        return done.stdout.strip()

    return {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
            "torch": torch.__version__, "threads": torch.get_num_threads(),
            "python": platform.python_version(), "commit": git("rev-parse", "--short", "HEAD"),
            "uncommitted_changes": bool(git("status", "--porcelain", "--", "../src"))}


def _seisseg() -> str:
    exe = Path(sys.executable).with_name("seisseg")
    return str(exe) if exe.exists() else "seisseg"


#: The layout the development files store their arrays in: (inline or tile, time, crossline).
STORED_ORDER = (0, 2, 1)


def run_network(cube: np.ndarray, kept: np.ndarray, minutes: float, seed: int,
                extra: list[str], work: Path, pretrain: float = 0.0,
                keep_probs: bool = False, layout: Any = None) -> tuple[np.ndarray, dict[str, Any]]:
    """[``seisseg pretrain``,] ``seisseg train`` (defaults + ``extra``), ``seisseg predict``.

    The model store is a folder of the run's own, so no pretraining cached by another run
    (or by the user) is picked up.  ``layout`` (``args`` of :func:`main`): with ``stored``,
    the files are written in the development files' own order (:data:`STORED_ORDER`) and
    the masks read back in the canonical one; ``sample_axis`` goes to every command.
    """
    order = STORED_ORDER if layout is not None and layout.stored else None
    axis = [] if layout is None or layout.sample_axis is None else ["--sample-axis", layout.sample_axis]
    np.save(work / "seis.npy", cube if order is None else np.ascontiguousarray(cube.transpose(order)))
    np.save(work / "labels.npy", kept if order is None else np.ascontiguousarray(kept.transpose(order)))
    env = {**os.environ, "SEISSEG_MODEL_DIR": str(work / "store")}
    pretrain_s = None
    if pretrain > 0:
        shared = []  # the model options pretraining must share with training
        for flag in ("--axes", "--model", "--width", "--model-depth", "--context", "--patch",
                     "--position"):
            if flag in extra:
                value = extra[extra.index(flag) + 1]
                if flag == "--model" and value not in ("auto", "unet2d", "resunet", "hybrid"):
                    raise SystemExit(f"--pretrain is for section models, not {value}.")
                shared += [flag, value]
        cmd = [_seisseg(), "pretrain", "--image", str(work / "seis.npy"), "--minutes",
               str(pretrain), "--seed", str(seed), "--quiet", *shared, *axis]
        t0 = time.perf_counter()
        done = subprocess.run(cmd, capture_output=True, text=True, env=env)
        pretrain_s = round(time.perf_counter() - t0, 1)
        if done.returncode:
            raise SystemExit(f"seisseg pretrain failed:\n{done.stderr[-4000:]}")
    # a budget in minutes, unless the options after -- give one in epochs (fair on busy cores)
    budget = [] if "--epochs" in extra else ["--minutes", str(minutes)]
    train = [_seisseg(), "train", "--image", str(work / "seis.npy"), "--labels",
             str(work / "labels.npy"), "--out", str(work / "model.safetensors"), *budget,
             "--seed", str(seed), "--overwrite", *axis, *extra]
    t0 = time.perf_counter()
    done = subprocess.run(train, capture_output=True, text=True, env=env)
    train_s = time.perf_counter() - t0
    if done.returncode:
        raise SystemExit(f"seisseg train failed:\n{done.stderr[-4000:]}")
    log = done.stdout + done.stderr
    t0 = time.perf_counter()
    pred = [_seisseg(), "predict", "--model", str(work / "model.safetensors"), "--image",
            str(work / "seis.npy"), *axis, "--out-mask", str(work / "mask.npy"), "--overwrite",
            "--quiet", *(["--out-probs", str(work / "probs.npy")] if keep_probs else [])]
    done = subprocess.run(pred, capture_output=True, text=True, env=env)
    predict_s = time.perf_counter() - t0
    if done.returncode:
        raise SystemExit(f"seisseg predict failed:\n{done.stderr[-4000:]}")
    # the same model with the time prior only, and alone (no prior), for comparison
    for name, flags in (("mask_timeprior.npy", ["--no-lateral-prior"]),
                        ("mask_noprior.npy", ["--no-lateral-prior", "--no-time-prior"])):
        subprocess.run([*pred[:pred.index("--out-mask")], "--out-mask", str(work / name),
                        "--overwrite", "--quiet", *flags], capture_output=True, env=env)
    if order is not None:  # the masks back in the canonical order the scoring uses
        for name in ("mask.npy", "mask_timeprior.npy", "mask_noprior.npy"):
            if (work / name).exists():
                np.save(work / name, np.ascontiguousarray(np.load(work / name).transpose(np.argsort(order))))
    from napari_seisseg.bundle.model import BundleModel

    bm = BundleModel.load(work / "model.safetensors")
    card = bm.card
    mask = np.load(work / "mask.npy").astype(np.int64) - 1  # label values 1..8 -> 0..7
    val = card.get("validation") or {}
    metrics = val.get("metrics") or {}
    facts = {
        "pretrain_s": pretrain_s,
        "started_from_pretraining": "Started from the pretraining" in log,
        "train_s": round(train_s, 1), "predict_s": round(predict_s, 1),
        "test_time_flips": bm.test_time_flips(None),  # what predict did (False, True, map axes)
        "test_time_turns": list(bm.test_time_turns(None, bm.predict_axes)),  # maps also transposed
        "stop_reason": card["training"].get("stop_reason"),
        "epochs": card["training"].get("epochs"), "best_epoch": val.get("epoch"),
        "validation_split": (val.get("split") or {}).get("description"),
        "validation_painted_mean_iou": metrics.get("painted_mean_iou"),
        # the held-out paint joined training after this epoch (None: it never did)
        "validation_measured_epoch": val.get("measured_epoch"),
        "validation_class_iou": [c.get("iou") for c in metrics.get("classes", [])],
        # windows the kept model was scored on at the end, and those each epoch read (None:
        # the figures are each epoch's, as before the twenty-first session); apart: the
        # windows scored at the end leave out those each epoch read (twenty-second session)
        "validation_windows": metrics.get("windows"), "validation_chosen_on": metrics.get("chosen_on"),
        "validation_apart": metrics.get("apart"),
        "validation_spread": metrics.get("spread"),
        "position": card["input"].get("position"),
        "model": card["model"].get("name"), "patch": card["input"].get("patch_size"),
        "log_tail": log.strip().splitlines()[-14:],
    }
    return np.clip(mask, 0, None), facts


def _shape(text: str) -> tuple[int, int, int]:
    """``I,X,T`` → a cube shape, for ``--shape``."""
    parts = tuple(int(v) for v in text.split(","))
    if len(parts) != 3 or min(parts) < 32:
        raise argparse.ArgumentTypeError(f"{text!r}: give three sizes of at least 32, e.g. 320,400,174")
    return parts  # type: ignore[return-value]


def _layout(args: argparse.Namespace) -> dict[str, Any]:
    """The files' layout when not the canonical one (``--stored``, ``--sample-axis``), for the record."""
    out: dict[str, Any] = {}
    if args.stored:
        out["stored_order"] = ["inline or tile", "time", "crossline"]
    if args.sample_axis is not None:
        out["sample_axis"] = args.sample_axis
    return out


def _work(args: argparse.Namespace, tmp: str) -> Path:
    """The run's folder: ``--keep DIR`` (kept afterwards), else the temporary one."""
    work = Path(args.keep) if args.keep else Path(tmp)
    work.mkdir(parents=True, exist_ok=True)
    return work


def penobscot(args: argparse.Namespace) -> dict[str, Any]:
    cube, labels, inlines = load_penobscot()
    n = 8
    kept, scored, painted = scenario(args.scenario, labels, inlines, args.seed)
    truth = labels[scored]
    out: dict[str, Any] = {
        "task": f"penobscot_{args.scenario}", "seed": args.seed,
        "minutes": None if "--epochs" in args.extra else args.minutes, "pretrain_minutes": args.pretrain,
        "extra_args": args.extra, "painted_voxels": int(np.count_nonzero(kept)), **_layout(args),
        "painted_share": float(np.count_nonzero(kept) / kept.size),
        "machine": machine(), "date": time.strftime("%Y-%m-%d"),
    }
    for name, pred in (("time_sample_majority", baseline_majority(kept, n)),
                       ("nearest_painted", baseline_nearest(kept, painted))):
        ious = class_ious(pred[scored], truth, n)
        out[name] = {"mean_iou": float(np.nanmean(ious)), "class_iou": ious}
    if not args.baselines_only:
        with tempfile.TemporaryDirectory() as tmp:
            pred, facts = run_network(cube, kept, args.minutes, args.seed, args.extra,
                                      _work(args, tmp), args.pretrain, bool(args.keep), args)
            ious = class_ious(pred[scored], truth, n)
            out["defaults"] = {"mean_iou": float(np.nanmean(ious)), "class_iou": ious, **facts}
            for key, other in _other_masks(_work(args, tmp)):
                ious = class_ious(other[scored], truth, n)
                out[key] = {"mean_iou": float(np.nanmean(ious)), "class_iou": ious}
    return out


def synthetic(args: argparse.Namespace) -> dict[str, Any]:
    from napari_seisseg.synthetic import make_synthetic_cube

    if args.task == "survey":
        cube = make_synthetic_cube(args.shape or (160, 200, 174), seed=args.seed, n_faults=2,
                                   n_channels=24, n_anomalies=20, salt=False, snr=args.snr)
        # 1 background, 2 fault, 3 channel, 4 amplitude anomaly (no salt: 2 is never drawn)
        cube.labels = np.array([0, 1, 1, 2, 3, 4], np.uint8)[cube.labels]
        cube.class_names = ("background", "fault", "channel", "amplitude anomaly")
        times = np.linspace(10, cube.seismic.shape[2] - 11, args.slices).round().astype(int)
    else:
        cube = make_synthetic_cube(args.shape or (96, 96, 128), seed=args.seed, n_faults=1,
                                   n_channels=10, snr=args.snr)
        times = np.linspace(8, cube.seismic.shape[2] - 8, args.slices).round().astype(int)
    truth = cube.labels
    n = int(truth.max())
    kept = np.zeros(truth.shape, np.uint8)
    kept[:, :, times] = truth[:, :, times]
    scored = np.ones(truth.shape, bool)
    scored[:, :, times] = False
    xl = args.lines if args.crosslines is None else args.crosslines
    lines = [np.linspace(0, n_ax, k + 2).round().astype(int)[1:-1]
             for n_ax, k in zip(truth.shape[:2], (args.lines, xl), strict=True)]
    kept[lines[0]] = truth[lines[0]]
    kept[:, lines[1]] = truth[:, lines[1]]
    scored[lines[0]] = False
    scored[:, lines[1]] = False
    shares = np.bincount(truth.ravel(), minlength=n + 1)[1:] / truth.size
    out: dict[str, Any] = {
        "task": ("survey" if args.task == "survey" else "synthetic") + "_time_slices"
                + ("" if args.slices == 8 else f"_{args.slices}")
                + (f"_{args.lines}il_{xl}xl" if args.lines or xl else "")
                + (f"_snr{args.snr:g}" if args.snr != SNR else "")
                + ("_" + "x".join(map(str, args.shape)) if args.shape else ""),
        "seed": args.seed, "minutes": args.minutes, "pretrain_minutes": args.pretrain,
        "extra_args": args.extra, **_layout(args), "classes": list(cube.class_names),
        "class_share": [float(v) for v in shares], "painted_time_slices": times.tolist(),
        "painted_inlines": lines[0].tolist(), "painted_crosslines": lines[1].tolist(),
        "machine": machine(), "date": time.strftime("%Y-%m-%d"),
    }
    with tempfile.TemporaryDirectory() as tmp:
        pred, facts = run_network(cube.seismic, kept, args.minutes, args.seed, args.extra,
                                  _work(args, tmp), args.pretrain, layout=args)
        ious = class_ious(pred[scored], truth[scored].astype(np.int64) - 1, n)
        out["defaults"] = {"mean_iou": float(np.nanmean(ious)), "class_iou": ious, **facts}
        for key, other in _other_masks(_work(args, tmp)):
            ious = class_ious(other[scored], truth[scored].astype(np.int64) - 1, n)
            out[key] = {"mean_iou": float(np.nanmean(ious)), "class_iou": ious}
    return out


def _other_masks(work: Path):
    """The same model's masks with the time prior only and alone, as 0-based class indices."""
    for key, name in (("time_prior_only", "mask_timeprior.npy"), ("network_alone", "mask_noprior.npy")):
        if (work / name).exists():
            yield key, np.clip(np.load(work / name).astype(np.int64) - 1, 0, None)


def tgs(args: argparse.Namespace) -> dict[str, Any]:
    """TGS salt tiles: folds 0-2 labeled, fold 3 scored, ``seisseg train --axes 0`` only."""
    from bench_train_tgs import competition_metric, pixel_iou

    path = SHARED / "data" / "tgs_salt_dev.npz"
    with np.load(path) as d:
        images, masks, fold = d["images"], d["masks"], d["fold"]
    # tiles as sections (trace, sample): the sample axis last, as for every cube
    images, masks = images.transpose(0, 2, 1), masks.transpose(0, 2, 1)
    train_rows, test_rows = fold < 3, fold == 3
    image = images.astype(np.float32)
    kept = np.where(train_rows[:, None, None], masks + 1, 0).astype(np.uint8)
    out: dict[str, Any] = {
        "task": "tgs_fold3", "seed": args.seed, "minutes": args.minutes, "pretrain_minutes": args.pretrain,
        "extra_args": ["--axes", "0", *args.extra], **_layout(args), "machine": machine(),
        "date": time.strftime("%Y-%m-%d"),
    }
    truth = masks[test_rows].astype(bool)
    with tempfile.TemporaryDirectory() as tmp:
        pred, facts = run_network(image, kept, args.minutes, args.seed,
                                  ["--axes", "0", *args.extra], _work(args, tmp), args.pretrain,
                                  layout=args)
        salt = pred[test_rows] == 1
        out["defaults"] = {"pixel_iou": pixel_iou(salt, truth),
                           "competition_metric": competition_metric(salt, truth), **facts}
        for key, other in _other_masks(_work(args, tmp)):
            salt = other[test_rows] == 1
            out[key] = {"pixel_iou": pixel_iou(salt, truth), "competition_metric": competition_metric(salt, truth)}
    return out


def table(runs: list[dict[str, Any]]) -> str:
    """Markdown table of the saved runs: mean and spread over seeds, per task and setting."""
    groups: dict[tuple, list[dict[str, Any]]] = {}
    for r in runs:
        if any(w in r.get("note", "") for w in ("contended", "superseded")):
            continue
        minutes = -1.0 if r["minutes"] is None else r["minutes"]  # None: an epoch budget
        options = " ".join(r["extra_args"])
        if r.get("stored_order"):  # never pooled with runs given the canonical layout
            options = f"--stored {options}".strip()
        if r.get("sample_axis") is not None:
            options = f"--sample-axis {r['sample_axis']} {options}".strip()
        if r.get("defaults_of"):  # the defaults changed since earlier runs with these options
            options = f"{options} ({r['defaults_of']})".strip()
        elif r["defaults"].get("test_time_turns"):  # never pooled with runs predicted without
            options = f"{options} (time slices predicted in their 8 turns and mirrors)".strip()
        key = (r["task"], minutes, r.get("pretrain_minutes", 0.0), options)
        groups.setdefault(key, []).append(r)
    lines = ["| task | train min | pretrain min | options | seeds | score (mean, min-max) | "
             "per class (mean) | baselines: time-sample majority / nearest painted |",
             "|---|---|---|---|---|---|---|---|"]
    for (task, minutes, pre, extra), rs in sorted(groups.items()):
        if task.startswith("tgs"):
            vals = [r["defaults"]["pixel_iou"] for r in rs]
            per = f"challenge metric {np.mean([r['defaults']['competition_metric'] for r in rs]):.3f}"
        else:
            vals = [r["defaults"]["mean_iou"] for r in rs]
            per = " ".join(f"{v:.2f}" for v in np.mean([r["defaults"]["class_iou"] for r in rs], 0))
        base = "-"
        if "time_sample_majority" in rs[0]:
            base = (f"{rs[0]['time_sample_majority']['mean_iou']:.3f} / "
                    f"{rs[0]['nearest_painted']['mean_iou']:.3f}")
        score = f"**{np.mean(vals):.3f}** ({min(vals):.3f}-{max(vals):.3f})"
        budget = "-" if minutes < 0 else f"{minutes:g}"  # an epoch budget is in the options
        lines.append(f"| {task} | {budget} | {pre:g} | {extra or '-'} | "
                     f"{', '.join(str(r['seed']) for r in rs)} | {score} | {per} | {base} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                epilog="options after -- go to 'seisseg train' as they are")
    p.add_argument("task", choices=("penobscot", "synthetic", "survey", "tgs"))
    p.add_argument("--scenario", choices=("a", "b", "c"), default="a")
    p.add_argument("--minutes", type=float, default=10.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--baselines-only", action="store_true")
    p.add_argument("--slices", type=int, default=8, metavar="N",
                   help="synthetic: painted time slices, evenly from 8 to 120 (default 8; "
                        "from 10 on, validation holds out whole slices instead of bands)")
    p.add_argument("--lines", type=int, default=0, metavar="N",
                   help="synthetic, survey: also paint N inlines and N crosslines, evenly "
                        "spaced (mixed paint; default 0; --crosslines sets their own count)")
    p.add_argument("--crosslines", type=int, metavar="N",
                   help="synthetic, survey: paint N crosslines instead of --lines of them "
                        "(0: inlines only)")
    p.add_argument("--snr", type=float, default=SNR, metavar="S",
                   help=f"synthetic, survey: signal-to-noise ratio of the cube's random noise "
                        f"(default {SNR:g}; real surveys are noisier: try 2)")
    p.add_argument("--shape", type=_shape, metavar="I,X,T",
                   help="synthetic, survey: the cube's shape (inline, crossline, sample) "
                        "instead of 96,96,128 or 160,200,174; time slices stay spread evenly")
    p.add_argument("--pretrain", type=float, default=0.0, metavar="M",
                   help="run 'seisseg pretrain --minutes M' first (its own minutes, reported "
                        "apart); training then starts from it")
    p.add_argument("--stored", action="store_true",
                   help="penobscot, tgs: give seisseg the arrays in the order the .npz stores "
                        "them, (inline or tile, time, crossline), as a user saving them would")
    p.add_argument("--sample-axis", metavar="AXIS",
                   help="pass --sample-axis AXIS to every seisseg command (default: auto)")
    p.add_argument("--no-save", action="store_true", help="print only")
    p.add_argument("--keep", metavar="DIR", help="keep the cube, labels, model and mask here")
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["table"]:  # print the saved runs as a Markdown table
        print(table(json.loads(RESULTS.read_text())))
        return {}
    extra = argv[argv.index("--") + 1:] if "--" in argv else []
    argv = argv[: argv.index("--")] if "--" in argv else argv
    args = p.parse_args(argv)
    args.extra = extra  # 'seisseg train' options given after --
    if args.stored and args.task not in ("penobscot", "tgs"):
        p.error("--stored is for penobscot and tgs (the arrays of the .npz files)")
    result = {"penobscot": penobscot, "synthetic": synthetic, "survey": synthetic,
              "tgs": tgs}[args.task](args)
    show = {k: v for k, v in result.items() if k != "machine"}
    print(json.dumps(show, indent=1, default=float))
    if not args.no_save:
        runs = json.loads(RESULTS.read_text()) if RESULTS.exists() else []
        runs.append(result)
        RESULTS.write_text(json.dumps(runs, indent=1, default=float) + "\n")
    return result


if __name__ == "__main__":
    main()
