"""Plain-text formatting shared by the renderers: numbers (NaN as "NaN"), indices, verdicts.

Everything here takes the JSON-safe report dict (never the result objects) and returns
strings or plain lists; escaping is the renderers' job.
"""

from __future__ import annotations

import math
from typing import Any

from gradcheck._vocab import WORST_FIRST

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


def fmt_passed(passed: Any) -> str:
    """Return "PASS" / "FAIL" / "—" for a passed flag."""
    if passed is None:
        return MISSING
    return "PASS" if passed else "FAIL"


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
    for warnings only; green (``pass``) otherwise.
    """
    checks = data.get("checks") or []
    monitor = data.get("monitor")
    failed = [check_title(c, i) for i, c in enumerate(checks) if c.get("passed") is False]
    counts = severity_counts(monitor)
    details = _verdict_details(checks, failed, monitor, counts)
    if not checks and monitor is None:
        return {"level": "empty", "headline": "Nothing to report", "details": details}
    if failed or counts["error"]:
        return {"level": "fail", "headline": "Problems found", "details": details}
    if counts["warning"]:
        return {"level": "warn", "headline": "Warnings", "details": details}
    return {"level": "pass", "headline": "All clear", "details": details}


def _verdict_details(checks: list, failed: list, monitor: dict | None, counts: dict) -> list[str]:
    details = []
    if checks:
        if failed:
            details.append(
                f"{len(failed)} of {len(checks)} gradient checks failed: " + ", ".join(failed) + "."
            )
        else:
            details.append(f"All {len(checks)} gradient checks passed.")
    else:
        details.append("No gradient checks in this run.")
    if monitor is None:
        details.append("No training monitor in this run.")
    elif not any(counts.values()):
        details.append("Training monitor: no findings.")
    else:
        parts = [f"{n} {sev}{'s' if n != 1 else ''}" for sev, n in counts.items() if n]
        details.append("Training monitor: " + ", ".join(parts) + ".")
    return details


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
