"""Planted bug: a gradient that is never written (left at zeros), found as `zero`."""

import numpy as np
from planted_net import forward, mse_grad, problem, top

from gradcheck.checking.gradient import check_gradient


def forgotten_bias_grad(params, x, t, lam=0.0):
    grads = {name: np.zeros_like(value) for name, value in params.items()}
    a1, y = forward(params, x)
    dy = (y - t) / len(x)
    grads["W2"] = a1.T @ dy
    grads["b2"] = dy.sum(axis=0)
    dz1 = (dy @ params["W2"].T) * (1 - a1**2)
    grads["W1"] = x.T @ dz1
    # BUG: grads["b1"] = dz1.sum(axis=0) was forgotten: it stays at its zeros
    return grads


def test_forgotten_gradient_is_diagnosed_as_zero():
    report = check_gradient(*problem(forgotten_bias_grad))
    assert report.passed is False
    diagnosis = top(report)
    assert (diagnosis.kind, diagnosis.path) == ("zero", "b1")
    assert diagnosis.evidence["pattern"] == "all entries"
    assert {failure.path for failure in report.failures} == {"b1"}
    assert all(failure.analytic == 0 for failure in report.failures)


def test_zero_healthy_twin_passes():
    report = check_gradient(*problem(mse_grad))
    assert report.passed is True
    assert report.diagnoses == []
