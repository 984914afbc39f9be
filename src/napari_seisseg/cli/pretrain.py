"""``seisseg pretrain``: self-supervised pretraining on the unlabeled survey."""

from __future__ import annotations

import argparse
import threading
from pathlib import Path

from ..errors import SeisSegError
from ..jobs import drain
from ..train_settings import MODEL_CHOICES, cli_option
from ._common import add_segy_options, add_width_depth, ctrl_c_stops, int_list, positive, read_named
from .printer import TrainingPrinter

__all__ = ["add_parser", "run"]


#: ``seisseg pretrain``: its line in ``seisseg --help``, the text above its options, examples.
HELP = "pretrain a network on the survey itself (no labels), for later trainings"
DESCRIPTION = ("Teach the network training will use to reconstruct hidden traces and "
               "blocks of the survey (no labels needed). The result is cached in the model store "
               "($SEISSEG_MODEL_DIR, else the user data folder), keyed by the survey and the "
               "architecture: every later 'seisseg train' (and the Train widget) on this survey with "
               "the same model settings starts from it. --out also writes it to a file of your own.")
EPILOG = ("example: seisseg pretrain --image cube.sgy --labels painted.npy --minutes 5 && "
          "seisseg train --image cube.sgy --labels painted.npy --out m.safetensors --minutes 10")


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``seisseg pretrain``."""
    p = sub.add_parser("pretrain", help=HELP, description=DESCRIPTION, epilog=EPILOG)
    p.add_argument("--image", required=True, metavar="IMG",
                   help="amplitudes: SEG-Y file or folder, .npy or .zarr")
    p.add_argument("--labels", metavar="LAB",
                   help="the paint you will train on (not trained on here): with --model auto "
                        "the network is chosen as 'seisseg train' will choose it (the hybrid "
                        "for paint mostly on time slices)")
    p.add_argument("--zero-is-background", action="store_true",
                   help="0 in LAB is a class (as you will train)")
    p.add_argument("--out", metavar="ENCODER",
                   help="also write the pretrained network here (.safetensors)")
    p.add_argument("--overwrite", action="store_true", help="replace ENCODER if it exists")
    p.add_argument("--minutes", type=positive(float), default=3.0, metavar="M",
                   help="wall-clock budget in minutes (default 3)")
    p.add_argument("--model", choices=[m for m in MODEL_CHOICES
                                       if m in ("auto", "unet2d", "resunet", "hybrid")],
                   default="auto", help="section architecture to pretrain, as you will train "
                                        "(default auto: as 'seisseg train' chooses; without "
                                        "--labels, as it chooses for sections: give --labels "
                                        "or --model hybrid for paint mostly on time slices)")
    add_width_depth(p, "as you will train")
    p.add_argument("--context", type=int, metavar="C",
                   help="neighbouring slices on each side (as you will train)")
    p.add_argument("--patch", type=positive(int), metavar="P", help="patch edge (default 128)")
    p.add_argument("--batch", type=positive(int), metavar="B", help="patches per step (default 8)")
    p.add_argument("--axes", type=int_list, metavar="A[,B]",
                   help="section axes (as you will train; default all)")
    p.add_argument("--position", **cli_option("position",
                   help="position-along-time channel (as you will train; default auto)"))
    p.add_argument("--seed", type=int, **cli_option("seed", help="seed of every random choice"))
    p.add_argument("--device", **cli_option("device", help=None))
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    add_segy_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Pretrain and report where the result is."""
    from ..io.atomic import check_target
    from ..train_settings import POSITION_CHOICES
    from ..training import TrainConfig
    from ..training.pretrain import pretrain
    from ._common import check_labels

    if args.out:
        out = Path(args.out)
        if out.suffix.lower() != ".safetensors":
            raise SeisSegError(f"--out {out}: name the file .safetensors, e.g. {out.stem}.safetensors.")
        check_target(out, overwrite=args.overwrite,
                     protect=[p for p in (args.image, args.labels) if p])
    kwargs = {k: v for k, v in (("width", args.width), ("depth", args.model_depth),
                                ("context", args.context)) if v is not None}
    if args.zero_is_background and not args.labels:
        raise SeisSegError("--zero-is-background describes the labels: give --labels too.")
    config = TrainConfig(model=args.model, model_kwargs=kwargs, patch_size=args.patch,
                         batch_size=args.batch, axes=args.axes, seed=args.seed,
                         device=args.device, zero_is_background=args.zero_is_background,
                         position=POSITION_CHOICES[args.position])
    config.validate()
    image = read_named(args.image, "image", args)
    labels = None
    if args.labels:
        volume = read_named(args.labels, "labels", args, image)
        check_labels(volume, args.labels, image.shape, args.image)
        labels = volume.data
        if args.model != "auto":
            print(f"note: --labels chooses the model for --model auto only; pretraining "
                  f"{args.model} as asked.", flush=True)
    stop = threading.Event()
    gen = pretrain(image.data, config, minutes=args.minutes, geometry=image.geometry,
                   out=args.out, stop=stop, labels=labels)
    with (TrainingPrinter(enabled=not args.quiet, pretraining=True) as printer,
          ctrl_c_stops(stop, printer.write)):
        drain(gen, printer)
    return 0
