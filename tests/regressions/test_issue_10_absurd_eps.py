"""Issue 10, item 3: absurd `eps` was accepted; 10-100% wrong gradients passed and
``eps=1e-300`` failed a correct gradient with RuntimeWarnings from gradcheck's own code.
A step outside [1e-12, 1) is now refused with a named error; steps inside are judged by
the error model.
"""

import warnings

import numpy as np
import pytest

from gradcheck.checking.gradient import check_gradient
from gradcheck.errors import InvalidArgumentError

X = np.random.default_rng(0).normal(size=6)


def loss(p):
    return float(np.sum(np.sin(p)))


@pytest.mark.parametrize("eps", [1.0, 10.0, 1e-14, 1e-300, 5e-13])
def test_issue_10_impossible_eps_is_refused(eps):
    with pytest.raises(InvalidArgumentError, match="`eps`"):
        check_gradient(loss, np.cos, X, eps=eps)


@pytest.mark.parametrize("eps", [0.5, 0.1, 1e-3, 1e-9, 1e-12])
def test_issue_10_extreme_eps_gives_a_justified_verdict_without_warnings(eps):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        correct = check_gradient(loss, np.cos, X, eps=eps)
        assert correct.status != "failed", str(correct)
        for factor in (1.1, 2.0, 0.0):
            wrong = check_gradient(loss, lambda p, f=factor: f * np.cos(p), X, eps=eps)
            assert not wrong.passed, (eps, factor, str(wrong))
