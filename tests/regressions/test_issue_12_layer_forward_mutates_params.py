"""Issue 12: a layer whose forward changed its own parameters in place was reported as
`nondeterministic` ("dropout, noise?"), and the message named gradcheck's internal `loss`.
Now the first diagnosis names the forward and the parameters it wrote.
"""

import numpy as np

import gradcheck


class Dense:
    def __init__(self, mutate: bool):
        self.params = {"W": np.linspace(-1, 1, 6).reshape(3, 2), "b": np.zeros(2)}
        self.grads = {}
        self.mutate = mutate

    def forward(self, x):
        self.x = x
        if self.mutate:
            self.params["W"] *= 1.0001  # e.g. a weight update written into the forward
        return x @ self.params["W"] + self.params["b"]

    def backward(self, g):
        self.grads = {"W": self.x.T @ g, "b": g.sum(0)}
        return g @ self.params["W"].T


X = np.random.default_rng(0).normal(size=(4, 3))


def test_a_forward_that_writes_its_params_is_named_as_such():
    result = gradcheck.check_layers([Dense(mutate=True)], X)
    assert not result.passed
    top = result.layers[0].diagnoses[0]
    assert "changed its parameters `W` in place" in top.message
    assert top.evidence["mutated"] == ["W"]
    assert all("`loss`" not in d.message for d in result.layers[0].diagnoses)


def test_the_healthy_twin_passes():
    result = gradcheck.check_layers([Dense(mutate=False)], X)
    assert result.passed and not result.layers[0].diagnoses
