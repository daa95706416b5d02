"""Issue 11: a forward whose numeric derivative is zero almost everywhere blamed the backward.

A ReLU forward that returns its mask ``x > 0`` (as floats) has a zero derivative almost
everywhere; the correct-looking backward then "fails", and the message told the user to
fix the backward. The first question is now "is the forward right?".
"""

import numpy as np

from gradcheck.adapters import FunctionPairLayer
from gradcheck.layers import check_layers


def relu_mask_forward(x):
    return (x > 0).astype(x.dtype), x


def relu_backward(dout, x):
    return dout * (x > 0)


def max_pool_forward(x):
    return x.reshape(len(x), -1, 2).max(axis=2), x


def max_pool_backward_everywhere(dout, x):  # a real backward bug, not a forward one
    return np.repeat(dout, 2, axis=1)


def test_a_piecewise_constant_forward_asks_about_the_forward_first():
    x = np.random.default_rng(0).normal(size=(4, 6))
    result = check_layers([FunctionPairLayer(relu_mask_forward, relu_backward, name="relu")], x)
    top = result.layers[0].diagnoses[0]
    assert (top.kind, top.path, top.evidence["pattern"]) == (
        "other",
        "relu.forward",
        "piecewise_constant",
    )
    assert top.message.startswith("Is the forward right?") and "`relu_mask_forward`" in top.message


def test_a_forward_that_moves_with_its_input_is_not_suspected():
    x = np.random.default_rng(0).normal(size=(4, 6))
    layer = FunctionPairLayer(max_pool_forward, max_pool_backward_everywhere, name="pool")
    diagnoses = check_layers([layer], x).layers[0].diagnoses
    assert diagnoses and all(d.evidence.get("pattern") != "piecewise_constant" for d in diagnoses)
