"""What is painted, in survey terms."""

from __future__ import annotations

import numpy as np

from napari_seisseg.bundle.classes import ClassInfo
from napari_seisseg.io.geometry import SurveyGeometry
from napari_seisseg.training.labels import summarize_labels
from napari_seisseg.training.painted_summary import MAX_LISTED, describe_painted


def test_painted_summary_lists_a_few_sections_and_counts_the_rest():
    target = np.zeros((30, 20, 40), np.uint8)  # canonical order: inline, crossline, sample
    target[::2] = 1  # 15 whole inlines
    target[1, 3] = 2  # one crossline's trace on the inline between two painted ones
    g = SurveyGeometry(kind="cube", n_samples=40, dt=2.0, t0=1000.0, domain="depth", unit="m",
                       ilines=np.arange(500, 530), xlines=np.arange(10, 50, 2))
    classes = [ClassInfo(1, "sand", (1.0, 0.0, 0.0, 1.0)), ClassInfo(2, "shale", (0, 1, 0, 1.0))]
    summary = summarize_labels(target, classes, ["inline", "crossline", "sample"])
    text = describe_painted(summary, g)
    listed = ", ".join(str(500 + 2 * i) for i in range(MAX_LISTED))
    assert f"inlines {listed}, … (15 in all)" in text, text
    assert "crossline 16" in text  # one crossline: singular, its number
