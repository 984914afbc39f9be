"""Disk-backed and compact outputs; cancelling leaves nothing behind."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch
import zarr

from napari_seisseg.errors import SeisSegError
from napari_seisseg.inference import (
    PredictionCancelled,
    PredictionFinished,
    from_stored,
    predict_volume,
)
from napari_seisseg.jobs import drain

RNG = np.random.default_rng(1)
CUBE = RNG.normal(size=(21, 9, 14)).astype(np.float32)


def probs(x):  # two channels in (0, 1), window-dependent
    p = torch.sigmoid(x + x.mean(dim=(2, 3, 4), keepdim=True))
    return torch.cat([p, 1 - p], dim=1)


def run(volume=CUBE, **kw):
    kw.setdefault("window", (6, 5, 8))
    return drain(predict_volume(probs, volume, **kw))


def leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


@pytest.mark.parametrize("suffix", [".npy", ".zarr"])
def test_disk_output_equals_memory(tmp_path, suffix):
    ref = run()
    target = tmp_path / f"probs{suffix}"
    events = []
    out = drain(predict_volume(probs, CUBE, window=(6, 5, 8), out=target), events.append)
    assert isinstance(events[-1], PredictionFinished) and events[-1].out == str(target)
    np.testing.assert_array_equal(np.asarray(out), ref)
    if suffix == ".npy":
        np.testing.assert_array_equal(np.load(target), ref)
    else:
        np.testing.assert_array_equal(zarr.open_array(str(target), mode="r")[:], ref)
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize(("dtype", "tol"), [("float16", 1e-3), ("uint8", 0.5 / 255 + 1e-6)])
@pytest.mark.parametrize("suffix", [None, ".npy", ".zarr"])
def test_compact_dtypes_within_quantisation(tmp_path, dtype, tol, suffix):
    ref = run()
    out = run(out=None if suffix is None else tmp_path / f"p{suffix}", out_dtype=dtype)
    assert np.asarray(out).dtype == np.dtype(dtype)
    np.testing.assert_allclose(from_stored(out), ref, atol=tol)


def test_preallocated_output_is_filled_in_place():
    buf = np.full((2, *CUBE.shape), -1, np.float32)
    out = run(out=buf)
    assert out is buf
    np.testing.assert_array_equal(buf, run())


def _counting_stop_after(n_calls):
    calls = []
    event = threading.Event()

    def pred(x):
        calls.append(1)
        if len(calls) >= n_calls:
            event.set()
        return probs(x)

    return pred, event, calls


@pytest.mark.parametrize("suffix", [".npy", ".zarr"])
def test_cancel_stops_within_a_batch_and_leaves_no_file(tmp_path, suffix):
    pred, event, calls = _counting_stop_after(2)
    target = tmp_path / f"probs{suffix}"
    events = []
    result = drain(
        predict_volume(pred, CUBE, window=4, batch_size=2, out=target, stop=event), events.append
    )
    assert result is None and isinstance(events[-1], PredictionCancelled)
    assert len(calls) == 2  # no batch started after the stop
    assert not target.exists() and leftovers(tmp_path) == []


def test_cancel_keeps_an_existing_file_and_callable_stop(tmp_path):
    target = tmp_path / "probs.npy"
    np.save(target, np.arange(3))
    pred, event, calls = _counting_stop_after(1)
    result = drain(predict_volume(pred, CUBE, window=4, out=target, stop=event.is_set))
    assert result is None and len(calls) == 1
    np.testing.assert_array_equal(np.load(target), np.arange(3))
    assert leftovers(tmp_path) == []


def test_closing_the_generator_discards_the_output(tmp_path):
    target = tmp_path / "probs.zarr"
    gen = predict_volume(probs, CUBE, window=4, out=target)
    for _ in range(40):
        next(gen)
        if leftovers(tmp_path):
            break
    assert leftovers(tmp_path)  # being written beside the target
    gen.close()  # what napari's worker.quit() does
    assert not target.exists() and leftovers(tmp_path) == []


def test_failure_half_way_leaves_no_file(tmp_path):
    calls = []

    def flaky(x):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("boom")
        return probs(x)

    target = tmp_path / "probs.npy"
    with pytest.raises(SeisSegError, match="boom"):
        drain(predict_volume(flaky, CUBE, window=4, batch_size=1, out=target))
    assert not target.exists() and leftovers(tmp_path) == []


def test_overwrite_false_refuses_existing_target(tmp_path):
    target = tmp_path / "probs.npy"
    np.save(target, np.zeros(2))
    with pytest.raises(SeisSegError, match="already exists"):
        predict_volume(probs, CUBE, window=4, out=target, overwrite=False)


def test_memmap_input_is_protected(tmp_path):
    src = tmp_path / "cube.npy"
    np.save(src, CUBE)
    vol = np.load(src, mmap_mode="r")
    with pytest.raises(SeisSegError, match="source"):
        predict_volume(probs, vol, window=4, out=src)
    out = run(volume=vol, out=tmp_path / "p.npy")
    np.testing.assert_array_equal(np.asarray(out), run())
