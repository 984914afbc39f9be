"""Training from painted labels: the pure core behind the Train widget and ``seisseg train``.

No napari or Qt here.  The entry point is :func:`train`, a generator of progress events
that returns a :class:`TrainResult`; :func:`drain` drives it to the end.
:func:`pretrain` (self-supervised, no labels) is a generator too; training starts from its
cached result for the same survey and architecture.  Trained
models are saved as one safetensors bundle (weights + JSON model card) with
:meth:`TrainResult.save`; :mod:`napari_seisseg.bundle` loads them (it never unpickles
anything).

Importing this package imports torch.
"""

from __future__ import annotations

from .config import AugmentConfig, TrainConfig
from .events import BestUpdated, EpochEnd, Finished, Note, Started, Step, TrainEvent, TrainResult
from .labels import LabelSummary
from .loop import check_inputs, train
from .pretrain import PretrainResult, pretrain

__all__ = [
    "AugmentConfig",
    "BestUpdated",
    "EpochEnd",
    "Finished",
    "LabelSummary",
    "Note",
    "PretrainResult",
    "Started",
    "Step",
    "TrainConfig",
    "TrainEvent",
    "TrainResult",
    "check_inputs",
    "pretrain",
    "train",
]
