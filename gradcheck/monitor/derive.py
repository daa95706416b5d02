"""Turn one observation's raw arrays into statistics, and update the `History`.

`collect` reads the arrays (copying only samples); `derive` computes the per-step metrics
of the series (``grad_norm``, ``param_norm``, ``update_ratio``, ``dead_fraction``,
``saturated_fraction``, ``activation_rms``, ``underflow_fraction``) and the private inputs of
the detectors (keys starting with ``_``).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping

import numpy as np

from gradcheck.monitor import stats as st
from gradcheck.monitor.observation import History, Observation, forward_order

# kind -> (limit rule, sample statistics wanted); pre-activations first, so that an array
# passed both as a pre-activation and as an activation is read once, with the lower limit.
KINDS = {
    "preactivations": ("exp", True),
    "activations": ("square", True),
    "gradients": ("square", True),
    "params": ("square", False),
}


def _limits(dtype: np.dtype, th: dict, cache: dict) -> dict[str, float]:
    if dtype in cache:
        return cache[dtype]
    info = np.finfo(dtype)
    cache[dtype] = {
        "square": float(info.max) ** th["overflow_power"],
        "exp": th["exp_margin"] * math.log(float(info.max)),
        "tiny": max(th["underflow_threshold"], float(info.tiny)),
    }
    return cache[dtype]


def collect(step: int, loss: float | None, arrays: dict[str, Mapping], th: dict, seed: int):
    """Summarize every array; read all of them in full if anything is not finite."""
    obs = _collect(step, loss, arrays, th, seed, int(th["full_size"]))
    bad = loss is not None and not math.isfinite(loss)
    bad = bad or any(s.n_nan or s.n_inf for s in _all_stats(obs))
    if bad and any(s.size > th["full_size"] for s in _all_stats(obs)):
        obs = _collect(step, loss, arrays, th, seed, math.inf)
    obs.metrics["_nonfinite"] = bad
    return obs


def _all_stats(obs: Observation) -> list[st.ArrayStats]:
    kinds = (obs.activations, obs.preactivations, obs.gradients, obs.params)
    return [s for kind in kinds for s in kind.values()]


def _collect(step, loss, arrays, th, seed, full_size) -> Observation:
    obs = Observation(step=step, loss=loss)
    obs.metrics = {"_limits": {}, "_tiny": {}, "_alive": {}}
    seen: dict[int, st.ArrayStats] = {}
    cache: dict[np.dtype, dict[str, float]] = {}
    as_activation = {id(v) for v in arrays["activations"].values()}
    for kind, (rule, sampled) in KINDS.items():
        out, limits = getattr(obs, kind), obs.metrics["_limits"].setdefault(kind, {})
        for name, value in arrays[kind].items():
            array = st.as_float_array(value)
            bounds = _limits(array.dtype, th, cache)
            if id(value) not in seen:
                wanted = sampled and (kind != "preactivations" or id(value) in as_activation)
                seen[id(value)] = st.summarize(
                    array,
                    limit=bounds[rule],
                    seed=seed,
                    k=int(th["sample_size"]),
                    tiny=bounds["tiny"] if wanted else None,
                    full_size=full_size,
                )
            out[name], limits[name] = seen[id(value)], bounds[rule]
            obs.metrics["_tiny"][name] = bounds["tiny"]
            _per_kind(obs, kind, name, array, full_size, int(th["sample_size"]))
    obs.forward = forward_order(arrays["activations"], arrays["preactivations"])
    return obs


def _per_kind(obs: Observation, kind: str, name: str, array: np.ndarray, full_size, sample_size):
    if kind == "gradients":
        obs.ndim[name] = array.ndim
    elif kind == "activations":
        # Without a single exact zero in the sample, no sizeable share of units is dead.
        zeros = obs.activations[name].zero_fraction > 0
        rows = min(full_size, 8 * sample_size)  # e.g. 16 rows of a 1000-unit layer
        obs.metrics["_alive"][name] = st.alive_units(array, rows, all_alive=not zeros)


def derive(obs: Observation, hist: History, th: dict) -> None:
    """Compute the metrics of `obs` and update `hist` (losses, dead units, ascent signs)."""
    hist.n += 1
    hist.steps.append(obs.step)
    keep = max(2 * th["plateau_window"], th["dead_window"], th["ascent_window"]) + 1
    if len(hist.steps) > 2 * keep:  # the detectors look back `keep` observations at most
        del hist.steps[:-keep], hist.losses[: -keep + 1]
    m = obs.metrics
    m["grad_norm"] = {n: s.norm for n, s in obs.gradients.items()}
    m["param_norm"] = {n: s.norm for n, s in obs.params.items()}
    m["activation_rms"] = {n: s.rms for n, s in obs.activations.items()}
    m["underflow_fraction"] = {
        n: s.underflow_fraction for n, s in [*obs.activations.items(), *obs.gradients.items()]
    }
    _loss(obs, hist)
    _saturation(obs, th)
    _dead(obs, hist, th)
    _gradients(obs, hist)
    _updates(obs, hist, th)


def _loss(obs: Observation, hist: History) -> None:
    loss = obs.loss
    hist.losses.append(math.nan if loss is None else loss)
    if hist.initial_loss is None and loss is not None and math.isfinite(loss):
        hist.initial_loss = loss


def _saturation(obs: Observation, th: dict) -> None:
    names = list(obs.activations)
    output = obs.forward[-1] if obs.forward and len(names) > 1 else None
    # The network's output is judged by the loss: a confident classifier pushes it to 0/1.
    hidden = [n for n in names if ("activation", n) != output]
    found = {n: st.saturation(obs.activations[n].sample, th["saturation_eps"]) for n in names}
    obs.metrics["saturated_fraction"] = {n: f for n, (f, _) in found.items()}
    obs.metrics["_saturation"] = {n: found[n] for n in hidden}


def _dead(obs: Observation, hist: History, th: dict) -> None:
    window, now, fractions = int(th["dead_window"]), hist.n - 1, {}
    hist.dead = {}
    for name, alive in obs.metrics["_alive"].items():
        if alive is None:
            continue
        last = hist.last_alive.get(name)
        if last is None or last.shape != alive.shape:
            last = hist.last_alive[name] = np.full(alive.shape, -1, dtype=np.int64)
            hist.first_seen[name] = now
        last[alive] = now
        fractions[name] = 1.0 - float(np.count_nonzero(alive)) / alive.size
        if now - hist.first_seen[name] + 1 >= window:
            hist.dead[name] = (int(np.count_nonzero(last <= now - window)), int(alive.size))
    obs.metrics["dead_fraction"] = fractions


def _gradients(obs: Observation, hist: History) -> None:
    relative = []
    for name, s in obs.gradients.items():
        p = obs.params.get(name)
        if obs.ndim[name] >= 2 and math.isfinite(s.rms):
            relative.append((name, s.rms / p.rms if p is not None and p.rms > 0 else s.rms))
    obs.metrics["_relative_gradient"] = relative
    total = math.sqrt(sum(s.norm**2 for s in obs.gradients.values()))
    obs.metrics["_grad_total"] = total
    obs.metrics["_grad_previous"] = hist.previous_grad_norm
    hist.previous_grad_norm = total
    if hist.initial_grad_norm is None and total > 0 and math.isfinite(total):
        hist.initial_grad_norm = total


def _dot(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.dot(a, b))


def _updates(obs: Observation, hist: History, th: dict) -> None:
    """Update ratios, ascent signs (step vs previous gradient) and the gradient's turn."""
    ratios, turn = {}, [0.0, 0.0, 0.0]  # <g, g_prev>, |g|^2, |g_prev|^2 over all params
    for name, s in obs.params.items():
        before, grad = hist.prev_params.get(name), hist.prev_grads.get(name)
        gg = _dot(grad, grad) if grad is not None else math.nan
        now = s.sample if s.sample.dtype == np.float64 else s.sample.astype(np.float64)
        if before is not None and before.shape == now.shape:
            delta = now - before
            dd, pp = _dot(delta, delta), _dot(before, before)
            ratios[name] = math.sqrt(dd / pp) if pp > 0 else math.nan
            if grad is not None and grad.shape == delta.shape:
                cosine = _dot(delta, grad) / math.sqrt(dd * gg) if dd * gg > 0 else math.nan
                _ascent_sign(hist, name, cosine, obs.step, th)
        hist.prev_params[name] = now
        g = obs.gradients.get(name)
        if g is None or g.size != s.size:
            hist.prev_grads.pop(name, None)
            continue
        g_now = g.sample if g.sample.dtype == np.float64 else g.sample.astype(np.float64)
        if grad is not None and grad.shape == g_now.shape:
            turn = [turn[0] + _dot(g_now, grad), turn[1] + _dot(g_now, g_now), turn[2] + gg]
        hist.prev_grads[name] = g_now
    obs.metrics["update_ratio"] = ratios
    scale = math.sqrt(turn[1] * turn[2])
    obs.metrics["_grad_cosine"] = (
        turn[0] / scale if scale > 0 and math.isfinite(scale) else math.nan
    )


def _ascent_sign(hist: History, name: str, cosine: float, step: int, th: dict) -> None:
    if math.isfinite(cosine) and cosine != 0.0:
        signs = hist.ascent.setdefault(name, deque(maxlen=int(th["ascent_window"])))
        signs.append((step, cosine))
