"""Sliding-window prediction of a whole volume, as a generator of progress events.

>>> gen = predict_volume(model, cube, window=(64, 64, 64), overlap=0.5)
>>> probs = drain(gen)          # (C, *cube.shape) float32

The generator yields :class:`PredictionStarted`, one :class:`PredictionProgress` per batch of
windows, then :class:`PredictionFinished` (or :class:`PredictionCancelled` when ``stop``
fires), and returns the assembled output (None when cancelled).  Windows run on ``device``;
the output is assembled on the host: in memory, or in a .npy / Zarr file renamed into place
only on success.  See :mod:`napari_seisseg.inference.stitching` for the peak-memory bound.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import SeisSegError
from ..io.atomic import check_target
from ..io.blocks import block_slices
from ..jobs import StopLike, stop_requested
from ._checks import (
    BLEND_MODES,
    check_choice,
    check_dead_mask,
    check_out_dtype,
    check_overlap,
    check_positive_int,
    check_shape,
    check_stop,
    check_window,
)
from .events import (
    PredictionCancelled,
    PredictionEvent,
    PredictionFinished,
    PredictionProgress,
    PredictionStarted,
)
from .outputs import OutputSink, ScratchSum, open_output
from .predictor import BatchPredictor, model_attr
from .stitching import Stitcher, WindowReader
from .windows import WindowPlan

__all__ = ["predict_volume"]

PredictionGenerator = Generator[PredictionEvent, None, Any]
#: ``finalize(index, block) -> block``: the last step before a finished block is stored.
Finalize = Callable[[tuple[slice, ...], np.ndarray], np.ndarray]


@dataclass
class Pass:
    """One sweep of windows over the volume in one axis order (plan axis k = volume axis perm[k])."""

    stitcher: Stitcher
    predictor: BatchPredictor
    perm: tuple[int, ...]


def tta_axes(tta: bool | Sequence[int], ndim: int) -> tuple[int, ...]:
    """Volume axes to flip for test-time augmentation (True: all of them)."""
    if tta is True:
        return tuple(range(ndim))
    if tta is False or tta is None:
        return ()
    try:
        raw = [int(a) for a in tta]
    except (TypeError, ValueError):
        raw = None
    if raw is None or any(not -ndim <= a < ndim for a in raw) or len({a % ndim for a in raw}) != len(raw):
        raise SeisSegError(f"tta must be True, False or a list of distinct axes below {ndim}; got {tta!r}.")
    return tuple(sorted(a % ndim for a in raw))


def check_common(
    out: Any, out_dtype: Any, overwrite: bool, volume: Any, blend: str, batch_size: Any,
    n_channels: Any, predictor: Any,
) -> tuple[np.dtype, list[str], int | None]:
    """Checks shared by the in-process paths; return the dtype, protected paths, channels."""
    dtype = check_out_dtype(out_dtype)
    check_choice(blend, BLEND_MODES, "blend mode")
    check_positive_int(batch_size, "batch size")
    protect = [str(p) for p in (getattr(volume, "filename", None),) if p]
    if isinstance(out, str | Path):
        if Path(out).suffix.lower() not in (".npy", ".zarr"):
            raise SeisSegError(f"Cannot write probabilities to {out}: use a .npy or .zarr path.")
        check_target(out, protect=protect, overwrite=overwrite)
    if n_channels is not None:
        n_channels = check_positive_int(n_channels, "number of channels")
    n_classes = model_attr(predictor, "n_classes")
    if isinstance(n_classes, int) and n_channels is not None and n_classes != n_channels:
        raise SeisSegError(
            f"The model predicts {n_classes} classes but {n_channels} channels were asked for."
        )
    return dtype, protect, n_channels if n_channels is not None else (
        n_classes if isinstance(n_classes, int) else None
    )


def check_model_volume(predictor: Any, ndim: int) -> None:
    """Raise when a segmentation model cannot predict windows of an ``ndim``-D volume."""
    sd = model_attr(predictor, "spatial_dims")
    if isinstance(sd, int) and sd != ndim:
        hint = " Predict the cube section by section with predict_sections." if sd == 2 else ""
        raise SeisSegError(f"The model predicts {sd}D windows but the volume is {ndim}D.{hint}")
    in_dims, in_ch = model_attr(predictor, "input_dims"), model_attr(predictor, "input_channels")
    context = model_attr(predictor, "context")
    if isinstance(context, int) and context > 0 or (isinstance(in_dims, int) and in_dims != ndim):
        raise SeisSegError(
            "The model reads neighbouring slices (2.5D context): use predict_sections on a 3D "
            f"cube; predict_volume gives it a single {ndim}D channel."
        )
    if isinstance(in_ch, int) and in_ch != 1:
        raise SeisSegError(
            f"The model takes {in_ch} input channels but the volume has one (an amplitude cube)."
        )


def predict_volume(
    predictor: Callable[[Any], Any],
    volume: Any,
    *,
    window: int | Sequence[int],
    overlap: float | Sequence[float] = 0.5,
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
    finalize: Finalize | None = None,
) -> PredictionGenerator:
    """Predict a 2D or 3D volume with overlapping, blended windows.

    Arguments are checked when this is called (bad ones raise :class:`SeisSegError` at once);
    the work happens as the returned generator is iterated.

    Parameters
    ----------
    predictor : callable
        Maps a float32 tensor ``(N, 1, *window)`` to ``(N, C, *window)``: a
        ``torch.nn.Module`` (moved to ``device``, run in eval and inference mode) or any
        function.
    volume : array-like
        2D or 3D, sliceable numpy-style (numpy, memmap, dask, zarr, lazy SEG-Y); read one
        slab of windows at a time.
    window : int or sequence of int
        Window size per axis (an int: the same on every axis).  Axes of the volume shorter
        than the window are padded (reflect, or zeros when too short) and cropped back.
    overlap : float or sequence of float
        Overlap fraction in ``[0, 1)`` per axis (the achieved overlap is at least this).
    blend : {"gaussian", "linear", "constant"}
        Window weights (see :func:`~napari_seisseg.inference.blending.blend_weights`).
    batch_size : int
        Windows per model call.
    device : str, torch.device or None
        Where windows run: ``"auto"``, ``"cpu"``, ``"cuda"``...; None keeps a module where it
        is (the CPU for functions).
    amp : bool
        Mixed precision (float16 autocast) on CUDA.
    activation : {"auto", "softmax", "sigmoid", "none"}
        Applied to each window before blending; ``"auto"`` turns the logits of the package's
        models into probabilities and leaves other callables' outputs alone.
    out : None, path or array
        None: in-memory numpy.  A ``.npy`` path (memory map) or ``.zarr`` path: on disk,
        written to a temporary path and renamed on success.  An array of shape
        ``(C, *volume.shape)``: filled in place.
    out_dtype : {"float32", "float16", "uint8"}
        Stored type; uint8 holds ``round(p * 255)``.
    n_channels : int, optional
        Expected output channels (default: the model's ``n_classes`` if it has one).
    preprocess : callable, optional
        Applied to each window's float32 input before padding, in the volume's axis order,
        keeping its shape, as training applies it to patches: e.g. a model card's
        normaliser bound to the sample axis, ``functools.partial(normalizer, axis=2)``.
    tta : bool or sequence of int
        Test-time augmentation: flip along these axes (True: all), in every combination
        (``2**k`` model calls per batch), and average.
    dead_mask : array-like of bool, optional
        True at dead voxels, shaped like the volume or like ``volume.shape[:-1]`` (one value
        per trace, samples last); the output is 0 there (and all-dead windows are skipped).
    stop : callable or threading.Event, optional
        Checked before every batch; when it fires the generator yields
        :class:`PredictionCancelled` and returns None, leaving nothing at ``out``.
    overwrite : bool
        Whether an existing ``out`` file may be replaced.
    chunks : sequence of int, optional
        Chunks of a Zarr output ``(channels, *spatial)``.
    finalize : callable, optional
        ``finalize(index, block) -> block``: applied to every finished float32 block of the
        output (channels first, ``index`` its place in the volume) before it is stored.

    Returns
    -------
    generator
        Yields progress events; returns the output ``(C, *volume.shape)`` (numpy array, a
        read-only memmap, or a read-only zarr array) or None when cancelled.
    """
    shape = check_shape(volume, ndims=(2, 3))
    ndim = len(shape)
    check_model_volume(predictor, ndim)
    window = check_window(window, ndim)
    overlaps = check_overlap(overlap, ndim)
    dtype, protect, n_channels = check_common(
        out, out_dtype, overwrite, volume, blend, batch_size, n_channels, predictor
    )
    dead = check_dead_mask(dead_mask, shape)
    stop = check_stop(stop)
    flips = tta_axes(tta, ndim)
    plan = WindowPlan.build(shape, window, overlaps)
    bp = BatchPredictor(
        predictor, window, device=device, amp=amp, activation=activation,
        flip_dims=tuple(a - ndim for a in flips), n_channels=n_channels,
        expected=f"(N, C, {', '.join(map(str, window))})",
    )
    perm = tuple(range(ndim))
    stitcher = Stitcher(
        bp, WindowReader(volume, perm, plan, plan.full_region(), preprocess), plan,
        blend, dead=dead, batch_size=batch_size, n_channels=n_channels,
    )
    passes = [Pass(stitcher, bp, perm)]
    return drive(passes, shape, window, out, dtype, chunks, overwrite, protect, stop, finalize)


def drive(
    passes: list[Pass],
    shape: tuple[int, ...],
    window: tuple[int, ...],
    out: Any,
    dtype: np.dtype,
    chunks: Sequence[int] | None,
    overwrite: bool,
    protect: list[str],
    stop: StopLike,
    finalize: Finalize | None = None,
    weights: Sequence[float] | None = None,
) -> PredictionGenerator:
    """Run the passes (averaged when several), yield events, return the output.

    ``weights`` (optional, one per pass, summing to 1) weigh the passes' average; equal
    weights otherwise.

    ``finalize(index, block)`` (optional) turns every finished float32 block of the output
    (blended and averaged over the passes; ``index`` in the volume's order) into the block
    stored, e.g. to combine it with a prior.
    """
    total = sum(p.stitcher.n_windows for p in passes)
    output = _Assembly(shape, out, dtype, chunks, overwrite, protect, len(passes), finalize)
    t0, done = time.perf_counter(), 0
    try:
        yield PredictionStarted(total, "windows", str(passes[0].predictor.device), shape, window)
        for k, p in enumerate(passes):
            p.stitcher.write = output.writer(
                p.perm, 1.0 / len(passes) if weights is None else float(weights[k]))
            completed, done = yield from _run_pass(p, stop, done, total)
            if not completed:
                break
        else:
            completed = not stop_requested(stop)
        if not completed:
            yield PredictionCancelled(done, total)
            return None
        result_array = output.commit()
        seconds = time.perf_counter() - t0
        yield PredictionFinished(
            total, seconds, float(np.prod(shape)) / max(seconds, 1e-9),
            str(output.target) if output.target is not None else None,
        )
        return result_array
    finally:
        output.close()
        for p in passes:
            p.predictor.close()


def _run_pass(
    p: Pass, stop: StopLike, done: int, total: int
) -> Generator[PredictionProgress, None, tuple[bool, int]]:
    """One pass of the stitcher: progress events; returns (completed, windows done so far)."""
    gen = p.stitcher.run(stop)
    while True:
        try:
            done += next(gen)
        except StopIteration as result:
            return result.value, done
        yield PredictionProgress(done, total)


def _to_volume(
    perm: tuple[int, ...], index: tuple[slice, ...], block: np.ndarray
) -> tuple[tuple[slice, ...], np.ndarray]:
    """A block and its index in plan order, brought to the volume's order."""
    inv = np.argsort(perm)
    vol_index = tuple(index[int(inv[j])] for j in range(len(perm)))
    return vol_index, block.transpose(0, *(1 + inv))


class _Assembly:
    """Where the passes' rows go: the output, or a running average when there are several.

    The output is opened when the first rows arrive (their channel count); several passes
    add into a scratch sum (the fresh in-memory float32 output itself when possible, so no
    second cube is held), copied to the output at :meth:`commit`.
    """

    def __init__(self, shape: tuple[int, ...], out: Any, dtype: np.dtype, chunks: Sequence[int] | None,
                 overwrite: bool, protect: list[str], n_passes: int, finalize: Finalize | None = None):
        self.shape, self.out, self.dtype, self.chunks = shape, out, dtype, chunks
        self.finalize = finalize
        self.overwrite, self.protect, self.n_passes = overwrite, protect, n_passes
        self.target = Path(out) if isinstance(out, str | Path) else None
        self.sink: OutputSink | None = None
        self.scratch: ScratchSum | None = None

    def output(self, n_channels: int) -> OutputSink:
        """The output sink (opened on first use)."""
        if self.sink is None:
            self.sink = open_output(
                self.out, (n_channels, *self.shape), self.dtype, chunks=self.chunks,
                overwrite=self.overwrite, protect=self.protect,
            )
        return self.sink

    def writer(self, perm: tuple[int, ...], weight: float) -> Callable[[tuple[slice, ...], np.ndarray], None]:
        """The ``write`` callback of a pass whose plan order is ``perm`` and share of the average ``weight``."""
        if self.n_passes == 1:
            return lambda i, b: self._store(*_to_volume(perm, i, b))

        def add(i: tuple[slice, ...], b: np.ndarray) -> None:
            if self.scratch is None and self.out is None and self.dtype == np.float32:
                # the fresh in-memory output holds the sum: no second cube in memory
                self.scratch = ScratchSum.wrap(self.output(b.shape[0]).array)
            elif self.scratch is None:
                self.scratch = ScratchSum((b.shape[0], *self.shape), self.target)
            vi, vb = _to_volume(perm, i, b)
            self.scratch.add(vi, vb, weight)

        return add

    def _store(self, index: tuple[slice, ...], block: np.ndarray) -> None:
        if self.finalize is not None:
            block = self.finalize(index, block)
        self.output(block.shape[0]).write(index, block)

    def commit(self) -> Any:
        """Copy a separate scratch sum into the output (or finalize it in place), and commit it."""
        scratch = self.scratch
        if scratch is not None and (self.sink is None or self.finalize is not None):
            rest = (slice(None),) * (len(self.shape) - 1)
            for s in block_slices(self.shape, 4 * scratch.array.shape[0]):
                self._store((s, *rest), np.array(scratch.array[:, s]))
        return self.sink.commit()

    def close(self) -> None:
        """Discard an uncommitted output (a no-op after commit) and the scratch sum."""
        if self.sink is not None:
            self.sink.discard()
        if self.scratch is not None:
            self.scratch.close()
