"""Gradient-check results: frozen dataclasses with a readable table and a JSON-safe dict.

:class:`GradientReport` is what :func:`gradcheck.check_gradient` returns. ``str(report)``
is a compact table (per parameter, then the worst entries, then the diagnoses);
``report.to_dict()`` holds only JSON types, non-finite floats encoded as strings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gradcheck._jsonsafe import json_float, to_jsonable

#: At most this many failures in ``to_dict()`` and in the table.
MAX_DICT_FAILURES = 50
MAX_TABLE_FAILURES = 10


@dataclass(frozen=True)
class Failure:
    """One entry whose analytic derivative is outside what the error model allows.

    Attributes
    ----------
    path, index : str, tuple
        Which parameter and which entry.
    analytic, numeric : float
        The derivative from ``grad`` and from finite differences.
    error, tolerance : float
        ``|analytic - numeric|`` and the allowed error at that entry.
    ratio : float
        ``error / tolerance`` (how far outside, > 1).
    output_path, output_index : str or None, tuple or None
        For a Jacobian entry (:func:`gradcheck.check_vjp` and friends): the output leaf and
        entry whose derivative with respect to ``path[index]`` is wrong; None otherwise.
    """

    path: str
    index: tuple
    analytic: float
    numeric: float
    error: float
    tolerance: float
    ratio: float
    output_path: str | None = None
    output_index: tuple | None = None

    def to_dict(self) -> dict:
        """Return a JSON-safe dict."""
        return {
            "path": self.path,
            "index": [int(i) for i in self.index],
            "analytic": json_float(self.analytic),
            "numeric": json_float(self.numeric),
            "error": json_float(self.error),
            "tolerance": json_float(self.tolerance),
            "ratio": json_float(self.ratio),
        }


@dataclass(frozen=True)
class ParamSummary:
    """Per-parameter verdict: how many entries were checked and failed, the worst error."""

    path: str
    shape: tuple
    passed: bool
    max_rel_error: float
    checked: int
    failed: int

    @property
    def size(self) -> int:
        """Number of entries of the parameter."""
        size = 1
        for dim in self.shape:
            size *= int(dim)
        return size

    def to_dict(self) -> dict:
        """Return a JSON-safe dict."""
        return {
            "path": self.path,
            "shape": [int(d) for d in self.shape],
            "passed": bool(self.passed),
            "max_rel_error": json_float(self.max_rel_error),
            "checked": int(self.checked),
            "failed": int(self.failed),
            "size": self.size,
        }


@dataclass(frozen=True)
class GradientReport:
    """The result of a gradient check.

    Attributes
    ----------
    passed : bool
        True when no entry failed and nothing (e.g. accumulation) invalidated the gradient.
    max_rel_error : float
        Largest ``max|analytic - numeric| / max|gradient|`` over the parameters.
    n_evaluations : int
        Loss evaluations made (like scipy's ``nfev``).
    failures : list of Failure
        Failing entries, worst (largest ratio) first.
    params : dict
        Path -> :class:`ParamSummary`.
    kinks : list of (path, index)
        Entries at a non-differentiable point (one-sided derivatives disagree): never
        failures.
    diagnoses : list
        :class:`gradcheck.diagnose.Diagnosis`, best first.
    method, mode : str
        Difference method; "full", "sample" or "directional".
    dtype, evaluated_dtype : str
        The parameters' dtype and the dtype the loss was evaluated in.
    notes : list of str
        Remarks (float32 evaluated in float64, complex-step fallbacks...).
    scatter : dict
        Path -> {"analytic": [...], "numeric": [...]} for at most 200 checked entries.
    title : str or None
        A name for the check (used by reports).

    Examples
    --------
    >>> import numpy as np, gradcheck.check as gc
    >>> report = gc.check_gradient(lambda p: float(np.sum(p**2)), lambda p: 2 * p, np.ones(3))
    >>> report.passed, report.mode
    (True, 'full')
    """

    passed: bool
    max_rel_error: float
    n_evaluations: int
    failures: list
    params: dict
    kinks: list = field(default_factory=list)
    diagnoses: list = field(default_factory=list)
    method: str = "central"
    mode: str = "full"
    dtype: str = "float64"
    evaluated_dtype: str = "float64"
    notes: list = field(default_factory=list)
    scatter: dict = field(default_factory=dict)
    title: str | None = None

    def __str__(self) -> str:
        return format_report(self)

    def save(self, path: Any, *, title: str | None = None) -> Any:
        """Write the report to `path`: Markdown, HTML or JSON by its suffix.

        Delegates to :func:`gradcheck.report.save_check_report` (imported here only, as
        DESIGN.md allows for ``save``); returns the path written.
        """
        from gradcheck.report import save_check_report

        return save_check_report(self, path, title=title)

    def to_dict(self) -> dict:
        """Return a JSON-safe dict (the schema of COMMON.md / DESIGN.md)."""
        return {
            "kind": "gradient_check",
            "title": self.title,
            "passed": bool(self.passed),
            "max_rel_error": json_float(self.max_rel_error),
            "n_evaluations": int(self.n_evaluations),
            "method": self.method,
            "mode": self.mode,
            "dtype": self.dtype,
            "evaluated_dtype": self.evaluated_dtype,
            "notes": [str(note) for note in self.notes],
            "params": [summary.to_dict() for summary in self.params.values()],
            "failures": [f.to_dict() for f in self.failures[:MAX_DICT_FAILURES]],
            "n_failures": len(self.failures),
            "kinks": [{"path": p, "index": [int(i) for i in idx]} for p, idx in self.kinks],
            "diagnoses": [d.to_dict() for d in self.diagnoses],
            "scatter": to_jsonable(self.scatter),
        }


def _fmt(value: Any) -> str:
    return f"{value:.3e}" if isinstance(value, float) else str(value)


def _param_rows(report: GradientReport) -> list[str]:
    head = f"  {'parameter':<20} {'shape':<14} {'checked':>9} {'failed':>7} {'max rel err':>12}"
    rows = [head]
    for s in report.params.values():
        mark = "ok" if s.passed else "FAIL"
        shape = "x".join(str(d) for d in s.shape) or "scalar"
        name = s.path or "(params)"
        rows.append(
            f"  {name:<20} {shape:<14} {s.checked:>9} {s.failed:>7} "
            f"{_fmt(float(s.max_rel_error)):>12}  {mark}"
        )
    return rows


def _failure_rows(report: GradientReport) -> list[str]:
    if not report.failures:
        return []
    shown = report.failures[:MAX_TABLE_FAILURES]
    rows = [
        f"worst entries ({len(shown)} of {len(report.failures)}):",
        f"  {'entry':<24} {'analytic':>11} {'numeric':>11} {'error':>10} "
        f"{'allowed':>10} {'ratio':>9}",
    ]
    for f in shown:
        index = ",".join(str(i) for i in f.index)
        entry = f"{f.path or 'params'}[{index}]"
        rows.append(
            f"  {entry:<24} {f.analytic:>11.4e} {f.numeric:>11.4e} {f.error:>10.2e} "
            f"{f.tolerance:>10.2e} {f.ratio:>9.3g}"
        )
    return rows


def _diagnosis_rows(report: GradientReport) -> list[str]:
    if not report.diagnoses:
        return []
    rows = ["diagnoses:"]
    for d in report.diagnoses:
        where = f" {d.path}" if d.path else ""
        rows.append(f"  [{d.kind}{where}, confidence {d.confidence:.2f}] {d.message}")
    return rows


def format_report(report: GradientReport) -> str:
    """Return the report as a compact table (what ``str(report)`` shows)."""
    verdict = "PASSED" if report.passed else "FAILED"
    title = f"{report.title}: " if report.title else ""
    lines = [
        f"{title}gradient check {verdict}  (method={report.method}, mode={report.mode}, "
        f"{report.n_evaluations} evaluations, max rel error {report.max_rel_error:.2e})",
        *_param_rows(report),
    ]
    if report.kinks:
        lines.append(f"kinks (non-differentiable points, not failures): {len(report.kinks)}")
    lines += _failure_rows(report) + _diagnosis_rows(report)
    lines += [f"note: {note}" for note in report.notes]
    return "\n".join(lines)
