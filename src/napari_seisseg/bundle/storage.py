"""The model bundle: one safetensors file holding the weights and a JSON model card.

The file is written at exactly the path given (any extension; ``.safetensors`` or
``.seisseg`` are good choices).  Its header metadata holds the card under the key
``"seisseg_card"``.  Loading parses the safetensors header and builds the model from the
card's architecture spec: nothing is ever unpickled, so a pickle or a ``torch.save``
checkpoint is refused with a message rather than opened.

Card contents (``format_version`` 1)::

    format, format_version, created, versions {napari-seisseg, torch, numpy, python}
    model        spec: create_model(**spec) rebuilds the architecture
    input        {kind: "2d"|"slab"|"3d", context, in_channels, input_channels,
                  patch_size, axes (section axes used), axis_names, sample_axis, pad_mode}
    n_classes, n_outputs, binary, threshold, zero_is_background
    classes      [{value, name, color}] in class-index order
    preprocessing  Normalizer.to_dict(): {pipeline, standardize {center, scale, clip}}
    labels       provenance: labeled slices and painted sections per axis, class voxels
    validation   {split, epoch, metrics} of the kept (best) model; with measured_epoch and
                 joined_training when the held-out paint joined training (metrics of that epoch);
                 metrics.windows / chosen_on / apart when the kept model was scored at the
                 end on other held-out windows than each epoch read (windows: how many;
                 chosen_on: each epoch's; apart: only those no epoch read)
    training     TrainConfig.to_dict(), plus run facts (steps, epochs, stop reason)
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
import platform
import struct
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..errors import SeisSegError
from ..io.atomic import atomic_path
from ..models import create_model

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "load_bundle",
    "package_versions",
    "read_card",
    "save_bundle",
]

FORMAT = "napari-seisseg-model"
FORMAT_VERSION = 1
CARD_KEY = "seisseg_card"


def package_versions() -> dict[str, str]:
    """Versions of napari-seisseg, torch, numpy and Python."""
    try:
        from importlib.metadata import version

        ours = version("napari-seisseg")
    except Exception:  # noqa: BLE001 - not installed (source checkout)
        ours = "unknown"
    return {
        "napari-seisseg": ours,
        "torch": torch.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
    }


def json_safe(obj: Any) -> Any:
    """Copy of ``obj`` with numpy types made plain and NaN/inf replaced by None."""
    if isinstance(obj, Mapping):
        return {str(k): json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return json_safe(obj.tolist())
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        f = float(obj)
        return f if math.isfinite(f) else None
    return obj


def save_bundle(
    path: str | os.PathLike, model: torch.nn.Module | Mapping[str, torch.Tensor],
    card: Mapping[str, Any],
) -> Path:
    """Write ``model``'s weights and ``card`` to one safetensors file at ``path``.

    Parameters
    ----------
    path : path
        Output file, written atomically (a failed write leaves no partial file).
    model : torch.nn.Module or mapping of str to torch.Tensor
        The model, or its state dict; the weights are saved (moved to the CPU, contiguous).
    card : mapping
        The model card; ``format``, ``format_version``, ``created`` and ``versions`` are
        filled in when missing.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    from safetensors.torch import save_file

    path = Path(path)
    if path.is_dir():
        raise SeisSegError(
            f"{path} is a folder; give a file path for the model, e.g. {path / 'model.safetensors'}."
        )
    card = dict(card)
    card.setdefault("format", FORMAT)
    card.setdefault("format_version", FORMAT_VERSION)
    card.setdefault("created", _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"))
    card.setdefault("versions", package_versions())
    text = json.dumps(json_safe(card), allow_nan=False)
    weights = model.state_dict() if isinstance(model, torch.nn.Module) else model
    state = {k: v.detach().to("cpu").contiguous().clone() for k, v in weights.items()}
    with atomic_path(path) as tmp:
        save_file(state, str(tmp), metadata={CARD_KEY: text})
    return path


def _sniff(path: Path) -> str:
    with open(path, "rb") as fh:
        head = fh.read(16)
    if head[:2] == b"PK":
        return "a zip archive (such as a torch.save checkpoint)"
    if head[:1] == b"\x80" or head[:1] in (b"(", b"c", b"]", b"}"):
        return "a Python pickle"
    if head[:1] == b"{":
        return "a JSON file"
    return "not a safetensors file"


def _header(path: Path) -> dict[str, Any]:
    """Parse the safetensors header (no tensor data, no pickle) or raise SeisSegError."""
    if not path.exists():
        raise SeisSegError(
            f"Model file {path} does not exist. Give the path of a bundle saved by napari-seisseg."
        )
    if path.is_dir():
        raise SeisSegError(f"{path} is a folder, not a model bundle file.")
    size = path.stat().st_size
    refuse = (
        f"{path} is not a napari-seisseg model bundle: it is {{what}}. Bundles are safetensors "
        "files written by 'seisseg train' or the Train widget; other checkpoint formats are "
        "never loaded because unpickling can run arbitrary code."
    )
    with open(path, "rb") as fh:
        raw = fh.read(8)
        if len(raw) < 8:
            raise SeisSegError(refuse.format(what="too short to be one"))
        (n,) = struct.unpack("<Q", raw)
        if n < 2 or n > min(size - 8, 100 << 20):
            raise SeisSegError(refuse.format(what=_sniff(path)))
        text = fh.read(n)
    try:
        header = json.loads(text.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SeisSegError(refuse.format(what=_sniff(path))) from exc
    meta = header.get("__metadata__") if isinstance(header, dict) else None
    if not isinstance(meta, dict) or CARD_KEY not in meta:
        raise SeisSegError(
            refuse.format(what="a safetensors file without a napari-seisseg model card")
        )
    return header


def read_card(path: str | os.PathLike) -> dict[str, Any]:
    """Read only the model card of a bundle (fast: no weights are loaded).

    Raises
    ------
    SeisSegError
        If the file is not a bundle, or was written by a newer, incompatible version.
    """
    path = Path(path)
    header = _header(path)
    try:
        card = json.loads(header["__metadata__"][CARD_KEY])
    except json.JSONDecodeError as exc:
        raise SeisSegError(f"The model card in {path} is damaged ({exc}).") from exc
    if not isinstance(card, dict) or card.get("format") != FORMAT:
        raise SeisSegError(f"{path} has no valid napari-seisseg model card.")
    version = int(card.get("format_version", 0))
    if version > FORMAT_VERSION:
        raise SeisSegError(
            f"{path} was written by a newer napari-seisseg (bundle format {version}; this "
            f"version reads format {FORMAT_VERSION}). Update napari-seisseg to load it."
        )
    return card


def load_bundle(
    path: str | os.PathLike, device: str | torch.device = "cpu"
) -> tuple[torch.nn.Module, dict[str, Any]]:
    """Load a bundle: rebuild the model from its card and load the weights.

    Parameters
    ----------
    path : path
        Bundle file written by :func:`save_bundle`.
    device : str or torch.device
        Where to put the model.

    Returns
    -------
    model : torch.nn.Module
        In eval mode.
    card : dict
        The model card.

    Raises
    ------
    SeisSegError
        If the file is not a bundle (a pickle, a ``torch.save`` checkpoint, another
        safetensors file), or its weights do not fit its architecture.
    """
    from safetensors.torch import load_file

    path = Path(path)
    card = read_card(path)
    spec = dict(card.get("model") or {})
    if "name" not in spec:
        raise SeisSegError(f"The model card in {path} does not name an architecture.")
    spec.pop("pretrained_path", None)
    model = create_model(**spec)
    try:
        state = load_file(str(path), device="cpu")
        model.load_state_dict(state, strict=True)
    except Exception as exc:  # noqa: BLE001 - safetensors errors have their own type
        raise SeisSegError(
            f"The weights in {path} do not fit its architecture {spec.get('name')!r}: {exc}"
        ) from exc
    model.to(torch.device(device) if isinstance(device, str) else device)
    model.eval()
    return model, card
