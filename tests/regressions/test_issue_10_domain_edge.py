"""Issue 10, item 5: parameters ~1e-6 inside `log`'s domain. The noise probe and the
stencils stepped outside the domain and the check stopped with "the loss must be finite at
the checked point", although the NaN came from a perturbed point. Every method failed.
"""

import warnings

import numpy as np
import pytest

from gradcheck.checking.gradient import check_gradient
from gradcheck.errors import LossValueError

X = np.array([1e-6, 2e-6, 0.5, 3.0])


def real_log(p):
    with np.errstate(invalid="ignore", divide="ignore"):
        return float(np.sum(np.log(p)))


@pytest.mark.parametrize("method", ["central", "forward", "backward", "richardson", "complex"])
def test_issue_10_domain_edge_is_judged_not_an_error(method):
    loss = (lambda p: np.sum(np.log(p))) if method == "complex" else real_log
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the user's log of negatives
        correct = check_gradient(loss, lambda p: 1 / p, X, method=method)
        wrong = check_gradient(loss, lambda p: 1.02 / p, X, method=method)
    assert correct.status != "failed", str(correct)
    assert not wrong.passed, str(wrong)


# no stray numpy warning either (an all-NaN entry once printed "All-NaN slice encountered")
@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_issue_10_every_step_outside_is_inconclusive():
    def loss(p):  # defined only exactly at the checked point
        return float(np.sum(p)) if np.all(p == X) else float("nan")

    report = check_gradient(loss, np.ones_like, X)
    assert report.status == "inconclusive"
    assert "domain" in report.inconclusive[0].reason


def test_issue_10_non_finite_at_the_point_itself_is_the_users_error():
    with pytest.raises(LossValueError, match="finite at the checked point"):
        check_gradient(lambda p: float("nan"), np.ones_like, X)


def test_issue_10_a_loss_that_raises_outside_its_domain_is_judged_too():
    import math

    def loss(p):  # math.log raises ValueError for x <= 0 instead of returning NaN
        return sum(math.log(v) for v in p)

    correct = check_gradient(loss, lambda p: 1 / p, X)
    wrong = check_gradient(loss, lambda p: -1 / p, X)
    assert correct.status != "failed", str(correct)
    assert not wrong.passed
