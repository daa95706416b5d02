"""Detectors: one small ``detect_<code>`` function per finding code, and their thresholds.

Each detector reads the current `Observation` (statistics already computed), the `DetectorMemory`
and the thresholds, and returns a list of `Hit` ``(name, evidence, score, severity, start)``:
the monitor turns a new (code, name) into a `Finding` and updates an existing one. Most
rules must hold for ``window`` consecutive observations before they fire (persistence keeps
healthy runs silent); the finding's step is the first step of that streak.

Thresholds (override any with ``Monitor(name=value)``):

==========================  ========  =====================================================
name                        default   meaning
==========================  ========  =====================================================
window                      5         steps a condition must persist (2 observations
                                      at least)
overflow_power              0.5       overflow: |x| > finfo.max ** overflow_power
exp_margin                  1.0       overflow: pre-activation |z| above exp_margin *
                                      log(finfo.max) / 2, its output not finite
underflow_threshold         1e-30     underflow: nonzero |x| below max(this, finfo.tiny)...
underflow_fraction          0.1       ...for at least this fraction of the nonzero entries
dead_window                 20        dead unit: exactly 0 on every sample for this many
                                      steps (ReLU-like layers only)...
dead_samples                100       ...and on at least this many samples
dead_fraction               0.5       dead_relu: fraction of dead units of a layer
saturation_eps              1e-3      saturated: within this of a squashing bound (0/1, +-1)
saturation_fraction         0.5       saturation: fraction of saturated entries of a layer
vanishing_ratio             1e-3      first/last relative gradient below this (AUTOTRAINER)
vanishing_gradient          1e-7      or first layer's |g|/|p| below this (DeepDiagnosis)
exploding_ratio             70.0      first/last relative gradient above this (AUTOTRAINER),
                                      the first layer's having grown this x / 7 itself
exploding_growth            1000.0    or total gradient norm above this x its initial value
                                      (in 3 of the last 5 finite, nonzero observations)
explosion_update            0.01      or updates of at least this x the parameters' norm...
explosion_rise              1.3       ...after which the loss rose by this factor, twice in
                                      a row (or 10x once)
divergence_factor           10.0      loss above this x its reference, `window` steps
divergence_mean             3.0       or a mean over `divergence_window` steps above this x
                                      reference (a loss oscillating far above its start)
divergence_window           20        the steps of that mean
divergence_spike            1000.0    or above this x its reference once
jump_factor                 5.0       or above this x the median of the last 20 losses (and
                                      twice their maximum): a warning
reference_steps             5         the reference loss: median of the first such losses
plateau_window              50        loss_plateau: compare the mean loss of two groups of
                                      1, 2, 4... 16 blocks of this many steps...
plateau_rtol                0.01      ...a relative improvement below this is a plateau...
plateau_noise               0.05      ...in the shortest groups whose difference's noise
                                      (twice its standard error) is below this
plateau_converged           0.01      loss below this x reference: converged, no plateau
plateau_stuck               0.5       plateau: a warning while the loss is above this x
                                      reference, else info (the net learns anyway)
ascent_window               10        ascent: last update pairs considered
ascent_fraction             0.8       ...fraction with <step, previous gradient> > 0
accumulation_cosine         0.9       exploding: the gradient grew, with a cosine to the
                                      previous one above this...
accumulation_pairs          5         ...at this many updates in a row...
accumulation_consistency    0.3       ...and the loss changed less than this x the change
                                      the gradient given predicts (median)
sample_size                 2048      entries sampled per array for sample statistics
detail_dense                10        full statistics at the first such calls...
detail_every                100       ...then every 10 steps up to step 200, 20 up to 400,
                                      ... at most this many (the NaN / Inf scan, the
                                      gradient norm and the loss rules run at every step)
histogram_bins              30        bins of the first/last histograms
==========================  ========  =====================================================

The relative gradient of a layer is rms(gradient) / rms(parameter) for weight arrays (2-D
and up; biases, stored 1-D, (1, n) or (n, 1), are skipped, see
`gradcheck.monitor.derive.is_weight`); CS231n's rule of thumb is an update/weight ratio
near 1e-3.
Momentum and Adam may move a parameter along +gradient at some steps (a dot product > 0
now and then); `ascent_fraction` over `ascent_window` steps avoids such false alarms.
"""

from __future__ import annotations

import math

import numpy as np

from gradcheck.monitor.loss_rules import (
    converged as _converged,
)
from gradcheck.monitor.observation import DetectorMemory, Hit, Observation

THRESHOLDS: dict[str, float] = {
    "window": 5,
    "overflow_power": 0.5,
    "exp_margin": 1.0,
    "underflow_threshold": 1e-30,
    "underflow_fraction": 0.1,
    "dead_window": 20,
    "dead_samples": 100,
    "dead_fraction": 0.5,
    "saturation_eps": 1e-3,
    "saturation_fraction": 0.5,
    "vanishing_ratio": 1e-3,
    "vanishing_gradient": 1e-7,
    "exploding_ratio": 70.0,
    "exploding_growth": 1000.0,
    "explosion_update": 0.01,
    "explosion_rise": 1.3,
    "divergence_factor": 10.0,
    "divergence_mean": 3.0,
    "divergence_window": 20,
    "divergence_spike": 1000.0,
    "jump_factor": 5.0,
    "reference_steps": 5,
    "plateau_window": 50,
    "plateau_rtol": 0.01,
    "plateau_noise": 0.05,
    "plateau_converged": 0.01,
    "plateau_stuck": 0.5,
    "ascent_window": 10,
    "accumulation_cosine": 0.9,
    "accumulation_pairs": 5,
    "accumulation_consistency": 0.3,
    "ascent_fraction": 0.8,
    "sample_size": 2048,
    "detail_dense": 10,
    "detail_every": 100,
    "histogram_bins": 30,
}
INTEGER_THRESHOLDS = ("window", "dead_window", "plateau_window", "ascent_window", "sample_size")
INTEGER_THRESHOLDS += ("histogram_bins", "reference_steps", "detail_dense", "detail_every")
INTEGER_THRESHOLDS += ("accumulation_pairs", "dead_samples", "divergence_window")


def _scan(obs: Observation) -> list[tuple[str, int, int, int]]:
    """(name, n_nan, n_inf, size) in scan order (see `gradcheck.monitor.observation`)."""
    if not obs.derived.nonfinite:
        return []
    out = [(n, s.n_nan, s.n_inf, s.size) for n, s in obs.params.items()]
    for kind, name in obs.forward:
        s = (obs.preactivations if kind == "preactivation" else obs.activations)[name]
        out.append((name, s.n_nan, s.n_inf, s.size))
    if obs.loss is not None:
        out.append(("loss", int(math.isnan(obs.loss)), int(math.isinf(obs.loss)), 1))
    out += [(n, s.n_nan, s.n_inf, s.size) for n, s in reversed(obs.gradients.items())]
    return out


def detect_nan(obs: Observation, hist: DetectorMemory, th: dict) -> list[Hit]:
    """NaN: the first array, in scan order, holding a NaN."""
    for name, n_nan, _, size in _scan(obs):
        if n_nan:
            return [Hit(name, {"n_nan": n_nan, "size": size}, n_nan / size, None, obs.step)]
    return []


def detect_inf(obs: Observation, hist: DetectorMemory, th: dict) -> list[Hit]:
    """Inf: the first array, in scan order, holding an infinity."""
    for name, _, n_inf, size in _scan(obs):
        if n_inf:
            return [Hit(name, {"n_inf": n_inf, "size": size}, n_inf / size, None, obs.step)]
    return []


def _exp_output(obs: Observation, name: str) -> str | None:
    """Return what is not finite among the outputs of pre-activation `name`, or None.

    The output is its activation, or the loss for the last pre-activation.
    """
    for act, pre in obs.pairs.items():
        if pre == name and act != name:  # its own output decides
            s = obs.activations[act]
            return f"`{act}`, computed from it," if s.n_nan or s.n_inf else None
    last = [n for kind, n in obs.forward if kind == "preactivation"][-1:]
    loss_bad = obs.loss is not None and not math.isfinite(obs.loss)
    return "the loss computed from it" if loss_bad and last == [name] else None


def detect_overflow(obs: Observation, hist: DetectorMemory, th: dict) -> list[Hit]:
    """Overflow: magnitudes whose square overflows, or an exp whose output is not finite.

    A large pre-activation whose output is finite (a ReLU, a max-shifted softmax, an
    overflow-safe sigmoid) did not overflow: that is saturation or an explosion.
    """
    hits = []
    for kind, group in obs.derived.limits.items():
        arrays = getattr(obs, kind)
        for name, limit in group.items():
            peak = arrays[name].peak
            if peak is None or not (peak > limit and math.isfinite(peak)):
                continue
            if kind != "preactivations":
                evidence = {"max_abs": peak, "limit": limit, "reason": "its square overflows"}
            elif (output := _exp_output(obs, name)) is not None:
                reason = f"exp(z) overflows or underflows to 0: {output} is not finite"
                evidence = {"max_abs": peak, "limit": limit, "reason": reason, "exp": True}
            else:
                continue
            severity = "error" if evidence.get("exp") else None
            hits.append(Hit(name, evidence, peak / limit, severity, obs.step))
    return hits


def detect_underflow(obs: Observation, hist: DetectorMemory, th: dict) -> list[Hit]:
    """Underflow: a persistent fraction of nonzero entries below the tiny threshold."""
    hits = []
    labelled = [("activation", item) for item in obs.activations.items()]
    labelled += [("gradient of", item) for item in obs.gradients.items()]
    for array, (name, s) in labelled:
        fraction = s.underflow_fraction
        span, start = hist.persist(
            ("underflow", name), fraction >= th["underflow_fraction"], obs.step
        )
        if span >= th["window"]:
            threshold = obs.derived.tiny[name]
            evidence = {"fraction": fraction, "threshold": threshold, "min_abs": s.min_abs}
            evidence["array"] = array
            hits.append(Hit(name, evidence, fraction, None, start))
    return hits


def detect_dead_relu(obs: Observation, hist: DetectorMemory, th: dict) -> list[Hit]:
    """dead_relu: a ReLU-like layer with many units exactly 0 on every sample for a while."""
    hits = []
    for name, (n_dead, n_units) in hist.dead.items():
        fraction = n_dead / n_units
        if name in obs.activations and fraction >= th["dead_fraction"]:
            last = hist.last_alive[name]
            needed = max(1, math.ceil(th["dead_fraction"] * n_units))
            start = max(hist.first_seen[name], int(np.sort(last)[needed - 1]) + 1)
            evidence = {"fraction": fraction, "n_dead": n_dead, "n_units": n_units}
            evidence["window"] = obs.step - start + 1
            hits.append(Hit(name, evidence, fraction, None, start))
    return hits


def detect_saturation(obs: Observation, hist: DetectorMemory, th: dict) -> list[Hit]:
    """Saturation: most entries of a hidden squashing layer pinned at its bounds."""
    hits = []
    for name, (fraction, bounds) in obs.derived.saturation.items():
        span, start = hist.persist(
            ("saturation", name), fraction >= th["saturation_fraction"], obs.step
        )
        if span >= th["window"]:
            evidence = {"fraction": fraction, "eps": th["saturation_eps"], "bounds": bounds}
            severity = "info" if _converged(obs, hist, th) else "warning"
            hits.append(Hit(name, evidence, fraction, severity, start))
    return hits


def _dead_pending(obs: Observation, hist: DetectorMemory, th: dict) -> bool:
    """Return whether a ReLU layer is mostly zero but its dead-unit window is incomplete."""
    fractions = obs.metrics.get("dead_fraction", {})
    return any(f >= th["dead_fraction"] and n not in hist.dead for n, f in fractions.items())


def detect_vanishing_gradient(obs: Observation, hist: DetectorMemory, th: dict) -> list[Hit]:
    """vanishing_gradient: the first layer's relative gradient tiny, alone or vs the last."""
    layers = obs.derived.relative_gradient
    if len(layers) < 2 or _converged(obs, hist, th):
        hist.persist(("vanishing_gradient",), False, obs.step)
        return []
    (first, g_first), (last, g_last) = layers[0], layers[-1]
    ratio = g_first / g_last if g_last > 0 else math.nan
    condition = ratio < th["vanishing_ratio"] or g_first < th["vanishing_gradient"]
    span, start = hist.persist(("vanishing_gradient",), condition, obs.step)
    if span < th["window"] or _dead_pending(obs, hist, th):  # name the cause first
        return []
    if ratio < th["vanishing_ratio"]:
        reason = f"{ratio:.2g} times the relative gradient of the last layer `{last}`"
    else:
        reason = f"below {th['vanishing_gradient']:g}, and `{last}`'s is {g_last:.3g}"
    evidence = {"ratio": ratio, "last": last, "relative_gradient": g_first, "reason": reason}
    return [Hit(first, evidence, -math.log10(max(g_first, 1e-300)), None, start)]
