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


def _sums(before: Snapshot, now: Snapshot) -> dict[str, np.ndarray]:
    """Per parameter: |Δθ|², |θ_before|², <Δθ, g_before>, <g, g_before>, |g|², |g_before|².

    The six products are one (6, n) array and their sums per parameter one ``reduceat``.
    """
    delta = now.params - before.params
    left = np.stack([delta, before.params, delta, now.grads, now.grads, before.grads])
    right = np.stack([delta, before.params, before.grads, before.grads, now.grads, before.grads])
    sums = np.add.reduceat(left * right, now.starts, axis=1) * now.scale
    return dict(zip(_SUMS, sums, strict=True))


def _ascent_signs(hist: DetectorMemory, now: Snapshot, sums: dict, step: int, th: dict) -> None:
    denominator = np.sqrt(sums["dd"] * sums["prev"])
    with np.errstate(all="ignore"):
        cosines = np.where(denominator > 0, sums["dg"] / denominator, np.nan)
    for name, cosine in zip(now.names, cosines.tolist(), strict=True):
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
    sums = _sums(before, now)
    with np.errstate(all="ignore"):
        ratios = np.sqrt(sums["dd"] / sums["pp"])
    obs.metrics["update_ratio"] = {
        n: r for n, r in zip(now.names, ratios.tolist(), strict=True) if math.isfinite(r)
    }
    _ascent_signs(hist, now, sums, obs.step, th)
    total = {key: float(v.sum()) for key, v in sums.items()}
    scale = math.sqrt(total["now"] * total["prev"])
    cosine = total["turn"] / scale if scale > 0 and math.isfinite(scale) else math.nan
    _record_pair(obs, hist, total, cosine, th)


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
