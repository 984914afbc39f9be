"""Training from painted labels: the pure core behind the Train widget and ``seisseg train``.

No napari or Qt here.  The entry point is :func:`train`, a generator of progress events
that returns a :class:`TrainResult`; :func:`drain` drives it to the end.
:func:`pretrain` (self-supervised, no labels) is a generator too; training starts from its
cached result for the same survey and architecture.  Trained
models are saved as one safetensors bundle (weights + JSON model card) with
:func:`save_bundle` / :meth:`TrainResult.save` and loaded with :func:`load_bundle`, which
never unpickles anything.

Importing this package imports torch.
"""

from __future__ import annotations

from .bundle import load_bundle, read_card, save_bundle
from .config import AugmentConfig, TrainConfig
from .events import BestUpdated, EpochEnd, Finished, Note, Started, Step, TrainEvent, TrainResult
from .labels import ClassInfo, LabelSummary, class_names_from_features
from .loop import check_inputs, train
from .normalize import Normalizer
from .pretrain import PretrainResult, pretrain

__all__ = [
    "AugmentConfig",
    "BestUpdated",
    "ClassInfo",
    "EpochEnd",
    "Finished",
    "LabelSummary",
    "Normalizer",
    "Note",
    "PretrainResult",
    "Started",
    "Step",
    "TrainConfig",
    "TrainEvent",
    "TrainResult",
    "check_inputs",
    "class_names_from_features",
    "load_bundle",
    "read_card",
    "pretrain",
    "save_bundle",
    "train",
]
