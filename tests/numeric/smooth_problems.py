"""Smooth float64 functions with exact gradients: the tolerance/actual-error benchmark set.

Each row is ``name -> (loss, exact_grad, point)``. They include the cases where a fixed
step misjudges the error (issue 10, item 6): large terms that cancel, ``1 - cos x`` at
``x ~ 1e-4``, a parameter that enters multiplied by 1e3. :func:`tolerance_ratio` runs the
checker's own sweep and returns ``max allowed / max |numeric - exact|`` over the entries.
"""

from __future__ import annotations

import numpy as np

_RNG = np.random.default_rng(1234)
_A = _RNG.normal(size=(12, 12))
_Q = _A @ _A.T / 12 + np.eye(12)
_X = _RNG.normal(size=(16, 6))
_Y = _RNG.normal(size=16)
_BIG = 3.0e7


def _mlp_loss(w):
    h = np.tanh(_X @ w[:6].reshape(6, 1) * w[6:12].reshape(1, 6)).sum(axis=1)
    return float(np.mean((h - _Y) ** 2))


def _mlp_grad(w):
    u = w[:6].reshape(6, 1) * w[6:12].reshape(1, 6)
    z = _X @ u
    t = np.tanh(z)
    r = t.sum(axis=1) - _Y
    dz = (2 * r / len(_Y))[:, None] * (1 - t**2)
    du = _X.T @ dz
    return np.concatenate(
        [(du * w[6:12].reshape(1, 6)).sum(axis=1), (du * w[:6].reshape(6, 1)).sum(axis=0)]
    )


def _p(seed, n, scale=1.0, shift=0.0):
    return shift + scale * np.random.default_rng(seed).normal(size=n)


PROBLEMS = {
    "sin": (lambda x: float(np.sum(np.sin(x))), np.cos, _p(1, 20)),
    "one_minus_cos_1e-4": (lambda x: float(np.sum(1 - np.cos(x))), np.sin, _p(2, 12, 1e-4)),
    "sin_1e3x": (
        lambda x: float(np.sum(np.sin(1e3 * x))),
        lambda x: 1e3 * np.cos(1e3 * x),
        _p(3, 12),
    ),
    "cancelling_terms": (
        lambda x: float(_BIG + np.sum(x**3) - _BIG),
        lambda x: 3 * x**2,
        _p(4, 12),
    ),
    "quadratic_form": (lambda x: float(x @ _Q @ x), lambda x: 2 * _Q @ x, _p(5, 12)),
    "logsumexp": (
        lambda x: float(np.log(np.sum(np.exp(x)))),
        lambda x: np.exp(x) / np.sum(np.exp(x)),
        _p(6, 16, 2.0),
    ),
    "rosenbrock": (
        lambda x: float(np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)),
        lambda x: (
            np.concatenate([[0.0], 200 * (x[1:] - x[:-1] ** 2)])
            + np.concatenate([-400 * x[:-1] * (x[1:] - x[:-1] ** 2) - 2 * (1 - x[:-1]), [0.0]])
        ),
        _p(7, 10, 0.5, 1.0),
    ),
    "log1p_square": (
        lambda x: float(np.sum(np.log1p(x**2))),
        lambda x: 2 * x / (1 + x**2),
        _p(8, 14, 3.0),
    ),
    "large_entries_sqrt": (
        lambda x: float(np.sum(np.sqrt(x))),
        lambda x: 0.5 / np.sqrt(x),
        1e3 + _p(9, 10, 100.0),
    ),
    "exp_of_sum": (
        lambda x: float(np.exp(np.sum(x))),
        lambda x: np.exp(np.sum(x)) * np.ones_like(x),
        _p(10, 8, 0.2),
    ),
    "tanh_net": (_mlp_loss, _mlp_grad, _p(11, 12)),
    "cubic_small_loss": (lambda x: float(np.sum(x**3)) * 1e-9, lambda x: 3e-9 * x**2, _p(12, 10)),
}


def tolerance_ratio(loss, grad, point, **kwargs) -> tuple[float, bool]:
    """Return ``max allowed / max |numeric - exact|`` of the checker on a correct gradient.

    The ratio says how pessimistic the tolerance is: 1 means it is exactly the error the
    finite differences really made (on the worst entry), 100 that a bug a hundred times
    smaller than the tolerance would pass. Also returns the report's ``passed``.
    """
    from gradcheck.checking.gradient import _sweep, _validate_check_gradient
    from gradcheck.checking.gradient_preflight import prepare

    args = _validate_check_gradient(
        loss,
        grad,
        point,
        method=kwargs.get("method"),
        rtol=None,
        atol=None,
        eps=None,
        sample=None,
        directions=None,
        seed=0,
        batch_size=None,
        progress=False,
    )
    setup = prepare(args)
    result = next(iter(_sweep(args, setup).values()))
    exact = np.asarray(grad(point), dtype=float).reshape(-1)[result.indices]
    smooth = ~result.kink
    actual = np.max(np.abs(result.numeric - exact)[smooth])
    allowed = np.max(result.allowed[smooth])
    return float(allowed / max(actual, 1e-300)), bool(
        np.all(np.abs(result.numeric - exact)[smooth] <= result.allowed[smooth])
    )
