"""What the Train widget hands to training: its layers and controls turned into arguments.

:func:`collect_training_inputs` reads the chosen layers, the model to start from and the
settings, checks them all (:func:`~napari_seisseg.training.check_inputs`) and returns the
keyword arguments of :func:`~napari_seisseg.training.train` (and of
:func:`~napari_seisseg.training.live.live_train`).
"""

from __future__ import annotations

import copy
from typing import Any

from ..io.layer_colors import label_colors
from ..preprocess.recorded import layer_pipeline
from ..store import MODEL_STORE

__all__ = ["collect_training_inputs"]


def _start_from(name: str | None, pipe: dict | None) -> tuple[Any, Any]:
    """``(init_bundle, its bundle path)`` of the store model ``name`` (None: a new model)."""
    from ..bundle.card import without_pipeline
    from ..errors import SeisSegError

    if name is None:
        return None, None
    entry = MODEL_STORE.get(name)
    if entry is None:
        raise SeisSegError(f"The model '{name}' is no longer available; "
                           "choose another in 'start from'.")
    card = copy.deepcopy(entry.card)
    if pipe is not None:
        # the layer already holds the pipeline's output: do not apply it again
        card = without_pipeline(card)
    return (entry.model, card), entry.path


def collect_training_inputs(image: Any, labels: Any, val: Any, config: Any,
                            start_from: str | None) -> tuple[dict[str, Any], Any]:
    """Everything training needs, checked.

    Parameters
    ----------
    image, labels, val : napari layers or None
        The chosen Image, Labels and validation Labels layers.
    config : TrainConfig
        The settings.
    start_from : str or None
        The store model to fine-tune (None: a new model).

    Returns
    -------
    inputs : dict
        Keyword arguments of ``train`` (``image``, ``labels``, ``config``, ``geometry``,
        ``val_labels``, ``class_names``, ``class_colors``, ``init_bundle``) plus
        ``"pipeline_dict"`` (the layer's preprocessing to record in the card),
        ``"layer_names"`` and ``"start_path"``.
    summary : LabelSummary
        What is painted.

    Raises
    ------
    SeisSegError
        With a message for the user (nothing to train on, labels of another shape, no
        labels painted, a single class, NaN in the image...).
    """
    from ..bundle.card import card_classes
    from ..io.layer_axes import layer_geometry
    from ..training import check_inputs
    from ..training.layer_inputs import check_training_layers

    check_training_layers(image, labels, val)
    pipe = layer_pipeline(image)
    init, start_path = _start_from(start_from, pipe)
    kwargs: dict[str, Any] = {
        "geometry": layer_geometry(image),
        "val_labels": None if val is None else val.data,
        "class_names": getattr(labels, "features", None),
    }
    check_kwargs = kwargs if init is None else {**kwargs, "classes": card_classes(init[1])}
    summary = check_inputs(image.data, labels.data, config, **check_kwargs,
                           until_stopped=config.epochs is None and config.minutes is None)
    kwargs["class_colors"] = label_colors(labels, [c.value for c in summary.classes])
    return {"image": image.data, "labels": labels.data, "config": config,
            "init_bundle": init, "pipeline_dict": pipe, "layer_names": (image.name, labels.name),
            "start_path": start_path, **kwargs}, summary
