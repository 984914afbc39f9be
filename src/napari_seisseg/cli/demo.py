"""``seisseg demo``: the whole loop, headless, on the sample data.

1. Open the real F3 sample (SEG-Y), print its geometry, export it to SEG-Y and re-open it.
2. Make the synthetic labeled cube, write its amplitudes as SEG-Y and open that file the way a
   user opens a survey.
3. Keep the truth on a few sections only (3 inlines and 2 crosslines by default), as an
   interpreter would paint them, and train a 2D U-Net on them for ``--minutes``.
4. Predict the whole cube (inline and crossline sections, averaged) with the saved bundle.
5. Export the mask as SEG-Y (the synthetic SEG-Y as template) and .npy, plus the
   probabilities and the uncertainty as .npy; re-open the exported mask from both files.
6. Print per-class IoU of the re-opened mask against the full synthetic truth (every voxel,
   and the voxels that were never labeled) and write a PNG figure of one unlabeled inline:
   seismic, labels used, truth, probabilities, mask and uncertainty.

Everything goes into ``--out``; the command prints where. A folder the demo made before (it
holds the marker file ``.seisseg-demo``) is refreshed; any other folder with files in it is
refused unless ``--overwrite`` is given, so nothing a user made is replaced by accident.
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import SeisSegError
from ..jobs import drain
from ..train_settings import setting_default
from ._common import positive
from .printer import PredictionPrinter, TrainingPrinter, progress_bar

#: ``seisseg demo``: its line in ``seisseg --help``, the text above its options, examples.
HELP = "run the whole loop headless on the sample data (train, predict, export, score)"
DESCRIPTION = ("Open the F3 sample and the synthetic labeled cube, train a U-Net on a few labeled "
               "sections of the synthetic cube, predict the whole cube, export the mask to SEG-Y "
               "and .npy, re-open it, print per-class IoU against the full truth and write a PNG "
               "figure. Takes about --minutes plus half a minute on a CPU.")
EPILOG = "example: seisseg demo --out demo_output --minutes 2"


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help=HELP, description=DESCRIPTION, epilog=EPILOG)
    p.add_argument("--out", default="demo_output", help="output folder (default: demo_output)")
    p.add_argument("--minutes", type=positive(float), default=2.0,
                   help="training budget in minutes, wall clock (default 2)")
    p.add_argument("--steps", type=positive(int), default=None,
                   help="training budget in optimiser steps instead of minutes: the same "
                        "training on a busy or a quiet machine")
    p.add_argument("--model", default="unet2d", choices=("unet2d", "resunet", "hybrid", "unet3d"),
                   help="architecture to train (default unet2d)")
    p.add_argument("--inlines", type=int, default=3, help="labeled inlines kept (default 3)")
    p.add_argument("--crosslines", type=int, default=2, help="labeled crosslines kept (default 2)")
    p.add_argument("--seed", type=int, default=0, help="seed of the synthetic cube and training")
    p.add_argument("--device", default="auto", help="auto (default), cpu, cuda or mps")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.add_argument("--overwrite", action="store_true",
                   help="write into --out even if it holds files the demo did not make")
    p.set_defaults(func=run)


#: Marker file that says a folder holds the demo's own outputs (safe to refresh).
MARKER = ".seisseg-demo"


def check_out(out: Path, overwrite: bool) -> None:
    """Refuse an ``--out`` that is a file, or a non-empty folder the demo did not make."""
    if out.exists() and not out.is_dir():
        raise SeisSegError(f"--out {out} is a file; give a folder for the demo's outputs.")
    if overwrite or not out.is_dir() or (out / MARKER).is_file():
        return
    if any(out.iterdir()):
        raise SeisSegError(
            f"--out {out} already holds files the demo did not make, and the demo writes "
            "model.safetensors, mask.sgy and more there. Give an empty or new folder, or pass "
            "--overwrite to write into it anyway."
        )


def _section(title: str) -> None:
    print(f"\n== {title}", flush=True)


def run(args: argparse.Namespace) -> int:
    """Run the whole loop and print what each step gave; returns the exit status."""
    import matplotlib

    matplotlib.use("Agg")
    out = Path(args.out)
    check_out(out, getattr(args, "overwrite", False))
    if args.inlines < 0 or args.crosslines < 0 or args.inlines + args.crosslines == 0:
        raise SeisSegError("Keep at least one labeled inline or crossline (--inlines/--crosslines).")
    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER).write_text("Outputs of `seisseg demo`; the next run may replace them.\n")
    t_start = time.perf_counter()

    _f3_round_trip(out)
    cube, survey, seismic_path = _synthetic_survey(out, args.seed)
    image = np.asarray(survey.data)
    slices = cube.labeled_slices(args.inlines, args.crosslines)
    sparse = cube.sparse_labels(args.inlines, args.crosslines)
    _keep_labels(out, survey, sparse, slices)

    budget = f"{args.steps} steps" if args.steps else f"{args.minutes:g} min"
    _section(f"training {args.model} for {budget} on the labeled sections")
    result = _train(image, sparse, survey.geometry, cube, args)
    bundle = out / "model.safetensors"
    result.save(bundle)
    print(f"model saved to {bundle}")

    _section("predicting the whole cube (inline and crossline sections, averaged)")
    pred = _predict(bundle, survey, args)

    _section("exporting and re-opening the mask")
    mask, unc = pred.mask(), pred.uncertainty()
    from_segy = _export_and_reopen(out, survey, seismic_path, pred, mask, unc)

    _section("per-class IoU of the re-opened mask against the full synthetic truth")
    names = {c["value"]: c["name"] for c in pred.bundle.classes}
    scores = score(from_segy.astype(np.int64), cube.labels, sparse == 0, names)
    print(scores["table"])

    figure = out / "demo_inline.png"
    inline = pick_inline(cube.labels, slices["inline"])
    draw_figure(figure, survey.geometry, image, sparse, cube.labels, pred, mask, unc, inline,
                names)
    print(f"\nfigure: {figure} (inline {survey.geometry.ilines[inline]}, never labeled)")
    print(f"outputs in {out.resolve()} ({time.perf_counter() - t_start:.0f} s in all)")
    return 0


# ---------------------------------------------------------------------- steps
def _f3_round_trip(out: Path) -> None:
    from .._sample_data import F3_SAMPLE
    from ..io import read_segy, write_segy

    _section(f"F3 sample: {F3_SAMPLE}")
    f3 = read_segy(F3_SAMPLE)
    print(f3.geometry.describe())
    data = np.asarray(f3.data)
    print(f"values:      min {data.min()}, max {data.max()}, mean {data.mean():.2f}")
    exported = out / "f3_export.sgy"
    write_segy(exported, f3.data, f3.geometry, overwrite=True)
    back = read_segy(exported)
    same = np.array_equal(np.asarray(back.data), data.astype(np.float32))
    print(f"exported {exported} (IEEE float) and re-opened it: values identical = {same}")
    if not same:
        raise SeisSegError(f"{exported} did not read back as written.")


def _synthetic_survey(out: Path, seed: int) -> tuple[Any, Any, Path]:
    """Make the synthetic cube, write its amplitudes as SEG-Y and open that file as a survey."""
    from ..io import read_segy, write_segy
    from ..synthetic import make_synthetic_cube

    _section(f"synthetic labeled cube (seed {seed})")
    cube = make_synthetic_cube(seed=seed)
    seismic_path = out / "synthetic.sgy"
    write_segy(seismic_path, cube.seismic, cube.geometry, overwrite=True)
    survey = read_segy(seismic_path)
    print(f"wrote and re-opened {seismic_path}")
    print(survey.geometry.describe())
    if not np.array_equal(np.asarray(survey.data), cube.seismic):
        raise SeisSegError(f"{seismic_path} did not read back as written.")
    return cube, survey, seismic_path


def _keep_labels(out: Path, survey: Any, sparse: np.ndarray, slices: dict) -> None:
    """Write the labels kept (as painted) and say where they are."""
    from ..io import write_volume

    labels_path = out / "labels_used.npy"
    write_volume(labels_path, sparse, survey.geometry, overwrite=True)
    share = 100 * np.mean(sparse > 0)
    print(f"labels kept on inlines {_lines(survey.geometry.ilines, slices['inline'])} and "
          f"crosslines {_lines(survey.geometry.xlines, slices['crossline'])}: {share:.1f}% of the "
          f"voxels ({labels_path})")


def _export_and_reopen(out: Path, survey: Any, seismic_path: Path, pred: Any, mask: np.ndarray,
                       unc: np.ndarray) -> np.ndarray:
    """Write the mask (SEG-Y, .npy), probabilities and uncertainty; re-open and check the mask."""
    from ..io import read_segy, read_volume, write_segy, write_volume
    from ..io.probabilities import write_description
    from .predict import describe_prediction

    mask_segy, mask_npy = out / "mask.sgy", out / "mask.npy"
    write_segy(mask_segy, mask.astype(np.float32), survey.geometry, template=seismic_path,
               overwrite=True)
    write_volume(mask_npy, mask, survey.geometry, overwrite=True)
    probs_npy, unc_npy = out / "probabilities.npy", out / "uncertainty.npy"
    np.save(probs_npy, np.asarray(pred.probabilities, dtype=np.float16))
    # described as seisseg predict describes it, so napari opens one layer per class
    write_description(probs_npy, describe_prediction(pred.bundle, pred, "float16"))
    write_volume(unc_npy, unc, survey.geometry, overwrite=True)
    from_segy = np.asarray(read_segy(mask_segy).data)
    from_npy = read_volume(mask_npy)
    same_segy = np.array_equal(from_segy, mask)
    same_npy = np.array_equal(np.asarray(from_npy.data), mask)
    g = from_npy.geometry
    same_geometry = (g is not None and np.array_equal(g.ilines, survey.geometry.ilines)
                     and np.array_equal(g.xlines, survey.geometry.xlines)
                     and np.allclose(g.samples, survey.geometry.samples))
    print(f"{mask_segy}: re-opened, identical to the prediction = {same_segy}")
    print(f"{mask_npy}: re-opened, identical = {same_npy}, geometry kept = {same_geometry}")
    if not (same_segy and same_npy):
        raise SeisSegError("An exported mask did not read back as written.")
    return from_segy


def _lines(numbers: np.ndarray, idx: np.ndarray) -> str:
    return ", ".join(str(int(numbers[i])) for i in idx) or "none"


def _train(image: np.ndarray, sparse: np.ndarray, geometry: Any, cube: Any, args: argparse.Namespace):
    from ..training import TrainConfig, train

    budget: dict[str, Any] = {"minutes": args.minutes, "epochs": None}
    if args.steps:  # whole epochs of about the default length that add up to the steps asked
        epochs = math.ceil(args.steps / setting_default("steps_per_epoch"))
        budget = {"minutes": None, "epochs": epochs,
                  "steps_per_epoch": math.ceil(args.steps / epochs)}
    config = TrainConfig(model=args.model, early_stopping=None, seed=args.seed,
                         device=args.device, **budget)
    gen = train(image, sparse, config, geometry=geometry, class_names=list(cube.class_names),
                class_colors=cube.class_colors)
    with TrainingPrinter(enabled=not args.quiet, classes=False) as printer:
        return drain(gen, printer)


def _predict(bundle: Path, survey: Any, args: argparse.Namespace):
    from ..bundle import BundleModel
    from ..inference import predict_bundle

    bm = BundleModel.load(bundle)
    orient = ("inline", "crossline") if bm.is_section_model else None
    gen = predict_bundle(bm, survey.data, geometry=survey.geometry, orientations=orient,
                         device=args.device)
    with progress_bar(f"predicting with {bm.name}", enabled=not args.quiet) as update:
        printer = PredictionPrinter(update)
        result = drain(gen, printer)
    done = printer.finished
    if done is not None:
        print(f"predicted {done.total} windows in {done.seconds:.1f} s "
              f"({done.voxels_per_second / 1e6:.2f} M voxels/s)")
    return result


# ---------------------------------------------------------------------- scores and figure
def score(pred: np.ndarray, truth: np.ndarray, unlabeled: np.ndarray,
          names: dict[int, str]) -> dict[str, Any]:
    """Per-class IoU of ``pred`` against ``truth``, on every voxel and on ``unlabeled`` ones.

    Returns
    -------
    dict
        ``{"all": {name: iou}, "unlabeled": {name: iou}, "mean_all", "mean_unlabeled",
        "table": printable text}``.
    """
    def ious(p: np.ndarray, t: np.ndarray) -> dict[str, float]:
        out = {}
        for v, n in names.items():
            union = np.count_nonzero((p == v) | (t == v))
            out[n] = float(np.count_nonzero((p == v) & (t == v)) / union) if union else float("nan")
        return out

    every = ious(pred, truth)
    never = ious(pred[unlabeled], truth[unlabeled])
    mean_all = float(np.nanmean(list(every.values())))
    mean_unl = float(np.nanmean(list(never.values())))
    width = max(len(n) for n in [*names.values(), "mean"])
    rows = [f"{'class':<{width}}  {'all voxels':>10}  {'never labeled':>13}"]
    for n in names.values():
        rows.append(f"{n:<{width}}  {every[n]:>10.3f}  {never[n]:>13.3f}")
    rows.append(f"{'mean':<{width}}  {mean_all:>10.3f}  {mean_unl:>13.3f}")
    return {"all": every, "unlabeled": never, "mean_all": mean_all, "mean_unlabeled": mean_unl,
            "table": "\n".join(rows)}


def pick_inline(truth: np.ndarray, labeled: np.ndarray) -> int:
    """The never-labeled inline showing the most salt and fault (the most telling one)."""
    weight = np.zeros(truth.shape[0])
    for i in range(truth.shape[0]):
        weight[i] = np.count_nonzero(truth[i] == 2) + 3 * np.count_nonzero(truth[i] == 3)
    weight[np.asarray(labeled, dtype=int)] = -1
    return int(np.argmax(weight))


def draw_figure(path: Path, geometry: Any, image: np.ndarray, sparse: np.ndarray,
                truth: np.ndarray, pred: Any, mask: np.ndarray, unc: np.ndarray, inline: int,
                names: dict[int, str]) -> Path:
    """Six panels of one inline (time down, real coordinates) saved as a PNG."""
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    from ..synthetic import CLASS_COLORS

    colors = [(0, 0, 0, 0)] + [CLASS_COLORS.get(v, (1, 0, 1, 1)) for v in range(1, 10)]
    lab_cmap = ListedColormap(colors)
    seis = image[inline].T
    clip = float(np.percentile(np.abs(seis), 99)) or 1.0
    x, t = geometry.xlines, geometry.samples
    extent = (x[0] - 0.5, x[-1] + 0.5, t[-1] + geometry.dt / 2, t[0] - geometry.dt / 2)
    kw = dict(aspect="auto", extent=extent, interpolation="nearest")
    fig, axes = plt.subplots(2, 3, figsize=(14, 8.5), sharex=True, sharey=True)

    def base(ax, title):
        ax.imshow(seis, cmap="gray", vmin=-clip, vmax=clip, **kw)
        ax.set_title(title)

    def labels(ax, lab, title):
        base(ax, title)
        ax.imshow(np.ma.masked_equal(lab[inline].T, 0), cmap=lab_cmap, vmin=0, vmax=9,
                  alpha=0.6, **kw)

    base(axes[0, 0], f"seismic, inline {geometry.ilines[inline]}")
    labels(axes[0, 1], sparse, "labels used (crosslines painted)")
    labels(axes[0, 2], truth, "truth (never shown to the model)")
    probs = np.asarray(pred.probabilities)
    channel = {c["value"]: k for k, c in enumerate(pred.bundle.channel_classes)}
    rgb = np.zeros((*seis.shape, 3), np.float32)
    legend = []
    for v, color in ((2, 0), (3, 1)):  # salt red, fault green
        if v in channel:
            rgb[..., color] = probs[channel[v], inline].T
            legend.append(Patch(color=("red", "green")[color], label=f"P({names.get(v, v)})"))
    axes[1, 0].imshow(rgb, **kw)
    axes[1, 0].set_title("probabilities")
    if legend:
        axes[1, 0].legend(handles=legend, loc="lower left", fontsize=8)
    labels(axes[1, 1], mask, "predicted mask")
    im = axes[1, 2].imshow(unc[inline].T, cmap="magma", vmin=0, vmax=1, **kw)
    axes[1, 2].set_title("uncertainty (normalised entropy)")
    fig.colorbar(im, ax=axes[1, 2], fraction=0.046)
    handles = [Patch(color=CLASS_COLORS[v], label=n) for v, n in names.items() if v in CLASS_COLORS]
    axes[0, 2].legend(handles=handles, loc="lower left", fontsize=8)
    for ax in axes[1]:
        ax.set_xlabel("crossline")
    for ax in axes[:, 0]:
        ax.set_ylabel(geometry.sample_label)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path
