"""napari-seisseg: segment seismic volumes with deep learning in napari.

The package is split into a pure core (``io``, ``preprocess``, ``synthetic``, models,
training, inference) that runs headless, and a thin napari skin (``_reader``, ``_writer``,
``_sample_data``, ``_widgets``).  Nothing heavy is imported here so that napari starts fast.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
