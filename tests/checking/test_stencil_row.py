"""A difference method is one row of `gradcheck.numeric.stencils.STENCILS`.

Registering a toy row (a second-order one-sided stencil) is all it takes for
`check_gradient(method=...)`, the progress count and the `directions=` rule to know it.
"""

import numpy as np
import pytest

from gradcheck import check_gradient
from gradcheck.errors import InvalidArgumentError
from gradcheck.numeric.stencils import STENCILS, Stencil

#: f'(x) ~ (-3 f(x) + 4 f(x + h) - f(x + 2h)) / 2h: second order, two new evaluations.
FORWARD2 = Stencil(offsets=(0.0, 1.0, 2.0), weights=(-3.0, 4.0, -1.0), order=2, evaluations=2)


@pytest.fixture
def forward2(monkeypatch):
    monkeypatch.setitem(STENCILS, "forward2", FORWARD2)
    return "forward2"


def loss(p):
    return float(np.sum(np.sin(p["w"]) * p["w"] ** 2) + np.sum(np.tanh(p["b"])))


def grad(p):
    w = p["w"]
    return {"w": np.cos(w) * w**2 + 2 * w * np.sin(w), "b": 1 - np.tanh(p["b"]) ** 2}


def params():
    rng = np.random.default_rng(0)
    return {"w": rng.normal(size=(3, 4)), "b": rng.normal(size=5)}


def test_a_registered_row_checks_a_correct_gradient(forward2):
    report = check_gradient(loss, grad, params(), method=forward2, progress=False)
    assert report.passed, report
    assert report.method == forward2


def test_a_registered_row_finds_a_wrong_entry(forward2):
    def wrong(p):
        g = grad(p)
        g["w"][1, 2] *= 1.05
        return g

    report = check_gradient(loss, wrong, params(), method=forward2, progress=False)
    assert not report.passed
    assert [(f.path, f.index) for f in report.failures] == [("w", (1, 2))]


def test_a_row_without_directions_refuses_them_with_the_rows_that_have_them(forward2):
    with pytest.raises(InvalidArgumentError, match="method='central' or 'richardson'"):
        check_gradient(loss, grad, params(), method=forward2, directions=4, progress=False)


def test_an_unregistered_method_is_refused():
    with pytest.raises(InvalidArgumentError, match="'central', 'forward'"):
        check_gradient(loss, grad, params(), method="forward2", progress=False)
