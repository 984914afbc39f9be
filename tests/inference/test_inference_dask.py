"""The Dask path (Zarr in, Zarr out, blocks on workers) equals the in-process path."""

from __future__ import annotations

import functools
import threading

import numpy as np
import pytest
import torch
import zarr

from napari_seisseg.errors import SeisSegError
from napari_seisseg.inference import (
    PredictionCancelled,
    PredictionProgress,
    dask_volume,
    predict_volume,
    predict_volume_dask,
)
from napari_seisseg.jobs import drain

RNG = np.random.default_rng(3)
CUBE = RNG.normal(size=(21, 19, 26)).astype(np.float32)


def make_net(seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    return torch.nn.Sequential(
        torch.nn.Conv3d(1, 3, 3, padding=1), torch.nn.Tanh(), torch.nn.Conv3d(3, 2, 3, padding=1)
    )


@pytest.fixture
def zarr_in(tmp_path):
    path = tmp_path / "in.zarr"
    z = zarr.create_array(store=str(path), shape=CUBE.shape, chunks=(8, 8, 8), dtype="float32")
    z[:] = CUBE
    return path


@pytest.fixture(scope="module")
def reference():
    return drain(predict_volume(make_net(), CUBE, window=8, overlap=0.5))


def test_sync_scheduler_equals_in_process(zarr_in, tmp_path, reference):
    events = []
    out = drain(
        predict_volume_dask(functools.partial(make_net, 0), zarr_in, tmp_path / "out.zarr",
                            window=8, overlap=0.5, block=8, scheduler="sync"),
        events.append,
    )
    assert out.shape == reference.shape and out.chunks == (1, 8, 8, 8)
    np.testing.assert_allclose(out[:], reference, atol=1e-5)
    assert [e.done for e in events if isinstance(e, PredictionProgress)][-1] == 3 * 3 * 4
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.zarr", "out.zarr"]


def test_threads_scheduler_module_and_uint8(zarr_in, tmp_path, reference):
    net = make_net()
    out = drain(
        predict_volume_dask(net, str(zarr_in), tmp_path / "o.zarr", window=8, block=16,
                            n_channels=2, out_dtype="uint8", activation="sigmoid")
    )
    np.testing.assert_allclose(out[:] / 255, 1 / (1 + np.exp(-reference)), atol=0.5 / 255 + 1e-3)


def test_local_cluster_equals_in_process(zarr_in, tmp_path, reference):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster, distributed.Client(cluster) as client:
        out = drain(
            predict_volume_dask(functools.partial(make_net, 0), zarr_in, tmp_path / "out.zarr",
                                window=8, block=16, client=client)
        )
    np.testing.assert_allclose(out[:], reference, atol=1e-5)


def test_cancel_leaves_no_store(zarr_in, tmp_path):
    stop = threading.Event()
    events = []
    gen = predict_volume_dask(lambda: (lambda x: x), zarr_in, tmp_path / "out.zarr", window=8,
                              block=8, scheduler="sync", stop=stop)
    for event in gen:
        events.append(event)
        if isinstance(event, PredictionProgress):
            stop.set()
    assert isinstance(events[-1], PredictionCancelled) and events[-1].done == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.zarr"]


def test_bad_inputs(zarr_in, tmp_path, monkeypatch):
    with pytest.raises(SeisSegError, match="not a Zarr array"):
        predict_volume_dask(make_net, tmp_path / "missing.zarr", tmp_path / "o.zarr", window=8)
    with pytest.raises(SeisSegError, match="overlap"):
        predict_volume_dask(make_net, zarr_in, tmp_path / "o.zarr", window=8, overlap=1.0)
    monkeypatch.setattr(dask_volume, "BUNDLE_LOADER", "napari_seisseg.nonexistent:load")
    with pytest.raises(SeisSegError, match="bundle"):
        predict_volume_dask(tmp_path / "model.bundle", zarr_in, tmp_path / "o.zarr", window=8)
    with pytest.raises(SeisSegError, match="returned 2 channels but 3"):
        drain(predict_volume_dask(make_net, zarr_in, tmp_path / "o.zarr", window=8,
                                              n_channels=3, scheduler="sync"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.zarr"]


def test_bundle_path_with_its_preprocessing(zarr_in, tmp_path):
    bundle = pytest.importorskip("napari_seisseg.bundle")
    models = pytest.importorskip("napari_seisseg.models")
    from napari_seisseg.bundle.normalize import Normalizer

    torch.manual_seed(0)
    model = models.create_model("unet3d", n_classes=2, width=2, depth=1)
    prep = {"pipeline": None, "standardize": {"center": 0.5, "scale": 2.0, "clip": 1.0}}
    card = {"model": model.spec(), "preprocessing": prep, "input": {"sample_axis": 2}}
    path = bundle.save_bundle(tmp_path / "m.seisseg", model, card)
    norm = functools.partial(Normalizer.from_dict(prep), axis=2)
    ref = drain(predict_volume(model, CUBE, window=8, preprocess=norm))
    out = drain(
        predict_volume_dask(path, zarr_in, tmp_path / "out.zarr", window=8, block=16, scheduler="sync")
    )
    np.testing.assert_allclose(out[:], ref, atol=1e-5)
    np.testing.assert_allclose(out[:].sum(axis=0), 1, atol=1e-5)  # logits -> softmax


def test_dask_predictions_name_axes_as_the_widgets_do():
    from napari_seisseg.inference.bundle_result import PredictionPlan
    from napari_seisseg.io.geometry import SurveyGeometry

    def _axis_words(geometry):  # the plan the Dask path builds: canonical order, no squeeze
        return PredictionPlan(None, (0, 1, 2), False, geometry, None, None).axis_names()

    cube = SurveyGeometry(kind="cube", n_samples=5, dt=4.0, t0=0.0, ilines=np.arange(3),
                          xlines=np.arange(4))
    assert _axis_words(cube) == ["inline", "crossline", "time"]
    assert _axis_words(None) == ["axis 0", "axis 1", "axis 2"]
