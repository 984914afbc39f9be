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


def test_log_file_gets_few_whole_lines(monkeypatch):
    # 2000 moves within well under LOG_REDRAW_S: nothing (the first bar redrew on every move,
    # thousands of carriage-return lines in a log; the next drew a few that ran into the
    # lines printed between them)
    text = _run_bar(monkeypatch, io.StringIO())
    assert text == ""
    clock = iter(range(0, 10_000, 7))  # 7 s a move: a line at 35 s and every 35 s after
    monkeypatch.setattr(printer.time, "monotonic", lambda: float(next(clock)))
    text = _run_bar(monkeypatch, io.StringIO(), steps=20)
    lines = text.splitlines()
    assert "\r" not in text and len(lines) == 4 and text.endswith("\n")
    assert lines[0] == "writing out.npy: 20% (35 s)" and lines[-1] == "writing out.npy: 95% (2 min 20 s)"


def test_training_lines_in_a_log_are_never_cut_by_the_bar(monkeypatch, capsys):
    from napari_seisseg.training import Note

    monkeypatch.setattr(sys, "stderr", io.StringIO())
    with printer.TrainingPrinter(enabled=True) as p:
        p.start()
        p(Note("look here"))
    assert capsys.readouterr().out == "note: look here\n"
    assert sys.stderr.getvalue() == ""


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


def test_prediction_printer_moves_the_bar_and_keeps_the_last_event():
    from napari_seisseg.inference import PredictionFinished, PredictionProgress, PredictionStarted

    seen: list[float] = []
    p = printer.PredictionPrinter(seen.append)
    p(PredictionStarted(total=4, unit="windows", device="cpu", shape=(2, 2, 2), window=(2, 2, 2)))
    p(PredictionProgress(done=1, total=4))
    done = PredictionFinished(total=4, seconds=1.0, voxels_per_second=8.0)
    p(done)
    assert seen == [0.0, 0.25] and p.finished is done


def test_training_printer_prints_notes_and_closing_lines(capsys):
    from napari_seisseg.training import Note

    with printer.TrainingPrinter(enabled=False) as train_printer:
        train_printer(Note("look here"))
        train_printer(Note("Scoring the kept model…", "progress"))
    with printer.TrainingPrinter(enabled=False, pretraining=True) as pretrain_printer:
        pretrain_printer(Note("cached for later"))
        pretrain_printer(Note("labels not used", "warning"))
    out = capsys.readouterr()
    assert out.out.splitlines() == ["note: look here", "Scoring the kept model…",
                                    "cached for later"]
    assert out.err.splitlines() == ["warning: labels not used"]


def test_epoch_line():
    from types import SimpleNamespace

    metrics = {"classes": [{"name": "salt", "iou": 0.5}, {"value": 2, "iou": float("nan")}],
               "mean_iou": 0.25}
    event = SimpleNamespace(epoch=3, train_loss=0.12345, metrics=metrics, lr=1e-3, elapsed_s=12.4,
                            is_best=True)
    line = printer.epoch_line(event)
    assert line.startswith("epoch   3  loss 0.1235  val mIoU")
    assert "IoU: salt 0.500 2 -" in line and line.endswith("12 s  *best*")
