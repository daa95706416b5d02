"""Turn one observation's raw arrays into statistics, and update the `DetectorMemory`.

`collect` reads the arrays (copying only samples); `derive` computes the per-step metrics
of the series (``grad_norm``, ``param_norm``, ``update_ratio``, ``dead_fraction``,
``saturated_fraction``, ``activation_rms``, ``underflow_fraction``) and the inputs of the
detectors (`gradcheck.monitor.observation.Derived`).
"""

from __future__ import annotations

import math
import re
from collections import deque
from functools import lru_cache

import numpy as np

from gradcheck.monitor import layout
from gradcheck.monitor import stats as st
from gradcheck.monitor.loss_rules import record_block
from gradcheck.monitor.observation import Derived, DetectorMemory, Observation
from gradcheck.monitor.scan import Scan

# Kind of argument -> whether its sample statistics (zeros, underflow) are wanted.
SAMPLED = {"preactivations": False, "activations": True, "gradients": True, "params": False}


@lru_cache(maxsize=64)
def _limits(dtype: np.dtype, power: float, margin: float, threshold: float) -> dict[str, float]:
    info = np.finfo(dtype)
    return {
        "square": float(info.max) ** power,
        # exp(z) overflows beyond log(max); after the max is subtracted (softmax), it
        # underflows to 0 when the logits spread over more than that: half of it each side.
        "exp": margin * math.log(float(info.max)) / 2,
        "tiny": max(threshold, float(info.tiny)),
    }


def collect(scan: Scan, obs: Observation, th: dict, seed: int, hist: DetectorMemory) -> Observation:
    """Summarize every array of one step (exact norms from the scan, samples copied)."""
    obs.metrics, obs.derived = {}, Derived(nonfinite=scan.bad)
    _summarize(obs, scan, th, seed, tuple(scan.index))
    _forward(obs, scan, th, hist)
    return obs


def _summarize(obs: Observation, scan: Scan, th: dict, seed: int, kinds: tuple) -> None:
    power, margin, threshold = th["overflow_power"], th["exp_margin"], th["underflow_threshold"]
    wanted: dict[int, tuple[float, float | None]] = {}  # position -> (limit, tiny or None)
    for kind in kinds:
        for name, i in scan.index[kind].items():
            bounds = _limits(scan.arrays[i].dtype, power, margin, threshold)
            limit = bounds["exp" if scan.bad and kind == "preactivations" else "square"]
            old_limit, old_tiny = wanted.get(i, (math.inf, None))
            tiny = bounds["tiny"] if SAMPLED[kind] else old_tiny
            wanted[i] = (min(limit, old_limit), tiny)
            obs.derived.limits.setdefault(kind, {})[name] = limit
            obs.derived.tiny[name] = bounds["tiny"]
    order = list(wanted)
    summaries = st.summarize_many(
        [scan.arrays[i] for i in order],
        [scan.sumsq[i] for i in order],
        [wanted[i][0] for i in order],
        [wanted[i][1] for i in order],
        seed=seed,
        k=int(th["sample_size"]),
    )
    stats = dict(zip(order, summaries, strict=True))
    for kind in kinds:
        group = getattr(obs, kind)
        for name, i in scan.index[kind].items():
            group[name] = stats[i]
            if kind == "gradients":
                obs.ndim[name] = scan.arrays[i].shape


def _forward(obs: Observation, scan: Scan, th: dict, hist: DetectorMemory) -> None:
    """Pairs, layer kinds and alive units of the forward arrays."""
    acts, pres = scan.named("activations"), scan.named("preactivations")
    key = tuple((n, a.shape) for n, a in acts.items()), tuple((n, a.shape) for n, a in pres.items())
    if hist.layout_key != key:  # the same names and shapes at (almost) every step
        hist.layout_key = key
        hist.layout_value = layout.forward_order(acts, pres), layout.pairs(acts, pres)
    obs.forward, obs.pairs = hist.layout_value
    alive = obs.derived.alive
    rows = 8 * int(th["sample_size"])  # alive units from the first rows: 16 of 1000 units
    for name, array in acts.items():
        s, pre = obs.activations[name], obs.pairs.get(name)
        pre_sample = obs.preactivations[pre].sample if pre is not None else None
        table = layout.units_table(array, scan.axis)
        obs.kinds[name] = layout.kind(name, s.sample, pre_sample, table)
        if table is not None:
            units = st.alive_units(table, rows, all_alive=not s.zero_fraction > 0)
            alive[name] = (units, min(table.shape[0], max(1, rows // max(table.shape[1], 1))))


def record_loss(hist: DetectorMemory, step: int, loss: float | None, th: dict) -> None:
    """Keep the loss of every observed step (a bounded tail) and the robust reference."""
    hist.n += 1
    hist.steps.append(step)
    hist.losses.append(math.nan if loss is None else loss)
    hist.block_done = record_block(hist, step, loss, int(th["plateau_window"]))
    keep = int(max(2 * th["plateau_window"], 20, th["ascent_window"])) + 1
    if len(hist.steps) > 2 * keep:  # the detectors look back `keep` steps at most
        del hist.steps[:-keep], hist.losses[:-keep]
    if loss is None or not math.isfinite(loss):
        return
    if hist.initial_loss is None:
        hist.initial_loss = loss
    if len(hist.first_losses) < int(th["reference_steps"]):
        hist.first_losses.append(loss)
        ordered = sorted(hist.first_losses)
        hist.reference_loss = ordered[(len(ordered) - 1) // 2]  # median, robust to outliers


def derive(obs: Observation, hist: DetectorMemory, th: dict) -> None:
    """Compute the metrics of a detailed observation and update `hist`."""
    hist.detail_steps.append(obs.step)
    del hist.detail_steps[:-64]
    m = obs.metrics
    m["grad_norm"] = {n: s.norm for n, s in obs.gradients.items()}
    m["param_norm"] = {n: s.norm for n, s in obs.params.items()}
    m["activation_rms"] = {n: s.rms for n, s in obs.activations.items()}
    m["underflow_fraction"] = {
        n: s.underflow_fraction for n, s in [*obs.activations.items(), *obs.gradients.items()]
    }
    _saturation(obs, th)
    _dead(obs, hist, th)
    _gradients(obs, hist)


def _saturation(obs: Observation, th: dict) -> None:
    names = list(obs.activations)
    output = obs.forward[-1] if obs.forward and len(names) > 1 else None
    # The network's output is judged by the loss: a confident classifier pushes it to 0/1.
    squash = [n for n in names if obs.kinds.get(n) == "squash"]
    found = {n: st.saturation(obs.activations[n].sample, th["saturation_eps"]) for n in squash}
    obs.metrics["saturated_fraction"] = {n: f for n, (f, _) in found.items()}
    obs.derived.saturation = {n: v for n, v in found.items() if ("activation", n) != output}


def _dead(obs: Observation, hist: DetectorMemory, th: dict) -> None:
    """Count the dead units of each ReLU-like layer.

    Dead: exactly 0 on every sample seen since a cut step, at least `dead_window` steps and
    `dead_samples` samples back.
    """
    now, fractions = obs.step, {}
    hist.dead = {}
    for name, (alive, rows) in obs.derived.alive.items():
        if obs.kinds.get(name) != "relu":
            continue
        last = hist.last_alive.get(name)
        if last is None or last.shape != alive.shape:
            last = hist.last_alive[name] = np.full(alive.shape, now - 1, dtype=np.int64)
            hist.first_seen[name], hist.seen_rows[name] = now, deque(maxlen=512)
        last[alive] = now
        hist.seen_rows[name].append((now, rows))
        fractions[name] = 1.0 - float(np.count_nonzero(alive)) / alive.size
        cut = _dead_cut(hist.seen_rows[name], now, th)
        if cut is not None:
            hist.dead[name] = (int(np.count_nonzero(last < cut)), int(alive.size))
    obs.metrics["dead_fraction"] = fractions


def _dead_cut(seen: deque, now: int, th: dict) -> int | None:
    samples = 0
    for step, rows in reversed(seen):
        samples += rows
        if samples >= th["dead_samples"] and now - step + 1 >= th["dead_window"]:
            return step
    return None


_BIAS_NAME = re.compile(r"(^|[._\[])(b|bias|beta|shift)\d*\]?$", re.IGNORECASE)
_WEIGHT_NAME = re.compile(r"(^|[._\[])(w|weight|weights|kernel|u|v)\d*\]?$", re.IGNORECASE)


def is_weight(name: str, shape: tuple) -> bool:
    """Return whether a parameter is a weight matrix, not a bias stored (1, n) or (n, 1).

    2-D and up; a name like ``b1`` or ``bias`` is a bias, ``W1`` or ``weight`` a weight.

    Examples
    --------
    >>> is_weight("W1", (64, 32)), is_weight("b1", (1, 32)), is_weight("dense.b", (32,))
    (True, False, False)
    """
    if len(shape) < 2 or _BIAS_NAME.search(name):
        return False
    return bool(_WEIGHT_NAME.search(name)) or min(shape) > 1


def _gradients(obs: Observation, hist: DetectorMemory) -> None:
    relative = []
    for name, s in obs.gradients.items():
        p = obs.params.get(name)
        if not is_weight(name, obs.ndim[name]) or s.n_nan or s.n_inf or p is None:
            continue
        if p.rms > 0 and math.isfinite(p.rms) and not (p.n_nan or p.n_inf):
            relative.append((name, s.rms / p.rms))
    obs.derived.relative_gradient = relative
    total = math.sqrt(sum(s.norm**2 for s in obs.gradients.values()))
    if any(s.n_nan or s.n_inf for s in obs.gradients.values()):
        total = math.nan  # a non-finite step says nothing of growth
    obs.derived.grad_total = total if obs.gradients else None
    if relative and hist.initial_relative is None:
        hist.initial_relative = dict(relative)
