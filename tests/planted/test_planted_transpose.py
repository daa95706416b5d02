"""Planted bug: the square first-layer weight gets its gradient transposed, found as `transpose`."""

import numpy as np
from planted_net import D, H, forward, mse_grad, problem, top

from gradcheck.checking.gradient import check_gradient


def transposed_dw1_grad(params, x, t, lam=0.0):
    a1, y = forward(params, x)
    dy = (y - t) / len(x)
    dz1 = (dy @ params["W2"].T) * (1 - a1**2)
    dW1 = dz1.T @ x  # BUG: W1 is used as x @ W1, so dW1 = x.T @ dz1; D == H hides the shape
    return {"W1": dW1, "b1": dz1.sum(axis=0), "W2": a1.T @ dy, "b2": dy.sum(axis=0)}


def test_transposed_weight_gradient_is_diagnosed():
    assert D == H
    report = check_gradient(*problem(transposed_dw1_grad))
    assert report.passed is False
    diagnosis = top(report)
    assert (diagnosis.kind, diagnosis.path) == ("transpose", "W1")
    assert {failure.path for failure in report.failures} == {"W1"}
    # the diagonal of a transpose is right: only off-diagonal entries fail
    assert all(failure.index[0] != failure.index[1] for failure in report.failures)
    assert all(i != j for i, j in diagnosis.evidence["indices"])
    assert np.isfinite(diagnosis.confidence) and diagnosis.confidence > 0.9


def test_transpose_healthy_twin_passes():
    report = check_gradient(*problem(mse_grad))
    assert report.passed is True
    assert report.diagnoses == []
