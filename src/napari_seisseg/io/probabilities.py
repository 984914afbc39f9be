"""Class probabilities written by ``seisseg predict --out-probs`` (.npy or Zarr), read back.

The array is 4-D, ``(class, *geometry.axes)``, float16/float32 or uint8 codes (probability x
255). What the channels are, and the survey geometry, are in a JSON description: the file
``P.prediction.json`` beside ``P.npy``, or the ``seisseg_prediction`` attribute of a Zarr array.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import SeisSegError
from .geometry import SurveyGeometry

__all__ = ["PREDICTION_KEY", "Probabilities", "description_path", "is_probabilities",
           "not_a_volume", "read_description", "read_probabilities", "write_description"]

#: Zarr attribute (and napari layer metadata key) holding the description of a prediction.
PREDICTION_KEY = "seisseg_prediction"


def description_path(path: str | os.PathLike) -> Path:
    """The JSON description beside a probability .npy: ``P.npy`` -> ``P.prediction.json``."""
    p = Path(path)
    return p.with_name(p.stem + ".prediction.json")


def write_description(path: str | os.PathLike, description: dict[str, Any]) -> Path:
    """Write ``description`` as ``P.prediction.json`` beside the probability .npy ``path``."""
    from .atomic import atomic_write_text

    side = description_path(path)
    atomic_write_text(side, json.dumps(description, indent=1))
    return side


def not_a_volume(path: str | os.PathLike) -> SeisSegError:
    """The error of a volume reader given probabilities (what they are, and how to open them)."""
    return SeisSegError(
        f"{path} holds class probabilities written by seisseg predict (class, inline, "
        "crossline, sample), not a volume: open it in napari (one layer per class), or read it "
        "with napari_seisseg.io.probabilities.read_probabilities."
    )


@dataclass
class Probabilities:
    """Per-class probabilities of a survey, as written by ``seisseg predict``.

    Attributes
    ----------
    data : array-like
        ``(n_classes, *geometry.axes)``, memory-mapped (.npy) or lazy (Zarr).
    channels : list of dict
        One per class: ``name``, ``value`` (label value) and ``color`` (RGBA 0..1).
    geometry : SurveyGeometry or None
        Where each sample sits in the survey.
    description : dict
        Everything the description holds (model, threshold, dtype...).
    """

    data: Any
    channels: list[dict[str, Any]]
    geometry: SurveyGeometry | None
    description: dict[str, Any] = field(default_factory=dict)

    @property
    def scale(self) -> float:
        """Value of probability 1 in :attr:`data` (255 for uint8 codes, else 1)."""
        return float(self.description.get("uint8_scale") or 1.0)

    def channel(self, k: int) -> Any:
        """Probabilities of class ``k`` (in the stored unit, see :attr:`scale`)."""
        return self.data[k]

    def describe(self) -> str:
        """A few lines saying what the file holds."""
        names = ", ".join(f"{c.get('value')}={c.get('name')}" for c in self.channels)
        shape = " x ".join(map(str, self.data.shape[1:]))
        unit = "uint8 codes (probability x 255)" if self.scale != 1 else str(self.data.dtype)
        lines = [f"class probabilities of {len(self.channels)} classes ({names}), {shape}, {unit}",
                 f"model:       {self.description.get('model', 'unknown')}"]
        if self.geometry is not None:
            lines.append(self.geometry.describe())
        return "\n".join(lines)


def read_description(path: str | os.PathLike) -> dict[str, Any] | None:
    """The prediction description of a .npy or Zarr file, or None when it has none."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix == ".npy":
        side = description_path(p)
        if not side.is_file():
            return None
        try:
            desc = json.loads(side.read_text())
        except (OSError, ValueError) as exc:
            raise SeisSegError(f"{side} cannot be read as JSON ({exc}); it is damaged.") from exc
        return desc if isinstance(desc, dict) else None
    if suffix == ".zarr" and p.is_dir():
        import zarr

        try:
            desc = zarr.open_array(store=str(p), mode="r").attrs.get(PREDICTION_KEY)
        except Exception:  # noqa: BLE001 - not an array: read_zarr says so
            return None
        return desc if isinstance(desc, dict) else None
    return None


def is_probabilities(path: str | os.PathLike) -> bool:
    """True for a 4-D .npy or Zarr array with a prediction description (only the header is read).

    A stale ``P.prediction.json`` beside a 3-D ``P.npy`` (written over later) does not count.
    """
    p = Path(path)
    try:
        if read_description(p) is None:
            return False
        if p.suffix.lower() == ".npy":
            return np.load(p, mmap_mode="r", allow_pickle=False).ndim == 4
        import zarr

        return len(zarr.open_array(store=str(p), mode="r").shape) == 4
    except SeisSegError:
        return True  # a damaged description: read_probabilities says so
    except Exception:  # noqa: BLE001 - not readable as an array: the volume readers say why
        return False


def read_probabilities(path: str | os.PathLike) -> Probabilities:
    """Open probabilities written by ``seisseg predict --out-probs`` (.npy or .zarr).

    Raises
    ------
    SeisSegError
        When the file does not exist, is not 4-D, or has no description (or one that does
        not fit the array).
    """
    p = Path(path)
    if not p.exists():
        raise SeisSegError(f"{p} does not exist. Check the path.")
    desc = read_description(p)
    if desc is None:
        where = description_path(p).name if p.suffix.lower() == ".npy" else \
            f"the '{PREDICTION_KEY}' attribute"
        raise SeisSegError(
            f"{p} has no description of its classes ({where} is missing), so it is not "
            "probabilities written by seisseg predict."
        )
    if p.suffix.lower() == ".npy":
        data = np.load(p, mmap_mode="r", allow_pickle=False)
    else:
        import dask.array as da
        import zarr

        data = da.from_zarr(zarr.open_array(store=str(p), mode="r"))
    channels = [dict(c) for c in desc.get("channels") or []]
    if data.ndim != 4 or len(channels) != data.shape[0]:
        raise SeisSegError(
            f"{p} holds an array of shape {tuple(data.shape)} but its description names "
            f"{len(channels)} classes; expected (classes, inline, crossline, sample). The file "
            "and its description do not belong together."
        )
    geometry = None
    if desc.get("geometry"):
        geometry = SurveyGeometry.from_json_dict(desc["geometry"])
        if geometry.shape != tuple(data.shape[1:]):
            geometry = None
    return Probabilities(data, channels, geometry, desc)
