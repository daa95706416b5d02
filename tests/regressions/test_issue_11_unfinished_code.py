"""Issue 11: unfinished code was blamed on the backward, and exceptions were not attributed.

A forward returning None was reported as a backward problem ("add `return dx`", "forgot
the weights `dout @ W.T`"), and an exception raised inside the user's forward or backward
escaped from gradcheck without saying which layer and which function raised it.
"""

import numpy as np

from gradcheck.adapters import FunctionPairLayer
from gradcheck.layers import check_layers
from gradcheck.nn.layers import Dense


def affine_forward(x, w, b):
    out = x @ w + b  # noqa: F841 -- unfinished: no return yet


def affine_backward(dout, cache):
    x, w = cache
    return dout @ w.T, x.T @ dout, dout.sum(axis=0)


def relu_forward(x):
    return np.maximum(0, x), x


def relu_backward(dout, cache):
    return dout * cache["mask"]  # the cache is the array x: raises IndexError


def test_a_forward_returning_none_is_a_forward_problem_naming_the_function():
    rng = np.random.default_rng(0)
    layer = FunctionPairLayer(
        affine_forward,
        affine_backward,
        {"w": rng.normal(size=(3, 2)), "b": np.zeros(2)},
        name="fc",
    )
    result = check_layers(
        [Dense(4, 3, rng=0, name="d0"), layer, Dense(2, 2, rng=0)], rng.normal(size=(5, 4))
    )
    assert result.first_failure == 1
    top = result.layers[1].diagnoses[0]
    assert (top.kind, top.path) == ("other", "fc.forward")
    assert "`affine_forward` returned None; expected (out, cache)" in top.message
    assert "dx" not in top.message and "W.T" not in top.message
    assert "was not checked" in result.layers[2].verdict


def test_an_exception_names_the_layer_the_function_and_the_line():
    layer = FunctionPairLayer(relu_forward, relu_backward, name="relu1")
    result = check_layers([Dense(4, 3, rng=0), layer], np.ones((2, 4)))
    assert result.first_failure == 1
    report = result.layers[1]
    top = report.diagnoses[0]
    assert (report.name, top.path) == ("relu1", "relu1.backward")
    assert top.message.startswith(
        "`relu_backward` (the backward of layer `relu1`) raised IndexError"
    )
    assert "in `relu_backward` (test_issue_11_unfinished_code.py:" in top.message
    assert 'cache["mask"]' in top.message
