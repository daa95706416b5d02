"""Detectors: one small ``detect_<code>`` function per finding code, and their thresholds.

Each detector reads the current `Observation` (statistics already computed), the `History`
and the thresholds, and returns hits ``(name, evidence, score, severity, start_step)``:
the monitor turns a new (code, name) into a `Finding` and updates an existing one. Most
rules must hold for ``window`` consecutive observations before they fire (persistence keeps
healthy runs silent); the finding's step is the first step of that streak.

Thresholds (override any with ``Monitor(name=value)``):

==========================  ========  =====================================================
name                        default   meaning
==========================  ========  =====================================================
window                      5         observations a condition must persist
overflow_power              0.5       overflow: |x| > finfo.max ** overflow_power
exp_margin                  1.0       overflow: pre-activation |z| > exp_margin*log(finfo.max)
underflow_threshold         1e-30     underflow: nonzero |x| below max(this, finfo.tiny)...
underflow_fraction          0.1       ...for at least this fraction of the nonzero entries
dead_window                 20        dead unit: exactly 0 on every sample this many times
dead_fraction               0.5       dead_relu: fraction of dead units of a layer
saturation_eps              1e-3      saturated: within this of a squashing bound (0/1, +-1)
saturation_fraction         0.5       saturation: fraction of saturated entries of a layer
vanishing_ratio             1e-3      first/last relative gradient below this (AUTOTRAINER)
vanishing_gradient          1e-7      or first layer's |g|/|p| below this (DeepDiagnosis)
exploding_ratio             70.0      first/last relative gradient above this (AUTOTRAINER)
exploding_growth            1000.0    or total gradient norm above this x its initial value
divergence_factor           10.0      loss above this x its initial value (persisting)
divergence_spike            1000.0    or above this x its initial value once
plateau_window              50        loss_plateau: compare the means of two such windows
plateau_rtol                0.01      ...relative improvement below this is a plateau
plateau_converged           0.01      loss below this x initial: converged, no plateau
plateau_stuck               0.5       plateau/saturation: a warning while the loss is above
                                      this x initial, else info (the net learns anyway)
ascent_window               10        ascent: last observations considered
ascent_fraction             0.8       ...fraction with <step, previous gradient> > 0
accumulation_cosine         0.9       exploding: the gradient grew at `ascent_window` steps
                                      in a row with cosine to the previous one above this
sample_size                 2048      entries sampled per array for sample statistics
full_size                   65536     arrays up to this size are read in full every step;
                                      larger ones through their sample (in full on NaN/Inf)
histogram_bins              30        bins of the first/last histograms
==========================  ========  =====================================================

The relative gradient of a layer is rms(gradient) / rms(parameter) for weight arrays (2-D
and up; 1-D biases are skipped); CS231n's rule of thumb is an update/weight ratio near 1e-3.
Momentum and Adam may move a parameter along +gradient at some steps (a dot product > 0
now and then); `ascent_fraction` over `ascent_window` steps avoids such false alarms.
"""

from __future__ import annotations

import math

from gradcheck.monitor.observation import History, Observation

THRESHOLDS: dict[str, float] = {
    "window": 5,
    "overflow_power": 0.5,
    "exp_margin": 1.0,
    "underflow_threshold": 1e-30,
    "underflow_fraction": 0.1,
    "dead_window": 20,
    "dead_fraction": 0.5,
    "saturation_eps": 1e-3,
    "saturation_fraction": 0.5,
    "vanishing_ratio": 1e-3,
    "vanishing_gradient": 1e-7,
    "exploding_ratio": 70.0,
    "exploding_growth": 1000.0,
    "divergence_factor": 10.0,
    "divergence_spike": 1000.0,
    "plateau_window": 50,
    "plateau_rtol": 0.01,
    "plateau_converged": 0.01,
    "plateau_stuck": 0.5,
    "ascent_window": 10,
    "accumulation_cosine": 0.9,
    "ascent_fraction": 0.8,
    "sample_size": 2048,
    "full_size": 65536,
    "histogram_bins": 30,
}
INTEGER_THRESHOLDS = ("window", "dead_window", "plateau_window", "ascent_window", "sample_size")
INTEGER_THRESHOLDS += ("histogram_bins", "full_size")


def _scan(obs: Observation) -> list[tuple[str, int, int, int]]:
    """(name, n_nan, n_inf, size) in scan order (see `gradcheck.monitor.observation`)."""
    if not obs.metrics["_nonfinite"]:
        return []
    out = [(n, s.n_nan, s.n_inf, s.size) for n, s in obs.params.items()]
    for kind, name in obs.forward:
        s = (obs.preactivations if kind == "preactivation" else obs.activations)[name]
        out.append((name, s.n_nan, s.n_inf, s.size))
    if obs.loss is not None:
        out.append(("loss", int(math.isnan(obs.loss)), int(math.isinf(obs.loss)), 1))
    out += [(n, s.n_nan, s.n_inf, s.size) for n, s in reversed(obs.gradients.items())]
    return out


def detect_nan(obs: Observation, hist: History, th: dict) -> list:
    """NaN: the first array, in scan order, holding a NaN."""
    for name, n_nan, _, size in _scan(obs):
        if n_nan:
            return [(name, {"n_nan": n_nan, "size": size}, n_nan / size, None, obs.step)]
    return []


def detect_inf(obs: Observation, hist: History, th: dict) -> list:
    """Inf: the first array, in scan order, holding an infinity."""
    for name, _, n_inf, size in _scan(obs):
        if n_inf:
            return [(name, {"n_inf": n_inf, "size": size}, n_inf / size, None, obs.step)]
    return []


def detect_overflow(obs: Observation, hist: History, th: dict) -> list:
    """Overflow: finite magnitudes near the dtype's limit (or exp arguments that overflow)."""
    hits = []
    for kind, group in obs.metrics["_limits"].items():
        arrays = getattr(obs, kind)
        for name, limit in group.items():
            peak = arrays[name].peak
            if peak is not None and peak > limit and math.isfinite(peak):
                reason = "exp(z) overflows" if kind == "preactivations" else "its square overflows"
                evidence = {"max_abs": peak, "limit": limit, "reason": reason}
                hits.append((name, evidence, peak / limit, None, obs.step))
    return hits


def detect_underflow(obs: Observation, hist: History, th: dict) -> list:
    """Underflow: a persistent fraction of nonzero entries below the tiny threshold."""
    hits = []
    labelled = [("activation", item) for item in obs.activations.items()]
    labelled += [("gradient of", item) for item in obs.gradients.items()]
    for array, (name, s) in labelled:
        fraction = s.underflow_fraction
        count, start = hist.persist(
            ("underflow", name), fraction >= th["underflow_fraction"], obs.step
        )
        if count >= th["window"]:
            threshold = obs.metrics["_tiny"][name]
            evidence = {"fraction": fraction, "threshold": threshold, "min_abs": s.min_abs}
            evidence["array"] = array
            hits.append((name, evidence, fraction, None, start))
    return hits


def detect_dead_relu(obs: Observation, hist: History, th: dict) -> list:
    """dead_relu: a large fraction of units exactly 0 on every sample over `dead_window`."""
    hits = []
    for name, (n_dead, n_units) in hist.dead.items():
        fraction = n_dead / n_units
        if name in obs.activations and fraction >= th["dead_fraction"]:
            start = hist.steps[max(0, len(hist.steps) - int(th["dead_window"]))]
            evidence = {"fraction": fraction, "n_dead": n_dead, "n_units": n_units}
            hits.append(
                (name, {**evidence, "window": int(th["dead_window"])}, fraction, None, start)
            )
    return hits


def detect_saturation(obs: Observation, hist: History, th: dict) -> list:
    """Saturation: most entries of a hidden layer pinned at a squashing function's bounds."""
    hits = []
    for name, (fraction, bounds) in obs.metrics["_saturation"].items():
        count, start = hist.persist(
            ("saturation", name), fraction >= th["saturation_fraction"], obs.step
        )
        if count >= th["window"]:
            evidence = {"fraction": fraction, "eps": th["saturation_eps"], "bounds": bounds}
            hits.append((name, evidence, fraction, _stuck_severity(hist, th), start))
    return hits


def _stuck_severity(hist: History, th: dict) -> str:
    """Return "warning" while the loss stays near its initial value, else "info"."""
    initial, recent = hist.initial_loss, hist.losses[-int(th["window"]) :]
    if initial is None or initial <= 0 or not all(math.isfinite(x) for x in recent):
        return "warning"
    return "warning" if sum(recent) / len(recent) >= th["plateau_stuck"] * initial else "info"


def _converged(obs: Observation, hist: History, th: dict) -> bool:
    initial, loss = hist.initial_loss, obs.loss
    if initial is None or loss is None or not math.isfinite(loss) or initial <= 0:
        return False
    return loss < th["plateau_converged"] * initial


def detect_vanishing_gradient(obs: Observation, hist: History, th: dict) -> list:
    """vanishing_gradient: the first layer's relative gradient tiny, alone or vs the last."""
    layers = obs.metrics["_relative_gradient"]
    if len(layers) < 2 or _converged(obs, hist, th):
        hist.persist(("vanishing_gradient",), False, obs.step)
        return []
    (first, g_first), (last, g_last) = layers[0], layers[-1]
    ratio = g_first / g_last if g_last > 0 else math.nan
    tiny = g_first < th["vanishing_gradient"]
    condition = ratio < th["vanishing_ratio"] or tiny
    count, start = hist.persist(("vanishing_gradient",), condition, obs.step)
    if count < th["window"]:
        return []
    if ratio < th["vanishing_ratio"]:
        reason = f"{ratio:.2g} times that of `{last}`, relative to its parameters"
    else:
        reason = f"below {th['vanishing_gradient']:g}, and `{last}`'s is {g_last:.3g}"
    evidence = {"ratio": ratio, "last": last, "relative_gradient": g_first, "reason": reason}
    return [(first, evidence, -math.log10(max(g_first, 1e-300)), None, start)]


def _accumulating(obs: Observation, hist: History, th: dict) -> int:
    """Observations in a row where the gradient grew and stayed parallel to the last one."""
    m = obs.metrics
    grew = m["_grad_total"] > m["_grad_previous"] and m["_grad_cosine"] > th["accumulation_cosine"]
    return hist.persist(("accumulation",), grew, obs.step)[0]


def _exploding_reason(obs: Observation, ratio: float, growth: float, th: dict) -> tuple:
    """Return (name, value, reason) for the rule that fired, ratio first."""
    layers, total = obs.metrics["_relative_gradient"], obs.metrics["_grad_total"]
    if ratio > th["exploding_ratio"]:
        return layers[0][0], ratio, f"{ratio:.3g} times the last layer's, relative to the params"
    name = max(obs.metrics["grad_norm"].items(), key=lambda kv: kv[1])[0]
    if growth > th["exploding_growth"]:
        return name, total, f"the largest; the total norm is {growth:.3g} times its initial value"
    return (
        name,
        total,
        (
            f"the largest, and the gradient grew at each of the last {int(th['ascent_window'])} "
            "steps while staying parallel to the previous one: gradients accumulate across steps "
            "(is zero_grad called before each backward?)"
        ),
    )


def detect_exploding_gradient(obs: Observation, hist: History, th: dict) -> list:
    """exploding_gradient: first/last ratio large, total norm grew a lot, or accumulating."""
    layers, total = obs.metrics["_relative_gradient"], obs.metrics["_grad_total"]
    ratio = layers[0][1] / layers[-1][1] if len(layers) > 1 and layers[-1][1] > 0 else 0.0
    initial = hist.initial_grad_norm
    growth = total / initial if initial and math.isfinite(total) else 0.0
    accumulating = _accumulating(obs, hist, th) >= th["ascent_window"]
    condition = ratio > th["exploding_ratio"] or growth > th["exploding_growth"]
    count, start = hist.persist(("exploding_gradient",), condition or accumulating, obs.step)
    if count < th["window"]:
        return []
    name, value, reason = _exploding_reason(obs, ratio, growth, th)
    return [(name, {"value": value, "reason": reason}, max(ratio, growth), None, start)]


def detect_loss_divergence(obs: Observation, hist: History, th: dict) -> list:
    """loss_divergence: a non-finite loss, or a loss above `divergence_factor` x initial."""
    loss, initial = obs.loss, hist.initial_loss
    if loss is None:
        return []
    if not math.isfinite(loss):
        evidence = {"loss": loss, "reference": initial, "reason": "the loss is not finite"}
        return [("loss", evidence, math.inf, None, obs.step)]
    factor = loss / initial if initial is not None and initial > 0 else 0.0
    count, start = hist.persist(("loss_divergence",), factor > th["divergence_factor"], obs.step)
    if count < th["window"] and factor <= th["divergence_spike"]:
        return []
    reason = f"{factor:.3g}x the initial loss; above {th['divergence_factor']:g}x for {count} steps"
    return [("loss", {"loss": loss, "reference": initial, "reason": reason}, loss, None, start)]


def detect_loss_plateau(obs: Observation, hist: History, th: dict) -> list:
    """loss_plateau: the mean loss over a window did not improve on the window before."""
    w, losses, initial = int(th["plateau_window"]), hist.losses, hist.initial_loss
    if len(losses) < 2 * w or initial is None or initial <= 0:
        return []
    before, recent = sum(losses[-2 * w : -w]) / w, sum(losses[-w:]) / w
    if not (math.isfinite(before) and math.isfinite(recent)) or before <= 0:
        return []
    improvement = (before - recent) / before  # a rising loss is loss_divergence's business
    if abs(improvement) >= th["plateau_rtol"] or recent < th["plateau_converged"] * initial:
        return []
    severity = "warning" if recent >= th["plateau_stuck"] * initial else "info"
    evidence = {"rtol": th["plateau_rtol"], "window": w, "loss": recent, "initial": initial}
    evidence["relative"] = recent / initial
    return [("loss", evidence, -improvement, severity, hist.steps[-2 * w])]


def detect_ascent(obs: Observation, hist: History, th: dict) -> list:
    """ascent: updates along +gradient in most of the last `ascent_window` steps."""
    window, offenders = int(th["ascent_window"]), []
    for name, signs in hist.ascent.items():
        up = [s for s in signs if s[1] > 0]
        if (
            name in obs.params
            and len(signs) == window
            and len(up) >= th["ascent_fraction"] * window
        ):
            offenders.append((name, len(up) / window, sum(s[1] for s in signs) / window, up[0][0]))
    if not offenders:
        return []
    name, fraction, cosine, start = offenders[0]
    params = ", ".join(o[0] for o in offenders)
    evidence = {"fraction": fraction, "window": window, "cosine": cosine, "params": params}
    return [(name, evidence, fraction, None, start)]


DETECTORS = (
    detect_nan,
    detect_inf,
    detect_overflow,
    detect_underflow,
    detect_dead_relu,
    detect_saturation,
    detect_vanishing_gradient,
    detect_exploding_gradient,
    detect_loss_divergence,
    detect_loss_plateau,
    detect_ascent,
)
