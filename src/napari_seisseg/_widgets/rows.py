"""Rows and boxes of controls that sit inside a form without margins of their own."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from magicgui.widgets import Container, Widget

__all__ = ["tight_box"]


def tight_box(widgets: Sequence[Widget], tooltip: str, *, layout: str = "horizontal",
              label: str | None = None) -> Container:
    """A Container of ``widgets`` without margins, unlabeled inside, to stand as one row.

    Parameters
    ----------
    widgets : sequence of Widget
        The controls, in order.
    tooltip : str
        The box's tooltip.
    layout : {"horizontal", "vertical"}
        How the controls are laid out.
    label : str, optional
        The label of the row in a labeled form.
    """
    extra: dict[str, Any] = {} if label is None else {"label": label}
    box = Container(layout=layout, labels=False, widgets=list(widgets), tooltip=tooltip, **extra)
    box.margins = (0, 0, 0, 0)
    return box
