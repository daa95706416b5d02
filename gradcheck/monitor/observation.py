"""An observation (`Observation`, `Derived`), the detectors' memory and their `Hit` s.

`Observation` holds one step's statistics and `Derived` the detectors' inputs computed from
them; `DetectorMemory` is what the detectors remember between steps; `Hit` is what they return.

Scan order for NaN / Inf (the first array where one appears names the finding): the
parameters (forward order: a bad value there came from the previous update), then the
forward pass — pre-activations and activations merged in forward order, a layer's
pre-activation before its activation — then the loss, then the gradients in *backward*
order (reverse of the order given), because backprop computes the last layer's gradients
first and a NaN born in the backward pass spreads from there toward the input.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from gradcheck.monitor import stats as st


@dataclass
class Derived:
    """The detectors' inputs derived from one observation (not part of the stored series).

    Written by `gradcheck.monitor.derive` and `gradcheck.monitor.updates`; read by the
    detectors (`gradcheck.monitor.detectors`, `explosion`).
    """

    nonfinite: bool = False  # the scan saw a NaN / Inf somewhere at this step
    limits: dict[str, dict[str, float]] = field(default_factory=dict)  # kind -> name -> limit
    tiny: dict[str, float] = field(default_factory=dict)  # name -> underflow threshold
    alive: dict[str, tuple[np.ndarray, int]] = field(default_factory=dict)  # (alive, rows)
    saturation: dict[str, tuple[float, Any]] = field(default_factory=dict)  # (fraction, bounds)
    relative_gradient: list[tuple[str, float]] = field(default_factory=list)  # forward order
    grad_total: float | None = None  # the norm of all gradients (nan if one is not finite)


class Hit(NamedTuple):
    """What a detector returns for one array: the monitor makes or updates a `Finding`."""

    name: str | None  # the layer / parameter / array it is about ("loss" for the loss)
    evidence: dict  # numbers for the message template (the worst seen is kept)
    score: float  # how bad: the evidence of the highest score is kept
    severity: str | None  # None: the code's default severity
    start: int  # the first step of the streak that made it fire


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
    ndim: dict[str, tuple] = field(default_factory=dict)  # gradient name -> shape
    pairs: dict[str, str] = field(default_factory=dict)  # activation -> its pre-activation
    kinds: dict[str, str] = field(default_factory=dict)  # activation -> relu / squash / linear
    level: str = "detail"  # "detail" (every statistic) or "loss" (the loss and the scan)
    metrics: dict[str, dict[str, float]] = field(default_factory=dict)  # the series' values
    derived: Derived = field(default_factory=Derived)


@dataclass
class DetectorMemory:
    """What persists between observations (small: per-unit counters and samples)."""

    n: int = 0
    steps: list[int] = field(default_factory=list)  # every observed step
    losses: list[float] = field(default_factory=list)  # the loss at each (nan if none)
    detail_steps: list[int] = field(default_factory=list)  # steps with full statistics
    initial_loss: float | None = None
    reference_loss: float | None = None  # median of the first finite losses (robust start)
    first_losses: list[float] = field(default_factory=list)
    blocks: list = field(default_factory=list)  # [index, n, sum, sum of squares] of losses
    block_done: bool = False  # a block of `plateau_window` steps completed at this step
    last_high: int | None = None  # last step with a loss `divergence_mean` x the reference
    updates: deque = field(default_factory=lambda: deque(maxlen=16))  # (step, size, rise)
    event_checked: dict[int, bool] = field(default_factory=dict)  # step -> a new high?
    growth: deque = field(default_factory=lambda: deque(maxlen=5))  # gradient norm grew?
    initial_grad_norm: float | None = None
    streaks: dict[tuple, tuple[int, int]] = field(default_factory=dict)
    last_alive: dict[str, np.ndarray] = field(default_factory=dict)
    first_seen: dict[str, int] = field(default_factory=dict)
    dead: dict[str, tuple[int, int]] = field(default_factory=dict)  # name -> (n_dead, n_units)
    seen_rows: dict[str, deque] = field(default_factory=dict)  # name -> (step, samples seen)
    previous: Any = None  # the `Snapshot` of the parameters and gradients at `sampled_step`
    ascent: dict[str, deque] = field(default_factory=dict)
    sampled_step: int | None = None  # the step whose parameter samples `prev_params` holds
    initial_relative: dict[str, float] | None = None  # relative gradients at the start
    layout_key: tuple | None = None  # names and shapes of the forward arrays...
    layout_value: tuple = ((), {})  # ...and their (forward order, pairs)

    def persist(self, key: tuple, condition: bool, step: int) -> tuple[int, int]:
        """Count consecutive observations where `condition` held; return (span, first step).

        The span is in steps (``step - first + 1``), so windows mean the same with a sparse
        schedule; a single observation spans one step.
        """
        count, start = self.streaks.get(key, (0, step))
        count, start = (count + 1, start if count else step) if condition else (0, step)
        self.streaks[key] = (count, start)
        return (step - start + 1 if count else 0), start
