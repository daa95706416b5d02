"""Planted bug: a flipped sign in backprop, found as `sign` for the parameters it reaches."""

import numpy as np
from planted_net import forward, mse_grad, problem, top

from gradcheck.checking.gradient import check_gradient

ALL = {"W1", "b1", "W2", "b2"}


def flipped_loss_derivative_grad(params, x, t, lam=0.0):
    a1, y = forward(params, x)
    dy = (t - y) / len(x)  # BUG: d/dy of 0.5*(y - t)^2 is (y - t), not (t - y)
    dz1 = (dy @ params["W2"].T) * (1 - a1**2)
    return {"W1": x.T @ dz1, "b1": dz1.sum(axis=0), "W2": a1.T @ dy, "b2": dy.sum(axis=0)}


def flipped_tanh_derivative_grad(params, x, t, lam=0.0):
    a1, y = forward(params, x)
    dy = (y - t) / len(x)
    dz1 = (dy @ params["W2"].T) * (a1**2 - 1)  # BUG: tanh' = 1 - tanh^2
    return {"W1": x.T @ dz1, "b1": dz1.sum(axis=0), "W2": a1.T @ dy, "b2": dy.sum(axis=0)}


def test_flipped_loss_derivative_is_a_sign_error_of_the_whole_tree():
    report = check_gradient(*problem(flipped_loss_derivative_grad))
    assert report.passed is False
    diagnosis = top(report)
    assert (diagnosis.kind, diagnosis.path) == ("sign", None)
    assert set(diagnosis.evidence["paths"]) == ALL
    assert diagnosis.confidence > 0.9
    assert {failure.path for failure in report.failures} == ALL


def test_flipped_hidden_derivative_is_a_sign_error_of_the_first_layer_only():
    report = check_gradient(*problem(flipped_tanh_derivative_grad))
    assert report.passed is False
    diagnosis = top(report)
    assert (diagnosis.kind, diagnosis.path) == ("sign", None)
    assert set(diagnosis.evidence["paths"]) == {"W1", "b1"}
    assert report.params["W2"].passed and report.params["b2"].passed


def test_sign_healthy_twin_passes():
    report = check_gradient(*problem(mse_grad))
    assert report.passed is True
    assert report.diagnoses == []
    assert np.isfinite(report.max_rel_error)
