"""Rules on the loss (run at every step) and on the update's direction (`ascent`).

The loss is compared with a robust *reference*: the median of the first
``reference_steps`` finite losses, so that an outlier first loss neither hides a stuck run
nor fakes a divergence. Windows are in steps (the loss is recorded at every step).
"""

from __future__ import annotations

import math
import statistics

from gradcheck.monitor.observation import DetectorMemory, Hit, Observation


def converged(obs: Observation, hist: DetectorMemory, th: dict) -> bool:
    """Return whether the loss is below ``plateau_converged`` x its reference."""
    reference, loss = hist.reference_loss, obs.loss
    if reference is None or loss is None or not math.isfinite(loss) or reference <= 0:
        return False
    return loss < th["plateau_converged"] * reference


def _recent(hist: DetectorMemory, steps: float, *, skip: int = 0) -> list[float]:
    """Return the finite losses of the last `steps` steps (before `skip` observations)."""
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


def _divergence_reason(
    loss: float, reference: float, hist: DetectorMemory, th: dict
) -> tuple | None:
    """(reason, onset) when the loss is far above its reference, else None."""
    factor, now = loss / reference, hist.steps[-1]
    span, start = hist.persist(("loss_divergence",), factor > th["divergence_factor"], now)
    if span >= th["window"]:
        return (
            f"{factor:.3g}x its reference {reference:.4g}, above "
            f"{th['divergence_factor']:g}x for {span} steps"
        ), start
    if factor >= th["divergence_mean"]:
        hist.last_high = now
    if hist.last_high is None or now - hist.last_high >= th["divergence_window"]:
        window = []  # no loss of the window is that high: its mean is not either
    else:
        window = _recent(hist, th["divergence_window"])
    mean = sum(window) / len(window) / reference if window else 0.0
    if len(window) >= th["window"] and mean >= th["divergence_mean"]:
        reason = f"{mean:.3g}x its reference {reference:.4g} on average over {len(window)} steps"
        return reason, _first_high(hist, th["divergence_window"], th["divergence_mean"] * reference)
    if factor > th["divergence_spike"]:
        return f"{factor:.3g}x its reference {reference:.4g} in one step", now
    return None


def _first_high(hist: DetectorMemory, steps: float, level: float) -> int:
    """Return the first step of the last `steps` steps with a loss above `level`."""
    first = hist.steps[-1] - steps + 1
    for step, loss in zip(hist.steps, hist.losses, strict=True):
        if step >= first and loss > level:
            return step
    return hist.steps[-1]


def _jump_reason(hist: DetectorMemory, th: dict) -> str | None:
    """Return why the loss jumped (`window` steps at `jump_factor` x the level), or None."""
    w = int(th["window"])
    losses = hist.losses
    if len(losses) <= w or not losses[-1] >= 2 * losses[-w - 1]:  # cheap: mostly no jump
        return None
    now, before = _recent(hist, w), _recent(hist, 20, skip=w)
    if len(now) < w or len(before) < 10:
        return None
    level = statistics.median(before)
    if level > 0 and min(now) >= th["jump_factor"] * level and min(now) >= 2 * max(before):
        return (
            f"it jumped to {min(now) / level:.3g}x its level of the 20 steps before "
            f"and stayed there for {len(now)} steps"
        )
    return None


def detect_loss_divergence(obs: Observation, hist: DetectorMemory, th: dict) -> list[Hit]:
    """loss_divergence: a non-finite loss, a loss far above its reference, or a jump."""
    loss, reference = obs.loss, hist.reference_loss
    if loss is None:
        return []
    if not math.isfinite(loss):
        evidence = {
            "loss": loss,
            "reason": "not a finite number (a NaN or an Inf reached the loss)",
        }
        return [Hit("loss", evidence, math.inf, None, obs.step)]
    found = None
    if reference is not None and reference > 0:
        found = _divergence_reason(loss, reference, hist, th)
    if found is not None:
        reason, start = found
        start = max(start, hist.steps[0])
        return [Hit("loss", {"loss": loss, "reason": reason}, loss, None, start)]
    reason = _jump_reason(hist, th)
    if reason is None:
        return []
    start = hist.steps[-int(th["window"])]
    return [Hit("loss", {"loss": loss, "reason": reason}, loss, "warning", start)]


def record_block(hist: DetectorMemory, step: int, loss: float | None, w: int) -> bool:
    """Add a loss to its block of `w` steps; return True when a block just completed."""
    if loss is None or not math.isfinite(loss):
        return step % w == w - 1
    index = step // w
    if not hist.blocks or hist.blocks[-1][0] != index:
        hist.blocks.append([index, 0, 0.0, 0.0])
        del hist.blocks[:-64]
    block = hist.blocks[-1]
    block[1], block[2], block[3] = block[1] + 1, block[2] + loss, block[3] + loss * loss
    return step % w == w - 1


def _group(blocks: list) -> tuple[float, float]:
    """Mean and standard error of the losses of consecutive blocks."""
    n = sum(b[1] for b in blocks)
    mean = sum(b[2] for b in blocks) / n
    var = max(sum(b[3] for b in blocks) / n - mean * mean, 0.0) * n / max(n - 1, 1)
    return mean, math.sqrt(var / n)


def _flat_groups(hist: DetectorMemory, th: dict) -> tuple | None:
    """(before, recent, blocks per group) of the shortest comparison whose noise is small.

    Two groups of m blocks of ``plateau_window`` steps, m = 1, 2, 4, ... 16: noisy losses
    (one sample per step) need longer groups before a trend of 1% can be told from noise.
    """
    complete = [b for b in hist.blocks if b[1] >= 2]  # judged when the last one completed
    for m in (1, 2, 4, 8, 16):
        if len(complete) < 2 * m:
            return None
        recent, before = _group(complete[-m:]), _group(complete[-2 * m : -m])
        if before[0] <= 0:
            return None
        noise = 2 * math.hypot(before[1], recent[1]) / before[0]
        if noise <= th["plateau_noise"]:
            return before, recent, m
    return None


def detect_loss_plateau(obs: Observation, hist: DetectorMemory, th: dict) -> list[Hit]:
    """loss_plateau: no improvement of ``plateau_rtol`` between two groups of steps.

    The groups are long enough for the noise of the loss (twice the standard error of
    their difference at most ``plateau_noise``), and a change within that noise is no
    change: per-sample noise and sequential data windows are not a plateau. Severity: a
    warning while the loss is above ``plateau_stuck`` x its reference (a drop, then flat
    at chance level, is stuck too).
    """
    w, reference = int(th["plateau_window"]), hist.reference_loss
    if not hist.block_done or reference is None or reference <= 0:
        return []
    found = _flat_groups(hist, th)
    if found is None:
        return []
    (mean_before, error_before), (mean_recent, error), m = found
    improvement = (mean_before - mean_recent) / mean_before
    noise = 2 * math.hypot(error_before, error) / mean_before
    if abs(improvement) >= th["plateau_rtol"] + noise:  # a real change, up or down
        return []
    if mean_recent < th["plateau_converged"] * reference:
        return []
    severity = "warning" if mean_recent >= th["plateau_stuck"] * reference else "info"
    evidence = {"rtol": th["plateau_rtol"], "window": m * w, "loss": mean_recent}
    evidence.update(initial=reference, relative=mean_recent / reference)
    start = hist.blocks[-1][0] * w - (2 * m - 1) * w
    return [Hit("loss", evidence, -improvement, severity, max(start, hist.steps[0]))]


def detect_ascent(obs: Observation, hist: DetectorMemory, th: dict) -> list[Hit]:
    """ascent: updates along +gradient in most of the last `ascent_window` update pairs."""
    window, offenders = int(th["ascent_window"]), []
    current = set(hist.previous.names) if hist.previous is not None else set()
    for name, signs in hist.ascent.items():
        up = [s for s in signs if s[1] > 0]
        if name in current and len(signs) == window and len(up) >= th["ascent_fraction"] * window:
            offenders.append((name, len(up) / window, sum(s[1] for s in signs) / window, up[0][0]))
    if not offenders:
        return []
    name, fraction, cosine, start = offenders[0]
    params = ", ".join(o[0] for o in offenders)
    evidence = {"fraction": fraction, "window": window, "cosine": cosine, "params": params}
    return [Hit(name, evidence, fraction, None, start)]
