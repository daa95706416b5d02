"""The evaluation context and one stencil level: the pieces every per-entry probe shares.

:class:`Context` carries the evaluator, the loss at the checked point and its noise, and
the precision the steps are tuned for; :func:`evaluate_level` evaluates one stencil at one step
for a set of entries; :func:`level_noise` is the per-entry loss noise of the error model
(:mod:`gradcheck.numeric.estimates`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from gradcheck.numeric import estimates as est
from gradcheck.numeric.differences import entry_values


class Context(NamedTuple):
    """What every probe needs: the evaluator, the loss at x, its noise, the steps."""

    evaluate: Callable[[], float]
    f0: float
    sigma: float
    eps_analytic: float
    eps: float | None = None
    imag: Callable[[], float] | None = None
    gradient_scale: float = 0.0
    eps_eval: float = float(np.finfo(np.float64).eps)
    on_entry: Callable[[], None] | None = None
    param_scale: float = 0.0  # largest |analytic| of the parameter being probed
    tiny_analytic: float = 0.0  # smallest subnormal of the analytic gradient's dtype
    step_dtype: np.dtype | None = None  # the working precision (steps are tuned for it)
    step_factor: float = 1.0  # the parameter's step, relative to the default rule


def with_scale(ctx: Context, analytic: np.ndarray) -> Context:
    """Return `ctx` whose ``param_scale`` covers the largest ``|analytic|`` given."""
    magnitude = np.abs(np.asarray(analytic, dtype=float))
    largest = float(np.max(magnitude[np.isfinite(magnitude)], initial=0.0))  # inf: no scale
    return ctx._replace(param_scale=max(ctx.param_scale, largest))


class Level(NamedTuple):
    """One stencil at one step for a set of entries: estimates and what they rest on."""

    numeric: np.ndarray
    coeff_norm: np.ndarray
    values: np.ndarray
    taken: np.ndarray
    x: np.ndarray  # the entries' values (float)
    rounds_inputs: bool  # the loss works in a coarser precision than the entries

    def take(self, rows: np.ndarray) -> Level:
        """Return the level restricted to `rows` (indices or a mask)."""
        arrays = (part[rows] for part in self[:-1])
        return Level(*arrays, self.rounds_inputs)


def level_noise(ctx: Context, *levels: Level) -> np.ndarray:
    """Per-entry loss noise: measured, of the largest value seen, or of the terms moved.

    When the loss works in a coarser precision than the parameters, it rounds the
    perturbed entry itself: ``eps_f |x| G`` more (``x`` the entry, ``G`` the scale).
    """
    # fmax skips NaN (a step outside the domain) and, unlike nanmax, says nothing when
    # every value of an entry is NaN: that entry is then inconclusive, not a warning
    largest = np.fmax.reduce([np.fmax.reduce(np.abs(lv.values), axis=1) for lv in levels])
    step = np.max([np.max(np.abs(lv.taken), axis=1) for lv in levels], axis=0)
    floor = est.step_noise(step, ctx.param_scale, ctx.eps_eval)
    inputs = est.step_noise(levels[0].x, ctx.param_scale, ctx.eps_eval) * levels[0].rounds_inputs
    return np.maximum(np.maximum(ctx.sigma, ctx.eps_eval * largest), np.maximum(floor, inputs))


def evaluate_level(
    ctx: Context, leaf: np.ndarray, indices: np.ndarray, h: np.ndarray, offsets, weights
):
    """Evaluate the stencil (`offsets`, `weights`) at steps `h` for the entries `indices`.

    A step lost in the rounding of ``x + h`` (none taken) gives a NaN estimate: no
    derivative at that step, like a step outside the domain.
    """
    x = leaf.reshape(-1)[indices]
    offsets_arr = np.asarray(offsets)
    perturbed = (x[:, None] + (offsets_arr[None, :] * h[:, None]).astype(x.dtype)).astype(x.dtype)
    taken = (perturbed - x[:, None]).astype(float)
    values = np.full(perturbed.shape, ctx.f0)
    columns = [k for k, offset in enumerate(offsets) if offset != 0]
    entry_values(ctx.evaluate, leaf, indices, perturbed, columns, values, ctx.on_entry)
    w = np.asarray(weights)
    hbar = taken @ w
    moved = hbar != 0
    safe = np.where(moved, hbar, 1.0)
    return Level(
        np.where(moved, values @ w / safe, np.nan),
        np.where(moved, np.sqrt(np.sum(w**2)) / np.abs(safe), np.inf),
        values,
        taken,
        np.real(x).astype(float),
        ctx.eps_eval > float(np.finfo(x.real.dtype).eps),
    )
