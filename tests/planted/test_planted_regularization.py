"""Planted bugs: the loss and the gradient disagree on the L2 penalty, found as `regularization`."""

import pytest
from planted_net import forward, mse_grad, problem, top

from gradcheck.checking.gradient import check_gradient

LAM = 0.1


def double_penalty_grad(params, x, t, lam=0.0):
    a1, y = forward(params, x)
    dy = (y - t) / len(x)
    dz1 = (dy @ params["W2"].T) * (1 - a1**2)
    return {
        "W1": x.T @ dz1 + 2 * lam * params["W1"],  # BUG: the loss has 0.5*lam*||W||^2 -> lam*W
        "b1": dz1.sum(axis=0),
        "W2": a1.T @ dy + 2 * lam * params["W2"],  # BUG: same
        "b2": dy.sum(axis=0),
    }


def penalize_everything_grad(params, x, t, lam=0.0):
    grads = mse_grad(params, x, t)
    for name in grads:
        grads[name] += lam * params[name]  # BUG: the loss penalizes W1 and W2, not the biases
    return grads


def test_double_penalty_in_the_gradient_is_diagnosed_with_its_coefficient():
    report = check_gradient(*problem(double_penalty_grad, reg=LAM))
    assert report.passed is False
    diagnosis = top(report)
    assert (diagnosis.kind, diagnosis.path) == ("regularization", None)
    assert set(diagnosis.evidence["paths"]) == {"W1", "W2"}
    assert diagnosis.evidence["coefficient"] == pytest.approx(LAM, rel=1e-6)
    assert diagnosis.evidence["interpretation"] == "gradient_penalty_larger"
    assert "0.5*lam*||W||^2" in diagnosis.message
    assert report.params["b1"].passed and report.params["b2"].passed


def test_bias_regularized_in_the_gradient_only_is_diagnosed():
    report = check_gradient(*problem(penalize_everything_grad, reg=LAM))
    assert report.passed is False
    diagnosis = top(report)
    assert (diagnosis.kind, diagnosis.path) == ("regularization", None)
    assert set(diagnosis.evidence["paths"]) == {"b1", "b2"}
    assert diagnosis.evidence["coefficient"] == pytest.approx(LAM, rel=1e-6)
    assert "bias" in diagnosis.message


def test_regularization_healthy_twin_passes():
    report = check_gradient(*problem(mse_grad, reg=LAM))
    assert report.passed is True
    assert report.diagnoses == []
