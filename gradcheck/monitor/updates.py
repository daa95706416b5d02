"""What one update did: its size, its direction, and how the loss answered it.

Measured between two consecutive observed steps t-1 and t (``observe`` called after
backward and before the optimizer's update, so θ_t − θ_{t-1} is the update made from the
gradient g_{t-1}). Per parameter: the update ratio |Δθ| / |θ| and the cosine of Δθ with
g_{t-1} (> 0: uphill, for `ascent`). Over all parameters, one `UpdatePair`: the update's
size, the loss's rise ``L_t / L_{t-1}``, the first-order *consistency*
``(L_t − L_{t-1}) / <g_{t-1}, Δθ>`` (about 1 for a step along the true gradient, much less
when the gradient given is far larger than the true one, as when gradients accumulate) and
whether the gradient grew while staying parallel to the previous one. Sampled entries
stand for their whole array (sums scaled by size / sample size).
"""

from __future__ import annotations

import math
from collections import deque
from typing import NamedTuple

import numpy as np

from gradcheck.monitor.observation import History, Observation


class UpdatePair(NamedTuple):
    """One update, seen from the step after it."""

    step: int
    size: float  # |Δθ| / |θ| over all parameters
    rise: float  # L_t / L_{t-1}
    consistency: float  # (L_t - L_{t-1}) / <g_{t-1}, Δθ>
    parallel_growth: bool  # |g_t| > |g_{t-1}| with cosine above `accumulation_cosine`


_SUMS = ("dd", "pp", "dg", "turn", "now", "prev")


def _f64(values: np.ndarray) -> np.ndarray:
    return values if values.dtype == np.float64 else values.astype(np.float64)


def _dot(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.dot(a, b))


def _one_param(name: str, obs: Observation, hist: History, th: dict, sums: dict) -> float:
    """Add one parameter's terms to `sums`; return its update ratio (nan without one)."""
    s = obs.params[name]
    now, before = _f64(s.sample), hist.prev_params.get(name)
    grad, gg = hist.prev_grads.get(name, (None, math.nan))
    scale = s.size / max(now.size, 1)
    ratio = math.nan
    if before is not None and before.shape == now.shape:
        delta = now - before
        dd, pp = _dot(delta, delta), hist.prev_sq.get(name)
        pp = _dot(before, before) if pp is None else pp
        ratio = math.sqrt(dd / pp) if pp > 0 else math.nan
        sums["dd"] += scale * dd
        sums["pp"] += scale * pp
        if grad is not None and grad.shape == delta.shape:
            dg = _dot(delta, grad)
            sums["dg"] += scale * dg
            _ascent_sign(hist, name, dg / math.sqrt(dd * gg) if dd * gg > 0 else math.nan, obs, th)
    hist.prev_params[name] = now
    hist.prev_sq[name] = s.sample_sq if now is s.sample else None
    _gradient_turn(name, obs, hist, grad, gg, sums, scale)
    return ratio


def _gradient_turn(name, obs, hist, grad, gg, sums, scale) -> None:
    g = obs.gradients.get(name)
    if g is None or g.size != obs.params[name].size:
        hist.prev_grads.pop(name, None)
        return
    g_now = _f64(g.sample)
    g_sq = g.sample_sq if g_now is g.sample and g.sample_sq is not None else _dot(g_now, g_now)
    if grad is not None and grad.shape == g_now.shape:
        sums["turn"] += scale * _dot(g_now, grad)
        sums["now"] += scale * g_sq
        sums["prev"] += scale * gg
    hist.prev_grads[name] = (g_now, g_sq)  # the sample and its squared norm


def _ascent_sign(hist: History, name: str, cosine: float, obs: Observation, th: dict) -> None:
    if math.isfinite(cosine) and cosine != 0.0:
        signs = hist.ascent.setdefault(name, deque(maxlen=int(th["ascent_window"])))
        signs.append((obs.step, cosine))


def updates(obs: Observation, hist: History, th: dict) -> None:
    """Measure the update that led to `obs` (see the module notes) and keep the samples."""
    consecutive = len(hist.steps) > 1 and hist.sampled_step == hist.steps[-2]
    if not consecutive:
        hist.prev_params.clear(), hist.prev_grads.clear(), hist.prev_sq.clear()
    hist.sampled_step = obs.step
    sums = dict.fromkeys(_SUMS, 0.0)
    ratios = {name: _one_param(name, obs, hist, th, sums) for name in obs.params}
    obs.metrics["update_ratio"] = {k: v for k, v in ratios.items() if not math.isnan(v)}
    scale = math.sqrt(sums["now"] * sums["prev"])
    cosine = sums["turn"] / scale if scale > 0 and math.isfinite(scale) else math.nan
    obs.metrics["_grad_cosine"] = cosine
    if sums["pp"] > 0 and len(hist.losses) > 1:
        before, after = hist.losses[-2], hist.losses[-1]
        rise = after / before if before > 0 and math.isfinite(before) else math.nan
        rise = math.inf if math.isfinite(before) and not math.isfinite(after) else rise
        consistency = (after - before) / sums["dg"] if sums["dg"] else math.nan
        grew = sums["now"] > sums["prev"] and cosine > th["accumulation_cosine"]
        size = math.sqrt(sums["dd"] / sums["pp"])
        hist.updates.append(UpdatePair(obs.step, size, rise, consistency, grew))
