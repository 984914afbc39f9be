"""Rows of controls without margins (_widgets.rows)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.gui


def test_tight_box_holds_the_widgets_in_order_without_margins(qtbot):
    from magicgui.widgets import Label, PushButton

    from napari_seisseg._widgets.rows import tight_box

    a, b = PushButton(text="A"), Label(value="b")
    row = tight_box([a, b], "Two controls.", label="pair")
    assert list(row) == [a, b]
    assert (row.layout, row.labels, row.label, row.tooltip) == ("horizontal", False, "pair", "Two controls.")
    assert tuple(row.margins) == (0, 0, 0, 0)
    column = tight_box([Label(value="c")], "One.", layout="vertical")
    assert column.layout == "vertical"
