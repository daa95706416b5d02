"""Issue 10, item 2: a loss rounded to a quantum larger than a step's effect.

Every entry became a "kink" (never a failure) and a gradient 2x too large passed. The
quantum is now measured from the loss's values and enters the noise model; a kink
certifies an entry only when the analytic derivative lies between the one-sided ones.
"""

import numpy as np
import pytest

from gradcheck.checking.gradient import check_gradient

X = np.random.default_rng(0).normal(size=8)


@pytest.mark.parametrize("quantum", [1e-3, 1e-5, 1e-7, 1e-9])
def test_issue_10_quantized_loss_never_passes_a_wrong_gradient(quantum):
    def loss(p):
        return float(np.round(np.sum(np.sin(p)) / quantum) * quantum)

    correct = check_gradient(loss, np.cos, X)
    assert correct.status != "failed", str(correct)
    for factor in (2.0, 1.1, -1.0):
        wrong = check_gradient(loss, lambda p, f=factor: f * np.cos(p), X)
        assert not wrong.passed, (factor, str(wrong))


def test_issue_10_coarse_loss_is_inconclusive_and_says_why():
    report = check_gradient(lambda p: float(np.round(np.sum(np.sin(p)), 3)), np.cos, X)
    assert report.status == "inconclusive" and not report.passed
    assert report.inconclusive and "INCONCLUSIVE" in str(report)
    assert "PASSED" not in str(report)
