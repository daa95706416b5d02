"""Differences of a layer's forward pass: the probes of the layer diagnoses, on the one engine.

The layer diagnoses and the batch-independence check ask questions of a forward
``f(x) -> y`` rather than of a scalar loss: which outputs move when one input moves, what
the local derivative of an elementwise layer is, what a column of the Jacobian is. They
use the checker's step rule (:func:`gradcheck.numeric.steps.entry_steps`, central
differences, order 2), its kink rule (:func:`gradcheck.numeric.estimates.kink_mask`) and
its rounding model (:func:`gradcheck.numeric.estimates.rounding_bound`), so a change to the
numerics reaches every probe.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from gradcheck.numeric import estimates as est
from gradcheck.numeric.steps import base_step, dtype_eps, entry_steps

Forward = Callable[[np.ndarray], np.ndarray]
#: Norm of the coefficients of ``D+(h/2) - D-(h/2) - (D+(h) - D-(h)) / 2`` in units of 1/h.
_KINK_COEFF = float(np.sqrt(2 * 2.0**2 + 3.0**2 + 2 * 0.5**2))


class Derivative(NamedTuple):
    """A derivative estimate per entry, what it may be off by, and where a kink spoils it."""

    value: np.ndarray  # central difference at h/2; NaN at a kink
    error: np.ndarray  # measured truncation plus the rounding allowance
    kink: np.ndarray  # one-sided differences that fail to converge: a corner


def working_eps(*dtypes) -> float:
    """Return the epsilon a layer computes with: float32 at best for float16, else its own."""
    return dtype_eps(np.result_type(*dtypes, np.float32))


def probe_steps(x: np.ndarray, dtype) -> np.ndarray:
    """Return the checker's central-difference step for every entry of `x` computed in `dtype`."""
    base = base_step(np.result_type(dtype, np.float32), 2)
    return entry_steps(np.asarray(x, dtype=np.float64), 2, eps=base)


def _evaluate(forward: Forward, x: np.ndarray) -> np.ndarray:
    return np.asarray(forward(x.copy()), dtype=np.float64)


def simultaneous_derivative(forward: Forward, x: np.ndarray) -> Derivative:
    """Estimate ``f'(x)`` of an elementwise `forward`, every entry at once.

    Each entry moves by its own step in the same call: valid because output k depends on
    input k only. Central differences at h and h/2 give the value and the measured
    truncation; one-sided differences that fail to halve mark kinks, as in the checker.

    Examples
    --------
    >>> import numpy as np
    >>> d = simultaneous_derivative(np.tanh, np.array([[0.0, 1.0]]))
    >>> bool(np.allclose(d.value, 1 - np.tanh([[0.0, 1.0]]) ** 2, atol=1e-9))
    True
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(forward(x.copy()))
    mid = y.astype(np.float64)
    eps = working_eps(y.dtype)
    h = probe_steps(x, y.dtype)
    coarse, gap = _central(forward, x, mid, h)
    fine, gap_fine = _central(forward, x, mid, h / 2)
    sigma = eps * np.maximum(np.abs(mid), h * np.abs(fine))
    noise = est.rounding_bound(sigma, _KINK_COEFF / h)
    one_sided = np.abs(fine) + est.KINK_SCREEN
    kink = (np.abs(gap) > est.KINK_SCREEN * one_sided) & est.kink_mask(gap, gap_fine, noise)
    error = est.allowed_error(est.truncation(coarse, fine, 2), est.rounding_bound(sigma, 1.0 / h))
    return Derivative(np.where(kink, np.nan, fine), error, kink)


def _central(forward: Forward, x, mid, h) -> tuple[np.ndarray, np.ndarray]:
    """Return the central difference and the one-sided gap ``D+ - D-`` at steps `h`."""
    up, down = _evaluate(forward, x + h), _evaluate(forward, x - h)
    return (up - down) / (2 * h), ((up - mid) - (mid - down)) / h


def jacobian_columns(forward: Forward, x: np.ndarray, flat: np.ndarray) -> np.ndarray:
    """Return ``d forward(x) / d x[flat[k]]`` for each k: one Jacobian column per row.

    Central differences with the checker's step; 2 forward calls per column.

    Examples
    --------
    >>> import numpy as np
    >>> cols = jacobian_columns(lambda x: x - x.mean(axis=0), np.ones((2, 1)), np.arange(2))
    >>> np.round(cols.reshape(2, 2), 6).tolist()
    [[0.5, -0.5], [-0.5, 0.5]]
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(forward(x.copy()))
    h = probe_steps(x, y.dtype).reshape(-1)
    columns = np.empty((len(flat), y.size))
    for row, index in enumerate(np.asarray(flat).tolist()):
        bump = np.zeros(x.size)
        bump[index] = h[index]
        bump = bump.reshape(x.shape)
        up, down = _evaluate(forward, x + bump), _evaluate(forward, x - bump)
        columns[row] = ((up - down) / (2 * h[index])).reshape(-1)
    return columns


def moved_beyond_rounding(new: np.ndarray, old: np.ndarray, eps: float) -> np.ndarray:
    """Return where `new` differs from `old` by more than their rounding can explain.

    Examples
    --------
    >>> import numpy as np
    >>> moved_beyond_rounding(np.array([1.0, 1.0 + 1e-15, 1.1]), np.ones(3), 2.2e-16).tolist()
    [False, False, True]
    """
    new, old = np.asarray(new, dtype=np.float64), np.asarray(old, dtype=np.float64)
    scale = np.maximum(np.abs(new), np.abs(old))
    floor = est.rounding_bound(eps * np.max(scale, initial=0.0), np.sqrt(2.0))
    allowed = est.allowed_error(est.rounding_bound(eps * scale, np.sqrt(2.0)), floor)
    with np.errstate(invalid="ignore"):
        return ~(np.abs(new - old) <= allowed)


def leaked(values: np.ndarray, own_scale: float, eps: float) -> np.ndarray:
    """Return where `values`, which should be exactly zero, exceed the rounding of `own_scale`.

    A per-sample backward computes sample j's gradient without sample i's numbers; what a
    sum over the batch that cancels leaves behind is a few ulps of the gradients' scale
    (the checker's allowance for analytic rounding).
    """
    values = np.abs(np.asarray(values, dtype=np.float64))
    allowed = est.allowed_error(est.analytic_rounding(values, eps, own_scale))
    with np.errstate(invalid="ignore"):
        return ~(values <= allowed)


def agreement(model: np.ndarray, eps: float, scale: float, terms: int = 1) -> np.ndarray:
    """Return how far a computed array may sit from an exact `model` of it, per entry.

    The checker's allowance for the rounding of an analytic gradient
    (:func:`gradcheck.numeric.estimates.analytic_rounding`), for results that are sums of
    `terms` products of the size of `scale`.
    """
    rounding = est.analytic_rounding(model, eps * max(1, int(terms)), scale)
    return est.allowed_error(rounding)


def row_diagonal(forward: Forward, x: np.ndarray) -> Derivative:
    """Return the diagonal ``dy[:, k] / dx[:, k]`` of a row-wise `forward` (rows independent).

    Column k of every row moves at once (2 forward calls per column, at steps h and h/2).
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(forward(x.copy()))
    mid, h = y.astype(np.float64), probe_steps(x, y.dtype)
    coarse, fine = np.empty_like(x), np.empty_like(x)
    for k in range(x.shape[1]):
        for out, scale in ((coarse, 1.0), (fine, 0.5)):
            step = np.zeros_like(x)
            step[:, k] = scale * h[:, k]
            up, down = _evaluate(forward, x + step), _evaluate(forward, x - step)
            out[:, k] = (up[:, k] - down[:, k]) / (2 * step[:, k])
    sigma = working_eps(y.dtype) * np.max(np.abs(mid), axis=1, keepdims=True)
    error = est.allowed_error(est.truncation(coarse, fine, 2), est.rounding_bound(sigma, 1.0 / h))
    return Derivative(fine, error, np.zeros(x.shape, dtype=bool))


def directional(
    forward: Forward, x: np.ndarray, g: np.ndarray, signs: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Differentiate ``<g, forward(x)>`` along each row of `signs` (±1 per entry, scaled by steps).

    Returns the central differences (per unit of the scaled direction), their rounding
    allowance and the scaled directions ``d`` themselves (so that ``<dx, d>`` is the
    analytic value to compare with).
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(forward(x.copy()))
    h = probe_steps(x, y.dtype)
    eps = working_eps(y.dtype)
    values, noise, moves = [], [], []
    for sign in signs:
        d = h * sign
        up, down = _evaluate(forward, x + d), _evaluate(forward, x - d)
        values.append(float(np.sum(g * (up - down))) / 2.0)
        terms = float(np.sum(np.abs(g * up)) + np.sum(np.abs(g * down)))
        noise.append(float(est.allowed_error(est.rounding_bound(eps * terms, 1.0))))
        moves.append(d)
    return np.array(values), np.array(noise), np.array(moves)
