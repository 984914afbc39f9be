"""The Train widget's input rules, without a viewer."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from napari_seisseg.errors import SeisSegError
from napari_seisseg.training.layer_inputs import (
    budget_limits,
    check_training_layers,
    device_text,
)


def _layer(name, multiscale=False):
    return SimpleNamespace(name=name, multiscale=multiscale)


@pytest.mark.parametrize(("layers", "message"), [
    ((None, _layer("l"), None), "No Image layer to train on"),
    ((_layer("i"), None, None), "No Labels layer"),
    ((_layer("i"), _layer("l", True), None), "'l' is multiscale"),
])
def test_refused_layers_say_why(layers, message):
    with pytest.raises(SeisSegError, match=message):
        check_training_layers(*layers)


def test_validation_on_the_training_labels_is_refused():
    labels = _layer("l")
    with pytest.raises(SeisSegError, match="validation layer is the training labels"):
        check_training_layers(_layer("i"), labels, labels)
    check_training_layers(_layer("i"), labels, _layer("v"))


def test_budget_limits():
    assert budget_limits(2.6, "epochs") == (3, None)
    assert budget_limits(0.2, "epochs") == (1, None)
    assert budget_limits(1.5, "minutes") == (None, 1.5)
    assert budget_limits(1.5, "until stopped") == (None, None)


def test_device_text_never_raises():
    assert device_text("cpu").startswith("CPU") or "cpu" in device_text("cpu").lower()
    assert "not available" in device_text("no-such-device")
