"""Issue 11: correct code that writes in place failed with no gradient verdict.

A ReLU backward turning its cached input into a mask, or a softmax loss shifting its
scores in place, failed with a mutation error whose message named gradcheck's internal
closures (`grad`, `loss`, "the bare parameter"). Now the layer is checked on private
copies, the gradient verdict is given, and a note names the user's function and what it
wrote.
"""

import numpy as np

from gradcheck.adapters import FunctionPairLayer, LossFunctionLayer
from gradcheck.layers import check_layers


def relu_forward(x):
    return np.maximum(0, x), x


def relu_backward_in_place(dout, x):
    x[x > 0], x[x <= 0] = 1, 0  # the cached input becomes the mask
    return dout * x


def softmax_loss_in_place(x, y):
    x -= x.max(axis=1, keepdims=True)
    p = np.exp(x) / np.exp(x).sum(axis=1, keepdims=True)
    n = len(x)
    dx = p.copy()
    dx[np.arange(n), y] -= 1
    return -np.log(p[np.arange(n), y]).mean(), dx / n


INTERNALS = ("`grad`", "`loss`", "the bare parameter")


def test_relu_backward_writing_into_its_cache_passes_with_a_note():
    x = np.random.default_rng(0).normal(size=(4, 5))
    result = check_layers([FunctionPairLayer(relu_forward, relu_backward_in_place)], x)
    assert result.passed, str(result)
    (note,) = result.layers[0].notes
    assert note.startswith("`relu_backward_in_place` wrote into its cache in place")
    assert not any(word in str(result) for word in INTERNALS)


def test_softmax_loss_shifting_its_scores_passes_with_a_note():
    rng = np.random.default_rng(0)
    scores = rng.normal(size=(5, 3))
    before = scores.copy()
    layer = LossFunctionLayer(softmax_loss_in_place, args=(rng.integers(0, 3, size=5),))
    result = check_layers([layer], scores)
    assert result.passed, str(result)
    np.testing.assert_array_equal(scores, before)
    (note,) = result.layers[0].notes
    label = "`softmax_loss_in_place` (the forward of layer `softmax_loss_in_place`)"
    assert note.startswith(f"{label} wrote into its input x in place")
    assert not any(word in str(result) for word in INTERNALS)
