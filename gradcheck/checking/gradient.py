"""check_gradient / assert_gradient: validate -> difference -> compare -> diagnose.

The verdict comes from an error model (:mod:`gradcheck.numeric.estimates`), not from a
fixed tolerance: an entry fails when its discrepancy exceeds what truncation and rounding
can explain. Before any verdict the loss is checked for determinism and the gradient for
accumulation; user functions that mutate their inputs are reported by path.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from gradcheck import _validate as v
from gradcheck import tree as tr
from gradcheck._progress import Progress
from gradcheck.checking.gradient_preflight import Setup, prepare, recheck
from gradcheck.checking.gradient_results import GradientReport
from gradcheck.checking.gradient_verdicts import build_report, describe
from gradcheck.checking.parallel import parallel_session
from gradcheck.errors import (
    GradientMismatch,
    InvalidArgumentError,
    InvalidTypeError,
    leaf_of,
)
from gradcheck.numeric.stencils import DEFAULT_METHOD, STENCILS, methods
from gradcheck.numeric.sweep import LeafResult, sample_size, sweep_directions, sweep_entries

#: A step outside this band cannot resolve a derivative in any dtype we evaluate in:
#: below it ``x + eps`` rounds to ``x`` (or leaves the normal range); at and above 1 the
#: difference measures the function over a range as wide as the entry itself.
EPS_BAND = (1e-12, 1.0)
#: A full check of more entries than this announces its cost on stderr before it starts.
ANNOUNCE_ENTRIES = 100_000


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


def _check_eps(eps: Any) -> float | None:
    if eps is None:
        return None
    v.check_positive("eps", eps)
    low, high = EPS_BAND
    if not low <= float(eps) < high:
        raise InvalidArgumentError(
            f"`eps`={eps!r} is out of range: a step must be in [{low:g}, {high:g}) (it is "
            "scaled by max(1, |x|)); smaller steps are lost in rounding, larger ones measure "
            "the loss over a range as wide as the entry. Leave `eps=None` (the step is "
            "chosen per dtype) or pass e.g. eps=1e-6."
        )
    return float(eps)


def _check_method(method: Any, directions: int | None) -> str:
    mode = "directional" if directions is not None else "full"
    if method is None:
        return DEFAULT_METHOD[mode]
    v.check_choice("method", method, STENCILS)
    if directions is not None and not STENCILS[method].directions:
        allowed = " or ".join(f"'{name}'" for name in methods(directions=True))
        raise InvalidArgumentError(
            f"`directions` works with method={allowed}; got "
            f"method={method!r}. Drop `directions` or change `method`."
        )
    return method


def _validate_check_gradient(loss, grad, params, **kw: Any) -> CheckArgs:
    """Check every argument of :func:`check_gradient`; return them normalized."""
    v.check_callable("loss", loss, "loss(params)")
    v.check_callable("grad", grad, "grad(params)")
    leaves = _check_params(params)
    for name in ("rtol", "atol"):
        v.check_positive(name, kw[name], strict=False)
    eps = _check_eps(kw["eps"])
    sample = _check_sample(kw["sample"])
    directions = _check_count("directions", kw["directions"])
    if sample is not None and directions is not None:
        raise InvalidArgumentError(
            f"Give `sample` or `directions`, not both (sample={sample!r}, "
            f"directions={directions!r})."
        )
    method = _check_method(kw["method"], directions)
    v.check_type("seed", kw["seed"], (int, np.integer), "an int")
    if kw["seed"] < 0:
        raise InvalidArgumentError(
            f"`seed`={kw['seed']!r} is out of range: numpy seeds must be >= 0; "
            "pass a non-negative int (e.g. seed=0)."
        )
    batch_size = _check_count("batch_size", kw["batch_size"])
    if kw["progress"] is not None:
        v.check_type("progress", kw["progress"], bool, "True, False or None")
    if directions is not None:  # more directions than entries certify nothing more
        directions = min(directions, max(leaf.size for leaf in leaves.values()))
    return CheckArgs(
        loss=loss,
        grad=grad,
        params=params,
        leaves=leaves,
        method=method,
        rtol=kw["rtol"],
        atol=kw["atol"],
        eps=eps,
        sample=sample,
        directions=directions,
        seed=int(kw["seed"]),
        batch_size=batch_size,
        progress=kw["progress"],
    )


def check_gradient(
    loss: Callable[[Any], float],
    grad: Callable[[Any], Any],
    params: Any,
    *,
    method: str | None = None,
    rtol: float | None = None,
    atol: float | None = None,
    eps: float | None = None,
    sample: int | float | None = None,
    directions: int | None = None,
    seed: int = 0,
    batch_size: int | None = None,
    progress: bool | None = None,
    executor: Any = None,
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
    method : {"central", "forward", "backward", "richardson", "complex"}, optional
        Difference formula; by default "central", and "richardson" with `directions`.
        "richardson" extrapolates central differences at three steps (more accurate, 6
        evaluations per entry); "complex" is the complex step (exact to rounding; the
        loss must accept complex parameters).
    rtol, atol : float, optional
        Override the error model: an entry fails when
        ``|analytic - numeric| > atol + rtol * max(|analytic|, |numeric|)``.
    eps : float, optional
        Step for entries of magnitude <= 1 (scaled by ``|x|`` above), in [1e-12, 1);
        default from the working precision: ``EPS**(1/(order+1))``.
    sample : int or float, optional
        Check this many entries (int) or this fraction (float) of each parameter: the
        largest ``|analytic|`` entries plus a seeded random rest.
    directions : int, optional
        Certify each parameter with this many random signed directions (6 evaluations
        each with the default Richardson) and localize wrong entries by bisection where
        one fails. Capped at the largest parameter's size.
    seed : int
        Seed of the sampling and of the directions.
    batch_size : int, optional
        Lets the diagnosis recognise a scale error of the batch size.
    progress : bool, optional
        Show a progress bar (default: when stderr is a terminal and the check is slow).
    executor : concurrent.futures.Executor or dask.distributed.Client, optional
        Spread the per-entry evaluations over its workers (``pip install
        'gradcheck[dask]'``); the report is identical to the serial one (docs/parallel.md).

    Returns
    -------
    GradientReport
        ``.passed``, ``.status`` ("passed", "failed" or "inconclusive"),
        ``.inconclusive``, ``.failures``, ``.params``, ``.kinks``, ``.diagnoses``...
        ``.passed`` is True only when every checked entry was certified.

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

    The working precision is measured, not assumed (:mod:`gradcheck.numeric.precision`):
    a loss whose values are all exactly float32 computes in float32 (``tensor.item()``),
    a loss whose values are multiples of a quantum is rounded, and the steps and the
    rounding model follow. Each parameter's step is chosen from measured truncation and
    rounding on a few trial entries (:mod:`gradcheck.numeric.adaptive`); near a domain
    edge steps shrink until the loss is finite. An entry that cannot be certified (a
    kink whose one-sided derivatives do not bracket the analytic one, every step out of
    the domain, most entries coarser than 1%) makes its parameter inconclusive:
    ``.passed`` is then False and ``.inconclusive`` says why and what to change.

    Examples
    --------
    >>> import numpy as np
    >>> from gradcheck.checking.gradient import check_gradient
    >>> W = np.arange(6.0).reshape(2, 3)
    >>> report = check_gradient(lambda p: float(np.sum(p["W"] ** 3)),
    ...                         lambda p: {"W": 3 * p["W"] ** 2}, {"W": W})
    >>> report.passed, report.n_evaluations > 12
    (True, True)
    """
    with parallel_session(executor, loss) as loss:
        args = _validate_check_gradient(
            loss,
            grad,
            params,
            method=method,
            rtol=rtol,
            atol=atol,
            eps=eps,
            sample=sample,
            directions=directions,
            seed=seed,
            batch_size=batch_size,
            progress=progress,
        )
        setup = prepare(args)
        results = _sweep(args, setup)
        recheck(args, setup)
        return build_report(args, setup, results)


def assert_gradient(loss: Callable, grad: Callable, params: Any, **kwargs: Any) -> GradientReport:
    """Like :func:`check_gradient`, but raise :class:`GradientMismatch` unless it passed.

    An inconclusive check raises too: its message starts with what could not be
    certified and what to change (e.g. return the loss in float64).

    Examples
    --------
    >>> import numpy as np
    >>> from gradcheck.checking.gradient import assert_gradient
    >>> assert_gradient(lambda p: float(np.sum(p**2)), lambda p: 2 * p, np.ones(2)).passed
    True
    """
    report = check_gradient(loss, grad, params, **kwargs)
    if not report.passed:
        head = describe(report)
        error = GradientMismatch(f"{head}\n{report}" if head else str(report), report)
        error.diagnoses = list(report.diagnoses)
        raise error
    return report


def _estimated_evaluations(args: CheckArgs) -> int:
    per_entry = STENCILS[args.method].evaluations
    if args.directions is not None:
        return per_entry * args.directions * len(args.leaves)
    sizes = [leaf.size for leaf in args.leaves.values()]
    if args.sample is not None:
        sizes = [sample_size(size, args.sample) for size in sizes]
    return per_entry * sum(sizes)


def _announce(args: CheckArgs, setup: Setup, total: int) -> None:
    """Say what a large full check will cost before it starts (stderr, terminal or not)."""
    entries = sum(leaf.size for leaf in args.leaves.values())
    if args.directions is not None or args.sample is not None or entries <= ANNOUNCE_ENTRIES:
        return
    start = time.perf_counter()
    setup.evaluator()
    seconds = (time.perf_counter() - start) * total
    print(
        f"gradcheck: a full check of {entries} entries needs about {total} loss evaluations "
        f"(~{seconds:.0f} s at this loss's speed); pass `sample=` or `directions=` for a "
        "faster check.",
        file=sys.stderr,
        flush=True,
    )


def _sweep(args: CheckArgs, setup: Setup) -> dict[str, LeafResult]:
    rng = np.random.default_rng(args.seed)
    total = _estimated_evaluations(args)
    _announce(args, setup, total)
    per_entry = STENCILS[args.method].evaluations
    with Progress(total, "gradcheck", enabled=args.progress) as bar:
        ctx = setup.ctx._replace(on_entry=lambda: bar.update(per_entry))
        if args.directions is not None:
            return sweep_directions(
                ctx, setup.leaves, setup.analytic, args.directions, rng, args.method
            )
        return sweep_entries(ctx, setup.leaves, setup.analytic, args.method, args.sample, rng)
