"""Progress bars: live in a terminal, a few lines in a log file."""

from __future__ import annotations

import io
import sys

import pytest

from napari_seisseg.cli import printer


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _run_bar(monkeypatch: pytest.MonkeyPatch, stream: io.StringIO, steps: int = 2000) -> str:
    monkeypatch.setattr(sys, "stderr", stream)
    with printer.progress_bar("writing out.npy") as update:
        for i in range(steps + 1):
            update(i / steps)
    return stream.getvalue()


def test_log_file_gets_few_redraws(monkeypatch):
    # 2000 moves within well under LOG_REDRAW_S: the opening line and little else (the old
    # bar redrew on every move, thousands of carriage-return lines in a log)
    text = _run_bar(monkeypatch, io.StringIO())
    assert 1 <= text.count("writing out.npy") <= 3


def test_terminal_bar_is_drawn(monkeypatch):
    text = _run_bar(monkeypatch, _Terminal(), steps=50)
    assert "writing out.npy" in text
    assert "%" in text


def test_disabled_bar_writes_nothing(monkeypatch):
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    with printer.progress_bar("quiet", enabled=False) as update:
        update(0.5)
        update(1.0)
    assert stream.getvalue() == ""


def test_bar_reaches_the_position_it_is_moved_to(monkeypatch):
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    bar = printer.new_bar(10)
    for n in (3, 7, 5, 10):
        printer.move_bar(bar, n)
        assert bar.n == n
    bar.close()
