"""``seisseg preprocess IN OUT --clip 0.5,99.5 --standardize ...``: condition amplitudes.

Step options are applied in the order they are given on the command line.  Statistics are
fitted on a random sample of traces; the output is computed and written block by block.
"""

from __future__ import annotations

import argparse

from ..errors import SeisSegError
from ..jobs import drain
from ._common import add_segy_options, positive, read_input
from .printer import progress_bar


def _pair(text: str) -> dict[str, float]:
    parts = text.replace(" ", "").split(",")
    try:
        lo, hi = (float(p) for p in parts)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected two percentiles like 0.5,99.5, not {text!r}") from None
    return {"lower": lo, "upper": hi}




class _StepAction(argparse.Action):
    """Appends ``(kind, parameters)`` to ``namespace.steps`` so order is kept across options."""

    def __init__(self, option_strings, dest, kind: str, build, **kwargs):
        self.kind = kind
        self.build = build
        super().__init__(option_strings, dest, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        steps = list(getattr(namespace, self.dest, None) or [])
        steps.append((self.kind, self.build(values)))
        setattr(namespace, self.dest, steps)


#: ``seisseg preprocess``: its line in ``seisseg --help``, the text above its options, examples.
HELP = "condition amplitudes: clip, standardise, robust-scale, AGC, log-compress to uint8"
DESCRIPTION = ("Condition the amplitudes of a cube block by block. Step options are "
               "applied in the order given; their statistics (percentiles, mean, std) come from a "
               "random sample of live traces, so cubes larger than memory work. Dead traces stay "
               "dead and NaN/inf samples become zero amplitude; both are counted in the report.")
EPILOG = ("example: seisseg preprocess in.sgy out.npy --clip 0.5,99.5 --standardize "
          "--save-pipeline pipe.json")


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("preprocess", help=HELP, description=DESCRIPTION, epilog=EPILOG)
    p.add_argument("input", metavar="IN", help="SEG-Y file or folder, .npy or .zarr")
    p.add_argument("output", metavar="OUT", help="output path: .sgy/.segy, .npy or .zarr")
    g = p.add_argument_group("steps (applied in the order given)")
    g.add_argument("--clip", metavar="LO,HI", type=_pair, action=_StepAction, dest="steps",
                   kind="clip_percentile", build=lambda v: v,
                   help="clip to the LO and HI percentiles, e.g. 0.5,99.5")
    g.add_argument("--clip-std", metavar="K", type=positive(float), action=_StepAction,
                   dest="steps", kind="clip_std", build=lambda v: {"k": v},
                   help="clip to mean ± K standard deviations")
    g.add_argument("--standardize", "--standardise", nargs=0, action=_StepAction, dest="steps",
                   kind="standardize", build=lambda v: {},
                   help="subtract the mean, divide by the standard deviation")
    g.add_argument("--robust", nargs=0, action=_StepAction, dest="steps", kind="robust_scale",
                   build=lambda v: {}, help="subtract the median, divide by the interquartile range")
    g.add_argument("--agc", metavar="MS", type=positive(float), action=_StepAction, dest="steps",
                   kind="agc", build=lambda v: {"window": v, "unit": "ms"},
                   help="automatic gain control with a window of MS milliseconds (time data)")
    g.add_argument("--agc-samples", metavar="N", type=positive(int), action=_StepAction,
                   dest="steps", kind="agc", build=lambda v: {"window": v, "unit": "samples"},
                   help="automatic gain control with a window of N samples")
    g.add_argument("--log-uint8", metavar="LO,HI", nargs="?", type=_pair, const=None,
                   action=_StepAction, dest="steps", kind="log_uint8",
                   build=lambda v: v or {},
                   help="sign(x)*log1p(|x|), then the LO..HI percentile range (default "
                        "0.5,99.5, symmetric) onto uint8 codes 1..255 with zero at 128; last step")
    f = p.add_argument_group("pipeline and statistics")
    f.add_argument("--pipeline", metavar="JSON",
                   help="apply a saved pipeline (with its statistics) instead of step options")
    f.add_argument("--refit", action="store_true",
                   help="with --pipeline: refit the statistics on IN instead of using the stored ones")
    f.add_argument("--save-pipeline", metavar="JSON",
                   help="write the fitted pipeline (steps and statistics) to JSON")
    f.add_argument("--sample-traces", type=positive(int), default=2000, metavar="N",
                   help="live traces sampled at random for the statistics (default 2000)")
    f.add_argument("--seed", type=int, default=0, help="seed of the trace sample (default 0)")
    o = p.add_argument_group("output")
    o.add_argument("--out-format", type=int, metavar="CODE",
                   help="SEG-Y sample format of the output (default 5, IEEE float; 16, uint8, "
                        "after --log-uint8)")
    o.add_argument("--overwrite", action="store_true", help="replace OUT if it exists")
    o.add_argument("--quiet", action="store_true", help="no progress bar")
    add_segy_options(p)
    p.set_defaults(func=run, steps=None)


def build_pipeline(args: argparse.Namespace):
    """The pipeline asked for: from step options or from ``--pipeline`` (not yet fitted)."""
    from ..preprocess import Pipeline, steps_from_specs

    if args.pipeline and args.steps:
        raise SeisSegError(
            "Give either --pipeline or step options (--clip, --standardize, ...), not both. "
            "Edit the pipeline file to change its steps."
        )
    if args.pipeline:
        pipeline = Pipeline.load(args.pipeline)
        return pipeline.reset() if args.refit else pipeline
    if args.refit:
        raise SeisSegError("--refit only applies to --pipeline; step options are always fitted.")
    if not args.steps:
        raise SeisSegError(
            "No preprocessing step given. Add steps such as --clip 0.5,99.5 --standardize, "
            "or apply a saved pipeline with --pipeline FILE."
        )
    pipeline = Pipeline(steps_from_specs(args.steps))
    pipeline.validate()
    return pipeline


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from ..io.atomic import check_target
    from ..io.volume import output_kind
    from ..preprocess import preprocess_job
    from ..preprocess.fitting import interval_ms, sample_axis_of

    pipeline = build_pipeline(args)
    output_kind(args.output)  # a name without a known suffix: refused before any reading
    check_target(args.output, overwrite=args.overwrite, protect=[args.input])
    if args.save_pipeline:  # checked before any work: never replace the input or the output
        check_target(args.save_pipeline, overwrite=args.overwrite,
                     protect=[args.input, args.output])
    volume = read_input(args.input, args, lazy=True)
    g = volume.geometry
    data = volume.data
    axis = sample_axis_of(g, len(data.shape))
    dt = interval_ms(g)
    grid = tuple(n for a, n in enumerate(data.shape) if a != axis)
    live = g.live if g is not None and g.live.shape == grid else None
    if pipeline.is_fitted:
        pipeline.validate(int(data.shape[axis]), dt)
        how = f"statistics from {args.pipeline}"
    else:
        pipeline.fit(data, axis, n_traces=args.sample_traces, seed=args.seed, dt=dt, live=live)
        how = "statistics fitted on IN"
    code = args.out_format or (16 if pipeline.output_dtype == np.uint8 else 5)
    with progress_bar(f"preprocessing to {args.output}", enabled=not args.quiet) as update:
        out, report = drain(preprocess_job(pipeline, data, axis, path=args.output, geometry=g,
                                           overwrite=args.overwrite, sample_format=code), update)
    print(f"{args.input} -> {out} ({how})")
    print(report.summary())
    if args.save_pipeline:
        print(f"pipeline saved to {pipeline.save(args.save_pipeline)}")
    return 0
