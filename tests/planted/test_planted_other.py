"""Planted bug: one wrong entry (autograd's `g * 2.001` trick), found as `other`: one entry."""

import pytest
from planted_net import mse_grad, problem, top

from gradcheck.checking.gradient import check_gradient


def one_entry_off_grad(relative_error):
    def grad(params, x, t, lam=0.0):
        grads = mse_grad(params, x, t, lam)
        grads["W2"][1, 2] *= 1 + relative_error  # BUG: one entry is slightly wrong
        return grads

    return grad


# id -> (relative error of the planted entry, extra check_gradient arguments)
CASES = {
    "1e-3_full": (1e-3, {}),
    "1e-6_full": (1e-6, {}),
    "1e-3_directional_bisection": (1e-3, {"directions": 4}),
    "1e-6_directional_bisection": (1e-6, {"directions": 4}),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_one_wrong_entry_is_located(case):
    relative_error, kwargs = case
    report = check_gradient(*problem(one_entry_off_grad(relative_error)), **kwargs)
    assert report.passed is False
    assert [(failure.path, failure.index) for failure in report.failures] == [("W2", (1, 2))]
    diagnosis = top(report)
    assert (diagnosis.kind, diagnosis.path) == ("other", "W2")
    assert diagnosis.evidence["pattern"] == "one entry"
    assert diagnosis.evidence["indices"] == [[1, 2]]
    assert diagnosis.evidence["ratio"] == pytest.approx(1 + relative_error, rel=1e-7)
    assert "entry (1, 2)" in diagnosis.message


def test_other_healthy_twin_passes():
    report = check_gradient(*problem(mse_grad))
    assert report.passed is True
    assert report.diagnoses == []
