"""Planted bug: gradients accumulate across calls (a missing zero_grad), found as `accumulation`."""

import numpy as np
import pytest
from planted_net import make_data, mse_grad, mse_loss, top

from gradcheck.checking.gradient import check_gradient


class Net:
    """The user's network object: it keeps its gradients between calls, like a framework."""

    def __init__(self, seed=0, *, zero_grad=False):
        self.x, self.t, self.params = make_data(seed)
        self.grads = {name: np.zeros_like(value) for name, value in self.params.items()}
        self.reset = zero_grad

    def loss(self, params):
        return mse_loss(params, self.x, self.t)

    def grad(self, params):
        if self.reset:
            for g in self.grads.values():
                g[...] = 0.0  # the twin: zero_grad() before each backward
        for name, g in mse_grad(params, self.x, self.t).items():
            self.grads[name] += g  # BUG (without reset): += into stored grads, never zeroed
        return self.grads


def test_accumulating_gradient_is_diagnosed():
    net = Net()
    report = check_gradient(net.loss, net.grad, net.params)
    assert report.passed is False
    diagnosis = top(report)
    assert (diagnosis.kind, diagnosis.path) == ("accumulation", "W1")
    assert diagnosis.evidence["matched"] == "2"
    assert diagnosis.evidence["ratio"] == pytest.approx(2.0, rel=1e-9)
    assert "zero_grad" in diagnosis.message


def test_accumulation_healthy_twin_passes():
    net = Net(zero_grad=True)
    report = check_gradient(net.loss, net.grad, net.params)
    assert report.passed is True
    assert report.diagnoses == []
