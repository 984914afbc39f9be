"""Checkpoints of a running training, so a killed run does not lose its best model.

Every few minutes of training (``TrainConfig.checkpoint_minutes``, 5 by default), when the
kept model has changed since the last checkpoint, it is written as an ordinary bundle to the model store's
``checkpoints`` folder (:func:`napari_seisseg.store.checkpoint_dir`), with a small JSON file
beside it saying which run it belongs to.  When the run's result is saved
(:meth:`~napari_seisseg.training.TrainResult.save`: the CLI's ``--out``, the Train widget's
automatic save) the checkpoint is removed, and so is the checkpoint a run was started from
(``--init`` / *start from*).  A run that is killed (kill -9, power loss, out of memory, a
crash) leaves it, and the next training on the same cube offers it
(:func:`find_checkpoints`, :meth:`CheckpointInfo.describe`).  At most :data:`KEEP`
checkpoints are kept.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

#: Checkpoints of runs that did not end kept in the folder; older ones are removed.
KEEP = 5
_NAME = re.compile(r"^\d{8}-\d{6}-.+-(\d+)\.(safetensors|json)$")


def _host() -> str:
    return socket.gethostname()


@dataclass
class CheckpointInfo:
    """A checkpoint left by a run that did not end (read from its JSON file).

    Attributes
    ----------
    path : pathlib.Path
        The bundle (load it with :func:`~napari_seisseg.bundle.load_bundle`, or fine-tune
        from it: ``seisseg train --init PATH``).
    model : str
        Architecture name.
    image : str
        What the run trained on (a file path or a layer name).
    survey : str
        Fingerprint of that cube (:func:`~napari_seisseg.training.pretrain_store.cube_fingerprint`).
    saved : float
        When the checkpoint was written (seconds since the epoch).
    epoch : int
        Epoch of the kept model.
    validation : float or None
        Its validation mean IoU over the painted classes.
    pid : int
        Process that wrote it.
    host : str
        Machine that wrote it.
    """

    path: Path
    model: str
    image: str
    survey: str
    saved: float
    epoch: int
    validation: float | None
    pid: int
    host: str = ""

    def describe(self) -> str:
        """One sentence for the user: which run did not finish, and where its best model is."""
        when = time.localtime(self.saved)
        today = time.strftime("%Y%m%d") == time.strftime("%Y%m%d", when)
        at = time.strftime("%H:%M" if today else "%Y-%m-%d %H:%M", when)
        score = f"validation {self.validation:.2f}, " if self.validation is not None else ""
        return (f"a run of {self.model} on {self.image} did not finish; its best model "
                f"({score}epoch {self.epoch}), saved at {at}, is at {self.path}")

    @property
    def running(self) -> bool:
        """Whether the run is still going (in another process of this machine)."""
        from ..io.atomic import pid_alive

        return self.host == _host() and pid_alive(self.pid)


def _folder(folder: str | os.PathLike | None) -> Path:
    from ..store import checkpoint_dir

    return Path(folder) if folder is not None else checkpoint_dir()


def _read(meta: Path) -> CheckpointInfo | None:
    try:
        d = json.loads(meta.read_text())
        return CheckpointInfo(
            path=meta.with_suffix(".safetensors"), model=str(d["model"]), image=str(d["image"]),
            survey=str(d["survey"]), saved=float(d["saved"]), epoch=int(d["epoch"]),
            validation=d.get("validation"), pid=int(d["pid"]), host=str(d.get("host", "")),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def has_checkpoints(folder: str | os.PathLike | None = None) -> bool:
    """Whether the folder holds any checkpoint file (cheap: no cube is read)."""
    f = _folder(folder)
    return f.is_dir() and any(f.glob("*.json"))


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
        Runs still going in another process of this machine are left out, and so are
        unreadable files and files without their bundle.
    """
    folder = _folder(folder)
    found = []
    for meta in sorted(folder.glob("*.json")) if folder.is_dir() else ():
        info = _read(meta)
        if info is None or not info.path.exists() or info.running:
            continue
        if survey is None or info.survey == survey:
            found.append(info)
    return sorted(found, key=lambda c: -c.saved)


def remove_checkpoint(path: str | os.PathLike) -> bool:
    """Remove a checkpoint (its bundle and JSON file) when ``path`` is one.

    Parameters
    ----------
    path : path
        A bundle path (anything else is left alone).

    Returns
    -------
    bool
        True when a checkpoint was removed.
    """
    path = Path(path)
    if not _NAME.match(path.name) or _read(path.with_suffix(".json")) is None:
        return False
    for p in (path.with_suffix(".json"), path.with_suffix(".safetensors")):
        with contextlib.suppress(FileNotFoundError):
            p.unlink()
    return True


def prune(folder: str | os.PathLike | None = None, keep: int = KEEP) -> list[Path]:
    """Keep the ``keep`` newest checkpoints of runs that ended; remove the others.

    Bundles whose JSON file was never written (a kill between the two) are removed too.

    Returns
    -------
    list of pathlib.Path
        The bundles removed.
    """
    from ..io.atomic import pid_alive

    folder = _folder(folder)
    removed = []
    for info in find_checkpoints(folder=folder)[keep:]:
        if remove_checkpoint(info.path):
            removed.append(info.path)
    for bundle in folder.glob("*.safetensors") if folder.is_dir() else ():
        m = _NAME.match(bundle.name)
        if m and not bundle.with_suffix(".json").exists() and not pid_alive(int(m.group(1))):
            with contextlib.suppress(FileNotFoundError):
                bundle.unlink()
            removed.append(bundle)
    return removed


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
        self.folder = _folder(folder)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        safe = re.sub(r"[^A-Za-z0-9_.]", "_", model_name)
        self.path = self.folder / f"{stamp}-{safe}-{os.getpid()}.safetensors"
        self.model_name, self.image, self.survey = model_name, image, survey
        self.every_s = float(every_s)
        self.last_s = 0.0
        self.saved_epoch: int | None = None
        self.failed = False

    def due(self, elapsed_s: float, best_epoch: int | None) -> bool:
        """Whether a checkpoint should be written now.

        Parameters
        ----------
        elapsed_s : float
            Seconds of training so far.
        best_epoch : int or None
            Epoch of the kept model.

        Returns
        -------
        bool
            True when the kept model changed since the last checkpoint and ``every_s``
            passed (never after a failed write).
        """
        return (not self.failed and best_epoch is not None and best_epoch != self.saved_epoch
                and elapsed_s - self.last_s >= self.every_s)

    def save(self, state: Mapping[str, torch.Tensor], card: dict[str, Any], elapsed_s: float,
             epoch: int, validation: float | None) -> Path:
        """Write the bundle, then its JSON file (both atomically).

        Parameters
        ----------
        state : mapping of str to torch.Tensor
            The kept model's weights (on the CPU).
        card : dict
            Its model card.
        elapsed_s : float
            Seconds of training so far.
        epoch : int
            Epoch of the kept model.
        validation : float or None
            Its validation score.

        Returns
        -------
        pathlib.Path
            The bundle.
        """
        from ..bundle.storage import save_bundle
        from ..io.atomic import atomic_write_text

        if callable(self.survey):
            self.survey = self.survey()
        self.folder.mkdir(parents=True, exist_ok=True)
        save_bundle(self.path, state, card)
        atomic_write_text(self.path.with_suffix(".json"), json.dumps({
            "model": self.model_name, "image": self.image, "survey": self.survey,
            "saved": time.time(), "epoch": int(epoch),
            "validation": None if validation is None else round(float(validation), 4),
            "pid": os.getpid(), "host": _host(), "elapsed_s": round(elapsed_s, 1),
        }, indent=1))
        self.last_s, self.saved_epoch = elapsed_s, epoch
        prune(self.folder)
        return self.path

    @property
    def saved(self) -> bool:
        """Whether a checkpoint of this run exists."""
        return self.path.exists()

    def discard(self) -> None:
        """Remove this run's checkpoint (its result was saved elsewhere)."""
        remove_checkpoint(self.path)
