"""Bad input gives a SeisSegError with a clear message, never a bare traceback."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from napari_seisseg.errors import SeisSegError
from napari_seisseg.inference import predict_sections, predict_volume
from napari_seisseg.jobs import drain

CUBE = np.zeros((9, 8, 7), np.float32)


def ident(x):
    return x


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"window": (1024, 1024, 1024)}, "allowed"),
        ({"window": (8, 8)}, "has 2 axes"),
        ({"window": (8, 0, 8)}, "at least 1"),
        ({"window": "big"}, "integers"),
        ({"window": 4, "overlap": 1.0}, "overlap"),
        ({"window": 4, "overlap": -0.1}, "overlap"),
        ({"window": 4, "overlap": float("nan")}, "overlap"),
        ({"window": 4, "overlap": "half"}, "overlap"),
        ({"window": 4, "blend": "cosine"}, "blend"),
        ({"window": 4, "batch_size": 0}, "batch size"),
        ({"window": 4, "out_dtype": "int32"}, "dtype"),
        ({"window": 4, "out": "probs.tif"}, ".npy or .zarr"),
        ({"window": 4, "dead_mask": np.zeros((3, 3), bool)}, "dead-trace mask"),
        ({"window": 4, "stop": 5}, "stop"),
        ({"window": 4, "tta": [3]}, "tta"),
        ({"window": 4, "activation": "relu"}, "activation"),
        ({"window": 4, "device": "tpu:9"}, "device"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(SeisSegError, match=match):
        drain(predict_volume(ident, CUBE, **kwargs))


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is there")
def test_unavailable_cuda():
    with pytest.raises(SeisSegError, match="CUDA is not available"):
        predict_volume(ident, CUBE, window=4, device="cuda")


@pytest.mark.parametrize("volume", [np.zeros((2, 3, 4, 5)), np.zeros(5), np.zeros((0, 4)), "cube"])
def test_bad_volumes(volume):
    with pytest.raises(SeisSegError):
        predict_volume(ident, volume, window=2)


@pytest.mark.parametrize(
    ("predictor", "match"),
    [
        (lambda x: x[..., :-1], "keep the spatial size"),
        (lambda x: x[:, 0], "expected"),
        (lambda x: x[:1], "expected"),
        (lambda x: "nope", "not a tensor"),
        (lambda x: torch.nn.functional.conv3d(x, torch.zeros(1, 2, 1, 1, 1)), "failed on a batch"),
    ],
)
def test_bad_predictor_output(predictor, match):
    with pytest.raises(SeisSegError, match=match):
        drain(predict_volume(predictor, CUBE, window=4, batch_size=2))


def test_wrong_channel_count():
    with pytest.raises(SeisSegError, match="returned 1 channels but 3"):
        drain(predict_volume(ident, CUBE, window=4, n_channels=3))


def test_model_dimensionality_mismatch():
    class Model3D(torch.nn.Module):
        spatial_dims = 3
        n_classes = 2

        def forward(self, x):
            return torch.cat([x, x], 1)

    class Model2D(Model3D):
        spatial_dims = 2

    with pytest.raises(SeisSegError, match="3D windows but the volume is 2D"):
        predict_volume(Model3D(), CUBE[0], window=4)
    with pytest.raises(SeisSegError, match="predict_sections"):
        predict_volume(Model2D(), CUBE, window=4)
    with pytest.raises(SeisSegError, match="2 classes but 3"):
        predict_volume(Model3D(), CUBE, window=4, n_channels=3)
    with pytest.raises(SeisSegError, match="2D model"):
        predict_sections(Model3D(), CUBE)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"axes": (3,)}, "Section axes"),
        ({"axes": (0, 0)}, "Section axes"),
        ({"axes": ()}, "Section axes"),
        ({"context": -1}, "context"),
        ({"tile": (4, 4, 4)}, "tile"),
        ({"layout": "stack"}, "layout"),
    ],
)
def test_bad_section_arguments(kwargs, match):
    with pytest.raises(SeisSegError, match=match):
        predict_sections(ident, CUBE, **kwargs)


def test_sections_need_a_cube():
    with pytest.raises(SeisSegError, match="2D"):
        predict_sections(ident, CUBE[0])


def test_preprocess_must_keep_shape():
    with pytest.raises(SeisSegError, match="preprocessing changed"):
        drain(predict_volume(ident, CUBE, window=4, preprocess=lambda w: w[1:]))
