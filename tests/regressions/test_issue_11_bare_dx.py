"""Issue 11: a parameter-free backward returning a bare ``dx`` was rejected.

Relu, dropout and max-pool backwards in course code return ``dx``, not ``(dx,)``;
``FunctionPairLayer`` raised "must return a tuple of 1 items" for every one of them until
the user wrapped it in a lambda. A bare array (and ``(dx,)``) is now accepted.
"""

import numpy as np
import pytest

from gradcheck.adapters import FunctionPairLayer
from gradcheck.layers import check_layers


def relu_forward(x):
    return np.maximum(0, x), x


@pytest.mark.parametrize(
    "backward",
    [lambda dout, x: dout * (x > 0), lambda dout, x: (dout * (x > 0),)],
    ids=["bare", "tuple"],
)
def test_bare_or_tuple_dx_from_a_parameter_free_backward(backward):
    x = np.random.default_rng(0).normal(size=(4, 5))
    result = check_layers([FunctionPairLayer(relu_forward, backward, name="relu")], x)
    assert result.passed, str(result)


def test_a_bare_dx_with_parameters_is_still_a_named_contract_break():
    def scale_forward(x, w):
        return x * w, (x, w)

    def scale_backward(dout, cache):
        return dout * cache[1]  # forgot dw

    layer = FunctionPairLayer(scale_forward, scale_backward, {"w": np.ones(5)}, name="scale")
    result = check_layers([layer], np.ones((3, 5)))
    top = result.layers[0].diagnoses[0]
    assert not result.passed
    assert "`scale_backward` returned an ndarray; expected (dx, dw)" in top.message
