"""Plain-text formatting shared by the renderers: numbers (NaN as "NaN"), indices, verdicts.

Everything here takes the JSON-safe report dict (never the result objects) and returns
strings or plain lists; escaping is the renderers' job.
"""

from __future__ import annotations

import math
from typing import Any

from gradcheck._vocab import CHECK_STATUSES, WORST_FIRST

NONFINITE_TEXT = {"nan": "NaN", "inf": "Inf", "-inf": "-Inf"}
SEVERITIES = WORST_FIRST  # the order reports list findings in
MISSING = "—"


def fmt_num(value: Any, digits: int = 3) -> str:
    """Format a JSON-safe number: NaN/Inf as text, None as a dash, floats with `digits`."""
    if value is None:
        return MISSING
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        return NONFINITE_TEXT.get(value, value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Inf" if value > 0 else "-Inf"
        return f"{value:.{digits}g}"
    return str(value)


def fmt_index(index: Any) -> str:
    """Format an entry index (a list of ints) as a tuple: ``(1, 2)``; ``()`` for a scalar."""
    if index is None:
        return MISSING
    if isinstance(index, list | tuple):
        inner = ", ".join(str(i) for i in index)
        return f"({inner},)" if len(index) == 1 else f"({inner})"
    return str(index)


def fmt_evidence(evidence: Any, limit: int = 6) -> str:
    """Format an evidence dict as ``key=value`` pairs (numbers via :func:`fmt_num`)."""
    if not isinstance(evidence, dict) or not evidence:
        return ""
    pairs = [f"{key}={_fmt_value(value)}" for key, value in list(evidence.items())[:limit]]
    more = len(evidence) - limit
    return ", ".join(pairs) + (f", … (+{more})" if more > 0 else "")


def _fmt_value(value: Any) -> str:
    if isinstance(value, list):
        shown = ", ".join(_fmt_value(v) for v in value[:4])
        return f"[{shown}{', …' if len(value) > 4 else ''}]"
    if isinstance(value, dict):
        return "{" + fmt_evidence(value, limit=3) + "}"
    return fmt_num(value)


#: A check's outcome -> its style key (badge, row class, paragraph class); the label is
#: the key in capitals ("PASS", "FAIL", "INCONCLUSIVE").
OUTCOME_STYLES = dict(zip(CHECK_STATUSES, ("pass", "fail", "inconclusive"), strict=True))


def outcome(item: Any) -> str:
    """Return the outcome of a check, parameter or layer dict: one of ``CHECK_STATUSES`` or "".

    Its ``status`` when present; for files saved before ``status`` existed, derived from
    ``passed`` (True: "passed", False: "failed"); "" when neither says.

    Examples
    --------
    >>> outcome({"passed": False, "status": "inconclusive"}), outcome({"passed": False})
    ('inconclusive', 'failed')
    """
    if not isinstance(item, dict):
        return ""
    status = item.get("status")
    if status in CHECK_STATUSES:
        return status
    passed = item.get("passed")
    return {True: "passed", False: "failed"}.get(passed, "") if isinstance(passed, bool) else ""


def outcome_style(item: Any) -> str:
    """Return the style key of a dict's outcome: "pass", "fail", "inconclusive" or ""."""
    return OUTCOME_STYLES.get(outcome(item), "")


def fmt_outcome(item: Any) -> str:
    """Return "PASS" / "FAIL" / "INCONCLUSIVE" for a check, parameter or layer dict; "—" if unknown.

    Examples
    --------
    >>> fmt_outcome({"passed": False, "status": "inconclusive"}), fmt_outcome({"passed": True})
    ('INCONCLUSIVE', 'PASS')
    """
    return outcome_style(item).upper() or MISSING


def inconclusive_items(check: dict) -> list[dict]:
    """Return what a check dict could not certify: its ``inconclusive`` items, or its layers'.

    Each item is a dict with ``path``, ``reason`` and ``advice`` (as ``Inconclusive.to_dict``).
    """
    if check.get("kind") != "layer_check":
        return [i for i in check.get("inconclusive") or [] if isinstance(i, dict)]
    items = []
    for layer in check.get("layers") or []:
        for label in ("input_gradient", "params"):
            sub = layer.get(label)
            if isinstance(sub, dict):
                items += inconclusive_items(sub)
    return items


def fmt_inconclusive(item: dict) -> str:
    """Return an inconclusive item as one sentence: where, why, and what to change.

    Examples
    --------
    >>> fmt_inconclusive({"path": "w", "reason": "too coarse", "advice": "Use float64"})
    '`w`: too coarse. Use float64'
    """
    path = item.get("path")
    where = f"`{path}`" if path else ("the bare parameter" if path == "" else "the check")
    reason, advice = str(item.get("reason") or "no reason recorded"), item.get("advice")
    return f"{where}: {reason}." + (f" {advice}" if advice else "")


def fmt_steps(finding: dict) -> str:
    """Return the step span of a finding: ``12``, ``12–40 (×9)``, ``12–40 (×9; raised at 20)``.

    ``step`` is the onset; ``reported_step`` (when later) is the step the monitor raised it.
    """
    first, last, count = finding.get("step"), finding.get("last_step"), finding.get("count")
    text = fmt_num(first)
    if last is not None and last != first:
        text += f"–{fmt_num(last)}"
    notes = [f"×{count}"] if isinstance(count, int) and count > 1 else []
    reported = finding.get("reported_step")
    if isinstance(reported, int) and isinstance(first, int) and reported > first:
        notes.append(f"raised at {reported}")
    return f"{text} ({'; '.join(notes)})" if notes else text


def sorted_findings(monitor: dict | None) -> list[dict]:
    """Return the monitor's findings, causes first.

    Errors, then warnings, then info; the consequences of an earlier finding last; by step.
    """
    findings = (monitor or {}).get("findings") or []
    rank = {name: i for i, name in enumerate(SEVERITIES)}

    def key(finding: dict) -> tuple:
        step = finding.get("step")
        consequence = finding.get("consequence_of") is not None
        severity = rank.get(finding.get("severity"), len(rank))
        return (consequence, severity, step if step is not None else -1)

    return sorted(findings, key=key)


def check_title(check: dict, position: int) -> str:
    """Return a display title for a check dict: its title, or its kind and position."""
    if check.get("title"):
        return str(check["title"])
    kind = "Layer-by-layer check" if check.get("kind") == "layer_check" else "Gradient check"
    return f"{kind} #{position + 1}"


def severity_counts(monitor: dict | None) -> dict[str, int]:
    """Return how many findings there are of each severity."""
    counts = dict.fromkeys(SEVERITIES, 0)
    for finding in (monitor or {}).get("findings") or []:
        severity = finding.get("severity")
        counts[severity] = counts.get(severity, 0) + 1
    return counts


def verdict(data: dict) -> dict:
    """Return the overall verdict as ``{"level", "headline", "details"}``.

    `level` is "pass", "warn", "fail" or "empty".

    Red (``fail``) when a gradient check failed or the monitor found an error; amber (``warn``)
    when a check was inconclusive or the monitor warned; green (``pass``) only when every check
    passed and the monitor found nothing worse than information.
    """
    checks = data.get("checks") or []
    monitor = data.get("monitor")
    outcomes = [outcome(c) for c in checks]
    counts = severity_counts(monitor)
    details = _checks_details(checks, outcomes) + _monitor_details(monitor, counts)
    if not checks and monitor is None:
        return {"level": "empty", "headline": "Nothing to report", "details": details}
    if "failed" in outcomes or counts["error"]:
        return {"level": "fail", "headline": "Problems found", "details": details}
    if "inconclusive" in outcomes:
        return {
            "level": "warn",
            "headline": "Not everything could be certified",
            "details": details,
        }
    if counts["warning"]:
        return {"level": "warn", "headline": "Warnings", "details": details}
    return {"level": "pass", "headline": "All clear", "details": details}


def _checks_details(checks: list, outcomes: list) -> list[str]:
    if not checks:
        return ["No gradient checks in this run."]
    if all(o == "passed" for o in outcomes):
        return [f"All {len(checks)} gradient checks passed."]
    titled = list(zip(outcomes, (check_title(c, i) for i, c in enumerate(checks)), strict=True))
    failed = [title for o, title in titled if o == "failed"]
    unsure = [
        _why(c, title) for c, (o, title) in zip(checks, titled, strict=True) if o == "inconclusive"
    ]
    unknown = outcomes.count("")
    details = []
    if failed:
        details.append(
            f"{len(failed)} of {len(checks)} gradient checks failed: " + ", ".join(failed) + "."
        )
    if unsure:
        details.append(
            f"{len(unsure)} of {len(checks)} gradient checks inconclusive: "
            + "; ".join(unsure)
            + "."
        )
    if unknown:
        details.append(f"{unknown} of {len(checks)} gradient checks carry no outcome.")
    return details


def _why(check: dict, title: str) -> str:
    """Return an inconclusive check's title with its first reason and advice in parentheses."""
    items = inconclusive_items(check)
    if not items:
        return title
    more = f"; +{len(items) - 1} more" if len(items) > 1 else ""
    return f"{title} ({fmt_inconclusive(items[0]).rstrip('.')}{more})"


def _monitor_details(monitor: dict | None, counts: dict) -> list[str]:
    if monitor is None:
        return ["No training monitor in this run."]
    if not any(counts.values()):
        return ["Training monitor: no findings."]
    parts = [f"{n} {sev}{'s' if n != 1 else ''}" for sev, n in counts.items() if n]
    return ["Training monitor: " + ", ".join(parts) + "."]


ABRIDGED = " ..."  # how a layer check's one-line verdict marks that it was shortened


def full_verdict(layer: dict) -> str:
    """Return a layer's verdict in full: an abridged one is rebuilt from its top diagnosis.

    Examples
    --------
    >>> top = {"kind": "zero", "path": "W", "message": "`W`: never written, so it stays 0."}
    >>> full_verdict({"verdict": "zero at W: never ...", "diagnoses": [top]})
    'zero at W: never written, so it stays 0.'
    """
    verdict = str(layer.get("verdict") or "")
    diagnoses = layer.get("diagnoses") or []
    if not verdict.endswith(ABRIDGED) or not diagnoses:
        return verdict
    top = diagnoses[0]
    path, message = top.get("path"), str(top.get("message") or "")
    words = message.removeprefix(f"`{path}`: ").removeprefix(f"`{path}` ")
    return f"{top.get('kind')} at {path}: {words}"
