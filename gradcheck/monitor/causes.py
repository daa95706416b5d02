"""Cause before consequence: a finding that follows from an earlier one says so.

A NaN / Inf spreads to every array computed after it; dead ReLUs and saturated units make
the gradient vanish and the loss stall; a step of the wrong sign or an exploding update
kills units and blows up the loss. Such a finding keeps its code and onset, but gets
``consequence_of`` (``"code:name"`` of its cause), severity ``info`` and a sentence naming
the cause, so a report lists the cause first; the cause takes the consequence's severity
when that was an error. The link is made whichever of the two is
raised first (a consequence seen before its cause is relabelled when the cause appears).
"""

from __future__ import annotations

from gradcheck.monitor.codes import CAUSES
from gradcheck.monitor.findings import Finding, refresh_message

SPREADS = ("nan", "inf")  # every later finding follows from these


def key_of(finding: Finding) -> str:
    """``"code:name"`` (or the code alone for a finding about no name)."""
    return finding.code if finding.name is None else f"{finding.code}:{finding.name}"


def _causes(candidate: Finding, effect: Finding) -> bool:
    if candidate is effect:
        return False
    if candidate.step > effect.step:
        return False
    if candidate.code in SPREADS and effect.code not in SPREADS:
        # An overflowing exp, or an update that blew up the loss, at the very step of the
        # NaN / Inf is its cause, not its consequence.
        return effect.step > candidate.step or effect.code not in CAUSES[candidate.code]
    return candidate.code in CAUSES.get(effect.code, ())


def mark(effect: Finding, cause: Finding) -> None:
    """Make `effect` a consequence of `cause`, with a sentence naming the cause.

    The consequence becomes info; a cause of a NaN / Inf, or of an error (a diverging
    loss), becomes an error: the run's worst severity stays on the finding to fix.
    """
    if effect.code in SPREADS or effect.severity == "error":
        cause.severity = "error"
    effect.consequence_of = key_of(cause)
    effect.severity = "info"
    where = f" in `{cause.name}`" if cause.name is not None else ""
    effect.note = (
        f"This follows from the earlier `{cause.code}` finding{where} (step {cause.step}): "
        "fix that first."
    )
    refresh_message(effect)


def _root(finding: Finding, findings: list[Finding]) -> Finding:
    """Follow `consequence_of` back to the finding that started the chain."""
    by_key = {key_of(f): f for f in findings}
    seen = {id(finding)}
    while finding.consequence_of in by_key and id(by_key[finding.consequence_of]) not in seen:
        finding = by_key[finding.consequence_of]
        seen.add(id(finding))
    return finding


def _likeliest(effect: Finding, candidates: list[Finding]) -> Finding:
    """Return the likeliest of several possible causes of `effect`.

    The one in the same array, then the earliest, then the first in ``CAUSES``: underflow
    in a saturated layer follows from its saturation, not from an explosion elsewhere that
    happened to be raised first.
    """
    order = CAUSES.get(effect.code, ())

    def rank(cause: Finding) -> tuple:
        listed = order.index(cause.code) if cause.code in order else len(order)
        return (cause.name != effect.name, cause.step, listed)

    return min(candidates, key=rank)


def link_causes(new: Finding, findings: list[Finding]) -> None:
    """Link a new finding to the root cause among `findings`, or earlier findings to it."""
    candidates = [old for old in findings if _causes(old, new)]
    if candidates:
        mark(new, _root(_likeliest(new, candidates), findings))
        return
    for old in findings:
        if old.consequence_of is None and _causes(new, old) and not _causes(old, new):
            mark(old, new)
