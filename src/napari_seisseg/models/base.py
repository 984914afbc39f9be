"""The common model interface and argument checks shared by every architecture."""

from __future__ import annotations

import operator
from typing import Any, ClassVar

import torch
from torch import nn

from ..errors import SeisSegError
from .blocks import NORMS
from .padding import crop_to, pad_to_multiple, upsample_to

__all__ = ["SegmentationModel"]


def check_int(model: str, name: str, value: Any, minimum: int, maximum: int | None = None) -> int:
    """Return ``value`` as an int within bounds, or raise :class:`SeisSegError`."""
    try:
        if isinstance(value, bool):
            raise TypeError
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        v = operator.index(value)
    except TypeError:
        raise SeisSegError(f"{model}: {name} must be an integer, got {value!r}.") from None
    if v < minimum or (maximum is not None and v > maximum):
        bounds = f"between {minimum} and {maximum}" if maximum is not None else f">= {minimum}"
        raise SeisSegError(f"{model}: {name} must be {bounds}, got {v}.")
    return int(v)


def check_choice(model: str, name: str, value: Any, choices: tuple) -> Any:
    """Return ``value`` if it is one of ``choices``, else raise :class:`SeisSegError`."""
    if isinstance(value, str):
        value = value.lower()
    if value not in choices:
        valid = ", ".join(repr(c) for c in choices)
        raise SeisSegError(f"{model}: {name}={value!r} is not valid; choose one of {valid}.")
    return value


def check_dropout(model: str, value: Any) -> float:
    """Return the dropout probability as a float in [0, 1), or raise :class:`SeisSegError`."""
    try:
        if isinstance(value, bool):
            raise TypeError
        p = float(value)
    except (TypeError, ValueError):
        raise SeisSegError(f"{model}: dropout must be a number in [0, 1), got {value!r}.") from None
    if not 0.0 <= p < 1.0:
        raise SeisSegError(f"{model}: dropout must be in [0, 1), got {p}.")
    return p


def check_norm(model: str, value: Any) -> str:
    """Return the normalisation name, or raise :class:`SeisSegError`."""
    return check_choice(model, "norm", value, NORMS)


def check_circular_axis(model: str, value: Any, n_axes: int) -> int | None:
    """Return the circular axis (None or 0..n_axes-1), or raise :class:`SeisSegError`."""
    if value is None:
        return None
    try:
        return check_int(model, "circular_axis", value, 0, n_axes - 1)
    except SeisSegError as exc:
        kind = "patches" if n_axes == 3 else "sections"
        raise SeisSegError(
            f"{exc} The wrap-around axis is an axis of the model's {kind} (0 to {n_axes - 1}); "
            f"choose one of them, or none."
        ) from None


def check_options(
    model: str,
    in_channels: Any,
    n_classes: Any,
    width: Any,
    depth: Any,
    norm: Any,
    dropout: Any,
    context: Any,
    circular_axis: Any,
    *,
    min_width: int = 1,
    depth_range: tuple[int, int] = (0, 8),
    n_axes: int = 2,
    encoder: tuple[Any, tuple] | None = None,
) -> dict[str, Any]:
    """Check the options every architecture takes, in this order, or raise :class:`SeisSegError`.

    Parameters
    ----------
    model : str
        The architecture's name, for messages.
    in_channels, n_classes, width, depth, norm, dropout, context, circular_axis
        The options as given.
    min_width : int
        Smallest ``width``.
    depth_range : (int, int)
        Bounds of ``depth``.
    n_axes : int
        Spatial axes ``circular_axis`` may name.
    encoder : (value, choices), optional
        An ``encoder`` option, checked after ``n_classes``.

    Returns
    -------
    dict
        The checked values by name, in this order (``encoder`` after ``n_classes``).
    """
    opts = {
        "in_channels": check_int(model, "in_channels", in_channels, 1),
        "n_classes": check_int(model, "n_classes", n_classes, 1),
    }
    if encoder is not None:
        opts["encoder"] = check_choice(model, "encoder", *encoder)
    opts["width"] = check_int(model, "width", width, min_width)
    opts["depth"] = check_int(model, "depth", depth, *depth_range)
    opts["norm"] = check_norm(model, norm)
    opts["dropout"] = check_dropout(model, dropout)
    opts["context"] = check_int(model, "context", context, 0)
    opts["circular_axis"] = check_circular_axis(model, circular_axis, n_axes)
    return opts


class SegmentationModel(nn.Module):
    """Base class of the segmentation models: padding, cropping and input checks.

    Subclasses implement :meth:`_forward_padded`, which sees inputs whose last
    ``spatial_dims`` axes are multiples of :attr:`size_multiple`; this class pads any
    input to such a size (reflecting at the edges, wrapping along the circular axis)
    and crops the logits back, so callers never pad.

    Attributes
    ----------
    model_name : str
        Registry name of the architecture.
    spatial_dims : int
        Dimensionality of the prediction: 2 (a section) or 3 (a volume patch).
    input_dims : int
        Dimensionality of the input's spatial part: 2, or 3 for volume patches and for
        the thin slab the hybrid model reads.
    in_channels : int
        Channels of one slice of the input (1 for an amplitude volume).
    n_classes : int
        Number of output logits per cell.
    context : int
        Neighbouring slices on each side that a section model sees (0 for none).
    circular_axis : int or None
        Output spatial axis that wraps around, if any.
    width, depth : int
        Channels of the first level and number of downsampling stages.
    size_multiple : int
        Total downsampling factor; inputs whose size along every padded axis is a
        multiple of it, and at least twice it, are not padded.
    """

    model_name: ClassVar[str] = ""
    spatial_dims: int
    input_dims: int

    def __init__(
        self, opts: dict[str, Any], *, size_multiple: int, spatial_dims: int, input_dims: int
    ) -> None:
        """Set the attributes every architecture has.

        Parameters
        ----------
        opts : dict
            The checked options, as :func:`check_options` returns them (``in_channels``,
            ``n_classes``, ``width``, ``depth``, ``context``, ``circular_axis`` are kept).
        size_multiple : int
            Total downsampling factor.
        spatial_dims, input_dims : int
            Dimensionality of the prediction and of the input's spatial part.
        """
        super().__init__()
        self.in_channels: int = opts["in_channels"]
        self.n_classes: int = opts["n_classes"]
        self.size_multiple = size_multiple
        self.context: int = opts["context"]
        self.circular_axis: int | None = opts["circular_axis"]
        self._spec: dict[str, Any] = {}
        self.spatial_dims = spatial_dims
        self.input_dims = input_dims
        self.width: int = opts["width"]
        self.depth: int = opts["depth"]

    @property
    def input_channels(self) -> int:
        """Number of channels the input tensor must have."""
        return self.in_channels

    @property
    def min_size(self) -> int:
        """Smallest padded size along each axis (inputs may be smaller; they are padded)."""
        return 2 * self.size_multiple

    def spec(self) -> dict[str, Any]:
        """Return the registry name and keyword arguments that rebuild this architecture."""
        return {"name": self.model_name, **self._spec}

    def expected_input(self) -> str:
        """Describe the input shape the model takes, for error messages."""
        axes = ("D", "H", "W")[-self.input_dims :]
        return f"(N, {self.input_channels}, {', '.join(axes)})"

    def _check_input(self, x: torch.Tensor) -> None:
        if not isinstance(x, torch.Tensor):
            raise SeisSegError(f"{self.model_name} takes a torch.Tensor, got {type(x).__name__}.")
        if x.ndim != self.input_dims + 2 or x.shape[1] != self.input_channels:
            raise SeisSegError(
                f"{self.model_name} expects input shaped {self.expected_input()}, got "
                f"{tuple(x.shape)}.{self._input_hint()}"
            )

    def _input_hint(self) -> str:
        if not self.context or self.input_dims != self.spatial_dims:
            return ""
        return (
            f" With context={self.context}, stack {2 * self.context + 1} slices of "
            f"{self.in_channels} channel(s) each as channels."
        )

    def _forward_padded(
        self, x: torch.Tensor, want_aux: bool
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        raise NotImplementedError

    def _run(self, x: torch.Tensor, want_aux: bool) -> tuple[torch.Tensor, list[torch.Tensor]]:
        self._check_input(x)
        xp, crop = pad_to_multiple(x, self.size_multiple, self.spatial_dims, self.circular_axis)
        logits, aux = self._forward_padded(xp, want_aux)
        size = logits.shape[2:]
        aux = [crop_to(upsample_to(a, size, self.circular_axis), crop) for a in aux]
        return crop_to(logits, crop), aux

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return logits with the input's spatial size.

        Parameters
        ----------
        x : torch.Tensor
            Input shaped as :meth:`expected_input` says, any spatial size.

        Returns
        -------
        torch.Tensor
            Logits shaped ``(N, n_classes, *spatial)`` where ``spatial`` is the input's
            last ``spatial_dims`` sizes.
        """
        return self._run(x, want_aux=False)[0]

    def forward_with_aux(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Return the logits and the auxiliary (deep supervision) logits.

        Parameters
        ----------
        x : torch.Tensor
            Input, as for :meth:`forward`.

        Returns
        -------
        logits : torch.Tensor
            The main logits, as :meth:`forward` returns them.
        aux : list of torch.Tensor
            Auxiliary logits of the same shape as ``logits``, upsampled from the decoder
            stages (finest first); empty for models without auxiliary heads.
        """
        return self._run(x, want_aux=True)
