"""Issue 12: `sample=0.1` checked 1 entry of a 10-entry bias, and a transposed gradient was
never named `transpose` after directional localization (0 of 6): the few wrong entries it
found could not tell a transpose from a sign or a scale. Now a sample takes at least
MIN_SAMPLE entries of each parameter (all of a small one), and localization also
differentiates the mirrors (j, i) of the entries (i, j) it found in a square matrix.
"""

import numpy as np
import pytest

import gradcheck
from gradcheck.numeric.sweep import MIN_SAMPLE

N = 100


def _problem(seed):
    rng = np.random.default_rng(seed)
    X, Y = rng.normal(size=(64, N)), rng.normal(size=(64, N))
    params = {"W": rng.normal(size=(N, N)), "b": rng.normal(size=10)}

    def loss(p):
        r = X @ p["W"] - Y
        return 0.5 * float(np.mean(r**2)) + float(np.sum(p["b"] ** 2))

    def grad(p, transposed=False):
        dW = X.T @ (X @ p["W"] - Y) / (64 * N)
        return {"W": dW.T if transposed else dW, "b": 2 * p["b"]}

    return loss, grad, params


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("mode", [{"sample": 0.01}, {"directions": 2}])
def test_a_transposed_square_gradient_is_named_transpose(seed, mode):
    loss, grad, params = _problem(seed)
    report = gradcheck.check_gradient(loss, lambda p: grad(p, True), params, seed=seed, **mode)
    assert not report.passed
    assert (report.diagnoses[0].kind, report.diagnoses[0].path) == ("transpose", "W")


@pytest.mark.parametrize("mode", [{"sample": 0.01}, {"directions": 2}])
def test_the_correct_twin_passes(mode):
    loss, grad, params = _problem(0)
    assert gradcheck.check_gradient(loss, grad, params, **mode).passed


def test_a_small_parameter_is_checked_whole_and_a_large_one_at_least_min_sample():
    loss, grad, params = _problem(1)
    report = gradcheck.check_gradient(loss, grad, params, sample=0.001)
    assert report.params["b"].checked == 10
    assert report.params["W"].checked >= MIN_SAMPLE
