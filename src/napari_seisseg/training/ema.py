"""Exponential moving average of a model's weights (the model that is validated and kept).

Short CPU budgets and small batches make the weights of the last step noisy: validation
scores of consecutive epochs jump by several points.  Averaging the weights over the last
few hundred steps (Polyak averaging) removes most of that noise at the cost of one copy of
the weights and one fused update per step.  The decay ramps up as ``(1 + t) / (10 + t)``
so the average is not dominated by the random initial weights.
"""

from __future__ import annotations

import copy

import torch

__all__ = ["WeightAverage"]


class WeightAverage:
    """Running average of the floating-point parameters and buffers of a model.

    Parameters
    ----------
    model : torch.nn.Module
        The model being trained; it is copied (same device and memory format).
    decay : float
        Weight of the old average at each update, in ``(0, 1)`` (e.g. 0.99: an average over
        about the last 100 steps).

    Attributes
    ----------
    module : torch.nn.Module
        The averaged model (eval mode), to validate and to keep.
    """

    def __init__(self, model: torch.nn.Module, decay: float) -> None:
        if not 0.0 < float(decay) < 1.0:
            raise ValueError(f"decay must be in (0, 1), got {decay}")
        self.decay = float(decay)
        self.module = copy.deepcopy(model).eval()
        for p in self.module.parameters():
            p.requires_grad_(False)
        self.updates = 0

    @torch.no_grad()
    def update(self, model: torch.nn.Module) -> None:
        """Move the average towards ``model``'s current weights (call after each step)."""
        self.updates += 1
        d = min(self.decay, (1.0 + self.updates) / (10.0 + self.updates))
        avg, cur = [], []
        for a, b in zip(self.module.state_dict().values(), model.state_dict().values(),
                        strict=True):
            if a.is_floating_point():
                avg.append(a)
                cur.append(b)
            else:
                a.copy_(b)
        torch._foreach_lerp_(avg, cur, 1.0 - d)
