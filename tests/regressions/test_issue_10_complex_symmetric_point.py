"""Issue 10, item 7: the complex step's safety probe refused a correct gradient at a
symmetric point (the loss is 0 there, so the noise allowance of the real differences was
0), and refusals came with a wrong diagnosis.
"""

import numpy as np
import pytest

from gradcheck.checking.gradient import check_gradient

CASES = {
    "linear_zero_loss": (
        lambda p: np.sum(p * np.array([1.0, -1.0])),
        lambda p: np.array([1.0, -1.0]),
        np.ones(2),
    ),
    "sin_at_plus_minus_half_pi": (
        lambda p: np.sum(np.sin(p)),
        np.cos,
        np.array([np.pi / 2, -np.pi / 2]),
    ),
    "square_at_zero": (lambda p: np.sum(p**2), lambda p: 2 * p, np.zeros(4)),
}


@pytest.mark.parametrize("name", CASES)
def test_issue_10_complex_step_passes_correct_gradients_at_symmetric_points(name):
    loss, grad, x = CASES[name]
    report = check_gradient(loss, grad, x, method="complex")
    assert report.passed, str(report)
    assert not report.diagnoses
