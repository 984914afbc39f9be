"""Helpers shared by the Train widget's tests."""

from __future__ import annotations


def tiny(w, epochs: int = 2, steps: int = 3) -> None:
    """Settings for a fast run of the Train widget ``w``: a tiny model and an epoch budget."""
    w.advanced.model_width.value = 4
    w.advanced.patch.value = 32
    w.advanced.batch.value = 2
    w.advanced.steps_per_epoch.value = steps
    w.set_budget(epochs, "epochs")


def errors(notifications) -> list[str]:
    """The messages of the error notifications collected by the ``notifications`` fixture."""
    return [str(n.message) for n in notifications if "error" in str(n.severity).lower()]
