"""``model="auto"``: the architecture and recipe measured best for the kind of task.

Three kinds of task: the first two told apart by the data alone (pretraining without
labels chooses the same way), the third by the paint:

*Sections of a survey* (the usual case: a cube, or a section, painted on a few slices)
    ``unet2d`` (width 16, depth 4): on 2 CPU cores it takes the most steps per minute of
    the section models, and with the position-along-time channel and class-balanced
    sampling it scored 0.98 mean IoU on the 34 unpainted inlines of the Penobscot few-label
    benchmark (docs/benchmarks.md).
*A stack of unrelated small tiles* (``axes = (0,)``, tiles of at most
    :data:`TILE_EDGE` pixels on a side, at least :data:`MIN_TILES` of them, neighbouring
    tiles uncorrelated (:func:`is_tile_stack`: TGS -0.03, neighbouring inlines of a
    survey 0.87-0.92), as the TGS salt tiles)
    ``resunet`` with a ResNet-18 encoder, width 32, logits at 1/4 resolution, on whole
    tiles (up to :data:`WHOLE_TILE_EDGE`; :data:`TILE_CROP`-pixel crops of larger ones) in
    batches of 32, flips across traces only (tiles have a top and a bottom): the recipe
    tuned on the TGS tiles, with its learning rate 1.5e-3, 150 steps between validations, a
    tenth of the tiles held out and milder gain/noise (pixel IoU on fold 3 in 10 CPU
    minutes with ``benchmarks/bench_fewlabel.py tgs``, the ``seisseg train`` path: 0.767
    over five seeds, against 0.743 on 96-pixel crops over three and 0.71 for unet2d with
    the plain defaults; whole tiles show the network the whole tile and the padding it is
    predicted with, which crops never did).

*Time slices the orientation painted most* (the training knows it from the labels;
    pretraining when given the labels that training will use (:func:`paint_wants_hybrid`),
    else it keeps ``unet2d`` unless told ``hybrid``; a run that a pretraining made for
    ``unet2d`` would start, that asks for the position channel or for single sections keeps
    ``unet2d`` too: :func:`hybrid_fits`)
    ``hybrid`` with a context of :data:`TIME_SLICE_CONTEXT` slices on each side: a 3D stem
    reads each time slice with its neighbours above and below, so the network sees where a
    channel or a gas sand starts and ends in time, which a single time slice cannot show (a
    body's seismic response is thicker than the body).  On the survey stand-in (8 painted
    time slices, 10 CPU minutes) 0.631 -> 0.711 mean IoU over two seeds (seed 1: fault 0.59
    -> 0.70, channel 0.61 -> 0.70, gas sands 0.20 -> 0.32); on the synthetic time-slice
    benchmark 0.787 -> 0.818 (fault 0.68 -> 0.79, channel 0.51 -> 0.54), at half the steps per
    minute
    (docs/fewlabel-experiments.md, eighth session).  The same for mixed paint led by time
    slices (3 time slices, 2 inlines and 2 crosslines of the survey stand-in, the three
    orientations averaged at prediction): 0.787 / 0.775 -> 0.826 / 0.822 over two seeds
    (tenth session).

Only settings left at their defaults are filled in: a patch size, batch size, learning
rate or model option the user gave is kept.  The tile recipe always turns upside-down flips
off (the note says so): tiles have a top and a bottom.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from .config import TrainConfig

__all__ = [
    "AUTO", "MIN_TILES", "TILE_EDGE", "TIME_SLICE_CONTEXT", "hybrid_fits", "is_tile_stack",
    "paint_wants_hybrid", "resolve_model",
]

AUTO = "auto"
#: Largest tile edge (pixels) for the tile-stack recipe.
TILE_EDGE = 256
#: Fewest tiles for the tile-stack recipe.
MIN_TILES = 50
#: The tile recipe trains on whole tiles up to this edge (pixels), as they are predicted...
WHOLE_TILE_EDGE = 128
#: ...and on crops of this edge from larger tiles.
TILE_CROP = 96
#: Slices on each side of a time slice that ``auto`` reads for time-slice paint.
TIME_SLICE_CONTEXT = 2


def is_tile_stack(shape: Sequence[int], axes: Sequence[int] | None, image: Any = None) -> bool:
    """Whether an array is a stack of small unrelated tiles.

    Parameters
    ----------
    shape : sequence of int
        Shape in training order.
    axes : sequence of int or None
        Section axes in training order.
    image : array-like, optional
        The image in training order: when given, neighbouring tiles must also be unrelated
        (their amplitudes correlating below ``io.sample_axis.MIN_CORRELATION``), so a small
        survey trained along its inlines alone (``--axes 0``), whose neighbouring inlines
        correlate, is not taken for tiles.

    Returns
    -------
    bool
        True for sections along axis 0 only, at least :data:`MIN_TILES` of them, each at
        most :data:`TILE_EDGE` pixels on a side (and unrelated, where ``image`` is given).
    """
    if axes is None or tuple(axes) != (0,) or len(shape) != 3:
        return False
    if int(shape[0]) < MIN_TILES or max(int(shape[1]), int(shape[2])) > TILE_EDGE:
        return False
    if image is None:
        return True
    from ..io.sample_axis import MIN_CORRELATION, neighbour_correlation

    return neighbour_correlation(image, 0) < MIN_CORRELATION


def hybrid_fits(config: TrainConfig, data: Any, image: Any = None, geometry: Any = None, *,
                tiles: bool | None = None) -> bool:
    """Whether ``auto`` may choose the hybrid for this run's time-slice paint.

    Time slices must be the orientation painted most
    (``TrainingData.time_slices_painted_most``), along a section axis the run trains on; and
    nothing the user set may need a section model: the position channel asked for, a
    context of 0 (single sections), or a pretraining made for the ``unet2d`` run (an
    explicit file, or this survey's cached one when it holds none for the hybrid, which
    ``seisseg pretrain --model hybrid`` makes).

    Parameters
    ----------
    config : TrainConfig
        The run's settings (``model`` still ``"auto"``).
    data : TrainingData
        The run's data.
    image : array-like, optional
        The image as given (the cache is keyed by it in training order, with ``geometry``:
        :func:`~.pretrain_store.cube_fingerprint`); default ``data.image``.
    geometry : SurveyGeometry, optional
        The image's geometry (its axis order), as training is given it.
    tiles : bool, optional
        Whether the image is a stack of unrelated tiles, when the caller has asked
        :func:`is_tile_stack` already (None: asked here, where a cached pretraining needs it).

    Returns
    -------
    bool
    """
    axis = data.sample_axis
    if config.model != AUTO or not data.time_slices_painted_most:
        return False
    if (data.axes is not None and axis not in data.axes) or config.position is True:
        return False
    if int(config.model_kwargs.get("context", TIME_SLICE_CONTEXT)) < 1:
        return False  # single sections asked for
    if not config.pretrained:
        return True
    from ..models import create_model, model_spec
    from .pretrain_store import cached_fingerprint, cached_pretraining, pretrained_card

    if str(config.pretrained) != "auto":  # a file given: the model it was made for
        try:
            return (pretrained_card(config.pretrained).get("model") or {}).get("name") == "hybrid"
        except Exception:  # noqa: BLE001 - training says what is wrong with the file
            return False

    fp = cached_fingerprint(data.image, None) if image is None else cached_fingerprint(image, geometry)
    if fp is None:
        return True  # no pretraining cached at all (nothing read from the cube)

    if tiles is None:  # asked once for both choices below
        tiles = is_tile_stack(data.target.shape, data.axes, data.image)

    def cached(time_slices: bool) -> bool:
        choice = resolve_model(config, data.target.shape, data.axes, time_slices,
                               tiles=tiles)[0]
        spec = model_spec(create_model(choice.model, in_channels=1, n_classes=2,
                                       **choice.model_kwargs))
        return cached_pretraining(fp, spec) is not None

    return cached(True) or not cached(False)  # this survey's hybrid pretraining, else no unet2d one


def paint_wants_hybrid(
    config: TrainConfig, image: Any, labels: Any, *, geometry: Any = None
) -> tuple[bool, str | None]:
    """Whether training on ``labels`` would choose the hybrid, before any pretraining exists.

    Pretraining asks it, so that ``auto`` pretrains the network that training on this paint
    will train (:func:`hybrid_fits` with no pretraining to start from).

    Parameters
    ----------
    config : TrainConfig
        The settings (only ``model="auto"`` may choose; ``zero_is_background`` reads the
        labels as training will).
    image, labels : array-like
        The image and the paint training will use (``labels`` None: no paint, False).
    geometry : SurveyGeometry, optional
        Geometry of the input (its axis order).

    Returns
    -------
    fits : bool
    note : str or None
        Why the labels could not be used to choose (they are not what training accepts),
        None when they could or none were given.
    """
    if labels is None or config.model != AUTO:
        return False, None
    from ..errors import SeisSegError
    from .data import prepare_data

    try:
        data = prepare_data(image, labels, zero_is_background=config.zero_is_background,
                            axes=config.axes, geometry=geometry)
    except SeisSegError as exc:
        return False, (f"The labels did not choose the model, so auto pretrains for sections "
                       f"as without paint; for paint mostly on time slices choose the hybrid "
                       f"model (--model hybrid, or the model box). Why: {exc}")
    return hybrid_fits(replace(config, pretrained=None), data), None


def resolve_model(config: TrainConfig, shape: Sequence[int], axes: Sequence[int] | None,
                  time_slices: bool = False, *, image: Any = None,
                  tiles: bool | None = None) -> tuple[TrainConfig, str | None]:
    """The config with ``model="auto"`` replaced by a concrete recipe, and a note saying why.

    Parameters
    ----------
    config : TrainConfig
        Settings; returned unchanged (and no note) unless ``config.model`` is ``"auto"``.
    shape : sequence of int
        Shape of the image in training order (3 axes).
    axes : sequence of int or None
        Section axes in training order (None: all).
    time_slices : bool
        Time slices are the orientation painted most and the hybrid fits the run
        (:func:`hybrid_fits`).
    image : array-like, optional
        The image in training order: a stack of tiles must be unrelated tiles
        (:func:`is_tile_stack`).
    tiles : bool, optional
        Whether the image is a stack of unrelated tiles, when the caller has asked
        :func:`is_tile_stack` already (the image is then not read again).

    Returns
    -------
    config : TrainConfig
        A new config with a concrete model (``config`` itself when it had one).
    note : str or None
        What was chosen and why (None when nothing was).
    """
    if config.model != AUTO:
        return config, None
    if is_tile_stack(shape, axes, image) if tiles is None else tiles:
        kwargs = {"encoder": "resnet18", "width": 32, "output_stride": 4, **config.model_kwargs}
        edge = max(int(shape[1]), int(shape[2]))
        patch = config.patch_size or (edge if edge <= WHOLE_TILE_EDGE else TILE_CROP)
        batch = config.batch_size or 32
        base = TrainConfig()
        changes = {}
        # the rest of the tuned recipe, where the setting is still at its default
        for name, value in (("lr", 1.5e-3), ("steps_per_epoch", 150), ("val_fraction", 0.1),
                            ("max_val_windows", 160)):
            if getattr(config, name) == getattr(base, name):
                changes[name] = value
        augment = config.augment
        if augment == base.augment:
            augment = replace(augment, gain=0.1, noise=0.02)
        augment = replace(augment, flip_time=False)
        out = replace(config, model="resunet", model_kwargs=kwargs, patch_size=patch,
                      batch_size=batch, augment=augment, **changes)
        sizes = [int(p) for p in patch] if isinstance(patch, Sequence) else [int(patch)]
        whole = all(p >= edge for p in sizes)  # the layout caps the patch at the tile
        what = "whole tiles" if whole else f"{' x '.join(map(str, sizes))}-pixel crops"
        note = (
            f"model auto: resunet (ResNet-18 encoder, width {kwargs['width']}, logits at 1/"
            f"{kwargs['output_stride']}), {what} in batches of {batch}, no "
            f"upside-down flips: the image is a stack of {shape[0]:,} unrelated "
            f"{shape[1]} x {shape[2]} tiles (the recipe tuned on the TGS salt tiles)."
        )
        return out, note
    if time_slices:
        kwargs = {"context": TIME_SLICE_CONTEXT, **config.model_kwargs}
        return replace(config, model="hybrid", model_kwargs=kwargs), (
            f"model auto: hybrid (a 3D stem over each time slice and {kwargs['context']} slices above "
            "and below it, then a 2D U-Net): time slices are the orientation painted most, and "
            "the slices around them show where a body starts and ends in time (survey stand-in: "
            "0.71 mean IoU against 0.63 for unet2d; --model unet2d for twice the steps per minute)."
        )
    out = replace(config, model="unet2d")
    return out, "model auto: unet2d (sections of a survey: the fastest good section model on a CPU)."
