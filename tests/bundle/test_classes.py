"""Class names typed by users: ``parse_class_names`` (the CLI's --class-names, the Train widget)."""

from __future__ import annotations

import pytest

from napari_seisseg.bundle.classes import build_classes, parse_class_names
from napari_seisseg.errors import SeisSegError


def test_names_are_split_on_commas_and_trimmed():
    assert parse_class_names(" sediment,salt ,  top of salt ") == ["sediment", "salt", "top of salt"]
    assert parse_class_names("") == [] and parse_class_names("   ") == [] and parse_class_names(None) == []
    classes = build_classes([1, 2], parse_class_names("sediment, salt"))
    assert [(c.value, c.name) for c in classes] == [(1, "sediment"), (2, "salt")]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("salt,,fault", "An empty class name"),
        ("salt, fault,", "An empty class name"),
        ("salt, Salt", "given twice"),
        ("Unlabeled, salt", "what value 0 means"),
        (",".join(f"c{i}" for i in range(256)), "at most 255"),
    ],
)
def test_bad_names_say_what_to_write(text, message):
    with pytest.raises(SeisSegError, match=message):
        parse_class_names(text)
