"""Segmentation quality per CPU minute: TGS salt tiles (folds 0-2 -> fold 3) and a synthetic cube.

Usage::

    python benchmarks/bench_train_tgs.py                          # TGS, 10 minutes of training
    python benchmarks/bench_train_tgs.py --minutes 0.5 --max-tiles 200   # a quick check
    python benchmarks/bench_train_tgs.py --synthetic --minutes 3  # synthetic cube, sparse labels
    python benchmarks/bench_train_tgs.py --json benchmarks/_out/tgs.json

**TGS** (``../shared/data/tgs_salt_dev.npz`` beside the repository, or ``--data``; never
copied into it): 101 x 101 uint8 seismic tiles with 0/1 salt masks, in folds 0-3.  The
tiles are unrelated 2D images, so they are stacked along axis 0 and the model is trained on
sections along that axis only (``axes=(0,)``).  Labels are ``mask + 1`` (1 sediment,
2 salt: a binary task, trained with BCE + Dice and a threshold tuned on validation) on the
tiles of folds 0-2 and 0 (not labeled) on fold 3.  By default a share of the fold 0-2
tiles is held out for validation (checkpoint choice and threshold), so fold 3 is never
seen before it is scored (``--val fold3`` uses fold 3 for validation instead, which leaks
the checkpoint choice and threshold into the score; it is flagged in the output).  By
default the model is ``resunet`` with a ResNet-18 encoder, width 32, its decoder stopping
at 1/4 resolution (``output_stride=4``: logits upsampled bilinearly, 2.1x faster steps;
the salt masks of fold 3 pooled to 1/4 and upsampled back keep a pixel IoU of 0.995),
trained on random 96 x 96 crops of the tiles (a multiple of the network's stride 32, so
nothing is padded inside it: 1.4x faster per step than whole tiles padded to 128; the
package's tile recipe trains on whole tiles since 2026-12-07, which ``--patch 128`` gives
here: ``bench_fewlabel.py tgs`` scored 0.767 that way over five seeds, 0.743 on crops) in
batches of 32 (per image 23% faster than 16 at this stride) with learning rate 1.5e-3,
validated every 150 steps, flips left-right only (tiles have a top and a bottom), the
package's weight averaging and mixed precision.  After
``--minutes`` of training (wall clock, the best checkpoint kept), every fold-3 tile is
predicted whole (the model pads 101 to its size multiple) and scored:

- ``pixel_iou``: IoU of the salt pixels over all fold-3 tiles together;
- ``competition_metric``: the TGS challenge score, the mean over tiles of the precision
  averaged over IoU thresholds 0.50, 0.55, ..., 0.95 (one object per tile: a hit when the
  tile's mask IoU exceeds the threshold); a tile without salt scores 1 when nothing is
  predicted and 0 otherwise;
- the same two with horizontal-flip test-time augmentation (``*_tta``).

**Synthetic** (``--synthetic``): :func:`napari_seisseg.synthetic.make_synthetic_cube` with
its default sparse labels (3 inlines and 2 crosslines painted), trained for ``--minutes``,
then predicted with :func:`napari_seisseg.inference.bundle_prediction.predict_bundle` (the
product's path: the section axes the model was trained on, averaged; sections smaller than
the training patch padded as training padded them) and scored against the dense truth: mean IoU
over the three classes on every voxel and on the never-labeled voxels only.

Timing: ``train_wall_s`` is the wall-clock time of training, ``train_cpu_s`` the CPU time of
the process over the same span (all threads), ``threads`` torch's thread count.  The
figures are for the machine they were taken on; the output records it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from napari_seisseg.jobs import drain

HERE = Path(__file__).resolve().parent
DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "tgs_salt_dev.npz"
#: IoU thresholds of the TGS competition metric.
THRESHOLDS = np.arange(0.5, 1.0, 0.05)


# ---------------------------------------------------------------------- metrics
def pixel_iou(pred: np.ndarray, truth: np.ndarray) -> float:
    """IoU of the positive pixels over the whole stack (NaN when both are empty)."""
    pred, truth = np.asarray(pred, bool), np.asarray(truth, bool)
    union = np.logical_or(pred, truth).sum()
    return float(np.logical_and(pred, truth).sum() / union) if union else float("nan")


def competition_metric(pred: np.ndarray, truth: np.ndarray) -> float:
    """TGS challenge score: mean over tiles of the precision averaged over IoU 0.50..0.95.

    Parameters
    ----------
    pred, truth : numpy.ndarray
        Boolean masks ``(N, H, W)``.

    Returns
    -------
    float
        In [0, 1].  A tile without salt scores 1 when nothing is predicted, else 0; a tile
        with salt scores the share of thresholds its mask IoU exceeds.
    """
    pred = np.asarray(pred, bool).reshape(len(pred), -1)
    truth = np.asarray(truth, bool).reshape(len(truth), -1)
    inter = np.logical_and(pred, truth).sum(1)
    union = np.logical_or(pred, truth).sum(1)
    iou = np.where(union > 0, inter / np.maximum(union, 1), 1.0)
    scores = (iou[:, None] > THRESHOLDS[None, :]).mean(1)
    empty = ~truth.any(1)
    scores = np.where(empty, (~pred.any(1)).astype(float), scores)
    return float(scores.mean())


def resolution_ceiling(truth: np.ndarray, stride: int) -> float:
    """Pixel IoU of masks pooled to ``1/stride`` and upsampled back bilinearly.

    The best a model whose decoder stops at ``1/stride`` resolution can score (the masks are
    padded at the edges to a multiple of ``stride`` as the model pads its input).
    """
    import torch
    import torch.nn.functional as F

    if stride == 1:
        return 1.0
    m = torch.from_numpy(np.asarray(truth, np.float32))[:, None]
    h, w = m.shape[-2:]
    m = F.pad(m, (0, -w % stride, 0, -h % stride), mode="replicate")
    up = F.interpolate(F.avg_pool2d(m, stride), scale_factor=stride, mode="bilinear",
                       align_corners=False)[..., :h, :w]
    return pixel_iou(up.numpy()[:, 0] >= 0.5, truth)


def class_ious(pred: np.ndarray, truth: np.ndarray, values: list[int]) -> dict[int, float]:
    """IoU of every label value."""
    out = {}
    for v in values:
        p, t = pred == v, truth == v
        union = np.logical_or(p, t).sum()
        out[int(v)] = float(np.logical_and(p, t).sum() / union) if union else float("nan")
    return out


# ---------------------------------------------------------------------- training
def _train(image: np.ndarray, labels: np.ndarray, config: Any, quiet: bool, **kwargs: Any):
    """Run the training generator with one line per epoch; return (result, wall s, CPU s)."""
    from napari_seisseg.cli.printer import epoch_line
    from napari_seisseg.training import EpochEnd, Finished, Note, Started

    def show(event: Any) -> None:
        if quiet:
            return
        if isinstance(event, Started):
            print(f"device: {event.device_description}; {event.message()}", flush=True)
            print(f"validation: {event.validation}", flush=True)
        elif isinstance(event, (EpochEnd,)):
            print(epoch_line(event), flush=True)
        elif isinstance(event, (Note, Finished)):
            print(event.message(), flush=True)

    from napari_seisseg.training import train

    wall0, cpu0 = time.perf_counter(), time.process_time()
    result = drain(train(image, labels, config, **kwargs), show)
    return result, time.perf_counter() - wall0, time.process_time() - cpu0


def _run_facts(result: Any, wall: float, cpu: float) -> dict[str, Any]:
    import torch

    run = result.card.get("training", {})
    best = result.best_metrics or {}
    return {
        "train_wall_s": round(wall, 1),
        "train_cpu_s": round(cpu, 1),
        "threads": torch.get_num_threads(),
        "steps": run.get("steps"),
        "epochs": run.get("epochs"),
        "stop_reason": result.stop_reason,
        "best_epoch": result.best_epoch,
        "val_mean_iou": best.get("mean_iou"),
        "threshold": result.card.get("threshold") if result.card.get("binary") else None,
        "device": run.get("device"),
    }


# ---------------------------------------------------------------------- TGS
def predict_tiles(model: Any, card: dict[str, Any], images: np.ndarray, *, salt_value: int = 2,
                  batch: int = 64, hflip: bool = False) -> np.ndarray:
    """Probability of the class ``salt_value`` for every tile of ``images`` ``(N, H, W)``.

    The tiles are normalised as the model card says and run whole through the model (which
    pads them to its size multiple); with ``hflip`` the horizontally flipped tiles are
    predicted too and the probabilities averaged.
    """
    import torch

    from napari_seisseg.bundle import Normalizer

    norm = Normalizer.from_dict(card["preprocessing"])
    values = [c["value"] for c in card["classes"]]
    k = values.index(salt_value)
    out = np.empty(images.shape, np.float32)
    model.eval()

    def prob(x: torch.Tensor) -> torch.Tensor:
        logits = model(x)
        if card["binary"]:
            p1 = torch.sigmoid(logits[:, 0])
            return p1 if k == 1 else 1.0 - p1
        return torch.softmax(logits, 1)[:, k]

    with torch.no_grad():
        for i in range(0, len(images), batch):
            x = torch.from_numpy(norm(images[i:i + batch].astype(np.float32))[:, None])
            p = prob(x)
            if hflip:
                p = 0.5 * (p + prob(torch.flip(x, (-2,))).flip(-2))  # left-right: across traces
            out[i:i + batch] = p.numpy()
    return out


def salt_mask(prob: np.ndarray, card: dict[str, Any]) -> np.ndarray:
    """Salt where the probability reaches the card's threshold (0.5 for multi-class models)."""
    thr = float(card.get("threshold", 0.5)) if card["binary"] else 0.5
    return prob >= thr


def run_tgs(args: argparse.Namespace) -> dict[str, Any]:
    """Train on folds 0-2 and score fold 3 (see the module docstring)."""
    from napari_seisseg.training import AugmentConfig, TrainConfig

    path = Path(args.data) if args.data else DEFAULT_DATA
    if not path.exists():
        raise SystemExit(f"TGS data not found at {path}; give its path with --data.")
    with np.load(path) as d:
        images, masks, fold = d["images"], d["masks"], d["fold"]
    # tiles are (row = depth, column = x); store them as seismic sections, (trace, sample), so
    # that the sample (time/depth) axis is the last one, as for every cube in the package
    images, masks = images.transpose(0, 2, 1), masks.transpose(0, 2, 1)
    if args.max_tiles and args.max_tiles < len(images):
        keep = np.sort(np.random.default_rng(args.seed).choice(len(images), args.max_tiles,
                                                               replace=False))
        images, masks, fold = images[keep], masks[keep], fold[keep]
    train_rows = fold < 3
    test_rows = fold == 3
    if not train_rows.any() or not test_rows.any():
        raise SystemExit("the selection holds no fold 0-2 tile or no fold 3 tile; use more tiles.")
    image = images.astype(np.float32)
    labels = np.where(train_rows[:, None, None], masks + 1, 0).astype(np.uint8)
    val_labels = None
    val_fraction = args.val_fraction
    if args.val == "fold3":
        val_labels = np.where(test_rows[:, None, None], masks + 1, 0).astype(np.uint8)
    elif args.val == "none":
        val_fraction = 0.0
    model = args.model or "resunet"
    kwargs = _model_kwargs(model, args, {"resunet": {"encoder": "resnet18", "width": 32,
                                                     "output_stride": 4}})
    config = TrainConfig(
        model=model,
        model_kwargs=kwargs,
        patch_size=args.patch or 96,
        batch_size=args.batch or 32,
        epochs=args.epochs,
        minutes=args.minutes if args.minutes is not None else 10.0,
        steps_per_epoch=args.steps_per_epoch or 150,
        lr=args.lr or 1.5e-3,
        lr_schedule=args.lr_schedule,
        weight_decay=args.weight_decay,
        early_stopping=None,
        ema=args.ema,
        amp=False if args.fp32 else None,
        loss=args.loss,
        seed=args.seed,
        device=args.device,
        axes=(0,),
        val_fraction=val_fraction,
        max_val_windows=args.max_val_windows,
        augment=AugmentConfig(flip=not args.no_flip, flip_time=bool(args.time_flip), gain=0.1,
                              noise=0.02, elastic=args.elastic, elastic_p=args.elastic_p,
                              scale=args.scale, rotate=args.rotate, affine_p=args.affine_p),
    )
    result, wall, cpu = _train(image, labels, config, args.quiet, val_labels=val_labels,
                               class_names={1: "sediment", 2: "salt"})
    t0 = time.perf_counter()
    test_images, truth = images[test_rows], masks[test_rows].astype(bool)
    prob = predict_tiles(result.model, result.card, test_images)
    prob_tta = predict_tiles(result.model, result.card, test_images, hflip=True)
    pred, pred_tta = salt_mask(prob, result.card), salt_mask(prob_tta, result.card)
    if args.save_model:
        result.save(args.save_model)
    return {
        "task": "tgs",
        "data": str(path),
        "tiles": {"train_folds_0_2": int(train_rows.sum()), "fold3": int(test_rows.sum()),
                  "fold3_empty": int((~truth.reshape(len(truth), -1).any(1)).sum())},
        "validation": args.val if args.val != "split" else f"{val_fraction:g} of folds 0-2",
        "leaky": args.val == "fold3",
        "model": result.card["model"],
        "config": config.to_dict(),
        "train": _run_facts(result, wall, cpu),
        "fold3": {
            "pixel_iou": pixel_iou(pred, truth),
            "competition_metric": competition_metric(pred, truth),
            "pixel_iou_tta": pixel_iou(pred_tta, truth),
            "competition_metric_tta": competition_metric(pred_tta, truth),
            "predict_s": round(time.perf_counter() - t0, 1),
            "output_stride_ceiling": resolution_ceiling(
                truth, int(result.card["model"].get("output_stride", 1))),
        },
    }


# ---------------------------------------------------------------------- synthetic
def run_synthetic(args: argparse.Namespace) -> dict[str, Any]:
    """Train on the synthetic cube's sparse labels; score the dense truth."""

    from napari_seisseg.inference import predict_bundle
    from napari_seisseg.synthetic import CLASS_NAMES, make_synthetic_cube
    from napari_seisseg.training import AugmentConfig, TrainConfig

    cube = make_synthetic_cube(seed=args.seed)
    sparse = cube.sparse_labels()
    model = args.model or "unet2d"
    config = TrainConfig(
        model=model,
        model_kwargs=_model_kwargs(model, args, {}),
        patch_size=args.patch,
        batch_size=args.batch,
        epochs=args.epochs,
        minutes=args.minutes if args.minutes is not None else 3.0,
        steps_per_epoch=args.steps_per_epoch or 100,
        lr=args.lr or 1e-3,
        lr_schedule=args.lr_schedule,
        early_stopping=None,
        ema=args.ema,
        amp=False if args.fp32 else None,
        seed=args.seed,
        device=args.device,
        val_fraction=args.val_fraction,
        max_val_windows=args.max_val_windows,
        augment=AugmentConfig(flip=not args.no_flip, flip_time=args.time_flip is not False),
    )
    result, wall, cpu = _train(cube.seismic, sparse, config, args.quiet, geometry=cube.geometry,
                               class_names=list(CLASS_NAMES), class_colors=cube.class_colors)
    t0 = time.perf_counter()
    card = result.card
    # the product's path: the card's preprocessing, sections padded to the training patch
    orient = tuple(card["input"]["axes"]) if card["input"]["kind"] != "3d" else None
    pred_result = drain(predict_bundle(result, cube.seismic, geometry=cube.geometry,
                                                   orientations=orient, device=args.device))
    values = np.asarray([c["value"] for c in card["classes"]])
    pred = pred_result.mask()
    truth = cube.labels
    unlabeled = sparse == 0
    all_iou = class_ious(pred, truth, list(values))
    unl_iou = class_ious(pred[unlabeled], truth[unlabeled], list(values))
    names = {c["value"]: c["name"] for c in card["classes"]}
    if args.save_model:
        result.save(args.save_model)
    return {
        "task": "synthetic",
        "cube": {"shape": list(cube.shape), "seed": args.seed,
                 "labeled_voxels": int((sparse > 0).sum()), "labeled_share": float((sparse > 0).mean())},
        "model": card["model"],
        "config": config.to_dict(),
        "train": _run_facts(result, wall, cpu),
        "dense_truth": {
            "mean_iou": float(np.nanmean(list(all_iou.values()))),
            "mean_iou_unlabeled_voxels": float(np.nanmean(list(unl_iou.values()))),
            "class_iou": {names[v]: iou for v, iou in all_iou.items()},
            "class_iou_unlabeled_voxels": {names[v]: iou for v, iou in unl_iou.items()},
            "predict_s": round(time.perf_counter() - t0, 1),
        },
    }


# ---------------------------------------------------------------------- main
def _model_kwargs(model: str, args: argparse.Namespace, defaults: dict) -> dict[str, Any]:
    kw = dict(defaults.get(model, {}))
    if args.width:
        kw["width"] = args.width
    if args.depth:
        kw["depth"] = args.depth
    if args.encoder and model == "resunet":
        kw["encoder"] = args.encoder
    if args.global_context and model == "resunet":
        kw["global_context"] = True
    if args.dropout:
        kw["dropout"] = args.dropout
    if args.output_stride and model == "resunet":
        kw["output_stride"] = args.output_stride
    return kw


def machine() -> dict[str, Any]:
    """Where the figures come from."""
    import torch

    return {"python": platform.python_version(), "torch": torch.__version__,
            "cpu_count": os.cpu_count(), "machine": platform.machine(),
            "processor": platform.processor() or platform.machine()}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--synthetic", action="store_true",
                   help="benchmark on the synthetic cube instead of the TGS tiles")
    p.add_argument("--data", help=f"TGS .npz (default {DEFAULT_DATA})")
    p.add_argument("--minutes", type=float,
                   help="training budget, wall clock (default 10 for TGS, 3 for --synthetic)")
    p.add_argument("--epochs", type=int, help="also stop after this many epochs")
    p.add_argument("--max-tiles", type=int, default=0,
                   help="TGS: use a random subset of this many tiles (quick checks)")
    p.add_argument("--model", choices=("unet2d", "resunet", "hybrid", "unet3d"),
                   help="architecture (default resunet for TGS, unet2d for --synthetic)")
    p.add_argument("--width", type=int, help="model width (default: 32 for resunet on TGS, "
                                             "the model's default otherwise)")
    p.add_argument("--depth", type=int, help="model depth (model default)")
    p.add_argument("--encoder", choices=("resnet18", "resnet34"),
                   help="resunet encoder (default resnet18 for TGS)")
    p.add_argument("--global-context", action="store_true",
                   help="resunet: add the patch-wide average of the deepest features back to "
                        "every position")
    p.add_argument("--output-stride", type=int, choices=(1, 2, 4),
                   help="resunet: resolution the decoder stops at (1 full, 2 or 4: logits "
                        "upsampled from 1/2 or 1/4; default 4 for TGS, whose salt masks pooled "
                        "to 1/4 and upsampled keep a pixel IoU of 0.995; 1 for --synthetic)")
    p.add_argument("--patch", type=int,
                   help="patch edge (default 96 for TGS: random crops of the 101-pixel tiles, "
                        "which the network takes without padding; the model's for --synthetic)")
    p.add_argument("--batch", type=int, help="batch size (default 32 for TGS: per image 23%% "
                                             "faster than 16 at output stride 4; automatic "
                                             "otherwise)")
    p.add_argument("--lr", type=float, help="learning rate (default 1.5e-3 for TGS, 1e-3 "
                                            "for --synthetic)")
    p.add_argument("--lr-schedule", choices=("plateau", "cosine"), default="plateau",
                   help="learning-rate schedule (default plateau)")
    p.add_argument("--weight-decay", type=float, default=1e-4,
                   help="AdamW weight decay (default 1e-4, the package's)")
    p.add_argument("--dropout", type=float, help="model dropout (model default)")
    p.add_argument("--elastic", type=float, default=0.0,
                   help="TGS: largest elastic displacement, pixels (default 0: none)")
    p.add_argument("--elastic-p", type=float, default=0.3,
                   help="TGS: share of patches distorted (default 0.3)")
    p.add_argument("--scale", type=float, default=0.0,
                   help="TGS: random zoom by a factor in [1 - s, 1 + s] (default 0: none)")
    p.add_argument("--rotate", type=float, default=0.0,
                   help="TGS: largest random rotation, degrees (default 0: none)")
    p.add_argument("--affine-p", type=float, default=0.5,
                   help="TGS: share of patches zoomed / rotated (default 0.5)")
    p.add_argument("--loss", default="auto",
                   help="TGS: loss name of TrainConfig (auto = BCE + Dice; bce_lovasz ...)")
    p.add_argument("--ema", type=float, default=0.99,
                   help="decay of the weight average that is validated and kept (default 0.99, "
                        "the package's; 0: off)")
    p.add_argument("--fp32", action="store_true",
                   help="train in float32 (default: bf16 mixed precision where the CPU or GPU "
                        "has it)")
    p.add_argument("--steps-per-epoch", type=int,
                   help="steps between validations (default 150 for TGS, 100 for --synthetic)")
    p.add_argument("--val", choices=("split", "fold3", "none"), default="split",
                   help="TGS validation: hold out part of folds 0-2 (default), fold 3 itself "
                        "(leaky), or none")
    p.add_argument("--val-fraction", type=float, default=0.1,
                   help="share of labeled sections held out for validation (default 0.1)")
    p.add_argument("--max-val-windows", type=int, default=160,
                   help="validation tiles/windows scored per epoch (default 160)")
    p.add_argument("--no-flip", action="store_true", help="no flip augmentation")
    p.add_argument("--time-flip", action=argparse.BooleanOptionalAction, default=None,
                   help="flips along depth/time too (default: off for TGS, whose tiles have a "
                        "top and a bottom; on for --synthetic, as in the package)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu", help="cpu (default), auto, cuda or mps")
    p.add_argument("--threads", type=int, help="torch CPU threads (default: torch's choice)")
    p.add_argument("--save-model", metavar="PATH", help="also write the trained bundle here")
    p.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    p.add_argument("--quiet", action="store_true", help="no per-epoch lines")
    return p


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = build_parser().parse_args(argv)
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    out = run_synthetic(args) if args.synthetic else run_tgs(args)
    from napari_seisseg.bundle import json_safe

    out["machine"] = machine()
    out = json_safe(out)  # NaN -> null: strict JSON
    text = json.dumps(out, indent=2)
    print(text)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(text + "\n")
    return out


if __name__ == "__main__":
    main(sys.argv[1:])
