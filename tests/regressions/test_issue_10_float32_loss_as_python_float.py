"""Issue 10, item 1: a loss computed in float32 but returned as a Python float.

With float64 parameters the error model assumed float64 rounding and float64 steps: correct
gradients failed by ratios up to 1e7, most entries were labelled kinks and an all-zero
gradient passed. With float32 parameters and a float32 gradient cast to float64 a correct
gradient failed (the precision was read from the gradient's dtype only). The working
precision is now measured from the values returned, and the report says which it assumed.
"""

import numpy as np
import pytest

from gradcheck.checking.gradient import check_gradient

RNG = np.random.default_rng(0)
A = RNG.normal(size=(6, 5)).astype(np.float32)


def loss(p):
    return float(np.sum(np.tanh(A @ np.asarray(p, dtype=np.float32)) ** 2))


def grad(p):
    t = np.tanh(A @ np.asarray(p, dtype=np.float32))
    return (A.T @ (2 * t * (1 - t**2))).astype(np.float64)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_issue_10_correct_float32_gradient_is_not_failed(dtype):
    x = RNG.normal(size=5).astype(dtype)
    report = check_gradient(loss, grad, x)
    assert report.status != "failed", str(report)
    assert report.precision == "float32", report.precision_reason
    assert report.to_dict()["precision"]["dtype"] == "float32"


@pytest.mark.parametrize("factor", [0.0, 2.0, -1.0, 1.05])
def test_issue_10_wrong_float32_gradient_never_passes(factor):
    x = RNG.normal(size=5)
    report = check_gradient(loss, lambda p: factor * grad(p), x)
    assert not report.passed and report.status == "failed", str(report)
