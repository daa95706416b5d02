"""Issue 4: check_layers(seed=s) drew layer 0's upstream gradient from default_rng(s).

A user who draws the inputs as ``x = default_rng(s).normal(size=(n, n))`` and checks with
``check_layers(..., seed=s)`` got ``g == x`` for a square first layer, so ``dW = x.T @ g =
x.T @ x`` was symmetric and a transposed ``dW`` passed. Each layer now draws from its own
stream, ``default_rng([seed, 0x6C61, index])``.
"""

import numpy as np
import pytest

from gradcheck.errors import InvalidArgumentError
from gradcheck.layers import check_layers, layer_rng
from gradcheck.nn.layers import Dense


class TransposedDW(Dense):
    def backward(self, g):
        dx = super().backward(g)
        self.grads["W"] = self.grads["W"].T.copy()
        return dx


@pytest.mark.parametrize("seed", [0, 1, 7, 12345])
def test_issue_4_transposed_dw_caught_with_the_inputs_seed(seed):
    x = np.random.default_rng(seed).normal(size=(4, 4))
    layer = TransposedDW(4, 4, rng=2, name="dense1")
    result = check_layers([layer], x, seed=seed)
    assert not result.passed, str(result)
    top = result.layers[0].diagnoses[0]
    assert (top.kind, top.path) == ("transpose", "dense1.W"), str(result)


def test_issue_4_layer_streams_differ_from_the_seed_and_from_each_other():
    plain = np.random.default_rng(3).standard_normal(5)
    first, second = layer_rng(3, 0).standard_normal(5), layer_rng(3, 1).standard_normal(5)
    assert not np.allclose(first, plain) and not np.allclose(first, second)


def test_issue_4_negative_seed_is_refused_with_its_name():
    with pytest.raises(InvalidArgumentError, match="`seed`"):
        check_layers([Dense(4, 4, rng=2)], np.ones((3, 4)), seed=-1)
