"""``seisseg train --image IMG --labels LAB --out MODEL``: train a model on painted labels.

The command runs the same generator as the Train widget
(:func:`napari_seisseg.training.train`) with a progress bar (:func:`~.printer.new_bar`) driven by its ``Step``
events and one line per epoch.  The bundle is written at exactly ``--out``; that path is
what ``seisseg predict --model`` and the widgets' "Load model…" take.  Ctrl-C stops the run
after the current step and still saves the best model so far (a second Ctrl-C aborts).
"""

from __future__ import annotations

import argparse
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import SeisSegError
from ..jobs import drain
from ..train_settings import cli_option
from ._common import (
    add_segy_options,
    add_width_depth,
    check_labels,
    ctrl_c_stops,
    int_list,
    positive,
    read_named,
)
from .printer import TrainingPrinter, fmt

if TYPE_CHECKING:
    from ..io.volume import Volume
    from ..preprocess import Pipeline
    from ..training import TrainConfig

__all__ = ["add_parser", "build_config", "run"]


def _name_list(text: str) -> tuple[str, ...]:
    return tuple(t.strip() for t in text.split(",") if t.strip())


#: ``seisseg train``: its line in ``seisseg --help``, the text above its options, examples.
HELP = "train a segmentation model on painted labels (0 = not labeled, 1..K = classes)"
DESCRIPTION = ("Train a segmentation network on a labels volume of the image's shape, in "
               "which 0 means 'not labeled' (ignored by the loss) and 1..K are classes; a few painted "
               "inlines, crosslines, time slices or scribbles are enough. IMG and LAB may be SEG-Y, "
               ".npy or Zarr. The model bundle (weights + JSON model card) is written at exactly "
               "MODEL. Ctrl-C stops after the current step and still saves the best model so far.")
EPILOG = ("examples: seisseg train --image cube.sgy --labels painted.npy --out salt.safetensors "
          "--minutes 10 | seisseg train --image tiles.npy --labels masks.npy --out m.safetensors "
          "--axes 0 --zero-is-background --epochs 20")


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``seisseg train``; defaults, choices and help of the settings come from
    :class:`~napari_seisseg.training.TrainConfig` (:func:`~napari_seisseg.train_settings.cli_option`)."""
    p = sub.add_parser("train", help=HELP, description=DESCRIPTION, epilog=EPILOG)
    _add_data_options(p.add_argument_group("data"))
    _add_model_options(p.add_argument_group("model and budget"))
    _add_optimisation_options(p.add_argument_group("optimisation"))
    add_segy_options(p)
    p.set_defaults(func=run)


def _add_data_options(io: argparse._ArgumentGroup) -> None:
    """Inputs, corrections, validation labels, the output and how labels are read."""
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
                    help=cli_option("zero_is_background")["help"])
    io.add_argument("--class-names", metavar="NAMES",
                    help="comma-separated class names of label values 1, 2, ... (0, 1, ... with "
                         "--zero-is-background), e.g. sediment,salt,fault")
    io.add_argument("--axes", type=int_list, metavar="A[,B]", **cli_option("axes"))
    io.add_argument("--pipeline", metavar="P.json",
                    help="preprocessing pipeline (seisseg preprocess --save-pipeline) applied to "
                         "every patch and stored in the bundle; fitted on IMG if it holds no "
                         "statistics")


def _add_model_options(m: argparse._ArgumentGroup) -> None:
    """Architecture, its options, the starting weights and the budget."""
    m.add_argument("--model", **cli_option("model", default=None))
    add_width_depth(m, "model default when omitted")
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
    m.add_argument("--pretrained", metavar="{auto,none,FILE}", **cli_option("pretrained"))
    m.add_argument("--init", metavar="MODEL",
                   help="fine-tune: start from this bundle (its architecture and classes are kept)")
    budget = m.add_mutually_exclusive_group()
    budget.add_argument("--minutes", type=positive(float), metavar="M", **cli_option("minutes"))
    budget.add_argument("--epochs", type=positive(int), metavar="N",
                        **cli_option("epochs", default=None))
    m.add_argument("--steps-per-epoch", type=positive(int), metavar="S",
                   **cli_option("steps_per_epoch"))


def _add_optimisation_options(o: argparse._ArgumentGroup) -> None:
    """Patches, learning rate, loss, augmentation, seed, device and the run's files."""
    o.add_argument("--patch", type=int_list, metavar="P",
                   help="patch edge or sizes, e.g. 128 or 64,128 (default 128 for section "
                        "models, 64 for unet3d; capped at the data's size)")
    o.add_argument("--batch", type=positive(int), metavar="B",
                   help="patches per step (default 8 for section models, 2 for unet3d on the "
                        "CPU; fitted to memory on CUDA)")
    o.add_argument("--lr", type=positive(float), **cli_option("lr"))
    o.add_argument("--lr-schedule", **cli_option("lr_schedule"))
    o.add_argument("--ema", type=float, metavar="DECAY", **cli_option("ema", default=None))
    o.add_argument("--loss", **cli_option("loss"))
    o.add_argument("--class-weights", **cli_option("class_weights"))
    o.add_argument("--position", **cli_option("position"))
    o.add_argument("--val-fraction", type=float, metavar="F", **cli_option("val_fraction"))
    o.add_argument("--val-join", type=float, metavar="F", **cli_option("val_join"))
    o.add_argument("--early-stopping", type=int, metavar="N", **cli_option("early_stopping"))
    o.add_argument("--keep", **cli_option("keep"))
    o.add_argument("--no-augment", action="store_true", help="no data augmentation")
    o.add_argument("--augment", type=_name_list, default=(), metavar="NAMES",
                   help="extra augmentation, comma-separated, beyond the default flips, gain and "
                        "noise: rotate90 (90° rotations and transposes, for images without a "
                        "preferred vertical), polarity (sign flips half of the time), elastic "
                        "(smooth distortion up to 2 voxels), zoom (±15%% zoom and ±5° rotation "
                        "on half of the patches), maps (time slices turned to any azimuth, "
                        "half of them: channels of every direction; a fault of one strike "
                        "may be found less well), copypaste (the painted voxels of classes "
                        "painted as a few bodies pasted into other patches; on by default when "
                        "most labels lie on time slices)")
    o.add_argument("--no-time-flip", action="store_true",
                   help="flip patches across traces only, never upside down along time/depth")
    o.add_argument("--seed", type=int, **cli_option("seed"))
    o.add_argument("--device", **cli_option("device"))
    o.add_argument("--precision", **cli_option("amp"))
    o.add_argument("--checkpoint-minutes", type=float, metavar="M",
                   **cli_option("checkpoint_minutes"))
    o.add_argument("--run-dir", metavar="DIR", **cli_option("run_dir"))
    o.add_argument("--quiet", action="store_true", help="no progress bar")


# ---------------------------------------------------------------------- inputs
def _pipeline(path: str, image: Volume) -> Pipeline:
    """Load a pipeline; fit it on ``image`` when it holds no statistics."""
    from ..preprocess import Pipeline
    from ..preprocess.fitting import interval_ms, sample_axis_of

    pipeline = Pipeline.load(path)
    if not pipeline.is_fitted:
        g = image.geometry
        pipeline.fit(image.data, sample_axis_of(g, len(image.shape)), dt=interval_ms(g))
    return pipeline


def _with_corrections(args: argparse.Namespace, labels: Volume, image: Volume) -> np.ndarray:
    """The painted labels plus the voxels changed between --predicted and --corrections."""
    from ..training.corrections import merge_corrections

    if not (args.corrections and args.predicted):
        raise SeisSegError("--corrections and --predicted go together: give the corrected "
                           "mask and the mask as seisseg predict wrote it.")
    corrected = read_named(args.corrections, "corrected mask", args, image)
    check_labels(corrected, args.corrections, image.shape, args.image)
    predicted = read_named(args.predicted, "predicted mask", args, image)
    check_labels(predicted, args.predicted, image.shape, args.image)
    merged, added, erased = merge_corrections(labels.data, corrected.data, predicted.data)
    note = f" ({erased:,} erased voxels left out)" if erased else ""
    print(f"labels: {added:,} corrected voxels of {args.corrections} added to {args.labels}{note}",
          flush=True)
    return merged


def _read_inputs(args: argparse.Namespace) -> tuple[Volume, Any, Volume | None, Pipeline | None]:
    """The image, the labels (with the corrections), the validation labels and the pipeline."""
    image = read_named(args.image, "image", args)
    labels = read_named(args.labels, "labels", args, image)
    check_labels(labels, args.labels, image.shape, args.image)
    label_data = labels.data
    if args.corrections or args.predicted:
        label_data = _with_corrections(args, labels, image)
    val = None
    if args.val_labels:
        val = read_named(args.val_labels, "validation labels", args, image)
        check_labels(val, args.val_labels, image.shape, args.image)
    pipeline = _pipeline(args.pipeline, image) if args.pipeline else None
    return image, label_data, val, pipeline


# ---------------------------------------------------------------------- settings
def _model_kwargs(args: argparse.Namespace, model: str) -> dict[str, Any]:
    """The architecture options given (``--width``, ``--context``, the resunet ones...)."""
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
    return kwargs


def _augment(args: argparse.Namespace) -> Any:
    """The :class:`~napari_seisseg.training.AugmentConfig` of the augmentation options."""
    from ..training import AugmentConfig

    if args.no_augment and args.augment:
        raise SeisSegError("--no-augment turns every augmentation off; drop it to use --augment.")
    if args.no_augment:
        return AugmentConfig.none()
    return AugmentConfig(flip_time=not args.no_time_flip,
                         roll_axis=args.circular_axis).with_extras(args.augment)


def _model_name(args: argparse.Namespace) -> str:
    """``--model``, else the model of ``--init``, else auto; ``--pretrained`` is checked too."""
    model = args.model
    if model is None and args.init:
        from ..bundle import model_name, read_card

        model = model_name(read_card(args.init))
    if args.pretrained not in ("auto", "none") and not Path(args.pretrained).is_file():
        raise SeisSegError(
            f"--pretrained {args.pretrained} is not a file; give a file written by 'seisseg "
            "pretrain --out', or auto, or none."
        )
    return model or "auto"


def build_config(args: argparse.Namespace) -> TrainConfig:
    """The :class:`~napari_seisseg.training.TrainConfig` the options ask for."""
    from ..train_settings import (
        CLASS_WEIGHT_CHOICES,
        KEEP_CHOICES,
        POSITION_CHOICES,
        PRECISION_CHOICES,
    )
    from ..training import TrainConfig

    model = _model_name(args)
    if args.minutes is not None:
        epochs, minutes = None, args.minutes
    else:
        epochs, minutes = (args.epochs or TrainConfig.epochs), None
    patch = None
    if args.patch:
        patch = args.patch[0] if len(args.patch) == 1 else tuple(args.patch)
    config = TrainConfig(
        model=model, model_kwargs=_model_kwargs(args, model), patch_size=patch,
        batch_size=args.batch, epochs=epochs, minutes=minutes,
        steps_per_epoch=args.steps_per_epoch, lr=args.lr, lr_schedule=args.lr_schedule,
        ema=TrainConfig.ema if args.ema is None else args.ema,
        early_stopping=args.early_stopping or None, keep=KEEP_CHOICES[args.keep], seed=args.seed,
        device=args.device,
        amp=PRECISION_CHOICES[args.precision], loss=args.loss,
        class_weights=CLASS_WEIGHT_CHOICES[args.class_weights],
        position=POSITION_CHOICES[args.position],
        pretrained=None if args.pretrained == "none" else args.pretrained,
        zero_is_background=args.zero_is_background, axes=args.axes,
        val_fraction=args.val_fraction, val_join=args.val_join, augment=_augment(args),
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


# ---------------------------------------------------------------------- run
def _offer_checkpoints(image: Any, geometry: Any) -> None:
    """Say which killed runs on this cube left a checkpoint, and how to continue from it."""
    from ..training.checkpoint import find_checkpoints
    from ..training.pretrain_store import cube_fingerprint

    for info in find_checkpoints(cube_fingerprint(image, geometry))[:3]:
        print(f"note: {info.describe()}; continue from it with --init {info.path}", flush=True)


def _report(result: Any, path: Path, config: TrainConfig) -> int:
    """Say where the model went (and the run folder); the exit status of the run."""
    from ..training.metrics import headline
    from ..training.run_summary import kept_epoch, measured_when

    best = ""
    if result.best_metrics:
        m = result.best_metrics
        best = f" ({kept_epoch(m, result.best_epoch)}, validation mean IoU " \
               f"{fmt(headline(m))}{measured_when(m)})"
    if result.stop_reason == "stopped":
        print(f"Stopped by Ctrl-C: saved the best model so far{best} to {path}")
    else:
        print(f"model saved to {path}{best}")
    if result.bundle_path is not None:
        print(f"run folder: {Path(config.run_dir)} (config.json, metrics.csv)")
    # interrupted by the user: the model is saved, but scripts must see the run did not finish
    return 130 if result.stop_reason == "stopped" else 0


def run(args: argparse.Namespace) -> int:
    """Train and write the bundle; returns the exit status."""
    from ..bundle.classes import parse_class_names
    from ..training import train

    out = _check_out(args)
    config = build_config(args)
    class_names = parse_class_names(args.class_names) or None
    image, label_data, val, pipeline = _read_inputs(args)
    _offer_checkpoints(image.data, image.geometry)
    stop = threading.Event()
    gen = train(image.data, label_data, config, geometry=image.geometry,
                val_labels=None if val is None else val.data, class_names=class_names,
                pipeline=pipeline, init_bundle=args.init, stop=stop, image_name=str(args.image))
    with TrainingPrinter(enabled=not args.quiet) as printer, ctrl_c_stops(stop, printer.write):
        result = drain(gen, printer)
    return _report(result, result.save(out), config)
