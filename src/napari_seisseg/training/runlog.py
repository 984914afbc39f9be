"""The run folder: the settings and a metrics CSV with one row per epoch.

``config.json``
    The training settings, the classes, the device and how the validation split was made.
``metrics.csv``
    Per epoch: steps, elapsed seconds, learning rate, training loss, validation mean IoU,
    accuracy, threshold (binary tasks), and IoU / Dice / precision / recall per class.
``model.safetensors``
    The final (best) bundle, written when the run ends.
"""

from __future__ import annotations

import csv
import json
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..bundle.storage import json_safe
from ..errors import SeisSegError
from ..io.atomic import atomic_write_text

__all__ = ["RUN_FILES", "RunLog"]

#: The files a run writes into its folder.
RUN_FILES = ("config.json", "metrics.csv", "model.safetensors")

_SCORES = ("iou", "dice", "precision", "recall")


class RunLog:
    """Writer of a run folder.

    Parameters
    ----------
    folder : path
        Created if missing.
    class_names : sequence of str
        Names of the classes (CSV column suffixes).
    """

    def __init__(self, folder: str | os.PathLike, class_names: Sequence[str]):
        self.folder = Path(folder)
        if self.folder.exists() and not self.folder.is_dir():
            raise SeisSegError(f"The run folder {self.folder} is a file; give a folder.")
        self.folder.mkdir(parents=True, exist_ok=True)
        self.class_names = [str(n) for n in class_names]
        self.columns = [
            "epoch",
            "steps",
            "elapsed_s",
            "lr",
            "train_loss",
            "val_mean_iou",
            "val_accuracy",
            "threshold",
        ]
        for i, name in enumerate(self.class_names):
            key = "".join(ch if ch.isalnum() else "_" for ch in name) or f"class{i}"
            self.columns += [f"{s}_{key}" for s in _SCORES]
        self.metrics_path = self.folder / "metrics.csv"
        with open(self.metrics_path, "w", newline="") as fh:
            csv.writer(fh).writerow(self.columns)

    @property
    def bundle_path(self) -> Path:
        """Where the final bundle is written."""
        return self.folder / "model.safetensors"

    def write_config(self, config: Mapping[str, Any]) -> Path:
        """Write ``config.json``."""
        path = self.folder / "config.json"
        atomic_write_text(path, json.dumps(json_safe(config), indent=2))
        return path

    def log_epoch(
        self,
        *,
        epoch: int,
        steps: int,
        elapsed_s: float,
        lr: float,
        train_loss: float,
        metrics: Mapping[str, Any] | None,
    ) -> None:
        """Append one row to ``metrics.csv``."""
        row: list[Any] = [epoch, steps, f"{elapsed_s:.2f}", f"{lr:.3g}", _fmt(train_loss)]
        if metrics:
            row += [
                _fmt(metrics.get("mean_iou")),
                _fmt(metrics.get("accuracy")),
                _fmt(metrics.get("threshold")),
            ]
            for c in metrics.get("classes", []):
                row += [_fmt(c.get(s)) for s in _SCORES]
        row += [""] * (len(self.columns) - len(row))
        with open(self.metrics_path, "a", newline="") as fh:
            csv.writer(fh).writerow(row)


def _fmt(v: Any) -> str:
    if v is None:
        return ""
    f = float(v)
    return "" if math.isnan(f) else f"{f:.6g}"
