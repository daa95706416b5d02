"""From the sweep's arrays to a report: per-entry verdicts, the three outcomes, the floor.

An entry is certified when its discrepancy is inside the error model, failed when it is
outside, and not certified when it is a kink or every step left the loss's domain. A
parameter is **failed** when an entry failed (or its gradient changes between calls),
**inconclusive** when the numbers cannot decide (the analytic derivative at a kink is not
between the one-sided ones, a probe left the domain at every step, or most entries cannot
be checked to ``CERTIFY_LIMIT``), and **passed** otherwise. Its *detection floor* is the
smallest relative error in one entry that the check would have caught.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, NamedTuple

import numpy as np

from gradcheck.checking.gradient_reasons import CERTIFY_LIMIT, Facts, inconclusive_items
from gradcheck.checking.gradient_results import (
    REL_FLOOR,
    Failure,
    GradientReport,
    ParamSummary,
)
from gradcheck.diagnose.arrays import diagnose
from gradcheck.errors import at_path
from gradcheck.numeric import estimates as est
from gradcheck.numeric.sweep import LeafResult

MAX_SCATTER = 200
_TINY = 1e-300
#: Path -> the scale ``G`` of a larger object the checked gradient is part of (a
#: Jacobian's row is judged against the Jacobian's largest derivative): see :func:`part_of`.
_OUTER_SCALES: ContextVar[dict | None] = ContextVar("outer_scales", default=None)


@contextmanager
def part_of(scales: dict[str, float]) -> Iterator[None]:
    """Judge the entries of the checks run inside against `scales` (path -> ``G``).

    A gradient checked as one row of a Jacobian is measured, like an entry of a
    parameter, against the largest derivative of the whole (``max(G_row, scales[path])``):
    its relative errors, its detection floor and whether it is too coarse to certify.
    The error model (what fails) does not change.

    Examples
    --------
    >>> import numpy as np
    >>> from gradcheck import check_gradient
    >>> with part_of({"": 1.0}):
    ...     report = check_gradient(lambda x: float(np.tanh(3e-194 * x[0] + 0.5)),
    ...                             lambda x: 3e-194 * (1 - np.tanh(0.5) ** 2) * np.ones(1),
    ...                             np.zeros(1))
    >>> report.status
    'passed'
    """
    token = _OUTER_SCALES.set(dict(scales))
    try:
        yield
    finally:
        _OUTER_SCALES.reset(token)


class _Verdict(NamedTuple):
    error: np.ndarray
    allowed: np.ndarray
    failed: np.ndarray
    decided: np.ndarray  # neither a kink nor out of the domain


def _judge_entries(result: LeafResult, rtol: float | None, atol: float | None) -> _Verdict:
    a, n = result.analytic, result.numeric
    with np.errstate(invalid="ignore"):
        error = np.abs(a - n)
    allowed = result.allowed
    if rtol is not None or atol is not None:
        allowed = (atol or 0.0) + (rtol or 0.0) * np.maximum(np.abs(a), np.abs(n))
    decided = ~result.kink & ~_undecided(result)
    failed = (~(error <= allowed) | ~np.isfinite(a)) & decided  # inf <= inf is no pass
    return _Verdict(error, np.broadcast_to(allowed, error.shape), failed, decided)


def _undecided(result: LeafResult) -> np.ndarray:
    if result.undecided is None:
        return np.zeros(result.indices.shape, dtype=bool)
    return result.undecided


def _denominators(result: LeafResult, scale: float) -> np.ndarray:
    a, n = np.abs(result.analytic), np.abs(np.nan_to_num(result.numeric))
    return np.maximum(np.maximum(a, n), max(REL_FLOOR * scale, _TINY))


def _param_scale(path: str, analytic: np.ndarray, result: LeafResult) -> float:
    """Return the parameter's largest finite derivative (analytic or numeric).

    Inside :func:`part_of`, at least the scale of the whole the gradient is part of.
    """
    values = np.concatenate([np.ravel(analytic), result.numeric])
    own = float(np.max(np.abs(values[np.isfinite(values)]), initial=0.0))
    return max(own, float((_OUTER_SCALES.get() or {}).get(path, 0.0)))


class _Measures(NamedTuple):
    max_rel: float
    floor: float
    coarse: int  # decided entries the loss cannot resolve to CERTIFY_LIMIT
    decided: int  # entries certified or coarse (kinks included)


def _nanmax(values: np.ndarray, where: np.ndarray) -> float:
    return float(np.max(values[where])) if where.any() else float("nan")


def _measures(result: LeafResult, verdict: _Verdict, scale: float, ctx) -> _Measures:
    """Per-entry relative error (worst), detection floor and how many entries are coarse.

    An entry is coarse when the loss's part of its allowed error (not the analytic's own
    rounding: its dtype's limit is no reason to doubt the loss) exceeds CERTIFY_LIMIT.
    """
    decided = verdict.decided
    own = est.SAFETY * est.analytic_rounding(
        result.analytic, ctx.eps_analytic, max(ctx.param_scale, scale), ctx.tiny_analytic
    )
    loss_part = np.maximum(verdict.allowed - own, 0.0)
    n = int(decided.sum() + result.kink.sum())  # kinks are certified as subgradients
    if scale == 0.0:  # an all-zero gradient: judged against the tree's (or the loss's) scale
        unit = REL_FLOOR * (ctx.gradient_scale or abs(ctx.f0))
        if unit == 0.0:
            return _Measures(0.0, float("nan"), 0, n)
        coarse = int(np.sum(decided & (loss_part / unit > CERTIFY_LIMIT)))
        return _Measures(0.0, _nanmax(verdict.allowed / unit, decided), coarse, n)
    if result.indices.size:
        denom = _denominators(result, scale)
        coarse = int(np.sum(decided & (loss_part / denom > CERTIFY_LIMIT)))
        worst = _nanmax(verdict.error / denom, decided)
        return _Measures(worst, _nanmax(verdict.allowed / denom, decided), coarse, n)
    probes = [p for p in result.probes if np.isfinite(p.discrepancy)]
    if not probes:
        return _Measures(float("nan"), float("nan"), 0, 0)
    unit = max(REL_FLOOR * scale, _TINY)
    worst = max(abs(p.discrepancy) / max(abs(p.numeric), abs(p.analytic), unit) for p in probes)
    floor = float(min(p.allowed for p in probes) / unit)
    return _Measures(float(worst), floor, int(floor > CERTIFY_LIMIT), 1)


def _failures(path: str, shape: tuple, result: LeafResult, verdict: _Verdict) -> list[Failure]:
    rows = np.flatnonzero(verdict.failed)
    return [
        Failure(
            path=path,
            index=tuple(int(i) for i in np.unravel_index(result.indices[r], shape)),
            analytic=float(result.analytic[r]),
            numeric=float(result.numeric[r]),
            error=float(verdict.error[r]),
            tolerance=float(verdict.allowed[r]),
            ratio=float(verdict.error[r] / max(verdict.allowed[r], _TINY)),
        )
        for r in rows
    ]


def _scatter(result: LeafResult, verdict: _Verdict) -> dict:
    order = np.argsort(~verdict.failed, kind="stable")[:MAX_SCATTER]
    return {"analytic": result.analytic[order].tolist(), "numeric": result.numeric[order].tolist()}


def _full_arrays(setup, results: dict, verdicts: dict) -> tuple[dict, dict, dict]:
    numeric, checked, failed = {}, {}, {}
    for path, result in results.items():
        shape = setup.analytic[path].shape
        numeric[path] = np.full(shape, np.nan)
        checked[path] = np.zeros(shape, dtype=bool)
        failed[path] = np.zeros(shape, dtype=bool)
        numeric[path].reshape(-1)[result.indices] = result.numeric
        checked[path].reshape(-1)[result.indices] = verdicts[path].decided
        failed[path].reshape(-1)[result.indices] = verdicts[path].failed
    return numeric, checked, failed


def _diagnoses(args, setup, results: dict, verdicts: dict) -> list:
    if not any(v.failed.any() for v in verdicts.values()):
        return list(setup.accumulation)
    numeric, checked, failed = _full_arrays(setup, results, verdicts)
    params = {path: np.real(leaf).astype(float) for path, leaf in setup.copy.leaves.items()}
    found = diagnose(
        setup.analytic,
        numeric,
        params,
        checked=checked,
        failed=failed,
        batch_size=args.batch_size,
    )
    return list(setup.accumulation) + list(found)


def _mode(args) -> str:
    if args.directions is not None:
        return "directional"
    return "sample" if args.sample is not None else "full"


def _facts(args, setup, result: LeafResult, verdict: _Verdict, m: _Measures, scale: float):
    """Return what the reasons of an inconclusive parameter are worded from."""
    undecided = _undecided(result)
    allowed = [p.allowed for p in result.probes if np.isfinite(p.allowed)]
    if result.indices.size:
        allowed = np.asarray(verdict.allowed)[verdict.decided]
    ctx = setup.ctx
    return Facts(
        out=int((undecided & ~result.kink).sum()),
        out_of_domain=bool(result.out_of_domain),
        kinks=int(result.kink.sum()),
        off=int((result.kink & undecided).sum()),
        coarse=m.coarse,
        decided=m.decided,
        floor=m.floor,
        model=args.rtol is None and args.atol is None,
        precision=setup.precision,
        sigma=float(ctx.sigma),
        eps_eval=float(ctx.eps_eval),
        f0=float(ctx.f0),
        scale=scale,
        resolution=float(np.min(allowed, initial=np.inf)),
    )


def _status(failed: bool, items: list) -> str:
    if failed:
        return "failed"
    return "inconclusive" if items else "passed"


def _param(args, setup, path: str, result: LeafResult, verdict: _Verdict):
    """Return the summary and the inconclusive items of one parameter."""
    shape = setup.analytic[path].shape
    scale = _param_scale(path, setup.analytic[path], result)
    measures = _measures(result, verdict, scale, setup.ctx)
    items = inconclusive_items(path, _facts(args, setup, result, verdict, measures, scale))
    accumulating = any(d.path == path for d in setup.accumulation)
    unresolved = result.directional_failed and not verdict.failed.any()
    failed = bool(verdict.failed.any()) or unresolved or accumulating
    status = _status(failed, items)
    checked = result.indices.size if args.directions is None else int(np.prod(shape))
    summary = ParamSummary(
        path,
        shape,
        status == "passed",
        measures.max_rel,
        checked,
        int(verdict.failed.sum()),
        status=status,
        detection_floor=measures.floor,
    )
    return summary, items, unresolved


def build_report(args, setup, results: dict) -> GradientReport:
    """Turn the sweep's arrays into verdicts, failures, summaries and diagnoses.

    Non-finite analytic entries (inf/inf, inf - inf) are failures, not warnings.
    """
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        return _build_report(args, setup, results)


def _build_report(args, setup, results: dict) -> GradientReport:
    verdicts = {path: _judge_entries(r, args.rtol, args.atol) for path, r in results.items()}
    notes = list(setup.notes)
    summaries, failures, kinks, scatter, inconclusive = {}, [], [], {}, []
    for path, result in results.items():
        shape, verdict = setup.analytic[path].shape, verdicts[path]
        failures += _failures(path, shape, result, verdict)
        summaries[path], items, unresolved = _param(args, setup, path, result, verdict)
        inconclusive += items
        if unresolved:
            notes.append(
                f"a directional check of {at_path(path)} failed, but no single entry "
                "could be confirmed wrong: run a full check of this parameter"
            )
        kinks += [
            (path, tuple(int(i) for i in np.unravel_index(k, shape)))
            for k in result.indices[result.kink]
        ]
        scatter[path] = _scatter(result, verdict)
    failures.sort(key=lambda f: -f.ratio if np.isfinite(f.ratio) else -np.inf)
    passed = all(s.status == "passed" for s in summaries.values()) and not setup.accumulation
    rels = [s.max_rel_error for s in summaries.values() if s.max_rel_error == s.max_rel_error]
    return GradientReport(
        passed=passed,
        max_rel_error=max(rels, default=float("nan")),
        n_evaluations=setup.n_evaluations,
        failures=failures,
        params=summaries,
        kinks=kinks,
        diagnoses=_diagnoses(args, setup, results, verdicts),
        method=args.method,
        mode=_mode(args),
        dtype=setup.dtype,
        evaluated_dtype=setup.evaluated_dtype,
        notes=notes,
        scatter=scatter,
        inconclusive=inconclusive,
        precision=setup.precision,
        precision_reason=setup.precision_reason,
    )


def describe(report: Any) -> str:
    """Return one line saying what the report certifies (for assertion messages)."""
    if report.status == "inconclusive":
        what = "; ".join(str(item) for item in report.inconclusive)
        return f"the gradient could not be certified: {what}"
    return ""
