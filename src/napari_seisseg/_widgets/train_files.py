"""Save model… and Load model… of the Train widget: bundle files in and out of the session.

:class:`ModelFiles` is mixed into the Train widget; it uses the widget's ``current``
entry, its status line, ``_fail`` and ``_set_current``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..store import ModelEntry, bundle_file_name, save_entry
from .dialogs import bundle_dialog, given_or_asked

__all__ = ["ModelFiles"]


class ModelFiles:
    """Write the current model's bundle; read a bundle into the session's model store."""

    current: ModelEntry | None
    status: Any

    def save_model(self, path: str | Path | None = None) -> Path | None:
        """Write the current model's bundle at exactly ``path`` (a file dialog when None).

        Returns
        -------
        pathlib.Path or None
            The path written, or None (no model, dialog cancelled, or an error, shown as a
            notification).
        """
        from ..errors import SeisSegError

        entry = self.current
        if entry is None:
            return self._fail("no model to save yet; train or load one first")
        path = given_or_asked(path, lambda: bundle_dialog(
            self, "Save model", save=True, suggested=bundle_file_name(entry.name)))
        if path is None:
            return None
        try:
            out = save_entry(entry, path)
        except (SeisSegError, OSError) as exc:
            return self._fail(str(exc))
        self.status.set("done", f"saved '{entry.name}' to {out}")
        return out

    def load_model(self, path: str | Path | None = None) -> ModelEntry | None:
        """Load a model bundle into the session's model store and make it current.

        Returns
        -------
        ModelEntry or None
            The new store entry, or None (dialog cancelled, or an error shown as a
            notification).
        """
        from ..bundle.card import class_names_line, model_name
        from ..errors import SeisSegError
        from ..store import load_into_store

        path = given_or_asked(path, lambda: bundle_dialog(self, "Load model"))
        if path is None:
            return None
        try:
            entry = load_into_store(path, name=Path(path).stem)
        except (SeisSegError, OSError) as exc:
            return self._fail(str(exc))
        card = entry.card
        self._set_current(entry)
        classes = class_names_line(card)
        self.status.set("done", f"loaded '{entry.name}' ({model_name(card)}; {classes}); "
                                "choose it in 'start from' to fine-tune")
        return entry
