"""Events and result of live training (:func:`.live.live_train`), beside those of :mod:`.events`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from .events import TrainEvent, TrainResult

__all__ = ["LabelsUpdated", "LiveResult", "Preview"]


@dataclass
class LabelsUpdated(TrainEvent):
    """The run now trains on new labels (also yielded once at the start).

    Attributes
    ----------
    step : int
        Training steps done when the labels were taken up.
    n_labeled : int
        Labeled voxels the sampler draws patch centres from (the training voxels; a seeded
        subset per class beyond ``patch_sampler.MAX_INDEXED``).
    n_train_voxels, n_val_voxels : int
        Training voxels and validation voxels after the split.
    class_counts : list of int
        Training voxels per class.
    validation : str
        How the validation data was made.
    n_recent : int
        Training voxels of the latest strokes, from which a share of the patch centres is
        drawn (:data:`~.live_labels.RECENT_SHARE`).
    """

    kind: ClassVar[str] = "labels"
    step: int
    n_labeled: int
    n_train_voxels: int
    n_val_voxels: int
    class_counts: list[int]
    validation: str
    n_recent: int = 0

    def message(self) -> str:
        return (f"labels taken up at step {self.step}: the sampler sees {self.n_labeled:,} "
                f"labeled voxels ({self.n_val_voxels:,} held out for validation)")


@dataclass
class Preview(TrainEvent):
    """A slice predicted with the weights of the running training.

    Attributes
    ----------
    axis, index : int
        The slice: ``index`` along ``axis`` of the input image (for a 2D image, the image).
    probabilities : numpy.ndarray
        Class probabilities of the slice, ``(C, *slice shape)`` (one channel for a binary
        model), the slice's axes in the image's order.
    mask : numpy.ndarray
        The predicted label values of the slice (the card's classes and threshold).
    step, epoch : int
        Training steps done (and the epoch) when the weights were taken.
    weights_elapsed_s : float
        Run time when the weights were taken.
    elapsed_s : float
        Run time when the preview was ready.
    card : dict
        The card the prediction used (what the quick look of a saved model would use).
    weights : dict or None
        The weights used, on the CPU (only with ``LiveControl(keep_preview_weights=True)``).
    """

    kind: ClassVar[str] = "preview"
    axis: int
    index: int
    probabilities: np.ndarray
    mask: np.ndarray
    step: int
    epoch: int
    weights_elapsed_s: float
    elapsed_s: float
    card: dict[str, Any]
    weights: dict[str, Any] | None = None

    @property
    def weights_age_s(self) -> float:
        """Seconds between taking the weights and the preview being ready."""
        return self.elapsed_s - self.weights_elapsed_s

    def message(self) -> str:
        return f"preview of slice {self.index} along axis {self.axis} (step {self.step})"


@dataclass
class LiveResult(TrainResult):
    """What a live run produced: the best model (``model``, ``card``) and the latest.

    The fields of :class:`~.events.TrainResult`; ``stop_reason`` is ``"stopped"``, or
    ``"bad_labels"`` when labels of another shape ended the run (also ``"epochs"`` or
    ``"time"`` when the config set a budget).

    Attributes
    ----------
    latest : TrainResult or None
        The weights the run ended with (the last ones scored), with their own card (its
        ``best_epoch`` and ``best_metrics`` are those of the last epoch); ``latest.save``
        writes them as a second bundle.  None when no epoch was scored.
    """

    latest: TrainResult | None = None

    @property
    def distinct_latest(self) -> TrainResult | None:
        """``latest`` when it was scored at another epoch than the best (else None: the
        best is the latest)."""
        if self.latest is None or self.latest.best_epoch == self.best_epoch:
            return None
        return self.latest
