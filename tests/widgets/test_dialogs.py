"""A file named by the caller, else asked for in a dialog (_widgets.dialogs)."""

from __future__ import annotations

from pathlib import Path

from napari_seisseg._widgets.dialogs import given_or_asked


def test_a_given_path_is_used_without_opening_the_dialog():
    def ask():
        raise AssertionError("the dialog must not open")

    assert given_or_asked(Path("m.safetensors"), ask) == Path("m.safetensors")
    assert given_or_asked("", ask) == ""


def test_without_a_path_the_dialog_answers_and_none_means_cancelled():
    assert given_or_asked(None, lambda: "p.json") == "p.json"
    assert given_or_asked(None, lambda: None) is None
