"""Reading and writing seismic data with its survey geometry (no napari, no torch).

Main entry points:

- :func:`read_volume` / :func:`write_volume`: SEG-Y (files or folders), .npy with a
  geometry sidecar, and Zarr, dispatched on the path's suffix.
- :func:`read_segy` / :func:`write_segy`: SEG-Y with every option.
- :class:`SurveyGeometry`: where each sample sits in the survey.
"""

from __future__ import annotations

from .geometry import SurveyGeometry
from .segy_reader import read_segy
from .segy_writer import write_segy
from .volume import Volume, read_volume, write_volume

__all__ = ["SurveyGeometry", "Volume", "read_segy", "read_volume", "write_segy", "write_volume"]
