"""Models available to the widgets of this napari session.

The Train widget adds the model it has just trained (and "Load model" adds bundles read
from disk); the Predict widget lists what is here, so a model is usable the moment it
exists. Entries are ``name -> ModelEntry``; ``changed`` fires whenever the set changes.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from psygnal import Signal

from ..store import MODEL_DIR_ENV, model_dir


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
        return self._entries.get(name)

    def names(self) -> list[str]:
        return list(self._entries)

    def entries(self) -> list[ModelEntry]:
        return list(self._entries.values())

    def unique_name(self, base: str) -> str:
        """``base``, or ``base (2)``, ``base (3)``... if taken."""
        name, i = base, 2
        while name in self._entries:
            name, i = f"{base} ({i})", i + 1
        return name

    def clear(self) -> None:
        self._entries.clear()
        self.changed.emit()


#: The session's store, shared by the Train and Predict widgets.
MODEL_STORE = ModelStore()

#: Environment variable naming the folder for automatically saved models.
AUTOSAVE_ENV = MODEL_DIR_ENV
#: Automatically saved models kept; older ones in the folder are removed.
AUTOSAVE_KEEP = 20


def autosave_dir() -> Path:
    """Where the Train widget saves every model it trains (``$SEISSEG_MODEL_DIR``, else the
    user data folder, e.g. ``~/.local/share/napari-seisseg/models`` on Linux)."""
    return model_dir()


def autosave_path(name: str, folder: Path | None = None) -> Path:
    """A new file in :func:`autosave_dir` for a model named ``name`` (time-stamped, unique)."""
    folder = autosave_dir() if folder is None else folder
    keep = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_.") or "model"
    stem = f"{time.strftime('%Y%m%d-%H%M%S')}-{keep[:80]}"
    path, i = folder / f"{stem}.safetensors", 2
    while path.exists():
        path, i = folder / f"{stem}-{i}.safetensors", i + 1
    return path


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
