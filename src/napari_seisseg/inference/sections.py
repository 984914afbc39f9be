"""Section mode: a 2D (or 2.5D) model predicts every section of a cube along chosen axes.

Along a section axis ``a`` the cube is swept as a 3D plan whose windows are one section
thick (the whole section, or overlapping tiles of it, blended as usual) and whose input is
widened by ``context`` slices on each side (clamped at the cube's faces).  The sweep runs
along ``a`` itself, so the accumulator holds only ``batch_size`` sections.  Several axes
(inline, crossline, time) are predicted one after the other and averaged.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..errors import SeisSegError
from ..jobs import StopLike
from ._checks import (
    check_dead_mask,
    check_overlap,
    check_shape,
    check_stop,
    check_window,
)
from .predictor import BatchPredictor, model_attr
from .stitching import Stitcher, WindowReader
from .window_driver import Finalize, Pass, PredictionGenerator, check_common, drive, tta_axes
from .windows import WindowPlan

__all__ = ["predict_sections", "section_flips"]

LAYOUTS = ("auto", "channels", "slab")


def _axes(axes: int | Sequence[int]) -> tuple[int, ...]:
    raw = [axes] if isinstance(axes, int | np.integer) else list(axes)
    try:
        out = tuple(int(a) for a in raw)
    except (TypeError, ValueError):
        out = ()
    if not out or any(a not in (0, 1, 2) for a in out) or len(set(out)) != len(out):
        raise SeisSegError(
            f"Section axes must be distinct values among 0, 1, 2 (e.g. (0,) for inlines, "
            f"(0, 1) to average inlines and crosslines); got {axes!r}."
        )
    return out


def _context_and_layout(
    model: Any, context: int | None, layout: str, position: bool = False
) -> tuple[int, str]:
    sd = model_attr(model, "spatial_dims")
    if isinstance(sd, int) and sd != 2:
        raise SeisSegError(
            f"The model predicts {sd}D windows; section mode needs a 2D model. Use predict_volume."
        )
    model_context = model_attr(model, "context")
    if context is None:
        context = model_context if isinstance(model_context, int) else 0
    if isinstance(context, bool) or not isinstance(context, int | np.integer) or context < 0:
        raise SeisSegError(f"context must be a whole number of slices >= 0, got {context!r}.")
    if isinstance(model_context, int) and model_context != context:
        raise SeisSegError(
            f"The model was trained with context={model_context} but context={context} was given."
        )
    if layout not in LAYOUTS:
        raise SeisSegError(f"Unknown layout {layout!r}; choose one of {', '.join(LAYOUTS)}.")
    if layout == "auto":
        layout = "slab" if model_attr(model, "input_dims") == 3 else "channels"
    in_ch = model_attr(model, "input_channels")
    per_slice = 2 if position else 1
    if layout == "channels" and isinstance(in_ch, int) and in_ch != (2 * context + 1) * per_slice:
        given = "with their position channel" if position else "of a one-channel cube"
        raise SeisSegError(
            f"The model takes {in_ch} input channels but {2 * context + 1} slices "
            f"(context={context}) {given} were given."
        )
    return int(context), layout


def predict_sections(
    model2d: Callable[[Any], Any],
    volume: Any,
    *,
    axes: int | Sequence[int] = (0,),
    context: int | None = None,
    tile: int | Sequence[int] | None = None,
    overlap: float = 0.5,
    blend: str = "gaussian",
    batch_size: int = 4,
    device: Any = None,
    amp: bool = False,
    activation: str | None = "auto",
    out: Any = None,
    out_dtype: str = "float32",
    n_channels: int | None = None,
    preprocess: Callable[[np.ndarray], np.ndarray] | None = None,
    tta: bool | Sequence[int] = False,
    dead_mask: Any = None,
    stop: StopLike = None,
    overwrite: bool = True,
    chunks: Sequence[int] | None = None,
    layout: str = "auto",
    min_tile: int | Sequence[int] | None = None,
    pad: str = "reflect",
    position: tuple[Any, int, int] | None = None,
    finalize: Finalize | None = None,
    weights: Sequence[float] | None = None,
    turn_axes: int | Sequence[int] | None = (),
) -> PredictionGenerator:
    """Predict every section of a 3D cube with a 2D model, along one or several axes.

    Parameters
    ----------
    model2d : callable
        Maps ``(N, 2 * context + 1, H, W)`` (``layout="channels"``: the slices at offsets
        ``-context..context`` as channels) or ``(N, 1, 2 * context + 1, H, W)``
        (``layout="slab"``) to ``(N, C, H, W)``.
    volume : array-like
        3D cube, sliceable numpy-style.
    axes : int or sequence of int
        Section axes; with several, the predictions along each are averaged (see
        ``weights``).  Sections along axis ``a`` keep the other two axes in increasing order
        as ``(H, W)``.
    context : int, optional
        Neighbouring slices on each side (default: the model's ``context``, else 0); slices
        beyond the cube repeat its first or last slice.
    tile : int or (int, int), optional
        Tile of a section (default: the whole section); tiles overlap by ``overlap`` and
        are blended with ``blend`` weights.
    min_tile : int or (int, int), optional
        Smallest tile: a section (or tile) smaller than this along an in-plane axis is
        padded up to it and the result cropped back.  Pass the training patch size, since
        a model trained on padded small sections predicts them best padded the same way.
    pad : {"reflect", "zeros"}
        How that padding is filled (the card's ``input.pad_mode``).
    position : (PositionSpec, int, int), optional
        For models that take the position along the samples (the card's
        ``input.position``): ``(spec, sample axis of the volume, absolute sample index of
        its first sample)``.  Every slice then gets its position channel, and test-time
        flips leave the sample axis alone.
    layout : {"auto", "channels", "slab"}
        How context reaches the model; ``"auto"`` uses ``"slab"`` for models whose
        ``input_dims`` is 3 (the hybrid model), else ``"channels"``.
    tta : bool or sequence of int
        Volume axes to flip (True: the two in-plane axes of each orientation).
    overlap, blend, batch_size, device, amp, activation, out, out_dtype, n_channels, preprocess, dead_mask, stop, overwrite, chunks, finalize
        As for :func:`~napari_seisseg.inference.window_driver.predict_volume`.
    weights : sequence of float, optional
        Weight of each axis in the average, in the order of ``axes`` (positive; scaled to
        sum to 1).  Equal weights by default.
    turn_axes : int or sequence of int
        Orientations (among ``axes``) whose sections are also predicted transposed (the
        section's two axes swapped) and averaged with the rest: with ``tta`` flipping both
        in-plane axes, the 8 turns and mirrors of a time slice, for a model trained on maps
        turned every way.  With ``position``, only the sample axis (its slices hold no
        time to turn).

    Returns
    -------
    generator
        Yields progress events (windows counted over all orientations); returns the
        averaged output ``(C, *volume.shape)``, or None when cancelled.

    Notes
    -----
    With several axes the per-axis results are summed in float32: in the output itself for
    an in-memory float32 result, else in a scratch array (in memory, or a temporary .npy
    beside a disk output) written out at the end.  The
    sweep along axis ``a`` reads the cube slice by slice along ``a``: cheap in memory, but
    time slices (the samples axis) of a lazy SEG-Y input touch every trace each time.
    """
    shape = check_shape(volume, ndims=(3,))
    axes = _axes(axes)
    weights = _weights(weights, axes)
    context, layout = _context_and_layout(model2d, context, layout, position is not None)
    overlaps = check_overlap(overlap, 1) * 2
    dtype, protect, n_channels = check_common(
        out, out_dtype, overwrite, volume, blend, batch_size, n_channels, model2d
    )
    dead = check_dead_mask(dead_mask, shape)
    stop = check_stop(stop)
    flips = section_flips(tta, axes, None if position is None else position[1])
    floor = (1, 1) if min_tile is None else check_window(min_tile, 2, "min_tile")
    turns = _turns(turn_axes, axes, None if position is None else position[1])
    passes, windows = [], []
    for a in axes:
        p, window = _section_pass(
            model2d, volume, shape, a, tile=tile, floor=floor, overlaps=overlaps, context=context,
            layout=layout, flips=flips[a], turn=a in turns, device=device, amp=amp,
            activation=activation, n_channels=n_channels, preprocess=preprocess, pad=pad,
            position=position, blend=blend, dead=dead, batch_size=batch_size,
        )
        passes.append(p)
        windows.append(window)
    return drive(passes, shape, windows[0], out, dtype, chunks, overwrite, protect, stop, finalize,
                 weights)


def section_flips(
    tta: bool | Sequence[int], axes: Sequence[int], sample_axis: int | None = None
) -> dict[int, tuple[int, ...]]:
    """Volume axes each orientation's sweep flips for test-time augmentation.

    Parameters
    ----------
    tta : bool or sequence of int
        Volume axes to flip (True: all three).
    axes : sequence of int
        The orientations (section axes) swept.
    sample_axis : int, optional
        The sample axis of a model with the position channel: never flipped, since the
        channel is not symmetric in time.

    Returns
    -------
    dict
        For each orientation, the flipped axes of its own sections (never its own axis).
    """
    flips = tuple(f for f in tta_axes(tta, 3) if f != sample_axis)
    return {int(a): tuple(f for f in flips if f != a) for a in axes}


def _turns(turn_axes: int | Sequence[int] | None, axes: tuple[int, ...], sample_axis: int | None) -> set[int]:
    """Checked ``turn_axes``: orientations among ``axes`` (the sample axis alone when the
    model takes the position along it, which a transpose would move into the plane)."""
    if turn_axes is None or (not isinstance(turn_axes, int | np.integer) and len(turn_axes) == 0):
        return set()
    try:
        turns = set(_axes(turn_axes))
    except SeisSegError:
        raise SeisSegError(f"turn_axes must be section axes among 0, 1, 2; got {turn_axes!r}.") from None
    given = tuple(sorted(turns))
    if not turns <= set(axes):
        raise SeisSegError(f"turn_axes {given} must be among the axes swept, {axes}.")
    if sample_axis is not None and turns - {sample_axis}:
        raise SeisSegError(
            f"turn_axes {given}: a model with the position channel may turn only its "
            f"time slices (axis {sample_axis}); sections holding time are never transposed."
        )
    return turns


def _weights(weights: Sequence[float] | None, axes: tuple[int, ...]) -> tuple[float, ...] | None:
    """Checked orientation weights, scaled to sum to 1 (None: equal)."""
    if weights is None:
        return None
    w = np.atleast_1d(np.asarray(weights, dtype=np.float64))
    if w.shape != (len(axes),) or not np.all(np.isfinite(w)) or not np.all(w > 0):
        raise SeisSegError(f"weights must be one positive number per axis {axes}, got {weights!r}.")
    return tuple(float(v) for v in w / w.sum())


def _section_pass(
    model2d: Any, volume: Any, shape: tuple[int, ...], a: int, *, tile: Any, floor: tuple[int, ...],
    overlaps: tuple[float, ...], context: int, layout: str, flips: tuple[int, ...], turn: bool,
    device: Any, amp: bool, activation: str | None, n_channels: int | None, preprocess: Any, pad: str,
    position: Any, blend: str, dead: np.ndarray | None, batch_size: int,
) -> tuple[Pass, tuple[int, ...]]:
    """The sweep along section axis ``a``, and its window in the volume's axis order."""
    perm = (a, *(k for k in range(3) if k != a))
    plan_shape = tuple(shape[k] for k in perm)
    tile2 = plan_shape[1:] if tile is None else check_window(tile, 2, "tile")
    tile2 = tuple(max(t, f) for t, f in zip(tile2, floor, strict=True))
    window = (1, *tile2)
    plan = WindowPlan.build(plan_shape, window, (0.0, *overlaps), halo=(context, 0, 0))
    bp = BatchPredictor(
        model2d, window, device=device, amp=amp, activation=activation,
        flip_dims=tuple(perm.index(f) - 3 for f in flips), transpose=turn, n_channels=n_channels,
        to_input=(lambda t: t.unsqueeze(1)) if layout == "slab" else (lambda t: t),
        from_output=lambda y: y.unsqueeze(2) if y.ndim == 4 else y,
        expected=f"(N, C, {tile2[0]}, {tile2[1]})",
    )
    stitcher = Stitcher(
        bp,
        WindowReader(
            volume, perm, plan, plan.full_region(), preprocess, pad,
            None if position is None else (position[0], perm.index(position[1]), position[2]),
        ),
        plan,
        blend, dead=None if dead is None else dead.transpose(perm),
        batch_size=batch_size, n_channels=n_channels,
    )
    inv = np.argsort(perm)
    return Pass(stitcher, bp, perm), tuple(window[int(inv[j])] for j in range(3))
