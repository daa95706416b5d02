"""check_vjp / check_jvp: multi-output Jacobians, checked as gradients.

A vector-Jacobian product ``vjp(x, g) = J(x)^T g`` is the gradient of the scalar
``<g, f(x)>``; a Jacobian-vector product ``jvp(x, v) = J(x) v`` is the derivative of
``t -> f(x + t v)`` at 0. Both are checked by :func:`gradcheck.check_gradient` (its error
model, kinks and diagnoses): first along a few random projections (cheap, any size), then,
for small Jacobians or ``full=True``, row by row: the whole Jacobian, entry by entry, with
the wrong ``(output, input)`` entries named and diagnosed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from gradcheck import tree as tr
from gradcheck.checking.gradient import check_gradient
from gradcheck.checking.gradient_results import GradientReport
from gradcheck.checking.jacobian_report import assemble
from gradcheck.checking.jacobian_rows import Part, check_rows, input_scales
from gradcheck.checking.jacobian_setup import JVP, VJP, Problem, linear_vector, prepare
from gradcheck.checking.vectors import dot
from gradcheck.errors import GradientMismatch

#: Options of a probe along a direction: the checked parameter is one scalar ``t``.
_SCALAR_DROPS = ("sample", "directions")


def vjp_probes(problem: Problem) -> list[Part]:
    """Check ``vjp(x, g)`` against the gradient of ``<g, f(x)>`` for random ``g``."""
    parts = []
    for _ in range(problem.probes):
        g = problem.outputs.random(problem.rng)
        g_vector = problem.outputs.vector(g)
        linear_vector(problem, problem.linear(tr.copy_tree(problem.x), g), problem.inputs)
        report = check_gradient(
            lambda p, gv=g_vector: np.sum(gv * problem.memo(p)),
            lambda p, g=g: problem.linear(p, g),
            problem.x,
            **problem.options,
        )
        problem.memo.serving = True
        parts.append(Part(report))
    return parts


def vjp_rows(problem: Problem) -> tuple[list[Part], np.ndarray]:
    """Check every row ``vjp(x, e_k)`` of the Jacobian; return the parts and the matrix."""
    outputs, x = problem.outputs, problem.x
    analytic = np.stack(
        [
            linear_vector(
                problem, problem.linear(tr.copy_tree(x), outputs.basis(k)), problem.inputs
            )
            for k in range(outputs.size)
        ]
    )
    rows = check_rows(
        problem.memo,
        x,
        lambda k: lambda p: problem.linear(p, outputs.basis(k)),
        problem.options,
        range(outputs.size),
        input_scales(analytic, problem.inputs),
    )
    return rows, analytic


def _direction(problem: Problem, x_vector: np.ndarray) -> np.ndarray:
    scale = np.maximum(1.0, np.abs(x_vector))
    tangent = problem.inputs.tree(problem.rng.standard_normal(x_vector.size) * scale)
    return problem.inputs.vector(tangent).astype(float)  # as the user's dtype rounds it


def jvp_probes(problem: Problem) -> list[Part]:
    """Check ``<u, jvp(x, v)>`` against the derivative of ``t -> <u, f(x + t v)>``."""
    inputs, outputs, memo = problem.inputs, problem.outputs, problem.memo
    x_vector = inputs.vector(problem.x).astype(float)
    options = {k: v for k, v in problem.options.items() if k not in _SCALAR_DROPS}
    parts = []
    for j in range(problem.probes):
        v_vector = _direction(problem, x_vector)
        v, u = inputs.tree(v_vector), outputs.vector(outputs.random(problem.rng))
        linear_vector(problem, problem.linear(tr.copy_tree(problem.x), v), outputs)
        report = check_gradient(
            lambda t, u=u, v_vector=v_vector: np.sum(
                u * memo(inputs.tree(x_vector + t * v_vector, cast=False))
            ),
            lambda t, u=u, v=v: np.asarray(
                dot(u, outputs.vector(problem.linear(tr.copy_tree(problem.x), v)))
            ),
            np.zeros(()),
            **options,
        )
        memo.serving = True
        parts.append(Part(report, rename=f"direction {j}"))
    return parts


def jvp_rows(problem: Problem) -> tuple[list[Part], np.ndarray]:
    """Check the Jacobian built from ``jvp(x, e_i)`` row by row; return parts and matrix."""
    inputs, x = problem.inputs, problem.x
    columns = [
        linear_vector(problem, problem.linear(tr.copy_tree(x), inputs.basis(i)), problem.outputs)
        for i in range(inputs.size)
    ]
    analytic = np.stack(columns, axis=1)
    rows = check_rows(
        problem.memo,
        x,
        lambda k: lambda p: inputs.tree(analytic[k]),
        problem.options,
        range(problem.outputs.size),
        input_scales(analytic, inputs),
    )
    return rows, analytic


def check_vjp(
    f: Callable[[Any], Any],
    vjp: Callable[[Any, Any], Any],
    x: Any,
    *,
    full: bool | None = None,
    probes: int | None = None,
    method: str | None = None,
    rtol: float | None = None,
    atol: float | None = None,
    eps: float | None = None,
    sample: int | float | None = None,
    directions: int | None = None,
    seed: int = 0,
) -> GradientReport:
    """Check a vector-Jacobian product ``vjp(x, g) = J(x)^T g`` against differences of `f`.

    Parameters
    ----------
    f : callable
        ``f(x) ->`` an array, a number or a tree of them (any number of outputs).
    vjp : callable
        ``vjp(x, g) ->`` a tree like `x`, for ``g`` a tree like ``f(x)``.
    x : ndarray, number, or dict/list/tuple of them
        The point to check at. Never modified.
    full : bool, optional
        Check the whole Jacobian, row by row (one ``vjp`` per output entry). Default: when
        it has at most 2048 entries and 128 rows.
    probes : int, optional
        Random cotangents ``g`` checked first (each: the gradient of ``<g, f(x)>``).
        Default: 3, or 1 when the full Jacobian is checked.
    method, rtol, atol, eps, sample, directions, seed
        As in :func:`gradcheck.check_gradient`, for every row and probe.

    Returns
    -------
    GradientReport
        Like :func:`gradcheck.check_gradient`'s. ``mode`` is "jacobian" (rows) or
        "projections"; a failure's ``path``/``index`` is the input entry and
        ``output_path``/``output_index`` the output entry (None for a projection);
        ``n_evaluations`` counts calls of `f`.

    Notes
    -----
    Row ``k`` of the Jacobian is the gradient of the scalar ``f(x)[k]``; each row is one
    gradient check with its own error model (rounding measured on ``f(x)[k]``, kinks
    reported and never failed), judged against the Jacobian's largest derivative per input
    leaf (a row ~0 next to the rest is not measured on its own scale), and the rows share
    the evaluations of `f`, so the full Jacobian costs about as many evaluations of `f` as
    one gradient check of `x`.
    Diagnoses on the Jacobian: ``sign``, ``scale``, ``zero``, ``transpose`` (``J g``
    returned where ``J^T g`` is needed) and ``missing_cross_terms`` (only the diagonal).

    Examples
    --------
    >>> import numpy as np, gradcheck
    >>> W = np.array([[1.0, 2.0], [3.0, 4.0]])
    >>> report = gradcheck.check_vjp(lambda x: np.tanh(W @ x),
    ...     lambda x, g: W.T @ ((1 - np.tanh(W @ x) ** 2) * g), np.array([0.1, -0.2]))
    >>> report.passed, report.mode
    (True, 'jacobian')
    """
    options = {"method": method, "rtol": rtol, "atol": atol, "eps": eps}
    options.update(sample=sample, directions=directions, seed=seed)
    problem = prepare(VJP, f, vjp, x, full, probes, options)
    parts = vjp_probes(problem)
    rows, analytic = vjp_rows(problem) if problem.full else ([], None)
    return assemble(problem, parts, rows, analytic)


def check_jvp(
    f: Callable[[Any], Any],
    jvp: Callable[[Any, Any], Any],
    x: Any,
    *,
    full: bool | None = None,
    probes: int | None = None,
    method: str | None = None,
    rtol: float | None = None,
    atol: float | None = None,
    eps: float | None = None,
    sample: int | float | None = None,
    directions: int | None = None,
    seed: int = 0,
) -> GradientReport:
    """Check a Jacobian-vector product ``jvp(x, v) = J(x) v`` against differences of `f`.

    Parameters
    ----------
    f : callable
        ``f(x) ->`` an array, a number or a tree of them.
    jvp : callable
        ``jvp(x, v) ->`` a tree like ``f(x)``, for ``v`` a tree like `x`.
    x : ndarray, number, or dict/list/tuple of them
        The point to check at. Never modified.
    full : bool, optional
        Also check the whole Jacobian (one ``jvp`` per input entry, its columns). Default:
        when it has at most 2048 entries and 128 rows.
    probes : int, optional
        Random directions ``v`` (and output weights ``u``) checked first: the derivative
        of ``t -> <u, f(x + t v)>`` at 0 against ``<u, jvp(x, v)>``. Default: 3, or 1
        when the full Jacobian is checked.
    method, rtol, atol, eps, sample, directions, seed
        As in :func:`gradcheck.check_gradient`.

    Returns
    -------
    GradientReport
        As :func:`check_vjp`; without the full Jacobian each probe is a parameter
        named ``"direction j"``.

    Notes
    -----
    A probe differences `f` along ``v``, scaled entry by entry by ``max(1, |x|)`` so that
    the step is as large relative to each entry as a per-entry check's. The columns
    ``jvp(x, e_i)`` form the Jacobian, whose rows are then checked as in
    :func:`check_vjp`.

    Examples
    --------
    >>> import numpy as np, gradcheck
    >>> report = gradcheck.check_jvp(lambda x: np.sin(x) * x[0],
    ...     lambda x, v: np.cos(x) * v * x[0] + np.sin(x) * v[0], np.array([0.5, 1.0]))
    >>> report.passed
    True
    """
    options = {"method": method, "rtol": rtol, "atol": atol, "eps": eps}
    options.update(sample=sample, directions=directions, seed=seed)
    problem = prepare(JVP, f, jvp, x, full, probes, options)
    parts = jvp_probes(problem)
    rows, analytic = jvp_rows(problem) if problem.full else ([], None)
    return assemble(problem, parts, rows, analytic)


def raise_if_failed(report: GradientReport) -> GradientReport:
    """Return `report` if it passed; else raise :class:`GradientMismatch` holding it."""
    if not report.passed:
        error = GradientMismatch(str(report), report)
        error.diagnoses = list(report.diagnoses)
        raise error
    return report


def assert_vjp(f: Callable, vjp: Callable, x: Any, **kwargs: Any) -> GradientReport:
    """Like :func:`check_vjp`, but raise :class:`GradientMismatch` unless it passed.

    Examples
    --------
    >>> import numpy as np, gradcheck
    >>> gradcheck.assert_vjp(np.sin, lambda x, g: np.cos(x) * g, np.ones(3)).passed
    True
    """
    return raise_if_failed(check_vjp(f, vjp, x, **kwargs))


def assert_jvp(f: Callable, jvp: Callable, x: Any, **kwargs: Any) -> GradientReport:
    """Like :func:`check_jvp`, but raise :class:`GradientMismatch` unless it passed.

    Examples
    --------
    >>> import numpy as np, gradcheck
    >>> gradcheck.assert_jvp(np.sin, lambda x, v: np.cos(x) * v, np.ones(3)).passed
    True
    """
    return raise_if_failed(check_jvp(f, jvp, x, **kwargs))


__all__ = ["assert_jvp", "assert_vjp", "check_jvp", "check_vjp"]
