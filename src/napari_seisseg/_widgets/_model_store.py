"""Models available to the widgets of this napari session.

The Train widget adds the model it has just trained (and "Load model" adds bundles read
from disk); the Predict widget lists what is here, so a model is usable the moment it
exists. Entries are ``name -> ModelEntry``; ``changed`` fires whenever the set changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from psygnal import Signal


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
