"""Issue 10, item 9: ``check_layers`` crashed on the commonest mistakes of layer code.

A backward that never sets ``grads`` or sets only some keys, a backward returning
``(dx, dW)``, a forward returning ``(y, cache)``, an activation whose backward returns
None and a parameter-free layer that drops a sample each ended in a bare TypeError or
ValueError from gradcheck's code. Each is now a FAILED verdict for that layer naming the
broken contract.
"""

import numpy as np
import pytest

from gradcheck.layers import check_layers
from gradcheck.nn.layers import Dense


class Broken(Dense):
    def __init__(self, how):
        super().__init__(3, 3, rng=0, name="bad")
        self.how = how

    def forward(self, x):
        y = super().forward(x)
        return (y, x) if self.how == "forward_tuple" else y

    def backward(self, g):
        dx = super().backward(g)
        if self.how == "no_grads":
            del self.grads
        elif self.how == "grads_without_b":
            self.grads = {"W": self.grads["W"]}
        elif self.how == "backward_tuple":
            return dx, self.grads["W"]
        return dx


class ActivationReturningNone:
    params = {}
    name = "act"

    def forward(self, x):
        return np.tanh(x)

    def backward(self, g):
        g * 2  # unfinished: no return


class DropsASample:
    params = {}
    name = "drop"

    def forward(self, x):
        return x[1:]

    def backward(self, g):
        return g


CASES = {
    "no_grads": (Broken("no_grads"), "`bad.backward` set no `grads`"),
    "grads_without_b": (Broken("grads_without_b"), "`bad.backward` set no `grads['b']`"),
    "backward_tuple": (
        Broken("backward_tuple"),
        "`bad.backward` returned a tuple of 2; expected the array dx",
    ),
    "forward_tuple": (
        Broken("forward_tuple"),
        "`bad.forward` returned a tuple of 2; expected an array",
    ),
    "activation_none": (ActivationReturningNone(), "`act.backward` returned None"),
    "drops_a_sample": (DropsASample(), "`drop.x` has shape (3, 3); expected (4, 3)"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_broken_contract_is_a_failed_verdict_naming_it(case):
    layer, words = CASES[case]
    result = check_layers([Dense(3, 3, rng=1, name="ok"), layer], np.ones((4, 3)))
    assert result.layers[0].passed and result.first_failure == 1, str(result)
    assert words in result.layers[1].diagnoses[0].message, result.layers[1].diagnoses
