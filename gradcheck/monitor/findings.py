"""Findings: what the monitor reports, and the table of codes behind them.

Each finding code maps to one line of `FINDINGS`: its default severity, a message template
filled from the evidence, and a concrete suggestion. The codes are the contract vocabulary
of ``shared/DESIGN.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gradcheck._jsonsafe import to_jsonable

SEVERITIES = ("info", "warning", "error")

# code -> (default severity, message template, suggestion). Templates are filled with
# ``name``, ``step`` and the finding's evidence.
FINDINGS: dict[str, tuple[str, str, str]] = {
    "nan": (
        "error",
        "NaN first appeared in `{name}` at step {step} ({n_nan} of {size} entries).",
        "Look at the operation that produces `{name}`: subtract the max before exp "
        "(softmax), clip log's argument (log(p + eps)), check for 0/0 and inf - inf, and "
        "lower the learning rate if values were growing before.",
    ),
    "inf": (
        "error",
        "Inf first appeared in `{name}` at step {step} ({n_inf} of {size} entries).",
        "An exp or a product overflowed: subtract the max before exp, clip log's argument, "
        "lower the learning rate, and normalise the inputs.",
    ),
    "overflow": (
        "warning",
        "`{name}` has magnitudes up to {max_abs:.3g}, beyond {limit:.3g} ({reason}).",
        "Values are close to overflowing: normalise the inputs, use glorot/he "
        "initialisation, lower the learning rate, and subtract the max before exp.",
    ),
    "underflow": (
        "warning",
        "{fraction:.0%} of the nonzero entries of the {array} `{name}` are below {threshold:.3g} "
        "in magnitude (smallest {min_abs:.3g}).",
        "Such values underflow to 0 in products: the units feeding them are saturated or "
        "the signal vanishes. Normalise the inputs, use glorot/he initialisation, compute "
        "in log space (log-sum-exp), or use a wider dtype (float32 -> float64).",
    ),
    "dead_relu": (
        "warning",
        "{fraction:.0%} of the units of `{name}` ({n_dead} of {n_units}) output exactly 0 "
        "on every sample seen for {window} steps: they get no gradient.",
        "Lower the learning rate, use he initialisation with a zero or small positive bias, "
        "normalise the inputs, or use leaky ReLU.",
    ),
    "saturation": (
        "warning",
        "{fraction:.0%} of the entries of `{name}` are within {eps:.0e} of a bound of a "
        "squashing function ({bounds}), where its derivative is almost 0.",
        "Normalise the inputs (e.g. pixels to [0, 1] then standardise), use glorot "
        "initialisation, or switch hidden units to ReLU / leaky ReLU.",
    ),
    "vanishing_gradient": (
        "warning",
        "The gradient of `{name}` is {relative_gradient:.3g} times its parameters' size "
        "({reason}): the first layer barely learns.",
        "Avoid saturating activations (use ReLU / leaky ReLU), use glorot/he initialisation, "
        "normalise the inputs, and check the activation derivative (evaluated at z, not a).",
    ),
    "exploding_gradient": (
        "warning",
        "The gradient explodes at `{name}`: {reason}.",
        "Lower the learning rate, use a mean instead of a sum over the batch, normalise the "
        "inputs, use glorot/he initialisation, or clip gradients.",
    ),
    "loss_divergence": (
        "error",
        "The loss diverged at step {step}: {loss:.4g}, {reason}.",
        "Lower the learning rate; use a mean instead of a sum over the batch (a sum makes "
        "the gradient grow with the data size); normalise the inputs; check the update's "
        "sign (params -= lr * grad).",
    ),
    "loss_plateau": (
        "warning",
        "The loss has not improved by {rtol:.0%} over {window} steps (it is {loss:.4g}, "
        "{relative:.0%} of its reference {initial:.4g}, the median of its first values).",
        "If the loss is still high: raise or lower the learning rate, check that the "
        "gradient is not zero or vanishing, normalise the inputs, and check that "
        "zero_grad is called once per step.",
    ),
    "ascent": (
        "error",
        "The update moved `{name}` uphill (along +gradient) in {fraction:.0%} of the last "
        "{window} steps (mean cosine {cosine:.2f}); parameters going uphill: {params}.",
        "Check the update's sign: params -= lr * grad (a negative learning rate, or "
        "`+=`, climbs the loss).",
    ),
}


@dataclass
class Finding:
    """One problem seen by the monitor, reported once when it starts and then updated.

    Attributes
    ----------
    code : str
        One of the keys of `FINDINGS`.
    name : str or None
        The layer / parameter / array it is about; ``"loss"`` for the loss.
    step : int
        The first step where it was seen.
    severity : str
        "info", "warning" or "error".
    message, suggestion : str
        Plain words, with the evidence's numbers.
    last_step : int
        The last step where it was seen.
    count : int
        How many observations it was seen in.
    evidence : dict
        JSON-safe numbers (the worst seen so far).
    reported_step : int
        The step at which the monitor raised it (``step`` is the onset, which a rule that
        needs a condition to persist sees only later).
    consequence_of : str or None
        ``"code:name"`` of the finding it follows from (then its severity is "info");
        see `gradcheck.monitor.causes`.
    note : str
        A sentence added to the message (the cause it follows from).

    Examples
    --------
    >>> f = make_finding("nan", "dense1", 7, {"n_nan": 3, "size": 10})
    >>> f.code, f.name, f.step, f.severity
    ('nan', 'dense1', 7, 'error')
    """

    code: str
    name: str | None
    step: int
    severity: str
    message: str
    suggestion: str
    last_step: int = 0
    count: int = 1
    evidence: dict = field(default_factory=dict)
    score: float = field(default=0.0, repr=False)
    reported_step: int = 0
    consequence_of: str | None = None
    note: str = field(default="", repr=False)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dict of the finding."""
        return {
            "code": self.code,
            "name": self.name,
            "step": self.step,
            "last_step": self.last_step,
            "count": self.count,
            "severity": self.severity,
            "message": self.message,
            "suggestion": self.suggestion,
            "evidence": to_jsonable(self.evidence),
            "reported_step": self.reported_step,
            "consequence_of": self.consequence_of,
        }


class _Lenient(dict):
    def __missing__(self, key: str) -> str:
        return "?"


def _fill(template: str, name: str | None, step: int, evidence: dict) -> str:
    values = _Lenient(evidence, name=name, step=step)
    try:
        return template.format_map(values)
    except (ValueError, TypeError):  # a number missing: say what is known, in words
        where = f" in `{name}`" if name is not None else ""
        return f"A problem was seen{where} at step {step}."


def make_finding(
    code: str,
    name: str | None,
    step: int,
    evidence: dict,
    *,
    severity: str | None = None,
    score: float = 0.0,
) -> Finding:
    """Build a `Finding` from the `FINDINGS` table (severity defaults to the table's)."""
    default, template, suggestion = FINDINGS[code]
    return Finding(
        code=code,
        name=name,
        step=step,
        severity=severity or default,
        message=_fill(template, name, step, evidence),
        suggestion=_fill(suggestion, name, step, evidence),
        last_step=step,
        evidence=dict(evidence),
        score=score,
        reported_step=step,
    )


def update_finding(
    finding: Finding, step: int, evidence: dict, *, severity: str | None, score: float
) -> None:
    """Record another sighting: last step, count, worst evidence and highest severity."""
    finding.last_step = step
    finding.count += 1
    upgrade = severity and SEVERITIES.index(severity) > SEVERITIES.index(finding.severity)
    if upgrade and finding.consequence_of is None:
        finding.severity = severity
    if score > finding.score:
        finding.score = score
        finding.evidence = {**evidence, "worst_step": step}
        refresh_message(finding)


def refresh_message(finding: Finding) -> None:
    """Rebuild the message from the evidence (quoting the step of its numbers) and note."""
    worst = finding.evidence.get("worst_step", finding.step)
    template = FINDINGS[finding.code][1]
    message = _fill(template, finding.name, worst, finding.evidence)
    if worst != finding.step and "{step}" in template:
        message += f" First seen at step {finding.step}."
    elif worst != finding.step:
        message += f" Worst at step {worst}; first seen at step {finding.step}."
    finding.message = f"{message} {finding.note}" if finding.note else message
