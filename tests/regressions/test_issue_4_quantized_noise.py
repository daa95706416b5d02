"""Issue 4 (hunt after the cancellation fix): two more false positives of the noise model.

* The loss is a small sum next to a large term (``s + c - c`` with ``c ~ 220``): each
  evaluation is rounded to ``ulp(c)``. Along an equally spaced noise line the rounding of
  a nearly linear loss repeats (a moire: the slope per step was ~618.0 ulps), every third
  difference was 0 and the measured noise missed it; the noise line now has irregular
  gaps and the noise is a trimmed RMS of third divided differences.
* The same with ``c ~ 1400`` and a random direction along which the loss barely moves
  (two gradient entries ~1 with opposite signs): the loss changed by 1.6 ulps over the
  whole line, nearly all values were equal and the measured noise was ~0; a line whose
  neighbouring values are mostly equal is now measured again 64 times longer.
* A float32 gradient whose entries underflow to subnormals (``x ~ 3e-44``) has an absolute
  rounding of the smallest subnormal, a relative error of 1e-2; the allowance now includes
  it (and the loss noise floor is the subnormal of the loss's own dtype).
"""

import numpy as np
import pytest

from gradcheck.checking.gradient import check_gradient

W_TANH = np.array(
    [-1.35188229, 1.22138297, 0.04359964, 0.352813, -0.13947427, -0.10569274,
     -0.74690315, -1.05191916, -0.1020459, -0.51359126, 0.80906928, -0.69977234]
)  # fmt: skip
C = -220.23372557183703


def tanh_next_to_a_large_term(p):
    return float(np.sum(np.tanh(p["w"])) + C - C)


@pytest.mark.parametrize(
    "kwargs", [{"method": "richardson"}, {"method": "richardson", "directions": 2}, {}],
    ids=["richardson", "directional_richardson", "central"],
)  # fmt: skip
def test_issue_4_quantized_loss_noise_is_measured(kwargs):
    report = check_gradient(
        tanh_next_to_a_large_term,
        lambda p: {"w": 1 - np.tanh(p["w"]) ** 2},
        {"w": W_TANH},
        **kwargs,
    )
    assert report.passed, str(report)


def test_issue_4_loss_flat_along_the_noise_line_is_measured_longer():
    c = -1400.5984260285795
    report = check_gradient(
        lambda p: float(np.sum(np.tanh(p["w"])) + c - c),
        lambda p: {"w": 1 - np.tanh(p["w"]) ** 2},
        {"w": np.array([0.004845365309787381, 0.0508915303061873])},
        method="richardson",
        directions=2,
        seed=17294,
    )
    assert report.passed, str(report)


def test_issue_4_subnormal_float32_gradient_passes():
    x = np.array([[3e-44]], dtype=np.float32)
    g = np.array([[1.5, -0.7, 2.0, 0.3, -1.1]], dtype=np.float32)
    w = np.array([[0.2, -0.4, 0.9, 1.3, -0.6]], dtype=np.float32)
    report = check_gradient(lambda p: np.sum(g * (x @ p["W"])), lambda p: {"W": x.T @ g}, {"W": w})
    assert report.passed, str(report)
