"""The results of :func:`gradcheck.layers.check_layers`: one report per layer, and the stack's.

:class:`LayerReport` holds a layer's verdict, diagnoses and the two
:class:`gradcheck.GradientReport` checks (input gradient, parameter gradients);
:class:`LayerCheckResult` holds them in forward order, prints the per-layer table and
serializes to ``{"kind": "layer_check", ...}``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gradcheck._jsonsafe import json_float
from gradcheck._vocab import worst_status
from gradcheck.checking.gradient_results import GradientReport


@dataclass(frozen=True)
class LayerReport:
    """The check of one layer.

    Attributes
    ----------
    index, name : int, str
        Position in the stack (0 = first) and the layer's name.
    kind : str
        ``"dense"``, ``"elementwise"``, ``"batch-mixing"`` (the forward mixes samples,
        as batch norm does) or ``"other"`` (detected from the forward pass).
    passed : bool
        Input gradient, parameter gradients and batch independence all correct.
    verdict : str
        One line: what is wrong, or ``"ok"``.
    diagnoses : list of Diagnosis
        Layer-aware diagnoses first, then the array-level ones; paths are
        ``"<layer>.<param>"`` and ``"<layer>.x"`` for the input gradient.
    input_gradient : GradientReport or None
        Check of ``dx`` (None when backward returned an array of the wrong shape).
    param_reports : GradientReport or None
        Check of every parameter gradient (None for a layer without parameters, or when a
        gradient had the wrong shape).
    batch_independent : bool or None
        False when the forward or the backward mixes samples (a mixing forward such as
        batch norm is information, not a failure); None when skipped (``mixes_samples =
        True``, a batch of one, or a contract problem first).
    notes : list of str
        Information that is not a failure: in-place writes (checked on private copies),
        a forward that mixes samples.
    status : str
        ``"passed"``, ``"failed"`` or ``"inconclusive"`` (no contract problem, no wrong
        gradient, but a gradient check could not certify); by default from `passed`.
    """

    index: int
    name: str
    kind: str
    passed: bool
    verdict: str
    diagnoses: list = field(default_factory=list)
    input_gradient: GradientReport | None = None
    param_reports: GradientReport | None = None
    batch_independent: bool | None = None
    n_params: int = 0
    notes: list = field(default_factory=list)
    status: str = ""

    def __post_init__(self) -> None:
        if not self.status:
            object.__setattr__(self, "status", "passed" if self.passed else "failed")

    @property
    def max_rel_error(self) -> float:
        """The largest relative error of the input and parameter checks."""
        reports = [r for r in (self.input_gradient, self.param_reports) if r is not None]
        return max((float(r.max_rel_error) for r in reports), default=float("nan"))

    @property
    def n_evaluations(self) -> int:
        """Loss evaluations spent by the gradient checks of this layer."""
        reports = [r for r in (self.input_gradient, self.param_reports) if r is not None]
        return sum(int(r.n_evaluations) for r in reports)

    def to_dict(self) -> dict:
        """Return a JSON-safe dict."""
        return {
            "index": self.index,
            "name": self.name,
            "kind": self.kind,
            "passed": bool(self.passed),
            "verdict": self.verdict,
            "max_rel_error": json_float(self.max_rel_error),
            "n_params": int(self.n_params),
            "input_gradient": _dict_or_none(self.input_gradient),
            "params": _dict_or_none(self.param_reports),
            "batch_independent": self.batch_independent,
            "diagnoses": [d.to_dict() for d in self.diagnoses],
            "notes": list(self.notes),
            "status": self.status,
        }


def _dict_or_none(report: GradientReport | None) -> dict | None:
    return None if report is None else report.to_dict()


@dataclass(frozen=True)
class LayerCheckResult:
    """The result of :func:`check_layers`: one :class:`LayerReport` per layer, in order."""

    layers: list
    title: str | None = None

    @property
    def passed(self) -> bool:
        """True when every layer passed."""
        return all(layer.passed for layer in self.layers)

    @property
    def status(self) -> str:
        """``"passed"``, ``"failed"`` (a layer failed) or ``"inconclusive"`` (none failed)."""
        return worst_status(layer.status for layer in self.layers)

    @property
    def first_failure(self) -> int | None:
        """Index of the first layer that did not pass (failed or inconclusive), or None."""
        return next((layer.index for layer in self.layers if not layer.passed), None)

    @property
    def n_evaluations(self) -> int:
        """Loss evaluations spent by every layer's gradient checks."""
        return sum(layer.n_evaluations for layer in self.layers)

    @property
    def diagnoses(self) -> list:
        """Every layer's diagnoses, in layer order."""
        return [d for layer in self.layers for d in layer.diagnoses]

    def to_dict(self) -> dict:
        """Return a JSON-safe dict (``"kind": "layer_check"``)."""
        return {
            "kind": "layer_check",
            "title": self.title,
            "passed": self.passed,
            "status": self.status,
            "first_failure": self.first_failure,
            "n_evaluations": self.n_evaluations,
            "layers": [layer.to_dict() for layer in self.layers],
        }

    def __str__(self) -> str:
        rows = [("#", "layer", "kind", "params", "max error", "verdict")]
        for r in self.layers:
            error = "-" if np.isnan(r.max_rel_error) else f"{r.max_rel_error:.1e}"
            rows.append((str(r.index), r.name, r.kind, str(r.n_params), error, r.verdict))
        widths = [max(len(row[i]) for row in rows) for i in range(5)]
        lines = [
            "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=False)) + "  " + row[5]
            for row in rows
        ]
        head = _head(self)
        title = f"{self.title}: " if self.title else ""
        notes = [f"note #{r.index} {r.name}: {n}" for r in self.layers for n in r.notes]
        return "\n".join([f"{title}layer check {head}", *lines, *notes])

    def save(self, path: str) -> Any:
        """Write the report to `path` (.md, .html or .json by suffix)."""
        from gradcheck.report import save_check_report

        return save_check_report(self, path)


def _head(result: LayerCheckResult) -> str:
    """Return the headline: PASSED, FAILED naming the first wrong layer, or INCONCLUSIVE."""
    if result.status == "passed":
        return "PASSED"
    first = next((r.index for r in result.layers if r.status == result.status), None)
    if result.status == "failed":
        return f"FAILED: first wrong layer is #{first}"
    return f"INCONCLUSIVE: layer #{first} could not be certified"
