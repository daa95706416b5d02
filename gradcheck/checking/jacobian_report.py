"""One report for a Jacobian check: merged rows or probes, Jacobian diagnoses, notes.

With the full Jacobian (``mode="jacobian"``) the diagnoses come from the matrix
(:mod:`gradcheck.checking.jacobian_diagnose`), the failures name output and input entries;
with random projections only (``mode="projections"``) they are the gradient checker's own
diagnoses of the projections that failed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

import numpy as np

from gradcheck.checking.gradient_results import GradientReport
from gradcheck.checking.jacobian_diagnose import Case, diagnose_jacobian
from gradcheck.checking.jacobian_rows import (
    Part,
    kinks_note,
    merge,
    numeric_matrix,
    wrong_entries_note,
)
from gradcheck.checking.jacobian_setup import Problem, counts_note
from gradcheck.checking.vectors import Layout
from gradcheck.diagnose.arrays import Diagnosis

#: Diagnoses of the user's code (not of the Jacobian) that a row's gradient check can make.
USER_CODE_KINDS = ("accumulation", "nondeterministic")


def _renamed(diagnosis: Diagnosis, part: Part) -> Diagnosis:
    if part.rename is None or diagnosis.path != "":
        return diagnosis
    return dataclasses.replace(diagnosis, path=part.rename)


def probe_diagnoses(parts: list[Part]) -> list[Diagnosis]:
    """Return the diagnoses of the failed probes, one per (kind, path), best first."""
    found: dict[tuple, Diagnosis] = {}
    for part in parts:
        for diagnosis in part.report.diagnoses:
            diagnosis = _renamed(diagnosis, part)
            key = (diagnosis.kind, diagnosis.path)
            if key not in found or found[key].confidence < diagnosis.confidence:
                found[key] = diagnosis
    return sorted(found.values(), key=lambda d: -d.confidence)


def _matrix_diagnoses(problem: Problem, rows: list[Part], analytic: np.ndarray) -> list:
    numeric, failed = numeric_matrix(rows, analytic, problem.inputs, problem.outputs)
    case = Case(analytic, numeric, failed, problem.inputs, problem.outputs, problem.names.linear)
    carried = [d for d in probe_diagnoses(rows) if d.kind in USER_CODE_KINDS]
    return carried + diagnose_jacobian(case)


def _scalar_pair(report: GradientReport) -> tuple[float, float, bool]:
    if report.failures:
        failure = report.failures[0]
        return failure.analytic, failure.numeric, True
    scatter = next(iter(report.scatter.values()), {})
    values = scatter.get("analytic", [0.0])[:1] + scatter.get("numeric", [0.0])[:1]
    return float(values[0]), float(values[-1]), False


def direction_diagnoses(problem: Problem, probes: list[Part]) -> list[Diagnosis]:
    """Diagnose the probes along directions as a one-row Jacobian (output ``<u, f(x)>``)."""
    pairs = np.array([_scalar_pair(p.report) for p in probes], dtype=float).T
    directions = Layout({p.rename: np.zeros(()) for p in probes})
    projection = Layout({f"<u, {problem.names.f}(x)>": np.zeros(())})
    analytic, numeric, failed = pairs[:1], pairs[1:2], pairs[2:3].astype(bool)
    case = Case(analytic, numeric, failed, directions, projection, problem.names.linear)
    carried = [d for d in probe_diagnoses(probes) if d.kind in USER_CODE_KINDS]
    return carried + diagnose_jacobian(case)


def _superseded(probe: Part) -> bool:
    """Return True for a probe with no wrong value and no diagnosis (a kink, say)."""
    return probe.report.passed or not (probe.report.failures or probe.report.diagnoses)


def _uncertified(probes: list[Part]) -> str | None:
    crossed = [p for p in probes if p.rename is not None and p.report.kinks]
    if not crossed or len(crossed) < len(probes):
        return None
    return (
        "nothing was certified: every direction crossed a kink (a ReLU corner at this "
        "point); check the full Jacobian (full=True) or a point away from the corner"
    )


def assemble(
    problem: Problem,
    probes: list[Part],
    rows: list[Part],
    analytic: np.ndarray | None,
    *,
    extra: Iterable[Diagnosis] = (),
    passed: bool = True,
) -> GradientReport:
    """Return the report of a Jacobian check from its probes and rows.

    `extra` diagnoses (asymmetry) come first; `passed` is the caller's own verdict, which
    the gradient checks of the parts can only make stricter. With rows, a probe counts
    only for a wrong value or a diagnosis of its own (the rows certify every entry).
    """
    notes = [counts_note(problem)]
    if rows:
        diagnoses = _matrix_diagnoses(problem, rows, analytic)
        rows_passed = all(p.report.passed for p in rows)
        parts = rows + [p for p in probes if rows_passed and not _superseded(p)]
        mode, notes = "jacobian", notes + [kinks_note(rows)]
    else:
        mode, parts, uncertified = "projections", probes, _uncertified(probes)
        named = probes[0].rename is not None
        diagnoses = direction_diagnoses(problem, probes) if named else probe_diagnoses(probes)
        passed, notes = passed and uncertified is None, notes + [uncertified]
    report = merge(
        parts,
        mode=mode,
        title=problem.names.linear,
        diagnoses=[*extra, *diagnoses],
        n_evaluations=problem.memo.calls,
        passed=passed,
        notes=[note for note in notes if note],
    )
    note = wrong_entries_note(report.failures)
    return dataclasses.replace(report, notes=report.notes + [note]) if note else report
