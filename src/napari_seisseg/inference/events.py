"""Progress events yielded by the prediction generators."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "PredictionCancelled",
    "PredictionEvent",
    "PredictionFinished",
    "PredictionProgress",
    "PredictionStarted",
]


@dataclass(frozen=True)
class PredictionEvent:
    """Base class of the prediction events."""


@dataclass(frozen=True)
class PredictionStarted(PredictionEvent):
    """Prediction begins.

    Attributes
    ----------
    total : int
        Work units to do: windows (blocks for the Dask path).
    unit : str
        ``"windows"`` or ``"blocks"``.
    device : str
        Where windows run (``"cpu"``, ``"cuda:0"``, or the Dask scheduler).
    shape : tuple of int
        Shape of the volume.
    window : tuple of int
        Window size (for section mode: the tile of a section, with 1 along the section axis).
    """

    total: int
    unit: str
    device: str
    shape: tuple[int, ...]
    window: tuple[int, ...]


@dataclass(frozen=True)
class PredictionProgress(PredictionEvent):
    """A batch of windows (or a block) is done."""

    done: int
    total: int
    unit: str = "windows"

    @property
    def fraction(self) -> float:
        """Fraction of the work done, 0..1."""
        return self.done / self.total if self.total else 1.0


@dataclass(frozen=True)
class PredictionFinished(PredictionEvent):
    """The output is complete (and, on disk, in place at its target).

    Attributes
    ----------
    total : int
        Work units done.
    seconds : float
        Wall time.
    voxels_per_second : float
        Volume voxels predicted per second.
    out : str or None
        Path of a disk output.
    """

    total: int
    seconds: float
    voxels_per_second: float
    out: str | None = None


@dataclass(frozen=True)
class PredictionCancelled(PredictionEvent):
    """``stop`` interrupted the prediction; nothing was written at the target."""

    done: int
    total: int
