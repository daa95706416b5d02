"""A small custom-layer package, the kind a library author guards with gradcheck in CI.

Set the environment variable ``MYLAYERS_BUG=1`` to plant a classic bug: Swish's backward
takes the derivative at the layer's output instead of its input.
"""

import os

import numpy as np

BUG = os.environ.get("MYLAYERS_BUG", "") not in ("", "0")


def _sigmoid(z):
    return 0.5 * (1 + np.tanh(0.5 * z))


class Swish:
    """``a = z * sigmoid(beta * z)``, an elementwise activation without parameters."""

    def __init__(self, beta=1.0, name="swish"):
        self.beta, self.name = beta, name
        self.params, self.grads = {}, {}

    def forward(self, z):
        self.z = z
        self.a = z * _sigmoid(self.beta * z)
        return self.a

    def df(self, z):
        s = _sigmoid(self.beta * z)
        return s + self.beta * z * s * (1 - s)

    def backward(self, dout):
        at = self.a if BUG else self.z  # the bug: f'(a) instead of f'(z)
        return dout * self.df(at)


class Scale:
    """Learnable per-feature gain and shift: ``y = x * g + b``."""

    def __init__(self, n, name="scale", rng=0):
        rng = np.random.default_rng(rng)
        self.name = name
        self.params = {"g": 1 + 0.1 * rng.standard_normal(n), "b": np.zeros(n)}
        self.grads = {}

    def forward(self, x):
        self.x = x
        return x * self.params["g"] + self.params["b"]

    def backward(self, dout):
        self.grads = {"g": (dout * self.x).sum(axis=0), "b": dout.sum(axis=0)}
        return dout * self.params["g"]
