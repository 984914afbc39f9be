"""Where the plugin keeps models between sessions: the model store folder.

``$SEISSEG_MODEL_DIR`` when set, else the user data folder (``~/.local/share/napari-seisseg/
models`` on Linux).  The Train widget saves every model it trains there; pretrainings of
each survey are cached in its ``pretrained`` subfolder (:mod:`napari_seisseg.training.pretrain`);
running trainings keep their best model so far in ``checkpoints``
(:mod:`napari_seisseg.training.checkpoint`).
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["MODEL_DIR_ENV", "checkpoint_dir", "model_dir", "pretrained_dir"]

#: Environment variable naming the model store folder.
MODEL_DIR_ENV = "SEISSEG_MODEL_DIR"


def model_dir() -> Path:
    """The model store folder (not created here)."""
    env = os.environ.get(MODEL_DIR_ENV)
    if env:
        return Path(env).expanduser()
    try:
        from platformdirs import user_data_dir  # a napari dependency

        return Path(user_data_dir("napari-seisseg", appauthor=False)) / "models"
    except ImportError:  # pragma: no cover - napari always brings it
        return Path.home() / ".local" / "share" / "napari-seisseg" / "models"


def pretrained_dir() -> Path:
    """The cache of pretrained networks, one file per survey and architecture."""
    return model_dir() / "pretrained"


def checkpoint_dir() -> Path:
    """Checkpoints of running (or killed) trainings: the best model so far of each run."""
    return model_dir() / "checkpoints"
