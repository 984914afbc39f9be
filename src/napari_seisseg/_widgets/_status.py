"""A status line every widget shows: idle, running, done, or failed with the reason."""

from __future__ import annotations

from magicgui.widgets import Label

_COLORS = {"idle": "#9aa0a6", "running": "#4fa3ff", "done": "#4caf50", "failed": "#ef5350"}


class StatusLabel(Label):
    """A label whose text is prefixed and coloured by state."""

    def __init__(self) -> None:
        super().__init__(value="")
        self.native.setWordWrap(True)
        self.set("idle", "ready")

    def set(self, state: str, message: str) -> None:
        """Show ``message`` in the colour of ``state`` (idle, running, done, failed)."""
        self.state = state
        self.value = f"{state}: {message}"
        self.native.setStyleSheet(f"color: {_COLORS.get(state, '#cccccc')};")
