"""Issue 17 x 10: a sign-flipped HVP whose Hessian has one significant entry and cross
terms near 1e-246 was diagnosed `missing_cross_terms` (the tiny analytic cross terms were
taken for absent ones, although the numeric ones are just as tiny), and, once that was
fixed, `other`: the barely resolved 1e-246 entries outvoted the one that carries the sign.
"""

import numpy as np

import gradcheck
from gradcheck.testing.spec import SmoothMap

TINY = 2.21590278e-245
A = np.array([[8.76279924e-234, TINY, TINY], [TINY, 1.0, TINY]])
MAP = SmoothMap(A=A, b=np.ones(2), x=np.ones(3))


def test_sign_flip_beside_tiny_cross_terms_is_named_sign():
    report = gradcheck.check_hvp(MAP.grad, lambda x, v: -MAP.hvp(x, v), MAP.x)
    assert not report.passed
    assert report.diagnoses[0].kind == "sign"
    assert all(d.kind != "missing_cross_terms" for d in report.diagnoses)


def test_the_correct_twin_passes():
    assert gradcheck.check_hvp(MAP.grad, MAP.hvp, MAP.x).passed


def test_a_real_diagonal_only_hvp_is_still_missing_cross_terms():
    a = np.array([[1.0, 0.5, -0.3], [0.2, 1.0, 0.4]])
    smooth = SmoothMap(A=a, b=np.ones(2), x=np.full(3, 0.3))

    def diagonal_hvp(x, v):
        h = np.stack([smooth.hvp(x, e) for e in np.eye(3)], axis=1)
        return np.diag(h) * v

    report = gradcheck.check_hvp(smooth.grad, diagonal_hvp, smooth.x)
    assert not report.passed and report.diagnoses[0].kind == "missing_cross_terms"
