"""``seisseg train --image IMG --labels LAB --out MODEL``: train a model on painted labels.

The command runs the same generator as the Train widget
(:func:`napari_seisseg.training.train`) with a tqdm progress bar driven by its ``Step``
events and one line per epoch.  The bundle is written at exactly ``--out``; that path is
what ``seisseg predict --model`` and the widgets' "Load model…" take.  Ctrl-C stops the run
after the current step and still saves the best model so far (a second Ctrl-C aborts).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import SeisSegError
from ._common import add_segy_options, move_bar, new_bar, positive, read_input, segy_options

if TYPE_CHECKING:
    from ..io.volume import Volume
    from ..preprocess import Pipeline
    from ..training import TrainConfig

__all__ = ["add_parser", "build_config", "epoch_line", "run"]

MODEL_CHOICES = ("auto", "unet2d", "unet3d", "hybrid", "resunet")
DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")
LOSS_CHOICES = ("auto", "ce_dice", "bce_dice", "ce_lovasz", "bce_lovasz", "ce", "bce")


def _name_list(text: str) -> tuple[str, ...]:
    return tuple(t.strip() for t in text.split(",") if t.strip())


def _int_list(text: str) -> tuple[int, ...]:
    """Parse ``"0"`` or ``"0,1"`` (or ``"64,128"``) into a tuple of ints."""
    parts = [p for p in text.replace(" ", "").split(",") if p]
    try:
        values = tuple(int(p) for p in parts)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected whole numbers separated by commas, not {text!r}"
        ) from None
    if not values:
        raise argparse.ArgumentTypeError("expected at least one number")
    return values




def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``seisseg train``."""
    p = sub.add_parser(
        "train",
        help="train a segmentation model on painted labels (0 = not labeled, 1..K = classes)",
        description="Train a segmentation network on a labels volume of the image's shape, in "
        "which 0 means 'not labeled' (ignored by the loss) and 1..K are classes; a few painted "
        "inlines, crosslines, time slices or scribbles are enough. IMG and LAB may be SEG-Y, "
        ".npy or Zarr. The model bundle (weights + JSON model card) is written at exactly "
        "MODEL. Ctrl-C stops after the current step and still saves the best model so far.",
        epilog="examples: seisseg train --image cube.sgy --labels painted.npy --out salt.safetensors "
        "--minutes 10 | seisseg train --image tiles.npy --labels masks.npy --out m.safetensors "
        "--axes 0 --zero-is-background --epochs 20",
    )
    io = p.add_argument_group("data")
    io.add_argument("--image", required=True, metavar="IMG",
                    help="amplitudes: SEG-Y file or folder, .npy or .zarr")
    io.add_argument("--labels", required=True, metavar="LAB",
                    help="integer labels of IMG's shape (0 = not labeled, 1..K = classes)")
    io.add_argument("--corrections", metavar="CORR",
                    help="a predicted mask after your corrections (with --predicted): the "
                         "voxels you changed are added to LAB, overriding what was painted "
                         "there; the rest of the mask is not used")
    io.add_argument("--predicted", metavar="PRED",
                    help="the mask as 'seisseg predict' wrote it, before the corrections")
    io.add_argument("--val-labels", metavar="VAL",
                    help="validation labels of IMG's shape (default: hold out a band of each "
                         "painted section of LAB, or a share of the sections when 10 or more "
                         "are painted)")
    io.add_argument("--out", required=True, metavar="MODEL",
                    help="output model bundle, written at exactly this path "
                         "(e.g. model.safetensors)")
    io.add_argument("--overwrite", action="store_true", help="replace MODEL if it exists")
    io.add_argument("--zero-is-background", action="store_true",
                    help="label 0 is a class (dense masks made elsewhere): nothing is ignored")
    io.add_argument("--class-names", metavar="NAMES",
                    help="comma-separated class names of label values 1, 2, ... (0, 1, ... with "
                         "--zero-is-background), e.g. sediment,salt,fault")
    io.add_argument("--axes", type=_int_list, metavar="A[,B]",
                    help="section models: take sections only along these axes of the input "
                         "(canonical inline, crossline, sample order for SEG-Y and files with "
                         "geometry), e.g. 0 for a stack of unrelated 2D images")
    io.add_argument("--pipeline", metavar="P.json",
                    help="preprocessing pipeline (seisseg preprocess --save-pipeline) applied to "
                         "every patch and stored in the bundle; fitted on IMG if it holds no "
                         "statistics")
    m = p.add_argument_group("model and budget")
    m.add_argument("--model", choices=MODEL_CHOICES,
                   help="architecture (default auto: unet2d on the sections of a survey; for a "
                        "stack of small unrelated tiles (--axes 0), resunet with the recipe tuned "
                        "on TGS salt tiles; the choice is printed. With --init: its model)")
    m.add_argument("--width", type=positive(int), metavar="W",
                   help="channels of the first stage (model default when omitted)")
    m.add_argument("--model-depth", type=positive(int), metavar="D",
                   help="number of down-sampling stages (model default when omitted)")
    m.add_argument("--context", type=int, metavar="C",
                   help="unet2d/resunet/hybrid: neighbouring slices on each side given as input")
    m.add_argument("--encoder", choices=("resnet18", "resnet34"),
                   help="resunet: residual blocks of the encoder (default resnet18)")
    m.add_argument("--output-stride", type=int, choices=(1, 2, 4), metavar="{1,2,4}",
                   help="resunet: resolution the decoder stops at; 2 or 4 upsample the logits "
                        "from 1/2 or 1/4 (about 2x faster steps at 4; for smooth bodies such as "
                        "salt, keep 1 for faults); default 1")
    m.add_argument("--circular-axis", type=int, metavar="A",
                   help="axis of the model's sections (0 or 1; 0-2 for unet3d patches) along which "
                        "the images wrap around, e.g. the azimuth of borehole images: the model "
                        "pads circularly along it and training rolls patches along it")
    m.add_argument("--pretrained", default="auto", metavar="{auto,none,FILE}",
                   help="start from a self-supervised pretraining ('seisseg pretrain'): auto "
                        "(default) uses this survey's cached one for the same model settings "
                        "when it exists; none never; or a file written by 'seisseg pretrain "
                        "--out'")
    m.add_argument("--init", metavar="MODEL",
                   help="fine-tune: start from this bundle (its architecture and classes are kept)")
    budget = m.add_mutually_exclusive_group()
    budget.add_argument("--minutes", type=positive(float), metavar="M",
                        help="wall-clock budget in minutes (the best model is kept)")
    budget.add_argument("--epochs", type=positive(int), metavar="N",
                        help="number of epochs (default 30, with early stopping)")
    m.add_argument("--steps-per-epoch", type=positive(int), default=100, metavar="S",
                   help="optimisation steps between two validations (default 100)")
    o = p.add_argument_group("optimisation")
    o.add_argument("--patch", type=_int_list, metavar="P",
                   help="patch edge or sizes, e.g. 128 or 64,128 (default 128 for section "
                        "models, 64 for unet3d; capped at the data's size)")
    o.add_argument("--batch", type=positive(int), metavar="B",
                   help="patches per step (default 8 for section models, 2 for unet3d on the "
                        "CPU; fitted to memory on CUDA)")
    o.add_argument("--lr", type=positive(float), default=1e-3, help="learning rate (default 1e-3)")
    o.add_argument("--lr-schedule", choices=("plateau", "cosine"), default="plateau",
                   help="plateau (default): halve the rate when validation stops improving; "
                        "cosine: warm up, then decay to lr/100 over the budget")
    o.add_argument("--ema", type=float, metavar="DECAY",
                   help="keep an exponential moving average of the weights with this decay, and "
                        "validate and keep the average (default 0.99: about the last 100 steps; "
                        "0: the weights of the last step)")
    o.add_argument("--loss", choices=LOSS_CHOICES, default="auto",
                   help="auto: BCE + Dice for two classes, CE + Dice for more; *_lovasz: the "
                        "Lovasz extension of IoU instead of Dice; ce, bce: no region term")
    o.add_argument("--class-weights", choices=("none", "auto"), default="auto",
                   help="auto (default): weight classes by 1/sqrt(frequency), so rare classes "
                        "such as faults are not drowned by the background; none: equal weights")
    o.add_argument("--position", choices=("auto", "on", "off"), default="auto",
                   help="section models: give the network each pixel's position along "
                        "time/depth as a second channel, so look-alike layers at different "
                        "depths are told apart (auto: on when traces are at least twice the "
                        "patch; off for stacks of unrelated tiles)")
    o.add_argument("--val-fraction", type=float, default=0.2, metavar="F",
                   help="share held out for validation without --val-labels: of every painted "
                        "section's extent (a band across its traces) when fewer than 10 are "
                        "painted, else of the sections (default 0.2; 0 for none)")
    o.add_argument("--early-stopping", type=int, default=10, metavar="N",
                   help="stop after N epochs without a better validation score (with --minutes: "
                        "after half of the budget without one; never while the model "
                        "predicts a single class; 0: never)")
    o.add_argument("--no-augment", action="store_true", help="no data augmentation")
    o.add_argument("--augment", type=_name_list, default=(), metavar="NAMES",
                   help="extra augmentation, comma-separated, beyond the default flips, gain and "
                        "noise: rotate90 (90° rotations and transposes, for images without a "
                        "preferred vertical), polarity (sign flips half of the time), elastic "
                        "(smooth distortion up to 2 voxels), zoom (±15%% zoom and ±5° rotation "
                        "on half of the patches)")
    o.add_argument("--no-time-flip", action="store_true",
                   help="flip patches across traces only, never upside down along time/depth")
    o.add_argument("--seed", type=int, default=0, help="seed of every random choice (default 0)")
    o.add_argument("--device", choices=DEVICE_CHOICES, default="auto",
                   help="auto: CUDA, then Apple MPS, then the CPU")
    o.add_argument("--precision", choices=("auto", "fp32", "mixed"), default="auto",
                   help="auto: mixed precision on CUDA and on CPUs with native bf16 (about twice "
                        "as fast), float32 elsewhere; fp32: always float32; mixed: bf16/fp16 "
                        "autocast where the device has it")
    o.add_argument("--checkpoint-minutes", type=float, default=5.0, metavar="M",
                   help="every M minutes of training, write the best model so far to the model "
                        "store's checkpoints folder; a killed run leaves it and the next "
                        "training on the cube offers it (removed when the run ends; 0: never; "
                        "default 5)")
    o.add_argument("--run-dir", metavar="DIR",
                   help="folder for config.json, metrics.csv (one row per epoch) and a copy of "
                        "the bundle")
    o.add_argument("--quiet", action="store_true", help="no progress bar")
    add_segy_options(p)
    p.set_defaults(func=run)


# ---------------------------------------------------------------------- inputs
def _read(path: str, what: str, args: argparse.Namespace) -> Volume:
    """Read one input; the SEG-Y options describe the image.

    Masks exported by seisseg copy the image's trace headers, so ``--iline-byte`` and
    ``--xline-byte`` hold for label files too; their sample format, byte order and domain are
    their own (read from the file), so ``--format``, ``--endian`` and ``--domain`` are not
    applied to them.
    """
    if not Path(path).exists():
        raise SeisSegError(f"{what} {path} does not exist.")
    options = segy_options(args)
    if what != "image":
        options = {k: options[k] for k in ("iline_byte", "xline_byte")}
    try:
        return read_input(path, **options)
    except SeisSegError as exc:
        raise SeisSegError(f"cannot read {what} {path}: {exc}") from None


def _check_labels(volume: Volume, path: str, image_shape: tuple[int, ...], image_path: str) -> None:
    dtype = np.dtype(volume.data.dtype)
    if dtype.kind not in "iubf":
        raise SeisSegError(
            f"labels {path} have dtype {dtype}; labels must be integers (0 = not labeled, "
            "1..K = classes)."
        )
    if tuple(volume.shape) != tuple(image_shape):
        raise SeisSegError(
            f"labels {path} have shape {tuple(volume.shape)} but image {image_path} has shape "
            f"{tuple(image_shape)}; give labels of the image's shape (0 = not labeled, "
            "1..K = classes)."
        )


def _pipeline(path: str, image: Volume) -> Pipeline:
    """Load a pipeline; fit it on ``image`` when it holds no statistics."""
    from ..preprocess import Pipeline

    pipeline = Pipeline.load(path)
    if not pipeline.is_fitted:
        g = image.geometry
        axis = g.axes.index("sample") if g is not None else len(image.shape) - 1
        dt = g.dt if g is not None and g.unit == "ms" else None
        pipeline.fit(image.data, axis, dt=dt)
    return pipeline


def build_config(args: argparse.Namespace) -> TrainConfig:
    """The :class:`~napari_seisseg.training.TrainConfig` the options ask for."""
    from ..training import AugmentConfig, TrainConfig
    from ..training.config import POSITION_CHOICES

    model = args.model
    if model is None and args.init:
        from ..bundle import model_name, read_card

        model = model_name(read_card(args.init))
    model = model or "auto"
    if args.pretrained not in ("auto", "none") and not Path(args.pretrained).is_file():
        raise SeisSegError(
            f"--pretrained {args.pretrained} is not a file; give a file written by 'seisseg "
            "pretrain --out', or auto, or none."
        )
    kwargs: dict[str, Any] = {}
    if args.width is not None:
        kwargs["width"] = args.width
    if args.model_depth is not None:
        kwargs["depth"] = args.model_depth
    if args.context is not None:
        if model == "unet3d":
            raise SeisSegError("--context applies to section models (unet2d, resunet, hybrid).")
        kwargs["context"] = args.context
    resunet_only = {"encoder": args.encoder, "output_stride": args.output_stride}
    for key, value in resunet_only.items():
        if value is None:
            continue
        if model != "resunet":
            flag = "--" + key.replace("_", "-")
            raise SeisSegError(f"{flag} applies to --model resunet, not {model}.")
        kwargs[key] = value
    if args.circular_axis is not None:
        kwargs["circular_axis"] = args.circular_axis
    if args.no_augment and args.augment:
        raise SeisSegError("--no-augment turns every augmentation off; drop it to use --augment.")
    if args.no_augment:
        augment = AugmentConfig.none()
    else:
        augment = AugmentConfig(flip_time=not args.no_time_flip,
                                roll_axis=args.circular_axis).with_extras(args.augment)
    if args.minutes is not None:
        epochs, minutes = None, args.minutes
    else:
        epochs, minutes = (args.epochs or 30), None
    patch = None
    if args.patch:
        patch = args.patch[0] if len(args.patch) == 1 else tuple(args.patch)
    config = TrainConfig(
        model=model,
        model_kwargs=kwargs,
        patch_size=patch,
        batch_size=args.batch,
        epochs=epochs,
        minutes=minutes,
        steps_per_epoch=args.steps_per_epoch,
        lr=args.lr,
        lr_schedule=args.lr_schedule,
        ema=TrainConfig.ema if args.ema is None else args.ema,
        early_stopping=args.early_stopping or None,
        seed=args.seed,
        device=args.device,
        amp={"auto": None, "fp32": False, "mixed": True}[args.precision],
        loss=args.loss,
        class_weights=None if args.class_weights == "none" else args.class_weights,
        position=POSITION_CHOICES[args.position],
        pretrained=None if args.pretrained == "none" else args.pretrained,
        zero_is_background=args.zero_is_background,
        axes=args.axes,
        val_fraction=args.val_fraction,
        augment=augment,
        run_dir=args.run_dir,
        checkpoint_minutes=args.checkpoint_minutes or None,
    )
    config.validate()
    return config


def _check_out(args: argparse.Namespace) -> Path:
    from ..io.atomic import check_target

    out = Path(args.out)
    if out.is_dir():
        raise SeisSegError(
            f"--out {out} is a folder; give a file path for the model, e.g. "
            f"{out / 'model.safetensors'}."
        )
    # --init may be replaced (with --overwrite): it is read before anything is written
    protect = [p for p in (args.image, args.labels, args.val_labels, args.pipeline) if p]
    check_target(out, overwrite=args.overwrite, protect=protect)
    if args.run_dir:
        if Path(args.run_dir).resolve() == out.resolve():
            raise SeisSegError(
                "--run-dir and --out are the same path; the run folder is a folder beside the "
                "model file, e.g. --run-dir runs/salt."
            )
        check_run_dir(Path(args.run_dir), overwrite=args.overwrite, protect=protect)
    return out


def check_run_dir(folder: Path, *, overwrite: bool, protect: list[str]) -> None:
    """Refuse a ``--run-dir`` that is a file, or that holds an earlier run's files."""
    from ..io.atomic import check_target
    from ..training.runlog import RUN_FILES

    if folder.exists() and not folder.is_dir():
        raise SeisSegError(f"--run-dir {folder} is a file; give a folder for the run's files.")
    for name in RUN_FILES:
        target = folder / name
        check_target(target, protect=protect, overwrite=True)
        if not overwrite and target.exists():
            raise SeisSegError(
                f"--run-dir {folder} already holds {name} from an earlier run. Give a new folder, "
                "or pass --overwrite to replace that run's files."
            )


# ---------------------------------------------------------------------- reporting
def _headline(metrics: Any) -> Any:
    from ..training.metrics import headline

    return headline(metrics)


def _fmt(v: Any, digits: int = 3) -> str:
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return "-"
    return f"{float(v):.{digits}f}"


def epoch_line(event: Any) -> str:
    """One line for an :class:`~napari_seisseg.training.EpochEnd` event."""
    parts = [f"epoch {event.epoch:3d}", f"loss {_fmt(event.train_loss, 4)}"]
    metrics = event.metrics
    if metrics:
        from ..training.metrics import headline

        parts.append(f"val mIoU {_fmt(headline(metrics))}")
        per_class = " ".join(
            f"{c.get('name') or c.get('value')} {_fmt(c.get('iou'))}"
            for c in metrics.get("classes", [])
        )
        if per_class:
            parts.append(f"IoU: {per_class}")
    parts.append(f"lr {event.lr:.2g}")
    parts.append(f"{event.elapsed_s:.0f} s")
    line = "  ".join(parts)
    return line + ("  *best*" if event.is_best and metrics else "")


@contextmanager
def _ctrl_c_stops(stop: threading.Event, say: Callable[[str], None]) -> Iterator[None]:
    """First Ctrl-C sets ``stop`` (training ends after this step); a second one aborts."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        say("Ctrl-C: stopping after this step and keeping the best model so far "
            "(press Ctrl-C again to abort without saving).")

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


class _Bar:
    """tqdm bar driven by ``Step.progress`` (0..1), with the loss as postfix."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.bar = None

    def start(self) -> None:
        """Show the bar (after the set-up messages)."""
        self.bar = new_bar(1000, self.enabled,
                           bar_format="{desc} {percentage:3.0f}%|{bar}| {elapsed}<{remaining}")

    def step(self, event: Any) -> None:
        if self.bar is None:
            self.start()
        self.bar.set_description_str(f"epoch {event.epoch} loss {event.loss:.4f}", refresh=False)
        move_bar(self.bar, int(round(1000 * min(1.0, max(0.0, event.progress)))))

    def write(self, text: str) -> None:
        if self.bar is None or self.bar.disable:
            print(text, flush=True)
        else:
            self.bar.write(text, file=sys.stdout)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _with_corrections(args: argparse.Namespace, labels: Volume, image: Volume) -> np.ndarray:
    """The painted labels plus the voxels changed between --predicted and --corrections."""
    from ..training.corrections import merge_corrections

    if not (args.corrections and args.predicted):
        raise SeisSegError("--corrections and --predicted go together: give the corrected "
                           "mask and the mask as seisseg predict wrote it.")
    corrected = _read(args.corrections, "corrected mask", args)
    _check_labels(corrected, args.corrections, image.shape, args.image)
    predicted = _read(args.predicted, "predicted mask", args)
    _check_labels(predicted, args.predicted, image.shape, args.image)
    merged, added, erased = merge_corrections(labels.data, corrected.data, predicted.data)
    note = f" ({erased:,} erased voxels left out)" if erased else ""
    print(f"labels: {added:,} corrected voxels of {args.corrections} added to {args.labels}{note}",
          flush=True)
    return merged


def _offer_checkpoints(image: Any) -> None:
    """Say which killed runs on this cube left a checkpoint, and how to continue from it."""
    from ..training.checkpoint import find_checkpoints
    from ..training.pretrain import cube_fingerprint

    for info in find_checkpoints(cube_fingerprint(image))[:3]:
        print(f"note: {info.describe()}; continue from it with --init {info.path}", flush=True)


# ---------------------------------------------------------------------- run
def run(args: argparse.Namespace) -> int:
    """Train and write the bundle; returns the exit status."""
    from ..bundle.classes import parse_class_names

    out = _check_out(args)
    config = build_config(args)
    class_names = parse_class_names(args.class_names) or None
    image = _read(args.image, "image", args)
    labels = _read(args.labels, "labels", args)
    _check_labels(labels, args.labels, image.shape, args.image)
    label_data = labels.data
    if args.corrections or args.predicted:
        label_data = _with_corrections(args, labels, image)
    val = None
    if args.val_labels:
        val = _read(args.val_labels, "validation labels", args)
        _check_labels(val, args.val_labels, image.shape, args.image)
    pipeline = _pipeline(args.pipeline, image) if args.pipeline else None

    from ..training import BestUpdated, EpochEnd, Finished, Note, Started, Step, train

    _offer_checkpoints(image.data)
    stop = threading.Event()
    gen = train(
        image.data,
        label_data,
        config,
        geometry=image.geometry,
        val_labels=None if val is None else val.data,
        class_names=class_names,
        pipeline=pipeline,
        init_bundle=args.init,
        stop=stop,
        image_name=str(args.image),
    )
    bar = _Bar(enabled=not args.quiet)
    result = None
    try:
        with _ctrl_c_stops(stop, bar.write):
            while True:
                try:
                    event = next(gen)
                except StopIteration as done:
                    result = done.value
                    break
                if isinstance(event, Step):
                    bar.step(event)
                elif isinstance(event, Started):
                    classes = ", ".join(f"{c.value}={c.name}" for c in event.classes)
                    bar.write(f"device: {event.device_description}, {event.precision}")
                    bar.write(event.message())
                    bar.write(f"classes: {classes}; {'binary' if event.binary else 'multi-class'}"
                              f" task; validation: {event.validation}")
                    bar.start()
                elif isinstance(event, EpochEnd):
                    bar.write(epoch_line(event))
                elif isinstance(event, Note):
                    bar.write(f"note: {event.text}")
                elif isinstance(event, Finished):
                    bar.close()
                    bar.write(event.message())
                elif isinstance(event, BestUpdated):
                    pass
    finally:
        bar.close()
    path = result.save(out)
    best = ""
    if result.best_metrics:
        best = f" (epoch {result.best_epoch}, validation mean IoU " \
               f"{_fmt(_headline(result.best_metrics))})"
    if result.stop_reason == "stopped":
        print(f"Stopped by Ctrl-C: saved the best model so far{best} to {path}")
    else:
        print(f"model saved to {path}{best}")
    if result.bundle_path is not None:
        print(f"run folder: {Path(config.run_dir)} (config.json, metrics.csv)")
    # interrupted by the user: the model is saved, but scripts must see the run did not finish
    return 130 if result.stop_reason == "stopped" else 0
