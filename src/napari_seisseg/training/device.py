"""Device choice, a description for the user, and mixed-precision settings.

``"auto"`` takes CUDA, then Apple MPS, then the CPU.  On CUDA mixed precision uses bf16
where the GPU supports it (no gradient scaling needed), else fp16 with a
:class:`torch.amp.GradScaler`.  Elsewhere training runs in float32.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import torch

from ..errors import SeisSegError

__all__ = ["AmpSettings", "amp_settings", "autocast", "describe_device", "is_oom", "resolve_device"]


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def resolve_device(name: str = "auto") -> torch.device:
    """The torch device for ``"auto"``, ``"cpu"``, ``"cuda"`` (or ``"cuda:N"``) or ``"mps"``.

    Raises
    ------
    SeisSegError
        When the requested device is not available here.
    """
    name = (name or "auto").lower()
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise SeisSegError(
                "device 'cuda' was asked for but no CUDA GPU is usable here (this PyTorch build "
                f"is {torch.__version__}). Use device 'auto' or 'cpu'."
            )
        return torch.device(name)
    if name == "mps":
        if not _mps_available():
            raise SeisSegError(
                "device 'mps' was asked for but Apple MPS is not available. Use 'auto' or 'cpu'."
            )
        return torch.device("mps")
    if name == "cpu":
        return torch.device("cpu")
    raise SeisSegError(f"Unknown device {name!r}; use 'auto', 'cpu', 'cuda' or 'mps'.")


def describe_device(device: torch.device) -> str:
    """Human-readable device description, e.g. ``"CUDA GPU 0: NVIDIA H100 (79 GiB)"``."""
    if device.type == "cuda":
        idx = device.index if device.index is not None else torch.cuda.current_device()
        props = torch.cuda.get_device_properties(idx)
        return f"CUDA GPU {idx}: {props.name} ({props.total_memory / 2**30:.0f} GiB)"
    if device.type == "mps":
        return "Apple GPU (MPS)"
    return f"CPU ({torch.get_num_threads()} threads)"


@dataclass(frozen=True)
class AmpSettings:
    """Mixed precision: whether it is on, its dtype, and whether gradients are scaled."""

    enabled: bool
    dtype: torch.dtype = torch.float32
    scaler: bool = False

    def describe(self) -> str:
        """``"bf16"``, ``"fp16 + grad scaling"`` or ``"fp32"``."""
        if not self.enabled:
            return "fp32"
        return "bf16" if self.dtype == torch.bfloat16 else "fp16 + grad scaling"


def amp_settings(device: torch.device, amp: bool | None) -> AmpSettings:
    """Mixed-precision settings for ``device`` (``amp`` None: on for CUDA only)."""
    if amp is None:
        amp = device.type == "cuda"
    if not amp or device.type != "cuda":
        return AmpSettings(False)
    if torch.cuda.is_bf16_supported():
        return AmpSettings(True, torch.bfloat16, False)
    return AmpSettings(True, torch.float16, True)


def autocast(device: torch.device, amp: AmpSettings):
    """Autocast context for a forward pass (a no-op context when AMP is off)."""
    if not amp.enabled:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=amp.dtype)


def is_oom(exc: BaseException) -> bool:
    """True for a GPU out-of-memory error."""
    oom = getattr(torch, "OutOfMemoryError", None) or getattr(torch.cuda, "OutOfMemoryError", ())
    if oom and isinstance(exc, oom):
        return True
    return isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower()
