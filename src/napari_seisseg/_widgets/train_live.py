"""The Train widget's live-training pieces: preview choices, run notes, the latest model,
and the one-click prediction of the whole cube in the Predict widget.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..store import MODEL_STORE, ModelEntry
from .live_preview import preview_choices

__all__ = ["add_latest_entry", "predict_in_widget", "set_preview_choices", "show_note"]


def set_preview_choices(control: Any, classes: list[Any], binary: bool) -> None:
    """Offer ``off``, ``mask`` and each class's probability; keep the choice when offered."""
    choices = preview_choices(classes, binary)
    value = control.value
    control.choices = choices
    control.value = value if value in choices else "mask"


def show_note(event: Any, fail: Callable[[str], Any]) -> None:
    """A run's note as a notification (an error also goes to the status line)."""
    from napari.utils.notifications import show_info, show_warning

    if event.level == "error":
        fail(event.text)
    else:
        (show_warning if event.level == "warning" else show_info)(f"Train: {event.text}")


def add_latest_entry(result: Any, base: str) -> ModelEntry | None:
    """Put a live run's latest weights in the session's store as ``<base> latest``.

    Only when they differ from the best (scored at another epoch); returns the entry.
    """
    latest = getattr(result, "distinct_latest", None)
    if latest is None:
        return None
    entry = ModelEntry(MODEL_STORE.unique_name(f"{base} latest"), latest.model, latest.card,
                       latest.bundle_path)
    MODEL_STORE.add(entry)
    return entry


def predict_in_widget(viewer: Any, image: Any, model: str,
                      fail: Callable[[str], Any]) -> Any:
    """Predict the whole of ``image`` with the store model ``model`` in the Predict widget.

    The Predict widget is opened (or the open one used), set to the image and the model,
    with "current slice only" off, and started: its progress, Cancel and result layers are
    the usual ones.

    Returns
    -------
    worker or None
        The Predict widget's worker (None when refused: the reason went to ``fail``).
    """
    if image is None:
        return fail("choose the image to predict in 'image'")
    if image not in viewer.layers:
        return fail(f"the image '{image.name}' is no longer in the viewer")
    dock, widget = viewer.window.add_plugin_dock_widget("napari-seisseg", "Predict")
    dock.show()
    dock.raise_()
    if widget.worker is not None:
        return fail("the Predict widget is busy with another prediction; wait for it or "
                    "cancel it, then press Predict cube again")
    widget.layer.reset_choices()
    widget.model.reset_choices()
    widget.layer.value = image
    widget.model.value = model
    one_slice = widget.current_slice.value
    widget.current_slice.value = False  # the whole cube; the user's choice is given back
    try:
        return widget.predict()
    finally:
        widget.current_slice.value = one_slice
