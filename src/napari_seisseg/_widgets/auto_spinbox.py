"""A whole-number spin box whose 0 shows as a word: "auto" (chosen for you), "detect"...

magicgui's :class:`~magicgui.widgets.SpinBox` is drawn by superqt's ``QLargeIntSpinBox``,
which cannot show a special value's text; :class:`AutoSpinBox` is a
:class:`~magicgui.widgets.FloatSpinBox` (a Qt ``QDoubleSpinBox``) without decimals, whose
minimum shows as ``special`` while :attr:`value` stays the whole number 0 that the
settings read.
"""

from __future__ import annotations

from typing import Any

from magicgui.widgets import FloatSpinBox

__all__ = ["AutoSpinBox"]


class AutoSpinBox(FloatSpinBox):
    """A spin box of whole numbers from 0, its 0 shown as ``special``.

    Parameters
    ----------
    special : str
        Text shown for the minimum (0 unless ``min`` says otherwise), e.g. "auto".
    **kwargs
        Arguments of :class:`~magicgui.widgets.FloatSpinBox` (``label``, ``value``,
        ``max``, ``step``, ``tooltip``...); ``min`` defaults to 0 and ``step`` to 1.
    """

    def __init__(self, special: str = "auto", **kwargs: Any) -> None:
        kwargs.setdefault("min", 0)
        kwargs.setdefault("step", 1)
        super().__init__(**kwargs)
        self.native.setDecimals(0)
        self.native.setSpecialValueText(special)

    def get_value(self) -> int:
        """The value, a whole number (0 when ``special`` is shown)."""
        return int(round(float(super().get_value())))
