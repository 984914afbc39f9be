"""Argument helpers shared by the sub-commands (cli._common)."""

from __future__ import annotations

import argparse

import pytest

from napari_seisseg.cli._common import add_width_depth


def test_width_and_depth_options_parse_positive_ints_and_end_their_help_with_the_note():
    parser = argparse.ArgumentParser()
    add_width_depth(parser, "as you will train")
    args = parser.parse_args(["--width", "16", "--model-depth", "3"])
    assert (args.width, args.model_depth) == (16, 3)
    assert parser.parse_args([]).width is None
    helps = {a.dest: a.help for a in parser._actions}
    assert helps["width"] == "channels of the first stage (as you will train)"
    assert helps["model_depth"] == "number of down-sampling stages (as you will train)"
    with pytest.raises(SystemExit):
        parser.parse_args(["--width", "0"])
