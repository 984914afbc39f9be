"""The registry: names, specs that rebuild the architecture, clear errors."""

from __future__ import annotations

import json

import pytest
import torch

from napari_seisseg.errors import SeisSegError
from napari_seisseg.models import create_model, list_models, model_spec

NON_DEFAULT = {
    "unet2d": {
        "width": 4,
        "depth": 2,
        "norm": "group",
        "dropout": 0.1,
        "context": 1,
        "circular_axis": 1,
    },
    "unet3d": {"width": 4, "depth": 2, "norm": "instance", "circular_axis": 0},
    "hybrid": {"width": 4, "depth": 2, "norm": "none", "context": 3, "circular_axis": 1},
    "resunet": {"width": 4, "depth": 3, "encoder": "resnet34", "context": 1, "norm": "group"},
}


def _layout(model):
    return {k: tuple(v.shape) for k, v in model.state_dict().items()}


def test_list_models():
    assert list_models() == ["hybrid", "resunet", "unet2d", "unet3d"]


@pytest.mark.parametrize("name", ["hybrid", "resunet", "unet2d", "unet3d"])
def test_spec_round_trip_rebuilds_the_architecture(name):
    model = create_model(name, in_channels=2, n_classes=3, **NON_DEFAULT[name])
    spec = model_spec(model)
    assert spec["name"] == name
    assert spec["in_channels"] == 2 and spec["n_classes"] == 3
    for key, value in NON_DEFAULT[name].items():
        assert spec[key] == value
    card = json.loads(json.dumps(spec))  # as stored in a model card
    rebuilt = create_model(**card)
    assert type(rebuilt) is type(model)
    assert _layout(rebuilt) == _layout(model)
    assert model_spec(rebuilt) == spec
    rebuilt.load_state_dict(model.state_dict())  # strict: same keys and shapes


@pytest.mark.parametrize("name", ["hybrid", "resunet", "unet2d", "unet3d"])
def test_spec_of_defaults_is_complete(name):
    spec = model_spec(create_model(name, width=4))
    defaults = model_spec(
        create_model(name, width=4, **{k: v for k, v in spec.items() if k not in ("name", "width")})
    )
    assert spec == defaults
    assert {"width", "depth", "norm", "dropout", "circular_axis"} <= set(spec)


def test_name_is_case_insensitive():
    assert model_spec(create_model(" UNet2D ", width=4))["name"] == "unet2d"


def test_unknown_name_lists_choices():
    with pytest.raises(SeisSegError, match="hybrid, resunet, unet2d, unet3d"):
        create_model("unet4d")


@pytest.mark.parametrize(
    ("name", "kwargs", "pattern"),
    [
        ("unet3d", {"context": 1}, "does not take 'context'.*width"),
        ("unet2d", {"widht": 8}, "does not take 'widht'"),
        ("unet2d", {"norm": "layer"}, "'batch', 'instance', 'group', 'none'"),
        ("unet2d", {"width": 0}, "width must be >= 1"),
        ("unet2d", {"depth": "four"}, "depth must be an integer"),
        ("unet2d", {"circular_axis": 2}, "circular_axis must be between 0 and 1"),
        ("hybrid", {"dropout": 1.5}, r"dropout must be in \[0, 1\)"),
        ("resunet", {"encoder": "resnet50"}, "'resnet18', 'resnet34'"),
        ("resunet", {"depth": 5}, "depth must be between 1 and 4"),
        ("unet2d", {"n_classes": 0}, "n_classes must be >= 1"),
    ],
)
def test_bad_arguments_raise_seisseg_error(name, kwargs, pattern):
    with pytest.raises(SeisSegError, match=pattern):
        create_model(name, **kwargs)


def test_model_spec_refuses_foreign_modules():
    with pytest.raises(SeisSegError, match="create_model"):
        model_spec(torch.nn.Conv2d(1, 1, 3))


def test_pretrained_path_is_not_part_of_the_spec(tmp_path):
    model = create_model("resunet", width=4, depth=1)
    torch.save(model.encoder.state_dict(), tmp_path / "enc.pt")
    loaded = create_model("resunet", width=4, depth=1, pretrained_path=tmp_path / "enc.pt")
    assert "pretrained_path" not in model_spec(loaded)
    assert model_spec(loaded) == model_spec(model)
