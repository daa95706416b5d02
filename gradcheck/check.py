"""check_gradient / assert_gradient: validate -> difference -> compare -> diagnose.

The verdict comes from an error model (:mod:`gradcheck.numeric.estimates`), not from a
fixed tolerance: an entry fails when its discrepancy exceeds what truncation and rounding
can explain. Before any verdict the loss is checked for determinism and the gradient for
accumulation; user functions that mutate their inputs are reported by path.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from gradcheck import _validate as v
from gradcheck import tree as tr
from gradcheck._progress import Progress
from gradcheck.check_setup import Setup, prepare, recheck
from gradcheck.diagnose import diagnose
from gradcheck.errors import (
    GradientMismatch,
    InvalidArgumentError,
    InvalidTypeError,
    at_path,
    leaf_of,
)
from gradcheck.numeric.stencils import METHODS
from gradcheck.numeric.sweep import LeafResult, sample_size, sweep_directions, sweep_entries
from gradcheck.results import Failure, GradientReport, ParamSummary

MAX_SCATTER = 200
DIRECTION_METHODS = ("central", "richardson")


class CheckArgs(NamedTuple):
    """Normalized arguments of :func:`check_gradient`."""

    loss: Callable
    grad: Callable
    params: Any
    leaves: dict
    method: str
    rtol: float | None
    atol: float | None
    eps: float | None
    sample: int | float | None
    directions: int | None
    seed: int
    batch_size: int | None
    progress: bool | None


def _check_sample(sample: Any) -> int | float | None:
    if sample is None:
        return None
    v.check_type("sample", sample, (int, float, np.integer, np.floating), "an int or a fraction")
    if isinstance(sample, float | np.floating):
        if not 0.0 < sample <= 1.0:
            raise InvalidArgumentError(
                f"`sample`={sample!r} is out of range: a fraction must be in (0, 1]; "
                "give an int for a count of entries per parameter."
            )
        return float(sample)
    if sample < 1:
        raise InvalidArgumentError(
            f"`sample`={sample!r} is out of range: give at least 1 entry per parameter."
        )
    return int(sample)


def _check_count(name: str, value: Any) -> int | None:
    if value is None:
        return None
    v.check_type(name, value, (int, np.integer), "a positive int")
    if value < 1:
        raise InvalidArgumentError(f"`{name}`={value!r} is out of range: it must be >= 1.")
    return int(value)


def _check_params(params: Any) -> dict:
    leaves = tr.leaves(params)
    if not leaves or all(leaf.size == 0 for leaf in leaves.values()):
        raise InvalidArgumentError("`params` has no entries: there is nothing to check.")
    v.check_float_leaves("params", leaves)
    for path, leaf in leaves.items():
        if np.iscomplexobj(leaf):
            raise InvalidTypeError(
                f"{leaf_of('params', path)} is "
                "complex; gradients of complex parameters are not supported. Split it into "
                "real and imaginary parts."
            )
    return leaves


def _validate_check_gradient(loss, grad, params, **kw: Any) -> CheckArgs:
    """Check every argument of :func:`check_gradient`; return them normalized."""
    v.check_callable("loss", loss, "loss(params)")
    v.check_callable("grad", grad, "grad(params)")
    leaves = _check_params(params)
    v.check_choice("method", kw["method"], METHODS)
    for name in ("rtol", "atol"):
        v.check_positive(name, kw[name], strict=False)
    v.check_positive("eps", kw["eps"])
    sample = _check_sample(kw["sample"])
    directions = _check_count("directions", kw["directions"])
    if sample is not None and directions is not None:
        raise InvalidArgumentError(
            f"Give `sample` or `directions`, not both (sample={sample!r}, "
            f"directions={directions!r})."
        )
    if directions is not None and kw["method"] not in DIRECTION_METHODS:
        raise InvalidArgumentError(
            f"`directions` works with method='central' or 'richardson'; got "
            f"method={kw['method']!r}. Drop `directions` or change `method`."
        )
    v.check_type("seed", kw["seed"], (int, np.integer), "an int")
    if kw["seed"] < 0:
        raise InvalidArgumentError(
            f"`seed`={kw['seed']!r} is out of range: numpy seeds must be >= 0; "
            "pass a non-negative int (e.g. seed=0)."
        )
    batch_size = _check_count("batch_size", kw["batch_size"])
    if kw["progress"] is not None:
        v.check_type("progress", kw["progress"], bool, "True, False or None")
    return CheckArgs(
        loss, grad, params, leaves, kw["method"], kw["rtol"], kw["atol"], kw["eps"],
        sample, directions, int(kw["seed"]), batch_size, kw["progress"],
    )  # fmt: skip


def check_gradient(
    loss: Callable[[Any], float],
    grad: Callable[[Any], Any],
    params: Any,
    *,
    method: str = "central",
    rtol: float | None = None,
    atol: float | None = None,
    eps: float | None = None,
    sample: int | float | None = None,
    directions: int | None = None,
    seed: int = 0,
    batch_size: int | None = None,
    progress: bool | None = None,
) -> GradientReport:
    """Compare ``grad(params)`` with finite differences of ``loss``; say where and why it differs.

    Parameters
    ----------
    loss : callable
        ``loss(params) -> float``.
    grad : callable
        ``grad(params) ->`` a tree with the structure and shapes of `params`.
    params : ndarray, number, or dict/list/tuple of them
        The point to check at. Never modified (a private copy is perturbed).
    method : {"central", "forward", "backward", "richardson", "complex"}
        Difference formula. "richardson" extrapolates central differences at three
        steps (more accurate, 6 evaluations per entry); "complex" is the complex step
        (exact to rounding; the loss must accept complex parameters).
    rtol, atol : float, optional
        Override the error model: an entry fails when
        ``|analytic - numeric| > atol + rtol * max(|analytic|, |numeric|)``.
    eps : float, optional
        Step for entries of magnitude <= 1 (scaled by ``|x|`` above); default from the
        dtype: ``EPS**(1/(order+1))``.
    sample : int or float, optional
        Check this many entries (int) or this fraction (float) of each parameter: the
        largest ``|analytic|`` entries plus a seeded random rest.
    directions : int, optional
        Certify each parameter with this many random signed directions (2 evaluations
        each) and localize wrong entries by bisection where one fails.
    seed : int
        Seed of the sampling and of the directions.
    batch_size : int, optional
        Lets the diagnosis recognise a scale error of the batch size.
    progress : bool, optional
        Show a progress bar (default: when stderr is a terminal and the check is slow).

    Returns
    -------
    GradientReport
        ``.passed``, ``.failures``, ``.params``, ``.kinks``, ``.diagnoses``...

    Raises
    ------
    NondeterministicError
        The loss differs between two calls at the same point.
    MutationError
        `loss` or `grad` changed the arrays they were given.
    TreeMismatchError, LossValueError, InvalidArgumentError, InvalidTypeError
        Bad input; the message names the path.

    Notes
    -----
    An entry fails when ``|analytic - numeric| > SAFETY * (truncation + rounding)``:
    the rounding noise of the loss is measured along a line at the start, and entries
    that rounding alone cannot explain are re-differenced at a halved step, which
    measures the truncation error and detects kinks (one-sided derivatives that
    disagree; reported in ``.kinks``, never failures). Rounding follows the terms that
    make up the loss, not ``|loss|`` (they may cancel; Press et al., section 5.7): the
    noise of an evaluation is at least ``eps * |h| * G`` and the analytic gradient may be
    off by a few ulps of ``G``, with ``G`` the parameter's largest ``|analytic|``. See
    :mod:`gradcheck.numeric.estimates`.

    Examples
    --------
    >>> import numpy as np
    >>> from gradcheck.check import check_gradient
    >>> W = np.arange(6.0).reshape(2, 3)
    >>> report = check_gradient(lambda p: float(np.sum(p["W"] ** 3)),
    ...                         lambda p: {"W": 3 * p["W"] ** 2}, {"W": W})
    >>> report.passed, report.n_evaluations > 12
    (True, True)
    """
    args = _validate_check_gradient(
        loss, grad, params, method=method, rtol=rtol, atol=atol, eps=eps, sample=sample,
        directions=directions, seed=seed, batch_size=batch_size, progress=progress,
    )  # fmt: skip
    setup = prepare(args)
    results = _sweep(args, setup)
    recheck(args, setup)
    return build_report(args, setup, results)


def assert_gradient(loss: Callable, grad: Callable, params: Any, **kwargs: Any) -> GradientReport:
    """Like :func:`check_gradient`, but raise :class:`GradientMismatch` when it fails.

    Examples
    --------
    >>> import numpy as np
    >>> from gradcheck.check import assert_gradient
    >>> assert_gradient(lambda p: float(np.sum(p**2)), lambda p: 2 * p, np.ones(2)).passed
    True
    """
    report = check_gradient(loss, grad, params, **kwargs)
    if not report.passed:
        error = GradientMismatch(str(report), report)
        error.diagnoses = list(report.diagnoses)
        raise error
    return report


#: Loss evaluations per entry (or per direction) of each method, for the progress bar.
EVALUATIONS = {"central": 2, "forward": 1, "backward": 1, "richardson": 6, "complex": 1}


def _estimated_evaluations(args: CheckArgs) -> int:
    per_entry = EVALUATIONS
    if args.directions is not None:
        return per_entry[args.method] * args.directions * len(args.leaves)
    sizes = [leaf.size for leaf in args.leaves.values()]
    if args.sample is not None:
        sizes = [sample_size(size, args.sample) for size in sizes]
    return per_entry[args.method] * sum(sizes)


def _sweep(args: CheckArgs, setup: Setup) -> dict[str, LeafResult]:
    rng = np.random.default_rng(args.seed)
    total = _estimated_evaluations(args)
    per_entry = EVALUATIONS[args.method]
    with Progress(total, "gradcheck", enabled=args.progress) as bar:
        ctx = setup.ctx._replace(on_entry=lambda: bar.update(per_entry))
        if args.directions is not None:
            return sweep_directions(
                ctx, setup.leaves, setup.analytic, args.directions, rng, args.method
            )
        return sweep_entries(ctx, setup.leaves, setup.analytic, args.method, args.sample, rng)


class _Verdict(NamedTuple):
    error: np.ndarray
    allowed: np.ndarray
    failed: np.ndarray


def _verdict(result: LeafResult, rtol: float | None, atol: float | None) -> _Verdict:
    a, n = result.analytic, result.numeric
    error = np.abs(a - n)
    allowed = result.allowed
    if rtol is not None or atol is not None:
        allowed = (atol or 0.0) + (rtol or 0.0) * np.maximum(np.abs(a), np.abs(n))
    failed = ~(error <= allowed) & ~result.kink
    return _Verdict(error, np.broadcast_to(allowed, error.shape), failed)


def _max_rel(result: LeafResult, verdict: _Verdict, scale: float) -> float:
    if result.indices.size:
        smooth = verdict.error[~result.kink]
        return float(np.max(smooth, initial=0.0) / scale)
    ratios = [
        abs(p.discrepancy) / max(abs(p.numeric), abs(p.analytic), 1e-300) for p in result.probes
    ]
    return float(max(ratios, default=0.0))


def _failures(path: str, shape: tuple, result: LeafResult, verdict: _Verdict) -> list[Failure]:
    rows = np.flatnonzero(verdict.failed)
    return [
        Failure(
            path, tuple(int(i) for i in np.unravel_index(result.indices[r], shape)),
            float(result.analytic[r]), float(result.numeric[r]), float(verdict.error[r]),
            float(verdict.allowed[r]), float(verdict.error[r] / max(verdict.allowed[r], 1e-300)),
        )
        for r in rows
    ]  # fmt: skip


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
        checked[path].reshape(-1)[result.indices] = ~result.kink
        failed[path].reshape(-1)[result.indices] = verdicts[path].failed
    return numeric, checked, failed


def _diagnoses(args: CheckArgs, setup, results: dict, verdicts: dict) -> list:
    if not any(v.failed.any() for v in verdicts.values()):
        return list(setup.accumulation)
    numeric, checked, failed = _full_arrays(setup, results, verdicts)
    params = {path: np.real(leaf).astype(float) for path, leaf in setup.copy.leaves.items()}
    found = diagnose(
        setup.analytic, numeric, params, checked=checked, failed=failed,
        batch_size=args.batch_size,
    )  # fmt: skip
    return list(setup.accumulation) + list(found)


def _mode(args: CheckArgs) -> str:
    if args.directions is not None:
        return "directional"
    return "sample" if args.sample is not None else "full"


def _scale(setup, results: dict) -> float:
    values = [np.max(np.abs(a), initial=0.0) for a in setup.analytic.values()]
    values += [np.max(np.abs(r.numeric), initial=0.0) for r in results.values()]
    return max(max(values), 1e-300)


def build_report(args: CheckArgs, setup, results: dict) -> GradientReport:
    """Turn the sweep's arrays into verdicts, failures, summaries and diagnoses."""
    verdicts = {path: _verdict(r, args.rtol, args.atol) for path, r in results.items()}
    scale, notes = _scale(setup, results), list(setup.notes)
    summaries, failures, kinks, scatter = {}, [], [], {}
    for path, result in results.items():
        shape, verdict = setup.analytic[path].shape, verdicts[path]
        failures += _failures(path, shape, result, verdict)
        unresolved = result.directional_failed and not verdict.failed.any()
        if unresolved:
            notes.append(
                f"a directional check of {at_path(path)} failed, but no single entry "
                "could be confirmed wrong: run a full check of this parameter"
            )
        checked = result.indices.size if args.directions is None else int(np.prod(shape))
        summaries[path] = ParamSummary(
            path, shape, not (verdict.failed.any() or unresolved),
            _max_rel(result, verdict, scale), checked, int(verdict.failed.sum()),
        )  # fmt: skip
        kinks += [(path, tuple(int(i) for i in np.unravel_index(k, shape)))
                  for k in result.indices[result.kink]]  # fmt: skip
        scatter[path] = _scatter(result, verdict)
    failures.sort(key=lambda f: -f.ratio if np.isfinite(f.ratio) else -np.inf)
    passed = all(s.passed for s in summaries.values()) and not setup.accumulation
    return GradientReport(
        passed, max((s.max_rel_error for s in summaries.values()), default=0.0),
        setup.n_evaluations, failures, summaries, kinks, _diagnoses(args, setup, results, verdicts),
        args.method, _mode(args), setup.dtype, setup.evaluated_dtype, notes, scatter,
    )  # fmt: skip
