"""``seisseg predict --model MODEL --image IMG --out-mask M ...``: apply a trained bundle.

The command runs the generator the Predict widget runs
(:func:`napari_seisseg.inference.bundle_prediction.predict_bundle`, or
:func:`~napari_seisseg.inference.dask_bundle.predict_bundle_dask` with
``--dask-scheduler``) with a progress bar, then writes the outputs block by block.

Outputs (each optional, at least one):

``--out-probs P``
    ``.npy`` / ``.zarr``: one 4D array ``(class, *IMG axes)`` written window by window
    during the prediction (disk-backed: the cube never sits in memory), in IMG's canonical
    order, with a JSON description of the channels beside it (``P.prediction.json`` for
    .npy, the ``seisseg_prediction`` attribute for Zarr).  A binary model has one channel:
    the probability of its second class.  ``.sgy`` / ``.segy``: one SEG-Y file per channel,
    ``P`` with ``_<class name>`` before the suffix (or ``{class}`` in ``P`` replaced by the
    name; a binary model writes ``P`` itself), headers copied from IMG when it is SEG-Y.
    ``--probs-dtype`` sets the stored type: float16 (default), uint8 (``round(p * 255)``;
    SEG-Y format 16) or float32.
``--out-mask M``
    The class mask in the training convention (the model card's label values 1..K, 0 at dead
    traces), uint8; SEG-Y as 1-byte integers (format 8, or 16 for values above 127).
``--out-uncertainty U``
    Normalised entropy 0 (sure) .. 1 (uniform), float32 (SEG-Y format 5).
"""

from __future__ import annotations

import argparse
import re
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..errors import SeisSegError
from ..io.probabilities import PREDICTION_KEY, description_path, write_description
from ..jobs import drain
from ..train_settings import DEVICES, setting_default
from ._common import add_segy_options, number_in, read_input
from .printer import PredictionPrinter, progress_bar

__all__ = ["add_parser", "probability_paths", "run"]

PROB_DTYPES = ("float16", "uint8", "float32")


_fraction = number_in(float, "a number", lambda v: 0.0 <= v < 1.0, "in [0, 1)")
_probability = number_in(float, "a number", lambda v: 0.0 <= v <= 1.0, "between 0 and 1")
_positive_int = number_in(int, "a whole number", lambda v: v >= 1, "at least 1")


def _sizes(text: str) -> tuple[int, ...]:
    parts = [p for p in text.replace(" ", "").split(",") if p]
    try:
        values = tuple(int(p) for p in parts)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected sizes like 64 or 64,64,64, not {text!r}") from None
    if not values or any(v < 1 for v in values):
        raise argparse.ArgumentTypeError(f"expected positive sizes, not {text!r}")
    return values


#: ``seisseg predict``: its line in ``seisseg --help``, the text above its options, examples.
HELP = "predict a cube with a trained model: probabilities, class mask, uncertainty"
DESCRIPTION = ("Apply a trained model bundle to a cube (or section) with overlapping, "
               "blended windows. Section (2D) models predict every section along the chosen axes; 3D "
               "models sweep 3D windows. The model card's preprocessing is applied on the fly. "
               "Probabilities go to disk window by window, so cubes larger than memory work. Outputs "
               "may be .npy, .zarr or SEG-Y (headers copied from IMG).")
EPILOG = ("examples: seisseg predict --model salt.safetensors --image cube.sgy --out-mask "
          "salt_mask.sgy --out-probs salt_probs.zarr | seisseg predict --model "
          "faults3d.safetensors --image cube.zarr --out-probs p.zarr --out-mask m.zarr "
          "--dask-scheduler tcp://head:8786")


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``seisseg predict``."""
    p = sub.add_parser("predict", help=HELP, description=DESCRIPTION, epilog=EPILOG)
    io = p.add_argument_group("data")
    io.add_argument("--model", required=True, metavar="MODEL",
                    help="model bundle written by 'seisseg train' or the Train widget")
    io.add_argument("--image", required=True, metavar="IMG",
                    help="amplitudes: SEG-Y file or folder, .npy or .zarr (raw, as trained on)")
    _add_output_options(p.add_argument_group("outputs (at least one)"))
    _add_prediction_options(p.add_argument_group("prediction"))
    d = p.add_argument_group("Dask cluster (3D models, Zarr in and out)")
    d.add_argument("--dask-scheduler", metavar="ADDRESS",
                   help="predict on a dask.distributed cluster (e.g. tcp://head:8786); IMG must "
                        "be a Zarr store every worker can read, --out-probs a .zarr")
    d.add_argument("--block", type=_sizes, metavar="N[,N,N]",
                   help="with --dask-scheduler: voxels per task along each axis (default: four "
                        "windows)")
    add_segy_options(p)
    p.set_defaults(func=run)


def _add_output_options(o: argparse._ArgumentGroup) -> None:
    """The outputs and how they are stored."""
    o.add_argument("--out-probs", metavar="P",
                   help="probabilities: .npy/.zarr (one array, class axis first) or .sgy (one "
                        "file per class: P_<class>.sgy)")
    o.add_argument("--out-mask", metavar="M",
                   help="class mask with the card's label values (1..K, 0 at dead traces): "
                        ".npy, .zarr or .sgy")
    o.add_argument("--out-uncertainty", metavar="U",
                   help="normalised entropy 0..1 per voxel: .npy, .zarr or .sgy")
    o.add_argument("--probs-dtype", choices=PROB_DTYPES, default="float16",
                   help="stored probability type (default float16; uint8 stores round(p*255))")
    o.add_argument("--overwrite", action="store_true", help="replace outputs that exist")
    o.add_argument("--quiet", action="store_true", help="no progress bar")


def _add_prediction_options(s: argparse._ArgumentGroup) -> None:
    """Windows, orientations, device, statistics and threshold of the prediction."""
    s.add_argument("--overlap", type=_fraction, default=0.5, metavar="F",
                   help="overlap of neighbouring windows (3D models) or section tiles, in [0, 1) "
                        "(default 0.5)")
    s.add_argument("--tta", action=argparse.BooleanOptionalAction, default=None,
                   help="test-time augmentation: average over flips of the window axes "
                        "(4x the work for sections, 8x for 3D windows); for models painted on "
                        "time slices, over flips of the maps, never of time, and their "
                        "transposes when training turned the maps (all 8 turns and mirrors: "
                        "4x over three orientations; flips alone 2.7x), on by default for "
                        "them; for models painted in several "
                        "orientations, over flips of the traces (and of time slices' maps), never "
                        "of time, by default (2x over inlines and crosslines, 2.7x with time "
                        "slices); never over time for a model trained without upside-down "
                        "patches (the tile recipe, --no-time-flip: 2x for sections, 4x for 3D "
                        "windows); --no-tta: off")
    s.add_argument("--no-time-prior", dest="time_prior", action="store_false",
                   help="section models with the position channel: use the network alone, "
                        "without the prior of what was painted at each time sample")
    s.add_argument("--no-lateral-prior", dest="lateral_prior", action="store_false",
                   help="use the network without the prior of the nearest painted trace (applied "
                        "by default to the survey the model was painted on)")
    s.add_argument("--device", choices=DEVICES, default=setting_default("device"),
                   help="where windows run (default auto: CUDA, then MPS, then CPU)")
    s.add_argument("--axes", metavar="A[,B]",
                   help="section models: orientations predicted and averaged, by name (inline, "
                        "crossline, time) or axis number of IMG (canonical inline, crossline, "
                        "sample order); default: the orientation the model's labels were painted "
                        "in (else the first axis it was trained on), and for labels painted on "
                        "time slices (alone, or fewer than those on inlines or crosslines) the "
                        "others too (time slices painted alone weighing as much as the other "
                        "two together); for labels painted on inlines and crosslines, or mostly "
                        "on time slices with inlines or crosslines, those two")
    s.add_argument("--window", type=_sizes, metavar="N[,N,N]",
                   help="3D models: window (default: the training patch); section models: tile "
                        "of a section (default: whole sections up to ~1M voxels)")
    s.add_argument("--batch-size", type=_positive_int, metavar="B",
                   help="windows per model call (default 2 for 3D models, 4 sections)")
    s.add_argument("--statistics", choices=("stored", "refit"), default="stored",
                   help="amplitude statistics of the model's preprocessing: stored (those of the "
                        "training survey; default) or refit (refitted on IMG, for another survey "
                        "whose amplitudes differ)")
    s.add_argument("--preprocessed", action="store_true",
                   help="IMG already holds the output of the model's preprocessing pipeline "
                        "(made by 'seisseg preprocess' with the same pipeline): do not apply it "
                        "again, only standardise")
    s.add_argument("--threshold", type=_probability, metavar="T",
                   help="binary models: probability above which the second class is chosen "
                        "(default: the threshold tuned in training)")


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_") or "class"


def probability_paths(path: str | Path, names: list[str]) -> list[Path]:
    """SEG-Y paths of the probability channels: ``P`` for one, ``P_<name>`` (or ``{class}``) for several."""
    path = Path(path)
    if "{class}" in path.name:
        return [path.with_name(path.name.replace("{class}", _safe(n))) for n in names]
    if len(names) == 1:
        return [path]
    return [path.with_name(f"{path.stem}_{_safe(n)}{path.suffix}") for n in names]


def _kind(path: str | None, what: str) -> str | None:
    from ..io.volume import output_kind

    return None if path is None else output_kind(path, what)


def _mask_format(values: list[int]) -> int:
    top = max(values, default=0)
    return 8 if top <= 127 else 16 if top <= 255 else 11


#: Name of the scratch folders of ``seisseg predict`` (``.seisseg-predict.p{pid}@{host}-...``).
SCRATCH_NAME = "seisseg-predict"


@contextmanager
def _scratch(near: Path):
    """A temporary folder beside ``near`` (removed afterwards, or by the next run if killed)."""
    from ..io.atomic import owned_prefix, remove_stale

    remove_stale(near.parent, SCRATCH_NAME)
    folder = Path(tempfile.mkdtemp(prefix=owned_prefix(SCRATCH_NAME), dir=near.parent))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def run(args: argparse.Namespace) -> int:
    """Run ``seisseg predict``."""
    from ..bundle import BundleModel
    from ..io.volume import file_kind

    outputs = {"probs": args.out_probs, "mask": args.out_mask, "uncertainty": args.out_uncertainty}
    if not any(outputs.values()):
        raise SeisSegError(
            "Nothing to write: give --out-probs, --out-mask and/or --out-uncertainty."
        )
    kinds = {k: _kind(v, k) for k, v in outputs.items()}
    image_kind = file_kind(args.image)
    dask_mode = args.dask_scheduler is not None
    if dask_mode:
        _check_dask_inputs(args, kinds, image_kind)

    bm = BundleModel.load(args.model)
    targets = _check_targets(args, bm, outputs, kinds)
    _check_options(args, bm, dask_mode)
    with _scratch(targets[0]) as scratch:
        result, finished = _predict(args, bm, kinds, scratch, dask_mode)
        if result is None:
            raise SeisSegError("The prediction was cancelled; nothing was written.")
        written = _write_outputs(args, bm, result, kinds, image_kind)
    _report(args, bm, result, finished, written)
    return 0


def _check_dask_inputs(args: argparse.Namespace, kinds: dict, image_kind: str) -> None:
    """With ``--dask-scheduler``: Zarr in, Zarr (or SEG-Y) probabilities, ``distributed`` there."""
    if kinds["probs"] == "npy":
        raise SeisSegError(
            "With --dask-scheduler the probabilities are written to Zarr by the workers: "
            "use --out-probs P.zarr (or .sgy)."
        )
    if image_kind != "zarr":
        zarr_path = Path(args.image).with_suffix(".zarr")
        raise SeisSegError(
            f"--dask-scheduler reads a Zarr store every worker can open, not {args.image}. "
            f"Convert it first: seisseg convert {args.image} {zarr_path}, then pass "
            f"--image {zarr_path}."
        )
    try:
        import distributed  # noqa: F401
    except ImportError as exc:
        raise SeisSegError(
            "--dask-scheduler needs the 'distributed' package: pip install distributed"
        ) from exc


def _check_targets(args: argparse.Namespace, bm: Any, outputs: dict, kinds: dict) -> list[Path]:
    """Every file the outputs will be, checked (none replaces an input or another output)."""
    from ..io.atomic import check_target

    names = [c["name"] for c in bm.channel_classes]
    targets = [Path(v) for k, v in outputs.items() if v and not (k == "probs" and kinds[k] == "segy")]
    if kinds["probs"] == "segy":
        targets += probability_paths(args.out_probs, names)
    elif kinds["probs"] == "npy":
        targets.append(description_path(args.out_probs))
    for t in targets:
        check_target(t, protect=[args.image, args.model], overwrite=args.overwrite)
    if len({str(t.resolve()) for t in targets}) != len(targets):
        raise SeisSegError("Two outputs have the same path; give each output its own path.")
    return targets


def _check_options(args: argparse.Namespace, bm: Any, dask_mode: bool) -> None:
    """Options that apply to some models or modes only."""
    if args.threshold is not None and not bm.binary and len(bm.classes) != 2:
        raise SeisSegError(
            f"--threshold applies to two-class models; '{bm.name}' has {len(bm.classes)} classes "
            "(the most probable class is taken)."
        )
    if dask_mode and (args.statistics != "stored" or args.preprocessed):
        raise SeisSegError(
            "--statistics refit and --preprocessed are not available with --dask-scheduler: the "
            "workers apply the model's stored preprocessing. Preprocess the Zarr store first or "
            "predict in one process."
        )
    if args.block is not None and not dask_mode:
        raise SeisSegError("--block applies only with --dask-scheduler.")


def _predict(args: argparse.Namespace, bm: Any, kinds: dict, scratch: Path, dask_mode: bool):
    from ..inference import predict_bundle, predict_bundle_dask
    from ..io.sample_axis import is_guessed

    direct = kinds["probs"] in ("npy", "zarr")
    if dask_mode:
        out = args.out_probs if direct else scratch / "probabilities.zarr"
        gen = predict_bundle_dask(
            bm, args.image, out, client=args.dask_scheduler, overlap=args.overlap, tta=args.tta,
            device=args.device, batch_size=args.batch_size, window=args.window,
            out_dtype=args.probs_dtype, block=args.block, overwrite=args.overwrite,
            lateral_prior=args.lateral_prior, sample_axis=args.sample_axis,
        )
    else:
        volume = read_input(args.image, args, lazy=True)
        if (volume.geometry is None or is_guessed(volume.geometry)) and any(k == "segy" for k in kinds.values()):
            raise SeisSegError(
                f"SEG-Y output needs the survey geometry of the input, and {args.image} has none "
                "(a plain array). Write .npy or .zarr outputs, or predict the SEG-Y file itself."
            )
        out = args.out_probs if direct else scratch / "probabilities.npy"
        gen = predict_bundle(
            bm, volume.data, geometry=volume.geometry, orientations=args.axes,
            overlap=args.overlap, tta=args.tta, device=args.device, batch_size=args.batch_size,
            window=args.window, out=out, out_dtype=args.probs_dtype, overwrite=args.overwrite,
            statistics=args.statistics, pipeline_applied=args.preprocessed,
            time_prior=args.time_prior, lateral_prior=args.lateral_prior,
        )
    with progress_bar(f"predicting with {bm.name}", enabled=not args.quiet) as update:
        printer = PredictionPrinter(update)
        return drain(gen, printer), printer.finished


def describe_prediction(bm: Any, result: Any, dtype: str) -> dict[str, Any]:
    """The JSON description written beside probabilities (see :mod:`..io.probabilities`)."""
    g = result.geometry
    return {
        "model": bm.name,
        "model_path": None if bm.path is None else str(bm.path),
        "axes": ["class", *(g.axes if g is not None else (f"axis {i}" for i in range(len(result.shape))))],
        "channels": [dict(c, color=list(c["color"])) for c in bm.channel_classes],
        "binary": bm.binary,
        "threshold": bm.threshold,
        "dtype": dtype,
        "uint8_scale": 255 if dtype == "uint8" else None,
        "geometry": None if g is None else g.to_json_dict(),
        "priors": dict(result.priors),
        "passes": dict(result.passes),
    }


def _write_outputs(args: argparse.Namespace, bm: Any, result: Any, kinds: dict, image_kind: str) -> list[str]:
    from ..io.volume import write_volume_job

    g = result.geometry
    template = args.image if image_kind == "segy" else None
    written: list[str] = []

    def write(path: Any, data: Any, code: int) -> None:
        with progress_bar(f"writing {path}", enabled=not args.quiet) as update:
            drain(write_volume_job(path, data, g, overwrite=args.overwrite, sample_format=code,
                                   template=template), update)
        written.append(str(path))

    if args.out_probs:
        if kinds["probs"] == "segy":
            raw = args.probs_dtype == "uint8"
            for k, path in enumerate(probability_paths(args.out_probs, result.channel_names)):
                write(path, result.channel(k, raw=raw), 16 if raw else 5)
        else:
            desc = describe_prediction(bm, result, args.probs_dtype)
            if kinds["probs"] == "npy":
                write_description(args.out_probs, desc)
            else:
                import zarr

                arr = zarr.open_array(store=str(args.out_probs), mode="r+")
                arr.attrs[PREDICTION_KEY] = desc
            written.append(str(args.out_probs))
    if args.out_mask:
        write(args.out_mask, result.lazy_mask(args.threshold), _mask_format(bm.class_values))
    if args.out_uncertainty:
        write(args.out_uncertainty, result.lazy_uncertainty("float32"), 5)
    return written


def _report(args: argparse.Namespace, bm: Any, result: Any, finished: Any, written: list[str]) -> None:
    shape = " x ".join(map(str, result.shape))
    print(f"{args.image} ({shape}) with {bm.name}: {bm.describe()}")
    if finished is not None:
        print(f"predicted in {finished.seconds:.2f} s ({finished.voxels_per_second:,.0f} voxels/s)")
    for line in getattr(result, "notes", []):
        print(line)
    for path in written:
        print(f"wrote {path}")
