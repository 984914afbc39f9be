"""The pipeline a volume already went through, as recorded in its metadata.

An Image layer made by the Preprocess widget holds the output of its pipeline and carries the
pipeline in ``metadata[PREPROCESS_KEY]``.  Training records it in the model card, so the card
always means "apply this pipeline to raw amplitudes"; preprocessing such a layer again records
the two pipelines chained.  Plain functions of metadata (no napari import).
"""

from __future__ import annotations

from typing import Any

from ..errors import SeisSegError
from .pipeline import Pipeline

__all__ = ["PREPROCESS_KEY", "PREVIEW_KEY", "chained", "layer_pipeline", "output_contrast"]

#: Metadata key of the preprocessing pipeline of a layer made by the Preprocess widget.
PREPROCESS_KEY = "seisseg_preprocess"
#: Metadata key marking the Preprocess widget's temporary preview layer.
PREVIEW_KEY = "seisseg_preview"


def layer_pipeline(layer: Any) -> dict | None:
    """The preprocessing pipeline dict a layer made by the Preprocess widget carries.

    Parameters
    ----------
    layer : Any
        Anything with a ``metadata`` mapping (a napari layer).

    Returns
    -------
    dict or None
        A copy of the recorded pipeline, or None when the layer carries none.
    """
    meta = getattr(layer, "metadata", None) or {}
    pipe = meta.get(PREPROCESS_KEY)
    return dict(pipe) if isinstance(pipe, dict) else None


def chained(source: Any, pipe: Pipeline) -> Pipeline:
    """``pipe`` preceded by the pipeline ``source`` already went through, if it carries one.

    Parameters
    ----------
    source : Any
        A layer (``metadata`` and ``name``).
    pipe : Pipeline
        The pipeline to apply to it.

    Raises
    ------
    SeisSegError
        The recorded pipeline cannot be read or chained (the message names ``source``).
    """
    before = (getattr(source, "metadata", None) or {}).get(PREPROCESS_KEY)
    if not isinstance(before, dict):
        return pipe
    try:
        return Pipeline.from_dict(before).then(pipe)
    except SeisSegError as exc:
        raise SeisSegError(f"'{source.name}': {exc}") from None


def output_contrast(pipe: Pipeline) -> tuple[float, float]:
    """Display range of a fitted pipeline's output (symmetric around zero when it has both signs)."""
    lo, hi = (pipe.fit_info or {}).get("output_range", (0.0, 1.0))
    if lo < 0 < hi:
        m = max(-lo, hi)
        lo, hi = -m, m
    if not hi > lo:
        hi = lo + 1.0
    return float(lo), float(hi)
