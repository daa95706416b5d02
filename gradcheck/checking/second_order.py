"""check_hvp / check_hessian: second derivatives, checked as the Jacobian of the gradient.

A Hessian-vector product ``hvp(params, v) = H v`` is the JVP of ``grad``; an explicit
Hessian is the Jacobian of ``grad``, row by row. Both reuse the Jacobian checks
(:mod:`gradcheck.checking.jacobian`), so the differences are differences of ``grad``,
and the error model is that of ``grad``'s values. Symmetry (``H = H^T``) is a separate
diagnosis, ``asymmetric``, and fails the check: a Hessian is symmetric by definition.

Error model of second differences
---------------------------------
The numeric ``H v`` is ``(grad(p + h v) - grad(p - h v)) / 2h``: its rounding error is
the noise of ``grad`` (not of the loss) divided by ``h``, and its truncation error is
``h^2 |d^3 grad / dt^3| / 6``. The gradient checker measures that noise on the very
scalar it differences (``<u, grad(p + t v)>``, or one entry of ``grad``) and halves the
step to measure truncation, so no tolerance is assumed. Differencing the loss twice
(``(L(p+h) - 2L(p) + L(p-h)) / h^2``) would divide the loss's noise by ``h^2``: with
``h = EPS**(1/4)`` that leaves about ``EPS**(1/2)`` of relative accuracy, against about
``EPS**(2/3)`` here (Press et al., section 5.7). ReLU corners make ``grad``
discontinuous: the one-sided differences disagree and the entry is reported as a kink,
never a failure.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from gradcheck import tree as tr
from gradcheck.checking.gradient_results import GradientReport
from gradcheck.checking.jacobian import jvp_probes, jvp_rows, raise_if_failed
from gradcheck.checking.jacobian_report import assemble
from gradcheck.checking.jacobian_rows import check_rows, input_scales
from gradcheck.checking.jacobian_setup import HESSIAN, HVP, Problem, linear_vector, prepare
from gradcheck.checking.vectors import Layout, dot
from gradcheck.diagnose.arrays import Diagnosis
from gradcheck.errors import TreeMismatchError

#: Random pairs ``(u, v)`` for the symmetry test without the full Hessian.
SYMMETRY_PAIRS = 3
MAX_PAIRS_SHOWN = 5


def symmetry_rtol(inputs: Layout) -> float:
    """Return the relative asymmetry allowed: sqrt of the working precision's epsilon.

    Far above the rounding of a product computed in any order (``n * EPS`` for ``n`` up to
    ``1/sqrt(EPS)`` terms), far below any asymmetry a bug makes.
    """
    dtype = np.result_type(*inputs.dtypes)
    return float(np.sqrt(np.finfo(dtype).eps))


def _asymmetric(problem: Problem, message: str, **evidence: Any) -> Diagnosis:
    text = (
        f"{message} A Hessian is symmetric. When `{problem.names.linear}` agrees with the "
        f"differences of `{problem.names.f}` as well, `{problem.names.f}` itself is not "
        "the gradient of any function: check it with gradcheck.check_gradient."
    )
    return Diagnosis("asymmetric", None, 1.0, text, evidence)


def matrix_asymmetry(problem: Problem, hessian: np.ndarray) -> Diagnosis | None:
    """Return the ``asymmetric`` diagnosis of an explicit Hessian matrix, or None."""
    gap = np.abs(hessian - hessian.T)
    allowed = symmetry_rtol(problem.inputs) * max(np.max(np.abs(hessian)), 1e-300)
    rows, cols = np.nonzero(np.triu(gap > allowed))
    if rows.size == 0:
        return None
    name = problem.inputs.name
    pairs = [
        {
            "row": name(int(i)),
            "column": name(int(j)),
            "H_ij": float(hessian[i, j]),
            "H_ji": float(hessian[j, i]),
        }
        for i, j in zip(rows[:MAX_PAIRS_SHOWN], cols[:MAX_PAIRS_SHOWN], strict=True)
    ]
    shown = ", ".join(
        f"H[{p['row']}, {p['column']}]={p['H_ij']:.4g} vs {p['H_ji']:.4g}" for p in pairs
    )
    message = f"{rows.size} pair(s) of Hessian entries differ from their mirror image: {shown}."
    return _asymmetric(
        problem, message, n_pairs=int(rows.size), pairs=pairs, max_asymmetry=float(np.max(gap))
    )


def probe_asymmetry(problem: Problem) -> Diagnosis | None:
    """Return ``asymmetric`` when ``<u, H v> != <v, H u>`` for random ``u, v``, or None."""
    inputs, x = problem.inputs, problem.x
    for _ in range(SYMMETRY_PAIRS):
        u, v = inputs.random(problem.rng), inputs.random(problem.rng)
        hv = linear_vector(problem, problem.linear(tr.copy_tree(x), v), inputs)
        hu = linear_vector(problem, problem.linear(tr.copy_tree(x), u), inputs)
        uvec, vvec = inputs.vector(u), inputs.vector(v)
        uhv, vhu = dot(uvec, hv), dot(vvec, hu)
        size = np.linalg.norm(uvec) * np.linalg.norm(hv) + np.linalg.norm(vvec) * np.linalg.norm(hu)
        if abs(uhv - vhu) > symmetry_rtol(inputs) * size:
            message = f"For random u, v: <u, H v> = {uhv:.6g} but <v, H u> = {vhu:.6g}."
            return _asymmetric(problem, message, u_Hv=uhv, v_Hu=vhu)
    return None


def _check_like_params(problem: Problem) -> None:
    inputs, outputs, n = problem.inputs, problem.outputs, problem.names
    if inputs.paths != outputs.paths or inputs.shapes != outputs.shapes:
        raise TreeMismatchError(
            f"`{n.f}({n.x})` must be a tree like `{n.x}` (paths {inputs.paths}, shapes "
            f"{inputs.shapes}); got paths {outputs.paths}, shapes {outputs.shapes}."
        )


def check_hvp(
    grad: Callable[[Any], Any],
    hvp: Callable[[Any, Any], Any],
    params: Any,
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
    """Check a Hessian-vector product ``hvp(params, v) = H v`` against differences of `grad`.

    Parameters
    ----------
    grad : callable
        ``grad(params) ->`` a tree like `params` (the gradient of some loss).
    hvp : callable
        ``hvp(params, v) ->`` a tree like `params`, for ``v`` a tree like `params`.
    params : ndarray, number, or dict/list/tuple of them
        The point to check at. Never modified.
    full : bool, optional
        Also build the Hessian from ``hvp(params, e_i)`` and check it entry by entry.
        Default: when it has at most 2048 entries and 128 rows.
    probes, method, rtol, atol, eps, sample, directions, seed
        As in :func:`gradcheck.check_jvp` (`hvp` is the JVP of `grad`).

    Returns
    -------
    GradientReport
        As :func:`gradcheck.check_jvp`; an asymmetric Hessian fails with the diagnosis
        ``asymmetric`` (evidence: the pairs of entries, or ``<u, H v>`` and ``<v, H u>``).

    Notes
    -----
    The differences are differences of `grad`, so the rounding error that the error
    model measures is the noise of `grad`, divided by the step; see
    :mod:`gradcheck.checking.second_order` and ``docs/second-order.md``. Symmetry is
    tested to ``sqrt(EPS)`` of the largest entry (full) or of ``|u| |H v| + |v| |H u|``.

    Examples
    --------
    >>> import numpy as np, gradcheck
    >>> A = np.array([[2.0, 1.0], [1.0, 3.0]])
    >>> report = gradcheck.check_hvp(lambda p: A @ p + np.sin(p),
    ...                              lambda p, v: A @ v + np.cos(p) * v,
    ...                              np.array([0.3, -0.4]))
    >>> report.passed
    True
    """
    options = {"method": method, "rtol": rtol, "atol": atol, "eps": eps}
    options.update(sample=sample, directions=directions, seed=seed)
    problem = prepare(HVP, grad, hvp, params, full, probes, options)
    _check_like_params(problem)
    parts = jvp_probes(problem)
    rows, analytic = jvp_rows(problem) if problem.full else ([], None)
    found = probe_asymmetry(problem) if analytic is None else matrix_asymmetry(problem, analytic)
    extra = [found] if found is not None else []
    return assemble(problem, parts, rows, analytic, extra=extra, passed=found is None)


def hessian_matrix(problem: Problem, value: Any) -> np.ndarray:
    """Return the Hessian the user returned as an ``(n, n)`` matrix, or raise saying why not."""
    n = problem.inputs.size
    matrix = np.asarray(value)
    single = len(problem.inputs.shapes) == 1 and matrix.shape == problem.inputs.shapes[0] * 2
    if matrix.shape != (n, n) and not single:
        raise TreeMismatchError(
            f"`hessian(params)` has shape {matrix.shape}; expected ({n}, {n}) (entries in the "
            "order of the leaves of `params`, each flattened in C order) or, for one array "
            "of shape s, shape s + s."
        )
    if not np.issubdtype(matrix.dtype, np.number) or not np.all(np.isfinite(matrix)):
        raise TreeMismatchError("`hessian(params)` must hold finite numbers.")
    return matrix.reshape(n, n).astype(float)


def check_hessian(
    grad: Callable[[Any], Any],
    hessian: Callable[[Any], Any],
    params: Any,
    *,
    method: str | None = None,
    rtol: float | None = None,
    atol: float | None = None,
    eps: float | None = None,
    sample: int | float | None = None,
    directions: int | None = None,
    seed: int = 0,
) -> GradientReport:
    """Check an explicit Hessian ``hessian(params)`` against differences of `grad`.

    Parameters
    ----------
    grad : callable
        ``grad(params) ->`` a tree like `params`.
    hessian : callable
        ``hessian(params) ->`` an ``(n, n)`` array, ``n`` the number of entries of
        `params` (leaves in path order, each flattened in C order); for a single array of
        shape ``s``, shape ``s + s`` also works.
    params : ndarray, number, or dict/list/tuple of them
        The point to check at. Never modified.
    method, rtol, atol, eps, sample, directions, seed
        As in :func:`gradcheck.check_gradient`, for each row of the Hessian.

    Returns
    -------
    GradientReport
        Failures name the row (``output_path``, ``output_index``) and the column
        (``path``, ``index``) of each wrong entry; an asymmetric Hessian fails with the
        diagnosis ``asymmetric``.

    Notes
    -----
    Row ``k`` is checked as the gradient of ``grad(params)[k]``: see :func:`check_hvp`.

    Examples
    --------
    >>> import numpy as np, gradcheck
    >>> report = gradcheck.check_hessian(lambda p: p**3, lambda p: np.diag(3 * p**2),
    ...                                  np.array([1.0, 2.0]))
    >>> report.passed
    True
    """
    options = {"method": method, "rtol": rtol, "atol": atol, "eps": eps}
    options.update(sample=sample, directions=directions, seed=seed)
    problem = prepare(HESSIAN, grad, hessian, params, True, 0, options)
    _check_like_params(problem)
    matrix = hessian_matrix(problem, problem.linear(tr.copy_tree(params)))
    inputs = problem.inputs
    rows = check_rows(
        problem.memo,
        params,
        lambda k: lambda p: inputs.tree(matrix[k]),
        options,
        range(inputs.size),
        input_scales(matrix, inputs),
    )
    found = matrix_asymmetry(problem, matrix)
    extra = [found] if found is not None else []
    return assemble(problem, [], rows, matrix, extra=extra, passed=found is None)


def assert_hvp(grad: Callable, hvp: Callable, params: Any, **kwargs: Any) -> GradientReport:
    """Like :func:`check_hvp`, but raise :class:`gradcheck.GradientMismatch` unless it passed.

    Examples
    --------
    >>> import numpy as np, gradcheck
    >>> gradcheck.assert_hvp(np.sin, lambda p, v: np.cos(p) * v, np.ones(2)).passed
    True
    """
    return raise_if_failed(check_hvp(grad, hvp, params, **kwargs))


def assert_hessian(grad: Callable, hessian: Callable, params: Any, **kwargs: Any) -> GradientReport:
    """Like :func:`check_hessian`, but raise :class:`gradcheck.GradientMismatch` unless it passed.

    Examples
    --------
    >>> import numpy as np, gradcheck
    >>> gradcheck.assert_hessian(np.sin, lambda p: np.diag(np.cos(p)), np.ones(2)).passed
    True
    """
    return raise_if_failed(check_hessian(grad, hessian, params, **kwargs))
