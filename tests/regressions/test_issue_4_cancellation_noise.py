"""Issue 4: false positives of check_layers on correct stacks come from the checker's noise model.

Hunting ``test_no_false_positive_on_correct_stacks`` with many examples finds only two
families, both reproducible with ``check_gradient`` alone on a linear loss:

* A: the loss cancels (``|loss|`` far below its terms): a dense layer whose output is
  ~1e-9 because ``b ~ -x @ W`` (the test's ``near_kink`` with a batch of one);
* B: the loss is 0 at the point and each partial derivative is a cancelling sum: a dense
  layer whose input is all zeros (after a layer of dead ReLUs).

The rounding of each evaluation is relative to the terms that cancelled, but the allowed
error scales with ``|loss|`` (``eps_eval * max|values|``) and with the entry's own
``|analytic|``; the measured noise (third differences along a short line) misses it too.
Fixed in the error model (gradcheck/numeric/estimates.py): the loss noise is at least
``eps * |h| * G`` (G the parameter's largest ``|analytic|``), the analytic rounding is
relative to G rather than to the entry, and the measured noise is a trimmed root mean
square of the third differences (their lower quartile was 0 for quantized rounding).
"""

import numpy as np

from gradcheck.checking.gradient import check_gradient

W = np.array(
    [
        [-1.8853623631156544, -0.40188097110833154],
        [0.5410724225619183, 0.7198409378542507],
        [-0.7655694428009269, -0.09121381447782483],
    ]
)
G = np.array([[-1.4296334111541762, 1.0749621369277211]])


def test_issue_4_cancelling_loss_passes():
    x, g = np.array([[-0.06836946148479053]]), np.array([[0.21056773326811404]])
    w = np.array([[-0.09668901968393574]])
    b = -(x @ w)[0] + 1e-9  # the loss is ~2e-10, its terms ~1e-3

    report = check_gradient(
        lambda p: float(np.sum(g * (x @ p["W"] + b))), lambda p: {"W": x.T @ g}, {"W": w}
    )
    assert report.passed, str(report)


def test_issue_4_zero_input_with_cancelling_partials_passes():
    report = check_gradient(
        lambda p: float(np.sum(G * (p["x"] @ W))), lambda p: {"x": G @ W.T}, {"x": np.zeros((1, 3))}
    )
    assert report.passed, str(report)  # x[0, 1]: -0.7735 + 0.7738 = 2.7e-4
