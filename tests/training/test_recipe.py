"""model="auto": the recipe follows the kind of task and says why."""

from __future__ import annotations

import numpy as np
from training_helpers import toy_cube

from napari_seisseg.jobs import drain
from napari_seisseg.training import TrainConfig, train
from napari_seisseg.training.recipe import is_tile_stack, resolve_model


def test_a_stack_of_small_tiles_gets_the_tile_recipe_and_a_survey_unet2d():
    assert is_tile_stack((2400, 101, 101), (0,))
    assert not is_tile_stack((2400, 101, 101), None)  # sections of a cube: every axis
    assert not is_tile_stack((36, 512, 1536), (0,))  # large sections
    assert not is_tile_stack((10, 101, 101), (0,))  # too few to call a stack
    cfg, note = resolve_model(TrainConfig(), (2400, 101, 101), (0,))
    assert cfg.model == "resunet" and cfg.model_kwargs["output_stride"] == 4
    assert cfg.patch_size == 96 and cfg.batch_size == 32 and cfg.lr == 1.5e-3
    assert not cfg.augment.flip_time and "tiles" in note
    # what the user set is kept
    mine = TrainConfig(patch_size=64, lr=5e-4, model_kwargs={"width": 16})
    cfg, _ = resolve_model(mine, (2400, 101, 101), (0,))
    assert cfg.patch_size == 64 and cfg.lr == 5e-4 and cfg.model_kwargs["width"] == 16
    cfg, note = resolve_model(TrainConfig(), (36, 512, 1536), None)
    assert cfg.model == "unet2d" and "survey" in note
    explicit = TrainConfig(model="resunet")
    assert resolve_model(explicit, (36, 512, 1536), None) == (explicit, None)


def test_auto_is_resolved_in_the_run_and_the_card_names_the_model():
    image, truth = toy_cube()
    labels = np.zeros_like(truth)
    labels[[2, 8]] = truth[[2, 8]]
    cfg = TrainConfig(model_kwargs={"width": 4, "depth": 2}, patch_size=16, epochs=1,
                      steps_per_epoch=1, batch_size=2)
    events = []
    result = drain(train(image, labels, cfg), events.append)
    assert result.card["model"]["name"] == "unet2d"
    assert result.card["training"]["config"]["model"] == "unet2d"
    assert any(getattr(e, "text", "").startswith("model auto: unet2d") for e in events)
