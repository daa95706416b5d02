"""The pytest fixture's Jacobian methods: settings applied, counted, failures raised."""

import numpy as np
import pytest

from gradcheck import GradientMismatch
from gradcheck.testing.fixture import CheckStats, GradcheckFixture, Settings


def test_fixture_methods_pass_count_and_raise():
    stats = CheckStats()
    fixture = GradcheckFixture(Settings(seed=3), stats, name="jacobians")
    x = np.array([0.2, -0.4])
    assert fixture.check_vjp(np.sin, lambda x, g: np.cos(x) * g, x).passed
    assert fixture.check_jvp(np.sin, lambda x, v: np.cos(x) * v, x).passed
    assert fixture.check_hvp(np.sin, lambda p, v: np.cos(p) * v, x).passed
    assert fixture.check_hessian(np.sin, lambda p: np.diag(np.cos(p)), x).passed
    with pytest.raises(GradientMismatch, match="vjp check failed"):
        fixture.check_vjp(np.sin, lambda x, g: 2 * np.cos(x) * g, x)
    assert fixture.checks == 5 and fixture.failures == 1 and stats.evaluations > 0
