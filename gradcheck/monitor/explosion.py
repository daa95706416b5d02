"""`exploding_gradient`: four kinds of evidence, the loss's response first.

1. **A large update followed by a rise of the loss** (the signal that separates exploding
   runs from healthy ones, whatever the scale of the gradient: healthy updates lower the
   loss): updates of at least ``explosion_update`` x the parameters' norm after which the
   loss rose by ``explosion_rise``, at two update pairs in a row, or 10x once.
2. **Growth**: the total gradient norm above ``exploding_growth`` x its initial value, the
   loss not below 0.9 x its reference, in 3 of the last 5 finite, nonzero steps (a burst
   interrupted by a zero or NaN step still counts; descent leaving a plateau lowers the
   loss).
3. **Ratio**: the first layer's relative gradient above ``exploding_ratio`` x the last
   layer's, the first layer's having itself grown (a collapsing last layer is no explosion
   of the first).
4. **Accumulation**: the gradient grew at each of ``ascent_window`` observations, parallel to
   the previous one, while the loss did not fall (gradients summed across steps: is
   ``zero_grad`` called?). Full-batch descent leaving a plateau grows its gradient too, but
   its loss falls.
"""

from __future__ import annotations

import math

from gradcheck.monitor.observation import DetectorMemory, Hit, Observation
from gradcheck.monitor.updates import UpdatePair


def _rising_updates(hist: DetectorMemory, th: dict) -> tuple[float, float, int] | None:
    """(update size, loss rise, step) of the evidence of rule 1, or None.

    An event: an update of at least ``explosion_update`` x the parameters' norm after which
    the loss rose ``explosion_rise``-fold to above every loss of the 20 steps before. Rule 1
    holds at two events at consecutive pairs, or one where the loss rose 10x.
    """
    events = [e for e in hist.updates if _event(e, hist, th)]
    kept = {p.step for p in hist.updates}
    hist.event_checked = {k: v for k, v in hist.event_checked.items() if k in kept}
    if not events or events[-1].step != hist.steps[-1]:
        return None
    last = events[-1]
    if last.rise >= 10:
        return last.size, last.rise, last.step
    pairs = [p.step for p in hist.updates]
    if len(events) >= 2 and pairs.index(events[-2].step) == pairs.index(last.step) - 1:
        return last.size, events[-2].rise * last.rise, events[-2].step
    return None


def _event(pair: UpdatePair, hist: DetectorMemory, th: dict) -> bool:
    if pair.size < th["explosion_update"] or not pair.rise >= th["explosion_rise"]:
        return False
    if pair.step not in hist.event_checked:  # judged once, when it happens
        i = len(hist.steps) - 1
        before = [x for x in hist.losses[max(0, i - 20) : i] if math.isfinite(x)]
        high = not before or hist.losses[i] >= th["explosion_rise"] * max(before)
        hist.event_checked[pair.step] = high
    return hist.event_checked[pair.step]


def _growth(obs: Observation, hist: DetectorMemory, th: dict) -> float:
    """Return rule 2's growth, when it held in 3 of the last 5 usable steps (else 0).

    Any level: the gradients' norm comes from the scan of every step.
    """
    total = obs.derived.grad_total
    if total is None or not math.isfinite(total) or total <= 0:
        return 0.0
    if hist.initial_grad_norm is None:
        hist.initial_grad_norm = total
    initial = hist.initial_grad_norm
    growth = total / initial
    loss, reference = obs.loss, hist.reference_loss
    if loss is not None and reference and math.isfinite(loss) and loss < 0.9 * reference:
        growth = 0.0  # the loss falls: a gradient leaving a plateau, not an explosion
    hist.growth.append(growth > th["exploding_growth"])
    return growth if sum(hist.growth) >= 3 else 0.0


def _ratio(obs: Observation, hist: DetectorMemory, th: dict) -> float:
    """Rule 3: first/last relative gradient, when the first layer's grew itself."""
    layers = obs.derived.relative_gradient
    if len(layers) < 2 or not layers[-1][1] > 0 or not hist.initial_relative:
        return 0.0
    (first, g_first), (last, g_last) = layers[0], layers[-1]
    start_first, start_last = hist.initial_relative.get(first), hist.initial_relative.get(last)
    if not (start_first and start_last and start_first > 0):
        return 0.0
    grew = g_first > th["exploding_ratio"] / 7 * start_first
    collapsed = g_last < start_last / 10  # the ratio then says nothing of the first layer
    return g_first / g_last if grew and not collapsed else 0.0


def _accumulating(hist: DetectorMemory, th: dict) -> UpdatePair | None:
    """Return the first update pair of rule 4's evidence, or None.

    The last `accumulation_pairs` updates all grew the gradient parallel to the previous
    one, and the loss moved far less than the gradient given predicts.
    """
    n = int(th["accumulation_pairs"])
    pairs = list(hist.updates)[-n:]
    if len(pairs) < n or not all(p.parallel_growth for p in pairs):
        return None
    consistency = sorted(p.consistency for p in pairs)[n // 2]  # NaN sorts anywhere: check
    if math.isfinite(consistency) and consistency < th["accumulation_consistency"]:
        return pairs[0]
    return None


def _largest(values: dict) -> str | None:
    finite = {k: v for k, v in values.items() if math.isfinite(v)}
    return max(finite, key=finite.get) if finite else None


def _evidence(obs: Observation, hist: DetectorMemory, th: dict) -> tuple | None:
    """(name, value, reason, start) of the first rule that holds, or None."""
    if hist.updates and hist.updates[-1].step == obs.step:  # an update pair ends here
        found = _update_evidence(obs, hist, th)
        if found is not None:
            return found
    growth = _growth(obs, hist, th)
    if growth:
        reason = f"the total gradient norm is {growth:.3g}x its initial value"
        grads = {n: s.norm for n, s in obs.gradients.items()}  # empty at the "loss" level
        return _largest(grads) or "gradients", obs.derived.grad_total, reason, obs.step
    if obs.level != "detail":
        return None
    ratio = _ratio(obs, hist, th)
    if ratio > th["exploding_ratio"]:
        layers = obs.derived.relative_gradient
        first, last = layers[0][0], layers[-1][0]
        reason = f"its relative gradient is {ratio:.3g}x that of the last layer `{last}`"
        return first, ratio, reason, obs.step
    return None


def _update_evidence(obs: Observation, hist: DetectorMemory, th: dict) -> tuple | None:
    """Rules 1 and 4, judged when an update pair ends at this step."""
    grads = {n: s.norm for n, s in obs.gradients.items()}
    rising = _rising_updates(hist, th)
    if rising is not None:
        size, rise, start = rising
        rose = f"rose {rise:.3g}x" if math.isfinite(rise) else "stopped being finite"
        reason = (
            f"the update moved the parameters by {size:.3g}x their norm and the loss "
            f"then {rose}: the steps are too large"
        )
        updates = obs.metrics.get("update_ratio", {})
        return _largest(updates) or _largest(grads), size, reason, start
    accumulating = _accumulating(hist, th)
    if accumulating is not None:
        reason = (
            f"it grew at each of the last {int(th['accumulation_pairs'])} updates, "
            "parallel to the previous gradient, while the loss changed far less than "
            "such a gradient predicts: gradients accumulate across steps (is zero_grad "
            "called before each backward?)"
        )
        return _largest(grads), max(grads.values(), default=0.0), reason, accumulating.step
    return None


def detect_exploding_gradient(obs: Observation, hist: DetectorMemory, th: dict) -> list[Hit]:
    """exploding_gradient: see the module notes for the four rules."""
    found = _evidence(obs, hist, th)
    if found is None or found[0] is None:
        return []
    name, value, reason, start = found
    return [Hit(name, {"value": value, "reason": reason}, value, None, start)]
