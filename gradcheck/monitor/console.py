"""Print findings as they happen and a summary table at the end (``gradcheck train --monitor``).

Usage with any trainer that calls ``observer.observe(step, ...)``::

    printer = ConsoleObserver(Monitor())
    train(model, data, ..., observer=printer)
    printer.print_summary()
"""

from __future__ import annotations

import sys
from typing import Any, TextIO

from gradcheck._table import padded_lines
from gradcheck._validate import check_choice
from gradcheck.monitor.findings import SEVERITIES, Finding, finding_row
from gradcheck.monitor.monitor import Monitor

MARKS = {"info": "i", "warning": "!", "error": "x"}


def format_finding(finding: Finding) -> str:
    """Two lines: ``[!] step 12  saturation in `sigmoid1`: message`` and the suggestion.

    Examples
    --------
    >>> from gradcheck.monitor.findings import make_finding
    >>> print(format_finding(make_finding("nan", "dense1", 7, {"n_nan": 3, "size": 10})))
    ... # doctest: +ELLIPSIS
    [x] step 7  nan in `dense1`: NaN first appeared in `dense1` at step 7 (3 of 10 entries).
        try: ...
    """
    where = f" in `{finding.name}`" if finding.name is not None else ""
    head = f"[{MARKS.get(finding.severity, '?')}] step {finding.step}  {finding.code}{where}: "
    return f"{head}{finding.message}\n    try: {finding.suggestion}"


def _rows(findings: list[dict]) -> list[list[str]]:
    rows = [["severity", "code", "name", "first", "last", "count"]]
    order = sorted(findings, key=lambda f: (-SEVERITIES.index(f["severity"]), f["step"]))
    for f in map(finding_row, order):
        name = "-" if f.name is None else str(f.name)
        rows.append([f.severity, f.code, name, str(f.first), str(f.last), str(f.count)])
    return rows


def format_summary(monitor: Monitor | dict) -> str:
    """Return a table of every finding (worst first), from a Monitor or its ``to_dict()``.

    Examples
    --------
    >>> print(format_summary({"findings": [], "series": {"step": [0, 1]}}))
    monitor: 2 observations, no findings: training looks numerically healthy.
    """
    data = monitor.to_dict() if isinstance(monitor, Monitor) else monitor
    findings, n = data["findings"], len(data.get("series", {}).get("step", []))
    if not findings:
        return f"monitor: {n} observations, no findings: training looks numerically healthy."
    rows = _rows(findings)
    lines = padded_lines(rows, rule=True)
    worst = rows[1][0]
    return f"monitor: {n} observations, {len(findings)} finding(s), worst: {worst}\n" + "\n".join(
        lines
    )


class ConsoleObserver:
    """An observer that feeds a `Monitor` and prints each finding when it starts.

    Parameters
    ----------
    monitor : Monitor or None
        The monitor to feed (a default ``Monitor()`` when None).
    stream : text stream or None
        Where to print (default ``sys.stdout``).
    min_severity : str
        Print only findings at least this severe ("info", "warning" or "error").

    Examples
    --------
    >>> import io, numpy as np
    >>> out = io.StringIO()
    >>> printer = ConsoleObserver(stream=out)
    >>> printer.observe(0, loss=float("nan"))
    >>> out.getvalue().splitlines()[0]
    '[x] step 0  nan in `loss`: NaN first appeared in `loss` at step 0 (1 of 1 entries).'
    """

    def __init__(
        self,
        monitor: Monitor | None = None,
        *,
        stream: TextIO | None = None,
        min_severity: str = "info",
    ) -> None:
        self.monitor = monitor if monitor is not None else Monitor()
        self.stream = stream
        self.min_severity = SEVERITIES.index(check_choice("min_severity", min_severity, SEVERITIES))

    def observe(self, step: int, **arrays: Any) -> None:
        """Forward to ``monitor.observe`` and print the findings that start now."""
        for finding in self.monitor.observe(step, **arrays):
            if SEVERITIES.index(finding.severity) >= self.min_severity:
                print(format_finding(finding), file=self.stream or sys.stdout, flush=True)

    def print_summary(self) -> None:
        """Print the summary table of the run."""
        print(format_summary(self.monitor), file=self.stream or sys.stdout, flush=True)
