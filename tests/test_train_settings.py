"""The training settings are written once: the configuration, the CLI and the widget read them."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import fields

import pytest

from napari_seisseg.train_settings import (
    DEVICES,
    MODEL_CHOICES,
    TRAIN_SETTINGS,
    cli_option,
    setting_choices,
    setting_default,
    setting_word,
)
from napari_seisseg.training import TrainConfig

#: ``seisseg train`` options and the settings they set.
TRAIN_FLAGS = {
    "--model": "model", "--epochs": "epochs", "--minutes": "minutes",
    "--steps-per-epoch": "steps_per_epoch", "--lr": "lr", "--lr-schedule": "lr_schedule",
    "--early-stopping": "early_stopping", "--keep": "keep", "--ema": "ema", "--seed": "seed", "--device": "device",
    "--precision": "amp", "--loss": "loss", "--class-weights": "class_weights",
    "--zero-is-background": "zero_is_background", "--axes": "axes",
    "--val-fraction": "val_fraction", "--val-join": "val_join", "--position": "position",
    "--pretrained": "pretrained",
    "--run-dir": "run_dir", "--checkpoint-minutes": "checkpoint_minutes",
}


def _options(command: str) -> dict:
    from napari_seisseg.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    return {flag: action for action in sub.choices[command]._actions
            for flag in action.option_strings}


def test_model_choices_are_the_registry_models():
    from napari_seisseg.models import MODELS

    assert MODEL_CHOICES == ("auto", *MODELS)


def test_the_config_takes_its_defaults_and_choices_from_the_settings():
    by_name = {f.name: f for f in fields(TrainConfig)}
    for name, setting in TRAIN_SETTINGS.items():
        assert by_name[name].default == setting.default, name
        assert by_name[name].metadata["setting"] is setting
    for device in DEVICES:
        TrainConfig(device=device).validate()
    for loss in setting_choices("loss"):
        TrainConfig(loss=loss).validate()


def test_train_options_derive_from_the_settings():
    options = _options("train")
    for flag, name in TRAIN_FLAGS.items():
        action = options[flag]
        assert action.help == TRAIN_SETTINGS[name].help, flag
        assert tuple(action.choices or ()) == setting_choices(name), flag
    assert options["--loss"].default == setting_default("loss")
    assert options["--position"].default == setting_word("position", setting_default("position"))
    assert _options("predict")["--device"].choices == DEVICES
    assert tuple(_options("pretrain")["--device"].choices) == DEVICES


def test_train_defaults_make_the_default_config(tmp_path):
    from napari_seisseg.cli import build_parser
    from napari_seisseg.cli.train import build_config

    args = build_parser().parse_args(["train", "--image", "i.npy", "--labels", "l.npy",
                                      "--out", str(tmp_path / "m.safetensors")])
    made, default = build_config(args).to_dict(), TrainConfig().to_dict()
    for name in TRAIN_SETTINGS:
        assert made[name] == default[name], name


def test_cli_option_overrides():
    assert cli_option("epochs", default=None)["default"] is None
    assert cli_option("amp")["choices"] == ("auto", "fp32", "mixed")
    with pytest.raises(KeyError):
        cli_option("no such setting")


def test_the_command_line_builds_without_torch():
    code = ("import sys; from napari_seisseg.cli import build_parser; build_parser(); "
            "assert 'torch' not in sys.modules, 'torch imported'")
    subprocess.run([sys.executable, "-c", code], check=True)
