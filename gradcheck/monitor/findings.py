"""Findings: what the monitor reports, and the table of codes behind them.

Each finding code is one row of `gradcheck.monitor.codes` (its default severity, a message
template filled from the evidence, a concrete suggestion, its detector); `FINDINGS` is the
wording part of those rows. The codes are the contract vocabulary of ``shared/DESIGN.md``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from gradcheck._jsonsafe import to_jsonable
from gradcheck._vocab import SEVERITIES
from gradcheck.monitor.codes import FINDINGS

__all__ = [
    "FINDINGS",
    "SEVERITIES",
    "Finding",
    "FindingRow",
    "finding_row",
    "make_finding",
    "update_finding",
]


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


class FindingRow(NamedTuple):
    """A finding's fields as every findings table reads them (None: not recorded)."""

    severity: str | None
    code: str | None
    name: str | None
    first: Any  # the onset step
    last: Any  # the last step seen (None: not recorded)
    count: Any
    message: str | None
    suggestion: str | None
    evidence: Any


def finding_row(finding: Finding | Mapping) -> FindingRow:
    """Return the row of a `Finding` or of its dict (a saved run's, possibly partial).

    The console summary, the test assertion's message and the report's findings table
    each render these rows with their own columns.

    Examples
    --------
    >>> finding_row({"code": "nan", "step": 3}).code, finding_row({"step": 3}).last
    ('nan', None)
    """
    if isinstance(finding, Mapping):
        get = finding.get
    else:

        def get(key: str) -> Any:
            return getattr(finding, key, None)

    keys = ("severity", "code", "name", "step", "last_step", "count", "message", "suggestion")
    return FindingRow(*(get(key) for key in keys), get("evidence"))
