"""File dialogs of the widgets: model bundles and pipeline JSON files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["bundle_dialog", "given_or_asked", "pipeline_dialog"]

_BUNDLES = "Model bundles (*.safetensors *.seisseg);;All files (*)"
_PIPELINES = "Pipeline JSON (*.json)"


def bundle_dialog(widget: Any, title: str, *, save: bool = False,
                  suggested: str = "model.safetensors") -> str | None:
    """Ask for a model bundle file to write (``save``) or read; None when cancelled.

    Reading starts in the model store folder, where the Train widget saves every model it
    trains (when it exists).
    """
    from qtpy.QtWidgets import QFileDialog

    from ..store import model_dir

    if save:
        path, _ = QFileDialog.getSaveFileName(widget.native, title, suggested, _BUNDLES)
    else:
        start = model_dir()
        path, _ = QFileDialog.getOpenFileName(widget.native, title,
                                              str(start) if start.is_dir() else "", _BUNDLES)
    return path or None


def pipeline_dialog(widget: Any, *, save: bool) -> str | None:
    """Ask for a pipeline JSON file to write (``save``) or read; None when cancelled."""
    from qtpy.QtWidgets import QFileDialog

    if save:
        path, _ = QFileDialog.getSaveFileName(widget.native, "Save pipeline", "pipeline.json",
                                              _PIPELINES)
    else:
        path, _ = QFileDialog.getOpenFileName(widget.native, "Load pipeline", "", _PIPELINES)
    return path or None


def given_or_asked(path: str | Path | None, ask: Callable[[], str | None]) -> str | Path | None:
    """``path`` when the caller gives one, else what the dialog ``ask`` opens returns.

    Parameters
    ----------
    path : str or pathlib.Path or None
        The file a caller (a test, a script) names; None to ask the user.
    ask : callable
        Opens a file dialog; returns the chosen path, or None when cancelled.

    Returns
    -------
    str or pathlib.Path or None
        The file to use, or None when the dialog was cancelled.
    """
    return ask() if path is None else path
