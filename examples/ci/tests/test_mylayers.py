"""gradcheck in a CI suite: the fixture, an assertion and a hypothesis strategy."""

import numpy as np
import pytest
from hypothesis import given, settings
from mylayers import Scale, Swish

from gradcheck.nn.layers import Dense
from gradcheck.testing import assert_layers
from gradcheck.testing.strategies import arrays_away_from_kinks

X = np.random.default_rng(0).normal(size=(5, 3))


def stack():
    return [Dense(3, 4, rng=0, name="dense1"), Swish(name="swish1"), Scale(4, name="scale1")]


def test_stack_backward(gradcheck):
    """The fixture checks every layer with the project's settings (seed, mode, tolerances)."""
    gradcheck.check_layers(stack(), X)


@pytest.mark.gradcheck(rtol=1e-6)
def test_scale_parameters(gradcheck):
    """Function style: a loss of the parameters and its gradient, checked entry by entry."""
    layer = Scale(3)

    def loss(params):
        layer.params = params
        return 0.5 * float(np.sum(layer.forward(X) ** 2))

    def grad(params):
        layer.params = params
        layer.backward(layer.forward(X))
        return layer.grads

    gradcheck.check(loss, grad, dict(layer.params))


@settings(max_examples=10, deadline=None)
@given(arrays_away_from_kinks((4, 3), margin=0.5))
def test_swish_on_any_input(x):
    """An assertion over generated inputs; a failure shrinks to a small, readable x."""
    assert_layers([Swish(name="swish1")], x)
