"""The Train widget's advanced options offer the training settings' choices and defaults."""

from __future__ import annotations

import pytest

from napari_seisseg.train_settings import setting_choices, setting_default, setting_word
from napari_seisseg.training import TrainConfig

pytestmark = pytest.mark.gui


def test_controls_derive_from_the_settings(qtbot):
    from napari_seisseg._widgets.train_options import TrainOptions

    options = TrainOptions(lambda: None)
    for name in ("device", "loss", "position"):
        box = getattr(options, name)
        assert tuple(box.choices) == setting_choices(name), name
        assert box.value == setting_word(name, setting_default(name)), name
    assert options.lr.value == setting_default("lr")
    assert options.val_fraction.value == setting_default("val_fraction")
    assert options.seed.value == setting_default("seed")
    kwargs = options.config_kwargs("unet2d")
    config = TrainConfig(**kwargs)
    config.validate()
    for name in ("lr", "ema", "seed", "device", "loss", "val_fraction", "position"):
        assert getattr(config, name) == getattr(TrainConfig(), name), name
