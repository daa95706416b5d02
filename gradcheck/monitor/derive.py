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
from functools import lru_cache

import numpy as np

from gradcheck.errors import InvalidTypeError
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


@lru_cache(maxsize=64)
def _limits(dtype: np.dtype, power: float, margin: float, threshold: float) -> dict[str, float]:
    info = np.finfo(dtype)
    return {
        "square": float(info.max) ** power,
        "exp": margin * math.log(float(info.max)),
        "tiny": max(threshold, float(info.tiny)),
    }


def collect(step: int, loss: float | None, arrays: dict[str, Mapping], th: dict, seed: int):
    """Summarize every array; read all of them in full if anything is not finite."""
    obs = _collect(step, loss, arrays, th, seed, int(th["full_size"]))
    stats = _all_stats(obs)
    bad = loss is not None and not math.isfinite(loss)
    bad = bad or any(s.n_nan or s.n_inf for s in stats)
    if bad and any(s.size > th["full_size"] for s in stats):
        obs = _collect(step, loss, arrays, th, seed, math.inf)
    obs.metrics["_nonfinite"] = bad
    return obs


def _all_stats(obs: Observation) -> list[st.ArrayStats]:
    kinds = (obs.activations, obs.preactivations, obs.gradients, obs.params)
    return [s for kind in kinds for s in kind.values()]


def _collect(step, loss, arrays, th, seed, full_size) -> Observation:
    obs = Observation(step=step, loss=loss)
    tiny_of, alive = {}, {}
    obs.metrics = {"_limits": {}, "_tiny": tiny_of, "_alive": alive}
    seen: dict[int, int] = {}  # id(array) -> index in `items`
    items, names = [], []  # (array, limit, tiny) per distinct array; (kind, name, index)
    as_activation = {id(v) for v in arrays["activations"].values()}
    power, margin, threshold = th["overflow_power"], th["exp_margin"], th["underflow_threshold"]
    for kind, (rule, sampled) in KINDS.items():
        limits = obs.metrics["_limits"][kind] = {}
        for name, value in arrays[kind].items():
            float_array = isinstance(value, np.ndarray) and value.dtype.kind == "f"
            array = value if float_array else _as_float(kind, name, value)
            bounds = _limits(array.dtype, power, margin, threshold)
            index = seen.get(id(value))
            if index is None:
                wanted = sampled and (kind != "preactivations" or id(value) in as_activation)
                index = seen[id(value)] = len(items)
                items.append((array, bounds[rule], bounds["tiny"] if wanted else None))
            limits[name], tiny_of[name] = bounds[rule], bounds["tiny"]
            names.append((kind, name, index, array))
    k = int(th["sample_size"])
    stats = st.summarize_batch(items, seed=seed, k=k, full_size=full_size)
    rows = min(full_size, 8 * k)  # alive units from the first rows: 16 of a 1000-unit layer
    by_kind = {kind: getattr(obs, kind) for kind in KINDS}
    for kind, name, index, array in names:
        s = by_kind[kind][name] = stats[index]
        if kind == "gradients":
            obs.ndim[name] = array.ndim
        elif kind == "activations":  # without an exact zero in the sample, none is dead
            alive[name] = st.alive_units(array, rows, all_alive=not s.zero_fraction > 0)
    obs.forward = forward_order(arrays["activations"], arrays["preactivations"])
    return obs


def _as_float(kind: str, name: str, value: object) -> np.ndarray:
    """`st.as_float_array`, naming the argument and entry when `value` is not numeric."""
    try:
        return st.as_float_array(value)
    except (TypeError, ValueError):
        raise InvalidTypeError(
            f"`{kind}[{name!r}]` must be a numeric array; got {type(value).__name__}. Pass the "
            "layer's ndarray (e.g. `a.astype(np.float64)`), or leave the name out."
        ) from None


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


_NO_GRAD = (None, math.nan)


def _updates(obs: Observation, hist: History, th: dict) -> None:
    """Update ratios, ascent signs (step vs previous gradient) and the gradient's turn."""
    ratios, turn = {}, [0.0, 0.0, 0.0]  # <g, g_prev>, |g|^2, |g_prev|^2 over all params
    for name, s in obs.params.items():
        before, (grad, gg) = hist.prev_params.get(name), hist.prev_grads.get(name, _NO_GRAD)
        now = s.sample if s.sample.dtype == np.float64 else s.sample.astype(np.float64)
        if before is not None and before.shape == now.shape:
            delta = now - before
            dd, pp = _dot(delta, delta), hist.prev_sq.get(name)
            pp = _dot(before, before) if pp is None else pp
            ratios[name] = math.sqrt(dd / pp) if pp > 0 else math.nan
            if grad is not None and grad.shape == delta.shape:
                cosine = _dot(delta, grad) / math.sqrt(dd * gg) if dd * gg > 0 else math.nan
                _ascent_sign(hist, name, cosine, obs.step, th)
        hist.prev_params[name] = now
        hist.prev_sq[name] = s.sample_sq if now is s.sample else None
        g = obs.gradients.get(name)
        if g is None or g.size != s.size:
            hist.prev_grads.pop(name, None)
            continue
        g_now = g.sample if g.sample.dtype == np.float64 else g.sample.astype(np.float64)
        g_sq = g.sample_sq if g_now is g.sample and g.sample_sq is not None else None
        g_sq = _dot(g_now, g_now) if g_sq is None else g_sq
        if grad is not None and grad.shape == g_now.shape:
            turn = [turn[0] + _dot(g_now, grad), turn[1] + g_sq, turn[2] + gg]
        hist.prev_grads[name] = (g_now, g_sq)  # the sample and its squared norm
    obs.metrics["update_ratio"] = ratios
    scale = math.sqrt(turn[1] * turn[2])
    obs.metrics["_grad_cosine"] = (
        turn[0] / scale if scale > 0 and math.isfinite(scale) else math.nan
    )


def _ascent_sign(hist: History, name: str, cosine: float, step: int, th: dict) -> None:
    if math.isfinite(cosine) and cosine != 0.0:
        signs = hist.ascent.setdefault(name, deque(maxlen=int(th["ascent_window"])))
        signs.append((step, cosine))
