"""Rules on the loss (run at every step) and on the update's direction (`ascent`).

The loss is compared with a robust *reference*: the median of the first
``reference_steps`` finite losses, so that an outlier first loss neither hides a stuck run
nor fakes a divergence. Windows are in steps (the loss is recorded at every step).
"""

from __future__ import annotations

import math
import statistics

from gradcheck.monitor.observation import History, Observation


def converged(obs: Observation, hist: History, th: dict) -> bool:
    """The loss is below ``plateau_converged`` x its reference."""
    reference, loss = hist.reference_loss, obs.loss
    if reference is None or loss is None or not math.isfinite(loss) or reference <= 0:
        return False
    return loss < th["plateau_converged"] * reference


def _recent(hist: History, steps: float, *, skip: int = 0) -> list[float]:
    """The finite losses of the last `steps` steps (before the last `skip` observations)."""
    end = len(hist.steps) - skip
    if end <= 0:
        return []
    first = hist.steps[end - 1] - steps + 1
    out = []
    for i in range(end - 1, -1, -1):
        if hist.steps[i] < first:
            break
        if math.isfinite(hist.losses[i]):
            out.append(hist.losses[i])
    return out[::-1]


def _divergence_reason(loss: float, reference: float, hist: History, th: dict) -> tuple | None:
    """(reason, onset) when the loss is far above its reference, else None."""
    factor, now = loss / reference, hist.steps[-1]
    span, start = hist.persist(("loss_divergence",), factor > th["divergence_factor"], now)
    if span >= th["window"]:
        return (f"{factor:.3g}x its reference {reference:.4g}, above "
                f"{th['divergence_factor']:g}x for {span} steps"), start  # fmt: skip
    window = _recent(hist, th["divergence_window"])
    mean = sum(window) / len(window) / reference if window else 0.0
    if len(window) >= th["window"] and mean >= th["divergence_mean"]:
        reason = f"{mean:.3g}x its reference {reference:.4g} on average over {len(window)} steps"
        return reason, now - th["divergence_window"] + 1
    if factor > th["divergence_spike"]:
        return f"{factor:.3g}x its reference {reference:.4g} in one step", now
    return None


def _jump_reason(hist: History, th: dict) -> str | None:
    """The loss of the last `window` steps all at `jump_factor` x the 20 steps before."""
    w = int(th["window"])
    now, before = _recent(hist, w), _recent(hist, 20, skip=w)
    if len(now) < w or len(before) < 10:
        return None
    level = statistics.median(before)
    if level > 0 and min(now) >= th["jump_factor"] * level and min(now) >= 2 * max(before):
        return (f"it jumped to {min(now) / level:.3g}x its level of the 20 steps before "
                f"and stayed there for {len(now)} steps")  # fmt: skip
    return None


def detect_loss_divergence(obs: Observation, hist: History, th: dict) -> list:
    """loss_divergence: a non-finite loss, a loss far above its reference, or a jump."""
    loss, reference = obs.loss, hist.reference_loss
    if loss is None:
        return []
    if not math.isfinite(loss):
        evidence = {"loss": loss, "reason": "not a finite number (a NaN or an Inf reached the loss)"}
        return [("loss", evidence, math.inf, None, obs.step)]
    found = None
    if reference is not None and reference > 0:
        found = _divergence_reason(loss, reference, hist, th)
    if found is not None:
        reason, start = found
        start = max(start, hist.steps[0])
        return [("loss", {"loss": loss, "reason": reason}, loss, None, start)]
    reason = _jump_reason(hist, th)
    if reason is None:
        return []
    start = hist.steps[-int(th["window"])]
    return [("loss", {"loss": loss, "reason": reason}, loss, "warning", start)]


def _plateau_windows(hist: History, w: int) -> tuple[list[float], list[float]] | None:
    """The finite losses of the last `w` steps and of the `w` steps before them."""
    if not hist.steps or hist.steps[-1] - hist.steps[0] + 1 < 2 * w:
        return None
    now = hist.steps[-1]
    before, recent = [], []
    for step, loss in zip(reversed(hist.steps), reversed(hist.losses), strict=True):
        if step <= now - 2 * w:
            break
        if math.isfinite(loss):
            (recent if step > now - w else before).append(loss)
    if len(recent) < 2 or len(before) < 2:
        return None
    return before, recent


def _standard_error(values: list[float]) -> float:
    return statistics.stdev(values) / math.sqrt(len(values))


def detect_loss_plateau(obs: Observation, hist: History, th: dict) -> list:
    """loss_plateau: no real improvement over a window of steps, the loss not converged.

    Flat means the improvement of the mean loss between two windows is below
    ``plateau_rtol`` beyond doubt (with twice its standard error: per-sample noise and
    sequential data windows are not a plateau). Severity: a warning while the loss is above
    ``plateau_stuck`` x its reference (a drop, then flat at chance level, is stuck too).
    """
    w, reference = int(th["plateau_window"]), hist.reference_loss
    windows = _plateau_windows(hist, w)
    if windows is None or reference is None or reference <= 0:
        return []
    before, recent = windows
    mean_before, mean_recent = sum(before) / len(before), sum(recent) / len(recent)
    if mean_before <= 0 or mean_recent < th["plateau_converged"] * reference:
        return []
    noise = 2 * math.hypot(_standard_error(before), _standard_error(recent)) / mean_before
    improvement = (mean_before - mean_recent) / mean_before
    rtol = th["plateau_rtol"]
    if abs(improvement) + noise >= rtol:
        return []
    severity = "warning" if mean_recent >= th["plateau_stuck"] * reference else "info"
    evidence = {"rtol": th["plateau_rtol"], "window": w, "loss": mean_recent}
    evidence.update(initial=reference, relative=mean_recent / reference)
    return [("loss", evidence, -improvement, severity, hist.steps[-1] - 2 * w + 1)]


def detect_ascent(obs: Observation, hist: History, th: dict) -> list:
    """ascent: updates along +gradient in most of the last `ascent_window` update pairs."""
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
