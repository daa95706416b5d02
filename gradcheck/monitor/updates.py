"""What one update did: its size, its direction, and how the loss answered it.

Measured between two consecutive observed steps t-1 and t (``observe`` called after
backward and before the optimizer's update, so θ_t − θ_{t-1} is the update made from the
gradient g_{t-1}). Per parameter: the update ratio |Δθ| / |θ| and the cosine of Δθ with
g_{t-1} (> 0: uphill, for `ascent`). Over all parameters, one `UpdatePair`: the update's
size, the loss's rise ``L_t / L_{t-1}``, the first-order *consistency*
``(L_t − L_{t-1}) / <g_{t-1}, Δθ>`` (about 1 for a step along the true gradient, much less
when the gradient given is far larger than the true one, as when gradients accumulate) and
whether the gradient grew while staying parallel to the previous one. Sampled entries
stand for their whole array (sums scaled by size / sample size); the parameters and
gradients of a step are copied into two flat buffers (`Snapshot`), so a pair costs a few
vectorized passes whatever the number of parameters.
"""

from __future__ import annotations

import itertools
import math
from collections import deque
from collections.abc import Mapping
from typing import NamedTuple

import numpy as np

from gradcheck.monitor.observation import DetectorMemory, Observation
from gradcheck.monitor.scan import as_array
from gradcheck.monitor.stats import sample_indices


class UpdatePair(NamedTuple):
    """One update, seen from the step after it."""

    step: int
    size: float  # |Δθ| / |θ| over all parameters
    rise: float  # L_t / L_{t-1}
    consistency: float  # (L_t - L_{t-1}) / <g_{t-1}, Δθ>
    parallel_growth: bool  # |g_t| > |g_{t-1}| with cosine above `accumulation_cosine`


def snapshot(arrays: Mapping[str, Mapping], k: int, seed: int) -> Snapshot | None:
    """Copy the (sampled) parameters and their gradients into two flat float64 buffers.

    `arrays` holds ``"params"`` and ``"gradients"`` (name -> array, already validated).
    """
    params, grads = arrays["params"], arrays["gradients"]
    pairs = [
        (name, as_array("params", name, p).ravel(), as_array("gradients", name, grads[name]))
        for name, p in params.items()
        if name in grads
    ]
    pairs = [(n, p, g.ravel()) for n, p, g in pairs if p.size == g.size > 0]
    if not pairs:
        return None
    names, p_parts, g_parts, sizes = [], [], [], []
    for name, p, g in pairs:
        idx = sample_indices(p.size, k, seed)
        names.append(name)
        p_parts.append(p if idx is None else p[idx])
        g_parts.append(g if idx is None else g[idx])
        sizes.append(p.size if idx is None else idx.size)
    starts = np.array([0, *itertools.accumulate(sizes[:-1])])
    scale = np.array([p.size / size for (_, p, _), size in zip(pairs, sizes, strict=True)])
    p_all = np.concatenate(p_parts).astype(np.float64, copy=False)
    g_all = np.concatenate(g_parts).astype(np.float64, copy=False)
    return Snapshot(names, starts, scale, p_all, g_all)


class Snapshot(NamedTuple):
    """The sampled parameters and gradients of one step, flat."""

    names: list[str]
    starts: np.ndarray
    scale: np.ndarray  # size / sample size per parameter
    params: np.ndarray
    grads: np.ndarray


_SUMS = ("dd", "pp", "dg", "turn", "now", "prev")


def _sums(before: Snapshot, now: Snapshot) -> tuple[dict[str, list], dict[str, float]]:
    """Return the six sums per parameter (lists of floats) and over all (floats).

    They are |Δθ|², |θ_before|², <Δθ, g_before>, <g, g_before>, |g|² and |g_before|². The
    six products are one (6, n) array, their sums per parameter one ``reduceat``, their
    totals one sum: a detailed step runs right after the training step, when each numpy
    call costs several microseconds, so the few numbers per parameter are then handled in
    Python.
    """
    delta = now.params - before.params
    left = np.stack([delta, before.params, delta, now.grads, now.grads, before.grads])
    right = np.stack([delta, before.params, before.grads, before.grads, now.grads, before.grads])
    sums = np.add.reduceat(left * right, now.starts, axis=1) * now.scale
    totals = sums.sum(axis=1).tolist()
    return dict(zip(_SUMS, sums.tolist(), strict=True)), dict(zip(_SUMS, totals, strict=True))


def _cosine(dot: float, a: float, b: float) -> float:
    """``dot / sqrt(a b)``; NaN when that is 0 or not finite (as numpy's, without warnings)."""
    denominator = math.sqrt(a * b) if a * b >= 0 else math.nan
    return dot / denominator if denominator > 0 and math.isfinite(denominator) else math.nan


def _ascent_signs(hist: DetectorMemory, now: Snapshot, sums: dict, step: int, th: dict) -> None:
    for name, dg, dd, prev in zip(now.names, sums["dg"], sums["dd"], sums["prev"], strict=True):
        cosine = _cosine(dg, dd, prev)
        if math.isfinite(cosine) and cosine != 0.0:
            signs = hist.ascent.setdefault(name, deque(maxlen=int(th["ascent_window"])))
            signs.append((step, cosine))


def updates(
    obs: Observation, arrays: Mapping[str, Mapping], hist: DetectorMemory, th: dict, seed: int
):
    """Measure the update that led to `obs` (see the module notes) and keep a snapshot."""
    now = snapshot(arrays, int(th["sample_size"]), seed)
    consecutive = len(hist.steps) > 1 and hist.sampled_step == hist.steps[-2]
    before, hist.previous, hist.sampled_step = hist.previous, now, obs.step
    if not consecutive or before is None or now is None or before.names != now.names:
        return
    if before.params.size != now.params.size:
        return
    sums, total = _sums(before, now)
    pairs = zip(now.names, sums["dd"], sums["pp"], strict=True)
    ratios = {n: _ratio(dd, pp) for n, dd, pp in pairs}
    obs.metrics["update_ratio"] = {n: r for n, r in ratios.items() if math.isfinite(r)}
    _ascent_signs(hist, now, sums, obs.step, th)
    _record_pair(obs, hist, total, _cosine(total["turn"], total["now"], total["prev"]), th)


def _ratio(dd: float, pp: float) -> float:
    """sqrt(dd / pp); NaN where numpy's would be NaN or Inf."""
    return math.sqrt(dd / pp) if pp > 0 and dd >= 0 else math.nan


def _record_pair(
    obs: Observation, hist: DetectorMemory, total: dict, cosine: float, th: dict
) -> None:
    if not total["pp"] > 0 or len(hist.losses) < 2:
        return
    before, after = hist.losses[-2], hist.losses[-1]
    rise = after / before if before > 0 and math.isfinite(before) else math.nan
    rise = math.inf if math.isfinite(before) and not math.isfinite(after) else rise
    consistency = (after - before) / total["dg"] if total["dg"] else math.nan
    grew = total["now"] > total["prev"] and cosine > th["accumulation_cosine"]
    size = math.sqrt(total["dd"] / total["pp"])
    hist.updates.append(UpdatePair(obs.step, size, rise, consistency, grew))
