"""Where the plugin keeps models: the model store folder, and the models of this session.

``$SEISSEG_MODEL_DIR`` when set, else the user data folder (``~/.local/share/napari-seisseg/
models`` on Linux).  The Train widget saves every model it trains there; pretrainings of
each survey are cached in its ``pretrained`` subfolder (:mod:`napari_seisseg.training.pretrain`);
running trainings keep their best model so far in ``checkpoints``
(:mod:`napari_seisseg.training.checkpoint`).

The models of a napari session (:data:`MODEL_STORE`): the Train widget adds the model it has
just trained (and "Load model" adds bundles read from disk); the Predict widget lists what is
here, so a model is usable the moment it exists. Entries are ``name -> ModelEntry``;
``changed`` fires whenever the set changes.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from psygnal import Signal

__all__ = [
    "AUTOSAVE_KEEP",
    "MODEL_DIR_ENV",
    "MODEL_STORE",
    "ModelEntry",
    "ModelStore",
    "autosave_path",
    "bundle_file_name",
    "checkpoint_dir",
    "load_into_store",
    "model_dir",
    "pretrained_dir",
    "prune_autosaves",
    "save_entry",
]

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


@dataclass
class ModelEntry:
    """A trained model with its JSON model card, and the bundle file it lives in (if saved)."""

    name: str
    model: Any
    card: dict
    path: Path | None = None


class ModelStore:
    """An ordered, observable set of models (one per napari session)."""

    changed = Signal()

    def __init__(self) -> None:
        self._entries: dict[str, ModelEntry] = {}

    def add(self, entry: ModelEntry) -> ModelEntry:
        """Add (or replace, by name) a model and notify listeners."""
        self._entries[entry.name] = entry
        self.changed.emit()
        return entry

    def remove(self, name: str) -> None:
        """Forget a model."""
        if self._entries.pop(name, None) is not None:
            self.changed.emit()

    def get(self, name: str) -> ModelEntry | None:
        """The model named ``name``, or None."""
        return self._entries.get(name)

    def names(self) -> list[str]:
        """Names of the models, in the order they were first added."""
        return list(self._entries)

    def entries(self) -> list[ModelEntry]:
        """The models, in the order they were first added."""
        return list(self._entries.values())

    def unique_name(self, base: str) -> str:
        """``base``, or ``base (2)``, ``base (3)``... if taken."""
        name, i = base, 2
        while name in self._entries:
            name, i = f"{base} ({i})", i + 1
        return name

    def clear(self) -> None:
        """Forget every model and notify listeners."""
        self._entries.clear()
        self.changed.emit()


#: The session's store, shared by the Train and Predict widgets.
MODEL_STORE = ModelStore()

def load_into_store(path: str | Path, name: str | None = None) -> Any:
    """Add the bundle at ``path`` to the session's models (not made the current one).

    ``name`` (made unique) defaults to ``checkpoint <file stem>``; the new
    :class:`ModelEntry` is returned.
    """
    from .bundle import load_bundle

    model, card = load_bundle(path)
    name = MODEL_STORE.unique_name(name or f"checkpoint {Path(path).stem}")
    return MODEL_STORE.add(ModelEntry(name, model, card, Path(path)))


def save_entry(entry: ModelEntry, path: str | Path) -> Path:
    """Write ``entry``'s bundle at exactly ``path``; the entry now lives there.

    Returns
    -------
    pathlib.Path
        The path written (``entry.path`` too; the store is notified).

    Raises
    ------
    SeisSegError or OSError
        The bundle could not be written.
    """
    from .bundle import save_bundle

    out = Path(save_bundle(path, entry.model, entry.card))
    entry.path = out
    MODEL_STORE.add(entry)
    return out


#: Automatically saved models kept; older ones in the folder are removed.
AUTOSAVE_KEEP = 20


def autosave_path(name: str, folder: Path | None = None) -> Path:
    """A new file in the model store folder (:func:`model_dir`, where the Train widget saves
    every model it trains) for a model named ``name`` (time-stamped, unique)."""
    folder = model_dir() if folder is None else folder
    keep = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_.") or "model"
    stem = f"{time.strftime('%Y%m%d-%H%M%S')}-{keep[:80]}"
    path, i = folder / f"{stem}.safetensors", 2
    while path.exists():
        path, i = folder / f"{stem}-{i}.safetensors", i + 1
    return path


def bundle_file_name(name: str) -> str:
    """A file name for the bundle of a model named ``name`` (what Save model… suggests)."""
    keep = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)
    return f"{keep.strip('_') or 'model'}.safetensors"


#: Names :func:`autosave_path` gives; only such files are ever pruned.
_AUTOSAVE_NAME = re.compile(r"^\d{8}-\d{6}-.+\.safetensors$")


def prune_autosaves(folder: Path, keep: int = AUTOSAVE_KEEP) -> list[Path]:
    """Remove all but the ``keep`` newest automatic saves in ``folder``; return those removed.

    Only files named as :func:`autosave_path` names them are considered, so bundles a user
    saved into the same folder under their own names are never touched. Never raises.
    """
    dated = []
    for path in folder.glob("*.safetensors"):
        if _AUTOSAVE_NAME.match(path.name):
            try:
                dated.append((path.stat().st_mtime, path))
            except OSError:  # removed meanwhile (another napari session)
                continue
    dated.sort(reverse=True)
    removed = []
    for _mtime, old in dated[keep:]:
        try:
            old.unlink()
            removed.append(old)
        except OSError:
            pass
    return removed
