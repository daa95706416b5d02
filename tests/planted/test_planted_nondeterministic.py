"""Planted bug: dropout with a fresh random generator on every call, found as `nondeterministic`."""

import numpy as np
import pytest
from planted_net import forward, make_data

from gradcheck.checking.gradient import check_gradient
from gradcheck.errors import NondeterministicError

KEEP = 0.5


def dropout_forward(params, x, rng):
    a1, _ = forward(params, x)
    mask = (rng.random(a1.shape) < KEEP) / KEEP
    h = a1 * mask
    return a1, mask, h @ params["W2"] + params["b2"]


def dropout_problem(make_rng):
    x, t, params = make_data()

    def loss(p):
        _, _, y = dropout_forward(p, x, make_rng())
        return 0.5 * np.sum((y - t) ** 2) / len(x)

    def grad(p):
        a1, mask, y = dropout_forward(p, x, make_rng())
        dy = (y - t) / len(x)
        dz1 = (dy @ p["W2"].T) * mask * (1 - a1**2)
        return {"W1": x.T @ dz1, "b1": dz1.sum(0), "W2": (a1 * mask).T @ dy, "b2": dy.sum(0)}

    return loss, grad, params


def test_dropout_with_a_fresh_generator_is_nondeterministic():
    # BUG: an unseeded generator per call draws a new dropout mask every time
    loss, grad, params = dropout_problem(lambda: np.random.default_rng())
    with pytest.raises(NondeterministicError) as caught:
        check_gradient(loss, grad, params)
    diagnosis = caught.value.diagnosis
    assert (diagnosis.kind, diagnosis.path) == ("nondeterministic", None)
    assert diagnosis.evidence["difference"] > 0
    assert "dropout" in diagnosis.message
    assert "dropout" in str(caught.value) or "random" in str(caught.value)


def test_nondeterministic_healthy_twin_passes():
    loss, grad, params = dropout_problem(lambda: np.random.default_rng(0))  # the same mask
    report = check_gradient(loss, grad, params)
    assert report.passed is True
    assert report.diagnoses == []
