"""Properties over the class of smooth maps: every healthy twin passes, every sign bug fails."""

import numpy as np
import pytest
from hypothesis import assume, given, settings

import gradcheck
from gradcheck.errors import InvalidArgumentError
from gradcheck.testing.strategies import smooth_maps
from tests.budget import examples

CHECKS = {
    "vjp": lambda m, flip: gradcheck.check_vjp(m.f, lambda x, g: flip * m.vjp(x, g), m.x),
    "jvp": lambda m, flip: gradcheck.check_jvp(m.f, lambda x, v: flip * m.jvp(x, v), m.x),
    "hvp": lambda m, flip: gradcheck.check_hvp(m.grad, lambda x, v: flip * m.hvp(x, v), m.x),
}


#: A Jacobian whose largest entry is above this is not entirely below resolution.
RESOLVED = 1e-6


def _jacobian_scale(m, what):
    jacobian = (1 - m.f(m.x) ** 2)[:, None] * m.A
    return np.abs(m.A.T @ jacobian if what == "hvp" else jacobian).max()


@pytest.mark.slow
@pytest.mark.parametrize("what", CHECKS)
@settings(max_examples=examples(30), deadline=None)
@given(m=smooth_maps())
def test_healthy_maps_pass_and_sign_flips_fail(what, m):
    healthy = CHECKS[what](m, 1.0)
    assert healthy.status != "failed", str(healthy)  # a correct Jacobian never fails
    # a Jacobian entirely below the outputs' resolution (A ~ 1e-267: float64 differences
    # of outputs of size <= 8 resolve ~1e-10) cannot be certified: such a check is
    # inconclusive (issue 10), and a zero Jacobian has no sign to get wrong. Every other
    # healthy map passes, however tiny some of its rows or entries are next to the rest.
    assume(_jacobian_scale(m, what) > RESOLVED)
    assert healthy.passed, str(healthy)
    wrong = CHECKS[what](m, -1.0)
    assert not wrong.passed
    assert wrong.diagnoses[0].kind == "sign"


def test_strategy_bounds_are_checked():
    with pytest.raises(InvalidArgumentError, match="min_inputs=3 > max_inputs=2"):
        smooth_maps(min_inputs=3, max_inputs=2)
    with pytest.raises(InvalidArgumentError, match="max_abs"):
        smooth_maps(max_abs=0)
