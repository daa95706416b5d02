"""Issue 11: keepdims shapes were misnamed, and affine on (N, d1, d2) was not dense.

A ``(1, D)`` gradient for a ``(D,)`` parameter (``keepdims=True``) was called a bias summed
over the wrong axis, also for batch norm's gamma; ``affine_forward`` on ``(N, d1, d2)``
inputs (flattened inside) was not recognised as a dense layer.
"""

import numpy as np
import pytest

from gradcheck.adapters import FunctionPairLayer
from gradcheck.layers import check_layers


def affine_forward(x, w, b):
    return x.reshape(len(x), -1) @ w + b, (x, w)


def affine_backward(dout, cache, keepdims=False):
    x, w = cache
    dw = x.reshape(len(x), -1).T @ dout
    return (dout @ w.T).reshape(x.shape), dw, dout.sum(axis=0, keepdims=keepdims)


def scale_forward(x, gamma):
    return x * gamma, (x, gamma)


def scale_backward_keepdims(dout, cache):
    x, gamma = cache
    return dout * gamma, np.sum(dout * x, axis=(0, 2, 3), keepdims=True)


def layer(backward, rng):
    params = {"w": rng.normal(size=(6, 3)), "b": rng.normal(size=3)}
    return FunctionPairLayer(affine_forward, backward, params, name="fc")


def test_affine_on_three_dimensional_inputs_is_dense():
    rng = np.random.default_rng(0)
    result = check_layers([layer(affine_backward, rng)], rng.normal(size=(4, 2, 3)))
    assert result.passed and result.layers[0].kind == "dense"


@pytest.mark.parametrize("path", ["fc.b", "sc.gamma"])
def test_keepdims_says_drop_keepdims(path):
    rng = np.random.default_rng(0)
    if path == "fc.b":
        backward = lambda d, c: affine_backward(d, c, keepdims=True)  # noqa: E731
        stack, x = [layer(backward, rng)], rng.normal(size=(4, 2, 3))
    else:
        gamma = {"gamma": rng.normal(size=(1, 3, 1, 1))[0, :, 0, 0].copy()}
        forward = lambda x, g: scale_forward(x, g[:, None, None])  # noqa: E731
        stack = [FunctionPairLayer(forward, scale_backward_keepdims, gamma, name="sc")]
        x = rng.normal(size=(2, 3, 2, 2))
    top = check_layers(stack, x).layers[0].diagnoses[0]
    assert (top.kind, top.path, top.evidence["pattern"]) == ("axis", path, "keepdims")
    assert "drop keepdims" in top.message and "wrong axis" not in top.message
