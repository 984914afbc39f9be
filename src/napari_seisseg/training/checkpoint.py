"""Checkpoints of a running training, so a killed run does not lose its best model.

Every few minutes of training (:data:`CHECKPOINT_MINUTES`), when the kept model has changed
since the last checkpoint, it is written as an ordinary bundle to the model store's
``checkpoints`` folder (:func:`napari_seisseg.store.checkpoint_dir`), with a small JSON file
beside it saying which run it belongs to.  A run that ends (finished, stopped, out of
budget) removes its checkpoint: its caller holds the result.  A run that is killed
(kill -9, power loss, out of memory, a crash) leaves it, and the next training on the same
cube offers it (:func:`find_checkpoints`, :meth:`CheckpointInfo.describe`).
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

#: Minutes of training between two checkpoints (at most; saved at the next epoch end).
CHECKPOINT_MINUTES = 5.0


@dataclass
class CheckpointInfo:
    """A checkpoint left by a run that did not end (read from its JSON file).

    Attributes
    ----------
    path : pathlib.Path
        The bundle (load it with :func:`~napari_seisseg.training.load_bundle`, or fine-tune
        from it: ``seisseg train --init PATH``).
    model : str
        Architecture name.
    image : str
        What the run trained on (a file path or a layer name).
    survey : str
        Fingerprint of that cube (:func:`~napari_seisseg.training.pretrain.cube_fingerprint`).
    saved : float
        When the checkpoint was written (seconds since the epoch).
    epoch : int
        Epoch of the kept model.
    validation : float or None
        Its validation mean IoU over the painted classes.
    pid : int
        Process that wrote it.
    """

    path: Path
    model: str
    image: str
    survey: str
    saved: float
    epoch: int
    validation: float | None
    pid: int

    def describe(self) -> str:
        """One sentence for the user: what stopped when, and where its best model is."""
        when = time.localtime(self.saved)
        at = time.strftime("%H:%M" if time.strftime("%Y%m%d") == time.strftime("%Y%m%d", when)
                           else "%Y-%m-%d %H:%M", when)
        score = f"validation {self.validation:.2f}, " if self.validation is not None else ""
        return (f"a run of {self.model} on {self.image} stopped at {at}; its best model "
                f"({score}epoch {self.epoch}) is at {self.path}")


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def find_checkpoints(survey: str | None = None, folder: str | os.PathLike | None = None
                     ) -> list[CheckpointInfo]:
    """Checkpoints of runs that did not end, newest first.

    Parameters
    ----------
    survey : str, optional
        Only those of this cube (its fingerprint); None: all.
    folder : path, optional
        Where to look (default: the model store's ``checkpoints`` folder).

    Returns
    -------
    list of CheckpointInfo
        Runs still going in another process are left out, and so are unreadable files.
    """
    from ..store import checkpoint_dir

    folder = Path(folder) if folder is not None else checkpoint_dir()
    found = []
    for meta in folder.glob("*.json") if folder.is_dir() else ():
        try:
            d = json.loads(meta.read_text())
            info = CheckpointInfo(
                path=meta.with_suffix(".safetensors"), model=str(d["model"]),
                image=str(d["image"]), survey=str(d["survey"]), saved=float(d["saved"]),
                epoch=int(d["epoch"]), validation=d.get("validation"), pid=int(d["pid"]),
            )
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if not info.path.exists() or _running(info.pid):
            continue
        if survey is None or info.survey == survey:
            found.append(info)
    return sorted(found, key=lambda c: -c.saved)


class Checkpointer:
    """Writes a run's kept model every ``every_s`` seconds of training (when it changed).

    Parameters
    ----------
    model_name : str
        Architecture name (for the description).
    image : str
        What the run trains on (a file path or a layer name).
    survey : str or callable
        Fingerprint of the cube, or a function giving it (called at the first checkpoint:
        a short run never reads the cube for it).
    every_s : float
        Seconds of training between checkpoints.
    folder : path, optional
        Where to write (default: the model store's ``checkpoints`` folder).
    """

    def __init__(self, model_name: str, image: str, survey: str | Callable[[], str],
                 every_s: float, folder: str | os.PathLike | None = None):
        from ..store import checkpoint_dir

        self.folder = Path(folder) if folder is not None else checkpoint_dir()
        stamp = time.strftime("%Y%m%d-%H%M%S")
        self.path = self.folder / f"{stamp}-{model_name}-{os.getpid()}.safetensors"
        self.model_name, self.image, self.survey = model_name, image, survey
        self.every_s = float(every_s)
        self.last_s = 0.0
        self.saved_epoch: int | None = None

    def due(self, elapsed_s: float, best_epoch: int | None) -> bool:
        """Whether a checkpoint should be written now."""
        return (best_epoch is not None and best_epoch != self.saved_epoch
                and elapsed_s - self.last_s >= self.every_s)

    def save(self, model: torch.nn.Module, card: dict[str, Any], elapsed_s: float,
             epoch: int, validation: float | None) -> Path:
        """Write the bundle and its JSON file (both atomically)."""
        from ..io.atomic import atomic_write_text
        from .bundle import save_bundle

        if callable(self.survey):
            self.survey = self.survey()
        self.folder.mkdir(parents=True, exist_ok=True)
        save_bundle(self.path, model, card)
        atomic_write_text(self.path.with_suffix(".json"), json.dumps({
            "model": self.model_name, "image": self.image, "survey": self.survey,
            "saved": time.time(), "epoch": int(epoch),
            "validation": None if validation is None else round(float(validation), 4),
            "pid": os.getpid(), "elapsed_s": round(elapsed_s, 1),
        }, indent=1))
        self.last_s, self.saved_epoch = elapsed_s, epoch
        return self.path

    def discard(self) -> None:
        """Remove this run's checkpoint (the run ended; its caller holds the result)."""
        for p in (self.path, self.path.with_suffix(".json")):
            with contextlib.suppress(FileNotFoundError):
                p.unlink()
