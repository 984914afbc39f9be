"""resunet initialised from a local torchvision-style state dict (written by the test)."""

from __future__ import annotations

import importlib.util
import sys

import pytest
import torch

from napari_seisseg.errors import SeisSegError
from napari_seisseg.models import create_model
from napari_seisseg.models.pretrained import adapt_first_conv

BLOCKS = {"resnet18": (2, 2, 2, 2), "resnet34": (3, 4, 6, 3)}


def torchvision_style_state_dict(width: int, encoder: str = "resnet18", in_ch: int = 3):
    """Keys and shapes as in ``torchvision.models.resnet18().state_dict()`` (scaled width)."""
    g = torch.Generator().manual_seed(123)
    sd: dict[str, torch.Tensor] = {}

    def bn(prefix, c):
        sd[f"{prefix}.weight"] = torch.rand(c, generator=g) + 0.5
        sd[f"{prefix}.bias"] = torch.randn(c, generator=g)
        sd[f"{prefix}.running_mean"] = torch.randn(c, generator=g)
        sd[f"{prefix}.running_var"] = torch.rand(c, generator=g) + 0.5
        sd[f"{prefix}.num_batches_tracked"] = torch.tensor(1000)

    sd["conv1.weight"] = torch.randn(width, in_ch, 7, 7, generator=g)
    bn("bn1", width)
    inplanes = width
    for i, n in enumerate(BLOCKS[encoder]):
        planes = width * 2**i
        for b in range(n):
            p = f"layer{i + 1}.{b}"
            cin = inplanes if b == 0 else planes
            sd[f"{p}.conv1.weight"] = torch.randn(planes, cin, 3, 3, generator=g)
            bn(f"{p}.bn1", planes)
            sd[f"{p}.conv2.weight"] = torch.randn(planes, planes, 3, 3, generator=g)
            bn(f"{p}.bn2", planes)
            if b == 0 and i > 0:
                sd[f"{p}.downsample.0.weight"] = torch.randn(planes, cin, 1, 1, generator=g)
                bn(f"{p}.downsample.1", planes)
        inplanes = planes
    sd["fc.weight"] = torch.randn(1000, inplanes, generator=g)
    sd["fc.bias"] = torch.randn(1000, generator=g)
    return sd


@pytest.fixture
def weights_file(tmp_path):
    sd = torchvision_style_state_dict(width=8)
    path = tmp_path / "resnet18-tv.pth"
    torch.save(sd, path)
    return path, sd


def test_loads_torchvision_style_weights(weights_file):
    path, sd = weights_file
    torch.manual_seed(0)
    fresh = create_model("resunet", width=8)
    torch.manual_seed(0)
    model = create_model("resunet", width=8, pretrained_path=path)
    enc = model.encoder.state_dict()
    fresh_enc = fresh.encoder.state_dict()
    assert set(enc) <= set(sd)
    for key, value in enc.items():
        if key == "conv1.weight":
            expected = sd[key].sum(dim=1, keepdim=True)  # RGB kernels summed for one channel
        else:
            expected = sd[key]
        torch.testing.assert_close(value, expected.to(value.dtype), msg=key)
        if key.endswith("weight") and "conv" in key:
            assert not torch.equal(value, fresh_enc[key]), key
    # the decoder is untouched by the encoder weights
    for key, value in model.state_dict().items():
        if not key.startswith("encoder."):
            assert torch.equal(value, fresh.state_dict()[key]), key
    assert model.pretrained_from == str(path)
    model.eval()
    with torch.no_grad():
        assert model(torch.randn(1, 1, 37, 41)).shape == (1, 2, 37, 41)


def test_three_channel_input_copies_conv1(tmp_path):
    sd = torchvision_style_state_dict(width=8, encoder="resnet34")
    path = tmp_path / "w.pt"
    torch.save({"state_dict": {f"module.{k}": v for k, v in sd.items()}}, path)
    model = create_model(
        "resunet", in_channels=3, width=8, encoder="resnet34", pretrained_path=path
    )
    assert torch.equal(model.encoder.conv1.weight, sd["conv1.weight"])
    assert torch.equal(model.encoder.layer3[5].conv2.weight, sd["layer3.5.conv2.weight"])


def test_context_channels_share_the_summed_kernel(weights_file):
    path, sd = weights_file
    model = create_model("resunet", width=8, depth=2, context=1, pretrained_path=path)
    w = model.encoder.conv1.weight
    assert w.shape == (8, 3, 7, 7)
    torch.testing.assert_close(w.sum(dim=1), sd["conv1.weight"].sum(dim=1))


def test_adapt_first_conv():
    w = torch.randn(4, 3, 7, 7)
    one = adapt_first_conv(w, 1)
    torch.testing.assert_close(one[:, 0], w.sum(1))
    five = adapt_first_conv(w, 5)
    torch.testing.assert_close(five.sum(1), w.sum(1))


def test_wrong_width_is_explained(weights_file):
    path, _ = weights_file
    with pytest.raises(SeisSegError, match="width=64"):
        create_model("resunet", width=16, pretrained_path=path)


def test_missing_convolutions_are_explained(tmp_path):
    path = tmp_path / "partial.pt"
    torch.save({"conv1.weight": torch.randn(8, 3, 7, 7)}, path)
    with pytest.raises(SeisSegError, match="layer1.0.conv1.weight"):
        create_model("resunet", width=8, pretrained_path=path)


def test_missing_file_is_explained(tmp_path):
    with pytest.raises(SeisSegError, match="nothing is downloaded"):
        create_model("resunet", width=8, pretrained_path=tmp_path / "nope.pth")


class _Payload:
    """Any class outside torch's allow-list: unpickling it would run foreign code."""


def test_pickled_objects_are_refused(tmp_path):
    path = tmp_path / "evil.pt"
    torch.save({"conv1.weight": torch.zeros(8, 3, 7, 7), "x": _Payload()}, path)
    with pytest.raises(SeisSegError, match="weights_only"):
        create_model("resunet", width=8, pretrained_path=path)


@pytest.mark.skipif(importlib.util.find_spec("safetensors") is None, reason="needs safetensors")
def test_safetensors_weights(tmp_path):
    from safetensors.torch import save_file

    sd = torchvision_style_state_dict(width=8)
    path = tmp_path / "w.safetensors"
    save_file(sd, str(path))
    model = create_model("resunet", width=8, pretrained_path=path)
    assert torch.equal(model.encoder.layer4[1].conv2.weight, sd["layer4.1.conv2.weight"])


def test_safetensors_without_the_package_is_explained(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "safetensors", None)  # as if not installed
    monkeypatch.setitem(sys.modules, "safetensors.torch", None)
    path = tmp_path / "w.safetensors"
    path.write_bytes(b"\0" * 16)
    with pytest.raises(SeisSegError, match="pip install safetensors"):
        create_model("resunet", width=8, pretrained_path=path)
