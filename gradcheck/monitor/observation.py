"""One observation's statistics (`Observation`) and what the detectors remember (`History`).

Scan order for NaN / Inf (the first array where one appears names the finding): the
parameters (forward order: a bad value there came from the previous update), then the
forward pass — pre-activations and activations merged in forward order, a layer's
pre-activation before its activation — then the loss, then the gradients in *backward*
order (reverse of the order given), because backprop computes the last layer's gradients
first and a NaN born in the backward pass spreads from there toward the input.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from gradcheck.monitor import stats as st


@dataclass
class Observation:
    """The statistics of one call to ``Monitor.observe``."""

    step: int
    loss: float | None
    activations: dict[str, st.ArrayStats] = field(default_factory=dict)
    preactivations: dict[str, st.ArrayStats] = field(default_factory=dict)
    gradients: dict[str, st.ArrayStats] = field(default_factory=dict)
    params: dict[str, st.ArrayStats] = field(default_factory=dict)
    forward: list[tuple[str, str]] = field(default_factory=list)  # (kind, name) in order
    ndim: dict[str, int] = field(default_factory=dict)  # gradient name -> ndim
    metrics: dict[str, dict[str, float]] = field(default_factory=dict)


@dataclass
class History:
    """What persists between observations (small: per-unit counters and samples)."""

    n: int = 0
    steps: list[int] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)
    initial_loss: float | None = None
    initial_grad_norm: float | None = None
    previous_grad_norm: float = math.nan
    streaks: dict[tuple, tuple[int, int]] = field(default_factory=dict)
    last_alive: dict[str, np.ndarray] = field(default_factory=dict)
    first_seen: dict[str, int] = field(default_factory=dict)
    dead: dict[str, tuple[int, int]] = field(default_factory=dict)  # name -> (n_dead, n_units)
    prev_params: dict[str, np.ndarray] = field(default_factory=dict)
    prev_sq: dict[str, float | None] = field(default_factory=dict)  # |prev_params|^2
    prev_grads: dict[str, tuple[np.ndarray, float]] = field(default_factory=dict)  # (g, |g|^2)
    ascent: dict[str, deque] = field(default_factory=dict)

    def persist(self, key: tuple, condition: bool, step: int) -> tuple[int, int]:
        """Count consecutive observations where `condition` held; return (count, first step)."""
        count, start = self.streaks.get(key, (0, step))
        count, start = (count + 1, start if count else step) if condition else (0, step)
        self.streaks[key] = (count, start)
        return count, start


def forward_order(activations: Mapping, preactivations: Mapping) -> list[tuple[str, str]]:
    """Merge the two forward dicts: each pre-activation just before its activation.

    A pre-activation named like an activation goes right before it; otherwise the i-th
    pre-activation goes before the i-th activation (``z1, a1, z2, a2``).
    """
    acts, pres = list(activations), list(preactivations)
    if all(name in activations for name in pres):
        pre_set = set(pres)
        out = []
        for name in acts:
            out += [("preactivation", name)] if name in pre_set else []
            out.append(("activation", name))
        return out
    out = []
    for i in range(max(len(acts), len(pres))):
        out += [("preactivation", pres[i])] if i < len(pres) else []
        out += [("activation", acts[i])] if i < len(acts) else []
    return out
