"""Gradient-check results: frozen dataclasses with a readable table and a JSON-safe dict.

:class:`GradientReport` is what :func:`gradcheck.check_gradient` returns. ``str(report)``
is a compact table (per parameter, then the worst entries, then the diagnoses);
``report.to_dict()`` holds only JSON types, non-finite floats encoded as strings.

A check has three outcomes, per parameter and for the whole report: ``"passed"`` (every
checked entry certified), ``"failed"`` (an entry is outside the error model, or the
gradient changes between calls) and ``"inconclusive"`` (the numbers cannot decide: too
many kinks, a loss too coarse for any step, a probe that left the loss's domain).
Relative errors are per entry: ``|analytic - numeric| / max(|analytic|, |numeric|,
REL_FLOOR * G)`` with ``G`` the parameter's own largest derivative, so a near-zero entry
is measured against a tenth of its parameter's scale instead of exploding.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gradcheck._jsonsafe import json_float, to_jsonable
from gradcheck._vocab import CHECK_STATUSES
from gradcheck.numeric.stencils import DEFAULT_METHOD

#: At most this many failures in ``to_dict()`` and in the table.
MAX_DICT_FAILURES = 50
MAX_TABLE_FAILURES = 10
#: Entries smaller than this fraction of their parameter's largest derivative are measured
#: relative to that fraction (see the module docstring).
REL_FLOOR = 0.1
#: The three outcomes of an entry, a parameter and a report.
STATUSES = CHECK_STATUSES


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
            "output_path": self.output_path,
            "output_index": None
            if self.output_index is None
            else [int(i) for i in self.output_index],
        }

    @property
    def entry(self) -> str:
        """The entry as the table names it: ``W[0,1]``, or ``output <- input`` for a Jacobian.

        Examples
        --------
        >>> Failure("", (2,), 1.0, 0.0, 1.0, 0.1, 10.0).entry
        'params[2]'
        >>> Failure("", (2,), 1.0, 0.0, 1.0, 0.1, 10.0, "", (1,)).entry
        '[1] <- params[2]'
        >>> Failure("W", (0, 1), 1.0, 0.0, 1.0, 0.1, 10.0, "out.y", ()).entry
        'out.y <- W[0,1]'
        """
        entry = f"{self.path or 'params'}[{','.join(str(i) for i in self.index)}]"
        if self.output_path is None and self.output_index is None:
            return entry
        index = ",".join(str(int(i)) for i in self.output_index or ())
        output = f"{self.output_path or ''}[{index}]" if index else self.output_path or "output"
        return f"{output} <- {entry}"


@dataclass(frozen=True)
class ParamSummary:
    """Per-parameter verdict: how many entries were checked and failed, the worst error.

    Attributes
    ----------
    path, shape : str, tuple
        The parameter.
    passed : bool
        True only when every checked entry was certified (``status == "passed"``).
    max_rel_error : float
        The largest per-entry relative error of this parameter's checked entries:
        ``|analytic - numeric| / max(|analytic|, |numeric|, REL_FLOOR * G)``, ``G`` its
        own largest derivative (never another parameter's).
    checked, failed : int
        Entries compared and entries outside the error model.
    status : str
        ``"passed"``, ``"failed"`` or ``"inconclusive"``.
    detection_floor : float
        The smallest relative error in one entry (same measure as `max_rel_error`) that
        this check would have caught: PASSED means no checked entry is off by more.
    """

    path: str
    shape: tuple
    passed: bool
    max_rel_error: float
    checked: int
    failed: int
    status: str = ""
    detection_floor: float = float("nan")

    def __post_init__(self) -> None:
        if not self.status:
            object.__setattr__(self, "status", "passed" if self.passed else "failed")

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
            "status": self.status,
            "detection_floor": json_float(self.detection_floor),
        }


@dataclass(frozen=True)
class Inconclusive:
    """A parameter (or the whole check) that could not be certified, and what to change.

    Attributes
    ----------
    path : str or None
        The parameter (None: the whole check).
    reason : str
        Why the numbers cannot decide.
    advice : str
        What to change so that they can.
    entries : int
        How many entries could not be certified (0 when not counted per entry).
    """

    path: str | None
    reason: str
    advice: str
    entries: int = 0

    def __str__(self) -> str:
        where = (
            f"`{self.path}`"
            if self.path
            else ("the bare parameter" if self.path == "" else "the check")
        )
        return f"{where}: {self.reason}. {self.advice}"

    def to_dict(self) -> dict:
        """Return a JSON-safe dict."""
        return {
            "path": self.path,
            "reason": self.reason,
            "advice": self.advice,
            "entries": int(self.entries),
        }


@dataclass(frozen=True)
class GradientReport:
    """The result of a gradient check.

    Attributes
    ----------
    passed : bool
        True only when every checked entry was certified: nothing failed, nothing (e.g.
        accumulation) invalidated the gradient and nothing was inconclusive.
    max_rel_error : float
        The largest per-entry relative error over the parameters (each entry measured
        against its own parameter; see :class:`ParamSummary`).
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
        :class:`gradcheck.diagnose.arrays.Diagnosis`, best first.
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
    inconclusive : list of Inconclusive
        What could not be certified, why, and what to change (empty when conclusive).
    precision : str
        The working precision the error model assumed (the coarsest of the parameters',
        the loss's and the gradient's, measured from the values they return).
    precision_reason : str
        Why that precision was assumed.

    Examples
    --------
    >>> import numpy as np, gradcheck.checking.gradient as gc
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
    method: str = DEFAULT_METHOD["full"]
    mode: str = "full"
    dtype: str = "float64"
    evaluated_dtype: str = "float64"
    notes: list = field(default_factory=list)
    scatter: dict = field(default_factory=dict)
    title: str | None = None
    inconclusive: list = field(default_factory=list)
    precision: str = "float64"
    precision_reason: str = ""

    @property
    def status(self) -> str:
        """``"passed"``, ``"failed"`` or ``"inconclusive"`` (failed wins over inconclusive)."""
        if self.passed:
            return "passed"
        statuses = {s.status for s in self.params.values()}
        if self.inconclusive and "failed" not in statuses and not self.failures:
            if not any(d.kind == "accumulation" for d in self.diagnoses):
                return "inconclusive"
        return "failed"

    @property
    def detection_floor(self) -> float:
        """The largest detection floor over the parameters (see :class:`ParamSummary`)."""
        floors = [float(s.detection_floor) for s in self.params.values()]
        return max(floors, default=float("nan"))

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
            "status": self.status,
            "inconclusive": [item.to_dict() for item in self.inconclusive],
            "detection_floor": json_float(self.detection_floor),
            "precision": {"dtype": self.precision, "reason": self.precision_reason},
        }


def _fmt(value: Any) -> str:
    return f"{value:.3e}" if isinstance(value, float) else str(value)


_MARKS = {"passed": "ok", "failed": "FAIL", "inconclusive": "INCONCLUSIVE"}


def _param_rows(report: GradientReport) -> list[str]:
    head = (
        f"  {'parameter':<20} {'shape':<14} {'checked':>9} {'failed':>7}  "
        f"{'max entry rel err':>17} {'detects >=':>10}"
    )
    rows = [head]
    for s in report.params.values():
        shape = "x".join(str(d) for d in s.shape) or "scalar"
        name = s.path or "(params)"
        rows.append(
            f"  {name:<20} {shape:<14} {s.checked:>9} {s.failed:>7}  "
            f"{_fmt(float(s.max_rel_error)):>17} {_floor(s.detection_floor):>10}  "
            f"{_MARKS.get(s.status, s.status)}"
        )
    return rows


def _floor(value: float) -> str:
    return "-" if value != value else f"{value:.1e}"


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
        rows.append(
            f"  {f.entry:<24} {f.analytic:>11.4e} {f.numeric:>11.4e} {f.error:>10.2e} "
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
    verdict = report.status.upper()
    title = f"{report.title}: " if report.title else ""
    lines = [
        f"{title}gradient check {verdict}  (method={report.method}, mode={report.mode}, "
        f"{report.n_evaluations} evaluations, max entry rel error {report.max_rel_error:.2e}, "
        f"precision {report.precision})",
        *_param_rows(report),
    ]
    if report.kinks:
        lines.append(f"kinks (non-differentiable points, not failures): {len(report.kinks)}")
    lines += _failure_rows(report) + _diagnosis_rows(report)
    lines += [f"inconclusive: {item}" for item in report.inconclusive]
    lines += [f"note: {note}" for note in report.notes]
    return "\n".join(lines)
