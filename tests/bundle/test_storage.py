"""Model bundles: one safetensors file, exact round trip, nothing ever unpickled."""

from __future__ import annotations

import json
import os
import pickle

import pytest
import torch

from napari_seisseg.bundle import FORMAT_VERSION, load_bundle, read_card, save_bundle
from napari_seisseg.errors import SeisSegError
from napari_seisseg.models import create_model, model_spec

#: The smallest useful network (as in the training tests).
TINY = {"width": 4, "depth": 2}


def _model(name="unet2d", **kw):
    torch.manual_seed(0)
    m = create_model(name, n_classes=3, **{**TINY, **kw})
    # move batch-norm statistics away from their defaults so they must round-trip too
    m.train()
    with torch.no_grad():
        m(torch.randn(2, m.input_channels, *([3] if name == "hybrid" else []), 16, 16))
    return m.eval()


@pytest.mark.parametrize("name", ["unet2d", "hybrid"])
def test_round_trip_gives_identical_outputs(tmp_path, name):
    model = _model(name, **({"context": 1} if name == "hybrid" else {}))
    card = {
        "model": model_spec(model),
        "classes": [{"value": 1, "name": "salt", "color": [1, 0, 0, 1]}],
        "threshold": 0.37,
    }
    path = tmp_path / "my model.bin"  # any name: written at exactly this path
    assert save_bundle(path, model, card) == path
    assert path.exists() and [p.name for p in tmp_path.iterdir()] == ["my model.bin"]
    loaded, card2 = load_bundle(path)
    assert not loaded.training
    x = torch.randn(2, model.input_channels, *([3] if name == "hybrid" else []), 20, 28)
    with torch.no_grad():
        assert torch.equal(model(x), loaded(x))
    assert card2["classes"] == card["classes"] and card2["threshold"] == 0.37
    assert card2["format_version"] == FORMAT_VERSION and "torch" in card2["versions"]
    assert read_card(path) == card2


class _Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


def test_pickles_and_checkpoints_are_refused(tmp_path):
    marker = str(tmp_path / "pwned")
    evil = tmp_path / "evil.safetensors"
    evil.write_bytes(pickle.dumps({"state_dict": _Evil(marker)}))
    with pytest.raises(
        SeisSegError, match="not a napari-seisseg model bundle: it is a Python pickle"
    ):
        load_bundle(evil)
    assert not os.path.exists(marker)  # the payload never ran
    ckpt = tmp_path / "model.pt"
    torch.save(_model().state_dict(), ckpt)
    with pytest.raises(SeisSegError, match=r"zip archive \(such as a torch.save checkpoint\)"):
        load_bundle(ckpt)
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"\x00" * 3)
    with pytest.raises(SeisSegError, match="too short"):
        load_bundle(junk)
    with pytest.raises(SeisSegError, match="does not exist"):
        load_bundle(tmp_path / "missing.safetensors")
    with pytest.raises(SeisSegError, match="folder"):
        load_bundle(tmp_path)


def test_foreign_safetensors_and_newer_format_are_refused(tmp_path):
    from safetensors.torch import save_file

    plain = tmp_path / "plain.safetensors"
    save_file({"w": torch.zeros(2)}, str(plain))
    with pytest.raises(SeisSegError, match="without a napari-seisseg model card"):
        load_bundle(plain)
    model = _model()
    newer = tmp_path / "newer.safetensors"
    save_bundle(newer, model, {"model": model_spec(model), "format_version": FORMAT_VERSION + 1})
    with pytest.raises(SeisSegError, match="newer napari-seisseg"):
        read_card(newer)


def test_weights_that_do_not_fit_the_card_are_refused(tmp_path):
    model = _model()
    spec = dict(model_spec(model), width=8)
    path = tmp_path / "bad.safetensors"
    save_bundle(path, model, {"model": spec})
    with pytest.raises(SeisSegError, match="do not fit its architecture"):
        load_bundle(path)


def test_card_is_plain_json_without_nan(tmp_path):
    model = _model()
    path = tmp_path / "m.safetensors"
    save_bundle(path, model, {"model": model_spec(model), "validation": {"iou": float("nan")}})
    card = read_card(path)
    assert card["validation"]["iou"] is None
    json.dumps(card, allow_nan=False)


def test_a_bundle_from_before_the_format_version_and_later_fields_loads(tmp_path):
    """Cards without format_version (read as 0) or the fields added since still load."""
    from safetensors.torch import save_file

    from napari_seisseg.bundle import BundleModel
    from napari_seisseg.bundle.storage import CARD_KEY, FORMAT

    model = create_model("unet2d", n_classes=2, **TINY)
    card = {"format": FORMAT, "model": model_spec(model), "input": {"kind": "2d", "axes": [1, 0]},
            "n_outputs": 2, "classes": [{"value": 1, "name": "a"}, {"value": 2, "name": "b"}],
            "preprocessing": {"standardize": {"center": 0.0, "scale": 1.0, "clip": 10.0}}}
    path = tmp_path / "old.safetensors"
    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(path), metadata={CARD_KEY: json.dumps(card)})
    assert "format_version" not in read_card(path)
    bm = BundleModel.load(path)
    assert bm.predict_axes == (1,) and bm.sample_axis == 2 and bm.position is None
    assert bm.pad_mode == "reflect" and bm.threshold == 0.5 and bm.normalizer.pipeline is None
