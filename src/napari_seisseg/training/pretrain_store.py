"""Pretrained networks on disk: written, read, cached per survey, found again and applied.

:func:`~napari_seisseg.training.pretrain.pretrain` makes them.  The cache lives in the model
store (``<store>/pretrained/``), one file per survey and architecture, named by the cube's
fingerprint (shape, type, and a hash of a few slices) and the architecture's key:
:func:`find_pretrained` finds a file again for the same cube and architecture only, and
:func:`apply_pretrained` copies every weight whose name and shape match into a fresh model
(the output layer, which differs, is left as is).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..errors import SeisSegError
from ..store import pretrained_dir

__all__ = [
    "FORMAT", "apply_pretrained", "architecture_key", "cache_path", "cached_fingerprint", "cached_pretraining",
    "cube_fingerprint", "find_pretrained", "load_pretrained", "pretrained_card",
    "save_pretrained",
]

FORMAT = "napari-seisseg pretrained"


def cube_fingerprint(image: Any, geometry: Any = None) -> str:
    """A short key of a cube as training sees it: its shape, type and a hash of five slices.

    Parameters
    ----------
    image : array-like
        The cube (or section), numpy or lazy.
    geometry : SurveyGeometry, optional
        Its geometry: the key is taken in training order (inline, crossline, sample), so a
        napari layer in display order, the same survey read on the command line and a plain
        array whose time axis was read from its amplitudes share one key; an array without
        one is keyed as it is.

    Returns
    -------
    str
        16 hexadecimal digits.  Reads five slices along the first training axis (whole
        inlines of a SEG-Y cube: a few traces' worth of the file each); two different
        surveys, or the same survey cropped, resampled or read with another time axis, get
        different keys.
    """
    image = _training_order(image, geometry)
    shape = tuple(int(n) for n in image.shape)
    h = hashlib.sha1(json.dumps({"shape": shape, "dtype": str(image.dtype)}).encode())
    for frac in (0.1, 0.3, 0.5, 0.7, 0.9):
        index = min(shape[0] - 1, int(frac * shape[0]))
        h.update(np.ascontiguousarray(np.asarray(image[index])).tobytes())
    return h.hexdigest()[:16]


def _training_order(image: Any, geometry: Any) -> Any:
    """``image`` viewed in training order (:func:`~.data.orient`); as it is when that fails."""
    if geometry is None:
        return image
    from .data import _transpose, orient

    try:
        perm = orient(tuple(int(n) for n in image.shape), geometry)[0]
    except Exception:  # noqa: BLE001 - a geometry that does not fit: training says so
        return image
    return _transpose(image, perm)


def architecture_key(spec: Mapping[str, Any]) -> str:
    """A short key of a model spec's architecture (all but its input and output channels).

    With or without the position channel the network is the same but for its first layer
    (which :func:`apply_pretrained` then leaves fresh): one pretraining serves both.

    Parameters
    ----------
    spec : mapping
        :func:`~napari_seisseg.models.model_spec` of a model.

    Returns
    -------
    str
        12 hexadecimal digits.
    """
    arch = {k: v for k, v in spec.items() if k not in ("n_classes", "in_channels")}
    return hashlib.sha1(json.dumps(arch, sort_keys=True).encode()).hexdigest()[:12]


def cache_path(fingerprint: str, arch: str) -> Path:
    """Where the cache keeps the pretraining of cube ``fingerprint`` for architecture ``arch``."""
    return pretrained_dir() / f"{fingerprint}-{arch}.safetensors"


def save_pretrained(path: str | Path, model: torch.nn.Module, card: Mapping[str, Any]) -> Path:
    """Write a pretrained network (weights + JSON card) atomically.

    Parameters
    ----------
    path : path
        Output ``.safetensors`` file (its folder is made).
    model : torch.nn.Module
        The pretrained network.
    card : mapping
        Its JSON-able description (``survey``, ``architecture``, ``model``...).

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    from safetensors.torch import save_file

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
    tmp = path.with_name(f".{path.name}.tmp")
    save_file(state, str(tmp), metadata={"seisseg_pretrained": json.dumps(card)})
    tmp.replace(path)
    return path


def load_pretrained(path: str | Path) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Read a file written by :func:`save_pretrained`.

    Parameters
    ----------
    path : path
        The file.

    Returns
    -------
    state : dict
        Weights by name.
    card : dict
        Its description.

    Raises
    ------
    SeisSegError
        For an unreadable file, or one that is not a pretrained network (a trained bundle).
    """
    from safetensors.torch import load_file

    card = pretrained_card(path)
    try:
        return load_file(str(path)), card
    except Exception as exc:  # noqa: BLE001 - any unreadable file gets one message
        raise SeisSegError(f"{path} is not a readable pretrained network ({exc}).") from None


def pretrained_card(path: str | Path) -> dict[str, Any]:
    """The card of a file written by :func:`save_pretrained`, without reading its weights.

    Raises
    ------
    SeisSegError
        As :func:`load_pretrained`.
    """
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
    except Exception as exc:  # noqa: BLE001 - any unreadable file gets one message
        raise SeisSegError(f"{path} is not a readable pretrained network ({exc}).") from None
    if "seisseg_pretrained" not in meta:
        raise SeisSegError(
            f"{path} is not a pretrained network from 'seisseg pretrain' (a trained model "
            "bundle is used with --init instead)."
        )
    return json.loads(meta["seisseg_pretrained"])


def cached_fingerprint(image: Any, geometry: Any = None) -> str | None:
    """The cube's fingerprint (:func:`cube_fingerprint`), or None (and nothing read) while the
    cache holds no pretraining."""
    folder = pretrained_dir()
    if not folder.is_dir() or not any(folder.glob("*.safetensors")):
        return None
    return cube_fingerprint(image, geometry)


def cached_pretraining(fingerprint: str, spec: Mapping[str, Any]) -> Path | None:
    """The cached pretraining of the cube ``fingerprint`` for the architecture ``spec``, if any."""
    path = cache_path(fingerprint, architecture_key(spec))
    return path if path.exists() else None


def find_pretrained(
    image: Any, spec: Mapping[str, Any], geometry: Any = None
) -> tuple[Path | None, str | None]:
    """The cached pretraining of this cube for this architecture, and a note.

    Parameters
    ----------
    image : array-like
        The cube about to be trained on.
    spec : mapping
        :func:`~napari_seisseg.models.model_spec` of the model about to be trained.
    geometry : SurveyGeometry, optional
        The cube's geometry (the key is taken in training order).

    Returns
    -------
    path : pathlib.Path or None
        The cached file when one fits.
    note : str or None
        When the cube has a pretraining for another architecture only, a note saying it
        was not used (it is never used silently); None otherwise.

    Notes
    -----
    Nothing is read from the cube while the cache holds no pretraining at all.
    """
    fp = cached_fingerprint(image, geometry)
    if fp is None:
        return None, None
    path = cached_pretraining(fp, spec)
    if path is not None:
        return path, None
    others = sorted(pretrained_dir().glob(f"{fp}-*.safetensors"))
    if others:
        return None, (
            f"This survey has a pretraining for another architecture ({others[0].name}); it was "
            "not used. Pretrain again with the same model settings to use one."
        )
    return None, None


def apply_pretrained(
    model: torch.nn.Module, state: Mapping[str, torch.Tensor], card: Mapping[str, Any]
) -> int:
    """Copy the weights whose name and shape match into ``model`` (never its output layer).

    Parameters
    ----------
    model : torch.nn.Module
        A fresh model of the pretrained architecture (any number of outputs).
    state, card : mapping
        What :func:`load_pretrained` returns.

    Returns
    -------
    int
        Number of weight tensors copied.

    Raises
    ------
    SeisSegError
        When the pretraining was made for another architecture (nothing is copied).
    """
    from ..models import model_spec

    spec = model_spec(model)
    made_for = (card.get("model") or {}).get("name", "?")
    if made_for not in ("?", spec.get("name")):
        raise SeisSegError(
            f"The pretrained network was made for {made_for}, but this run trains "
            f"{spec.get('name')}; train with --model {made_for} (or the model box) and the "
            "settings it was pretrained with, or without the pretraining."
        )
    if card.get("architecture") != architecture_key(spec):
        raise SeisSegError(
            f"The pretrained network is a {card.get('model', {}).get('name', '?')} with other "
            "settings than this model (width, depth, context or position channel); pretrain "
            "again with the same settings, or train without it."
        )
    own = model.state_dict()
    take = {k: v for k, v in state.items()
            if k in own and tuple(own[k].shape) == tuple(v.shape) and not _is_output(k)}
    own.update({k: v.to(own[k].dtype) for k, v in take.items()})
    model.load_state_dict(own)
    return sum(1 for k in take if not k.endswith("num_batches_tracked"))


def _is_output(name: str) -> bool:
    """Output layers (a reconstruction head, not a classifier: never copied)."""
    first = name.split(".", 1)[0]
    return first == "head" or "aux" in first
