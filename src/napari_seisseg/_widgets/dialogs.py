"""File dialogs of the widgets: model bundles and pipeline JSON files."""

from __future__ import annotations

from typing import Any

__all__ = ["bundle_dialog", "pipeline_dialog"]

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
