"""The model registry: build a model by name, list names, and describe a model for a card."""

from __future__ import annotations

import inspect
import json
from typing import Any

from torch import nn

from ..errors import SeisSegError
from .base import SegmentationModel
from .hybrid import HybridSlabNet
from .resunet import ResUNet
from .unet import UNet2D, UNet3D

__all__ = ["MODELS", "create_model", "list_models", "model_spec"]

#: Registered architectures, by name.
MODELS: dict[str, type[SegmentationModel]] = {
    cls.model_name: cls for cls in (UNet2D, UNet3D, HybridSlabNet, ResUNet)
}


def list_models() -> list[str]:
    """Return the names :func:`create_model` accepts, sorted.

    Returns
    -------
    list of str
        ``["hybrid", "resunet", "unet2d", "unet3d"]``.
    """
    return sorted(MODELS)


def _options(cls: type) -> list[str]:
    params = inspect.signature(cls.__init__).parameters
    return [p for p in params if p != "self"]


def create_model(
    name: str, in_channels: int = 1, n_classes: int = 2, **kwargs: Any
) -> SegmentationModel:
    """Build a segmentation model by name.

    Parameters
    ----------
    name : str
        One of :func:`list_models` (case-insensitive).
    in_channels : int
        Channels of one slice of the input (1 for an amplitude volume).
    n_classes : int
        Number of output logits (classes; 1 for a single-logit binary model).
    **kwargs
        Architecture options (``width``, ``depth``, ``norm``, ``dropout``, ``context``,
        ``circular_axis``, and ``encoder`` / ``pretrained_path`` for ``resunet``); see
        each class for its options and defaults.

    Returns
    -------
    SegmentationModel
        A :class:`torch.nn.Module` whose ``forward`` returns logits with the input's
        spatial size and which has ``spatial_dims``, ``in_channels`` and ``n_classes``.

    Raises
    ------
    SeisSegError
        For an unknown name, an option the architecture does not take, or a bad value;
        the message lists the valid choices.

    Examples
    --------
    >>> model = create_model("unet2d", width=8)
    >>> create_model(**model_spec(model)).width
    8
    """
    if not isinstance(name, str) or name.strip().lower() not in MODELS:
        raise SeisSegError(f"unknown model {name!r}; choose one of: {', '.join(list_models())}.")
    key = name.strip().lower()
    cls = MODELS[key]
    options = _options(cls)
    unknown = sorted(set(kwargs) - set(options))
    if unknown:
        raise SeisSegError(
            f"{key} does not take {', '.join(repr(u) for u in unknown)}; its options are: "
            f"{', '.join(options)}."
        )
    try:
        return cls(in_channels=in_channels, n_classes=n_classes, **kwargs)
    except SeisSegError:
        raise
    except (TypeError, ValueError) as exc:
        raise SeisSegError(f"{key}: cannot build with {kwargs!r}: {exc}") from exc


def model_spec(model: nn.Module) -> dict[str, Any]:
    """Return the name and keyword arguments that rebuild ``model``'s architecture.

    Every option is written out (defaults included), so a model card stays valid if a
    default changes later.  ``create_model(**model_spec(model))`` builds a model with
    the same state-dict keys and shapes.  Weights are not part of the spec, nor is
    ``pretrained_path`` (it only initialises weights).

    Parameters
    ----------
    model : torch.nn.Module
        A model made by :func:`create_model` (or one of the registered classes).

    Returns
    -------
    dict
        JSON-serialisable: ``{"name": ..., "in_channels": ..., "n_classes": ..., ...}``.

    Raises
    ------
    SeisSegError
        If ``model`` is not one of the registered architectures.
    """
    if not isinstance(model, SegmentationModel) or model.model_name not in MODELS:
        raise SeisSegError(
            f"{type(model).__name__} is not a napari-seisseg model; build one with "
            f"create_model (one of: {', '.join(list_models())})."
        )
    spec = model.spec()
    # round-trip through JSON so the spec holds only plain types
    return json.loads(json.dumps(spec))
