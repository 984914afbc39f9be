"""Prediction of cubes beyond one machine: chunked Zarr in, chunked Zarr out, Dask workers.

The output is cut into *blocks* (whole output chunks).  Each block is one task: a worker
builds the predictor (once per process, from a picklable factory or a bundle path), reads
from the input store only the input the block needs, predicts every window of the global
window plan that reaches the block, blends them with the same weights and accumulator as
:func:`~napari_seisseg.inference.window_driver.predict_volume`, and writes its chunks.  Since every
voxel sees exactly the windows and weights of the in-process plan, the result equals the
in-process one (up to float rounding); the price is that windows straddling a block border
are predicted by both blocks: about ``1 + (window - step) / block`` per axis, which large
blocks (by default at least four windows) keep small.  Blocks are whole chunks, so workers
never write the same chunk, and the store is renamed into place only when all succeeded.

Why not ``dask.array.map_overlap``: there each block would plan its own windows, so the
windows' positions, and a real network's answer, would change with the chunking; here they
do not.  And each worker reads its halo straight from storage instead of receiving it from
the neighbouring blocks' workers.
"""

from __future__ import annotations

import importlib
import itertools
import math
import os
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..bundle.card import window_preprocess
from ..errors import SeisSegError
from ..jobs import stop_requested
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
from .events import PredictionCancelled, PredictionFinished, PredictionProgress, PredictionStarted
from .outputs import open_output, to_stored
from .predictor import BatchPredictor
from .stitching import Stitcher, WindowReader
from .window_driver import check_model_volume, tta_axes
from .windows import WindowPlan

__all__ = ["BUNDLE_LOADER", "predict_volume_dask"]

#: ``"module:function"`` that loads a model bundle path into a predictor on the workers.
BUNDLE_LOADER = "napari_seisseg.bundle.storage:load_bundle"

_CACHE: OrderedDict[str, Any] = OrderedDict()
_CACHE_LOCK = threading.Lock()


def load_bundle(path: str) -> tuple[Any, Callable[[np.ndarray], np.ndarray] | None]:
    """Load a model bundle with :data:`BUNDLE_LOADER`: the model and its preprocessing.

    The loader returns a model, or ``(model, card)``; a card's ``preprocessing`` becomes the
    window preprocessing (its normaliser along the card's ``input.sample_axis``).
    """
    module, _, name = BUNDLE_LOADER.partition(":")
    try:
        loader = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise SeisSegError(
            f"Cannot load the model bundle {path}: this installation has no bundle loader "
            f"({BUNDLE_LOADER}). Pass a function that builds the model instead."
        ) from exc
    loaded = loader(path)
    model, card = loaded if isinstance(loaded, tuple) else (loaded, None)
    return model, window_preprocess(card)


@dataclass(frozen=True)
class PredictorSource:
    """A predictor that can be rebuilt on a worker: a module, a factory, or a bundle path."""

    obj: Any
    key: str

    def load(self) -> tuple[Callable[[Any], Any], Callable[[np.ndarray], np.ndarray] | None]:
        """The predictor and a bundle's preprocessing (or None), built once per process."""
        with _CACHE_LOCK:
            if self.key in _CACHE:
                _CACHE.move_to_end(self.key)
                return _CACHE[self.key]
        preprocess = None
        if isinstance(self.obj, torch.nn.Module):
            predictor = self.obj
        elif isinstance(self.obj, str | os.PathLike):
            predictor, preprocess = load_bundle(str(self.obj))
        else:
            try:
                predictor = self.obj()
            except SeisSegError:
                raise
            except Exception as exc:
                raise SeisSegError(f"The predictor factory failed: {type(exc).__name__}: {exc}") from exc
        with _CACHE_LOCK:
            _CACHE[self.key] = (predictor, preprocess)
            while len(_CACHE) > 2:
                _CACHE.popitem(last=False)
        return predictor, preprocess


@dataclass(frozen=True)
class BlockSpec:
    """Everything a worker needs to predict blocks (picklable)."""

    source: PredictorSource
    src: str
    dst: str
    shape: tuple[int, ...]
    window: tuple[int, ...]
    overlap: tuple[float, ...]
    blend: str
    batch_size: int
    device: Any
    amp: bool
    activation: str | None
    flip_dims: tuple[int, ...]
    n_channels: int
    dtype: str
    preprocess: Callable[[np.ndarray], np.ndarray] | None
    dead: np.ndarray | None


def _prepared(spec: BlockSpec, n_channels: int | None) -> tuple[BatchPredictor, Any]:
    """The batch predictor and the window preprocessing (given, else the bundle's)."""
    predictor, bundle_preprocess = spec.source.load()
    check_model_volume(predictor, len(spec.shape))
    bp = BatchPredictor(
        predictor, spec.window, device=spec.device, amp=spec.amp, activation=spec.activation,
        flip_dims=spec.flip_dims, n_channels=n_channels,
        expected=f"(N, C, {', '.join(map(str, spec.window))})",
    )
    return bp, spec.preprocess if spec.preprocess is not None else bundle_preprocess


def predict_block(region: tuple[tuple[int, int], ...], spec: BlockSpec) -> int:
    """Predict one block of the output and write it; return the number of windows run."""
    import zarr

    volume = zarr.open_array(store=spec.src, mode="r")
    plan = WindowPlan.build(spec.shape, spec.window, spec.overlap)
    bp, preprocess = _prepared(spec, spec.n_channels)
    sizes = tuple(hi - lo for lo, hi in region)
    result = np.zeros((spec.n_channels, *sizes), dtype=np.float32)

    def write(index: tuple[slice, ...], block: np.ndarray) -> None:
        local = tuple(slice(s.start - lo, s.stop - lo) for s, (lo, _) in zip(index, region, strict=True))
        result[(slice(None), *local)] = block

    perm = tuple(range(len(spec.shape)))
    stitcher = Stitcher(
        bp, WindowReader(volume, perm, plan, region, preprocess), plan,
        spec.blend, write, region=region, dead=spec.dead,
        batch_size=spec.batch_size, n_channels=spec.n_channels,
    )
    for _ in stitcher.run():
        pass  # the module stays in eval mode: other threads of this worker may be using it
    out = zarr.open_array(store=spec.dst, mode="r+")
    out[(slice(None), *(slice(lo, hi) for lo, hi in region))] = to_stored(result, spec.dtype)
    return stitcher.n_windows


def _zarr_path(z: Any, what: str) -> str:
    if isinstance(z, str | os.PathLike):
        return str(z)
    root = getattr(getattr(z, "store", None), "root", None)
    if root is not None:
        return str(Path(str(root)) / getattr(z, "path", ""))
    raise SeisSegError(f"Give the {what} Zarr store as a path (workers open it themselves).")


def _blocks(shape: Sequence[int], block: Sequence[int]) -> list:
    axes = [
        [(lo, min(lo + b, n)) for lo in range(0, n, b)] for n, b in zip(shape, block, strict=True)
    ]
    return list(itertools.product(*axes))


def predict_volume_dask(
    predictor: Any,
    zarr_in: Any,
    zarr_out: str | os.PathLike,
    *,
    window: int | Sequence[int],
    overlap: float | Sequence[float] = 0.5,
    blend: str = "gaussian",
    batch_size: int = 4,
    device: Any = None,
    amp: bool = False,
    activation: str | None = "auto",
    out_dtype: str = "float32",
    n_channels: int | None = None,
    preprocess: Callable[[np.ndarray], np.ndarray] | None = None,
    tta: bool | Sequence[int] = False,
    dead_mask: Any = None,
    block: int | Sequence[int] | None = None,
    client: Any = None,
    scheduler: str = "threads",
    stop: Any = None,
    overwrite: bool = True,
) -> Generator[Any, None, Any]:
    """Predict a Zarr volume into a Zarr store with Dask, block by block.

    Parameters
    ----------
    predictor : torch.nn.Module, callable or path
        A module (shipped to the workers), a picklable factory called without arguments on
        each worker to build the predictor (e.g. a module-level function or a
        ``functools.partial``), or the path of a model bundle (loaded on each worker).
    zarr_in : path or zarr.Array
        Input volume (2D or 3D), on storage every worker can read.
    zarr_out : path
        Output store ``(C, *shape)``; chunks ``(1, *input chunks)``.  Written to a temporary
        store beside it and renamed when every block is done.
    window, overlap, blend, batch_size, device, amp, activation, out_dtype, tta, dead_mask
        As for :func:`~napari_seisseg.inference.window_driver.predict_volume`.
    preprocess : callable, optional
        Window preprocessing (picklable); default: a bundle's normaliser, else none.
    n_channels : int, optional
        Output channels; when None, one window is predicted here first to find out.
    block : int or sequence of int, optional
        Spatial size of one task's block (rounded up to whole input chunks); default: at
        least four windows per axis.
    client : distributed.Client or str, optional
        A Dask cluster client, or a scheduler address to connect to (closed afterwards).
    scheduler : {"threads", "sync", "processes"}
        Local Dask scheduler used when no client is given.
    stop : callable or threading.Event, optional
        Checked after every block (local: every group of blocks); cancels the rest.
    overwrite : bool
        Whether an existing ``zarr_out`` may be replaced.

    Returns
    -------
    generator
        Yields :class:`PredictionStarted`, :class:`PredictionProgress` (unit ``"blocks"``),
        :class:`PredictionFinished` or :class:`PredictionCancelled`; returns the output
        opened read-only as a zarr array (None when cancelled).
    """
    src, arr = _open_input(zarr_in)
    shape = check_shape(arr, ndims=(2, 3), what="Zarr input")
    ndim = len(shape)
    window = check_window(window, ndim)
    overlaps = check_overlap(overlap, ndim)
    check_choice(blend, BLEND_MODES, "blend mode")
    batch_size = check_positive_int(batch_size, "batch size")
    dtype = check_out_dtype(out_dtype)
    stop = check_stop(stop)
    if scheduler not in ("threads", "sync", "synchronous", "single-threaded", "processes"):
        raise SeisSegError(f"Unknown scheduler {scheduler!r}; use 'threads', 'sync' or 'processes'.")
    chunks = tuple(int(c) for c in arr.chunks)
    want = check_window(block, ndim, "block") if block is not None else tuple(4 * w for w in window)
    blocks = tuple(min(n, c * math.ceil(b / c)) for n, c, b in zip(shape, chunks, want, strict=True))
    source = PredictorSource(predictor if not isinstance(predictor, Path) else str(predictor), uuid.uuid4().hex)
    if not (callable(predictor) or isinstance(predictor, str | os.PathLike)):
        raise SeisSegError(
            f"predictor must be a model, a factory or a bundle path, got {type(predictor).__name__}."
        )
    if isinstance(predictor, torch.nn.Module):
        check_model_volume(predictor, ndim)
    spec = BlockSpec(
        source, src, "", shape, window, overlaps, blend, batch_size, device, bool(amp), activation,
        tuple(a - ndim for a in tta_axes(tta, ndim)), n_channels or 0, dtype.name,
        preprocess, check_dead_mask(dead_mask, shape),
    )
    n_channels = _channel_count(spec, arr) if n_channels is None else check_positive_int(
        n_channels, "number of channels"
    )
    sink = open_output(
        zarr_out, (n_channels, *shape), dtype, chunks=(1, *chunks), overwrite=overwrite,
        protect=[src],
    )
    spec = replace(spec, dst=str(sink.tmp), n_channels=n_channels)
    regions = _blocks(shape, blocks)
    restore = predictor if getattr(predictor, "training", False) is True else None
    return _run(spec, regions, sink, client, scheduler, stop, window, restore)


def _open_input(zarr_in: Any) -> tuple[str, Any]:
    """The input store's path (workers open it) and the array, opened read-only here."""
    import zarr

    src = _zarr_path(zarr_in, "input")
    try:
        arr = zarr.open_array(store=src, mode="r")
    except Exception as exc:
        raise SeisSegError(f"{src} is not a Zarr array ({type(exc).__name__}: {exc}).") from exc
    return src, arr


def _channel_count(spec: BlockSpec, arr: Any) -> int:
    """Output channels of the predictor, found by predicting the plan's first window here."""
    probe, probe_preprocess = _prepared(spec, None)
    plan = WindowPlan.build(spec.shape, spec.window, spec.overlap)
    reader = WindowReader(arr, tuple(range(len(spec.shape))), plan, plan.full_region(), probe_preprocess)
    return int(probe(reader.window(plan.windows_in()[0])[None]).shape[1])


def _run(
    spec: BlockSpec,
    regions: list,
    sink: Any,
    client: Any,
    scheduler: str,
    stop: Any,
    window: tuple[int, ...],
    restore: Any,
) -> Generator[Any, None, Any]:
    """Submit the blocks, yield progress, commit or discard the output store."""
    total, done, t0 = len(regions), 0, time.perf_counter()
    own_client = None
    try:
        if client is not None:
            from distributed import Client, as_completed

            if isinstance(client, str):
                own_client = client = Client(client)
            yield PredictionStarted(total, "blocks", f"dask:{client.scheduler.address}", spec.shape, window)
            spec_f = client.scatter(spec, broadcast=True)
            futures = client.map(predict_block, regions, spec=spec_f, pure=False)
            try:
                for fut in as_completed(futures):
                    fut.result()
                    done += 1
                    yield PredictionProgress(done, total, "blocks")
                    if stop_requested(stop):
                        break
            finally:
                client.cancel(futures)
        else:
            import dask

            yield PredictionStarted(total, "blocks", f"dask:{scheduler}", spec.shape, window)
            group = 1 if scheduler in ("sync", "synchronous", "single-threaded") else os.cpu_count() or 1
            for g in range(0, total, group):
                if stop_requested(stop):
                    break
                tasks = [dask.delayed(predict_block)(r, spec) for r in regions[g : g + group]]
                dask.compute(*tasks, scheduler=scheduler)
                done += len(tasks)
                yield PredictionProgress(done, total, "blocks")
        if done < total or stop_requested(stop):
            yield PredictionCancelled(done, total)
            return None
        result = sink.commit()
        seconds = time.perf_counter() - t0
        yield PredictionFinished(total, seconds, float(np.prod(spec.shape)) / max(seconds, 1e-9), str(sink.target))
        return result
    finally:
        sink.discard()
        if restore is not None:
            restore.train()  # a module passed in was put in eval mode while predicting
        if own_client is not None:
            own_client.close()
