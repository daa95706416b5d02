"""Planted bugs: a gradient off by a constant factor (2, 1/2, the batch size), found as `scale`."""

import numpy as np
import pytest
from planted_net import B, forward, mse_grad, mse_loss, problem, top

from gradcheck.checking.gradient import check_gradient


def double_derivative_grad(params, x, t, lam=0.0):
    a1, y = forward(params, x)
    dy = 2 * (y - t) / len(x)  # BUG: the loss already has its 0.5, so no factor 2 here
    dz1 = (dy @ params["W2"].T) * (1 - a1**2)
    return {"W1": x.T @ dz1, "b1": dz1.sum(axis=0), "W2": a1.T @ dy, "b2": dy.sum(axis=0)}


def loss_without_half(params, x, t, reg=0.0):
    _, y = forward(params, x)
    return np.sum((y - t) ** 2) / len(x)  # BUG: mse_grad assumes 0.5*||y - t||^2


def cost_is_a_sum_grad(params, x, t, lam=0.0):
    a1, y = forward(params, x)
    dy = y - t  # BUG: the loss is a mean over the batch; this gradient is its sum
    dz1 = (dy @ params["W2"].T) * (1 - a1**2)
    return {"W1": x.T @ dz1, "b1": dz1.sum(axis=0), "W2": a1.T @ dy, "b2": dy.sum(axis=0)}


# id -> (grad, loss, expected factor, expected evidence["matched"])
CASES = {
    "factor_2_in_the_derivative": (double_derivative_grad, mse_loss, 2.0, "2"),
    "loss_without_its_half": (mse_grad, loss_without_half, 0.5, "1/2"),
    "cost_is_a_sum": (cost_is_a_sum_grad, mse_loss, float(B), "batch_size"),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_scaled_gradient_is_diagnosed_with_its_factor(case):
    grad, loss, factor, matched = case
    report = check_gradient(*problem(grad, loss=loss), batch_size=B)
    assert report.passed is False
    diagnosis = top(report)
    assert (diagnosis.kind, diagnosis.path) == ("scale", None)
    assert diagnosis.evidence["factor"] == pytest.approx(factor, rel=1e-6)
    assert diagnosis.evidence["matched"] == matched
    assert set(diagnosis.evidence["paths"]) == {"W1", "b1", "W2", "b2"}


def test_scale_healthy_twin_passes_with_the_batch_size_given():
    report = check_gradient(*problem(mse_grad), batch_size=B)
    assert report.passed is True
    assert report.diagnoses == []
