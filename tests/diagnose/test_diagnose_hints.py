"""The activation hint: only the first layers wrong, no array pattern: point to check_layers."""

import numpy as np
import pytest

from gradcheck import check_gradient
from gradcheck.diagnose.hints import layer_order, layer_prefix_hint

RNG = np.random.default_rng(0)
X, Y = RNG.normal(size=(5, 4)), RNG.normal(size=(5, 2))
PARAMS = {
    "W1": RNG.normal(size=(4, 3)),
    "b1": RNG.normal(size=3),
    "W2": RNG.normal(size=(3, 2)),
    "b2": RNG.normal(size=2),
}

ACTIVATIONS = {  # name -> (f(z), the derivative backward uses given z and a = f(z))
    "leaky-relu-wrong-slope": (
        lambda z: np.where(z > 0, z, 0.01 * z),
        lambda z, a: np.where(z > 0, 1.0, 0.1),
    ),
    "sigmoid-prime-of-a": (
        lambda z: 1 / (1 + np.exp(-z)),
        lambda z, a: (1 / (1 + np.exp(-a))) * (1 - 1 / (1 + np.exp(-a))),
    ),
    "healthy-tanh": (np.tanh, lambda z, a: 1 - a**2),
}


def _net(name, out_scale=1.0):
    f, df = ACTIVATIONS[name]

    def forward(p):
        z = X @ p["W1"] + p["b1"]
        a = f(z)
        return z, a, a @ p["W2"] + p["b2"]

    def loss(p):
        return float(0.5 * np.sum((forward(p)[2] - Y) ** 2))

    def grad(p):
        z, a, out = forward(p)
        d = out - Y
        dz = (d @ p["W2"].T) * df(z, a)
        return {"W1": X.T @ dz, "b1": dz.sum(0), "W2": out_scale * a.T @ d, "b2": d.sum(0)}

    return loss, grad


@pytest.mark.parametrize("name", ["leaky-relu-wrong-slope", "sigmoid-prime-of-a"])
def test_first_layer_activation_bug_gets_the_hint_first(name):
    report = check_gradient(*_net(name), PARAMS)
    top = report.diagnoses[0]
    assert (top.kind, top.path) == ("activation_derivative", None)
    assert top.evidence["failing"] == ["W1", "b1"] and top.evidence["passing"] == ["W2", "b2"]
    assert "gradcheck.check_layers(layers, x)" in top.message
    assert top.evidence["between_layers"] == [1, 2]
    assert "between layer 1 and layer 2" in top.message


def test_healthy_twin_has_no_hint():
    assert check_gradient(*_net("healthy-tanh"), PARAMS).diagnoses == []


def test_a_later_layer_also_wrong_means_no_hint():
    report = check_gradient(*_net("leaky-relu-wrong-slope", out_scale=3.0), PARAMS)
    assert "activation_derivative" not in [d.kind for d in report.diagnoses]


def test_a_clean_pattern_outranks_the_hint():
    found = [_FakeDiagnosis("scale", 0.95)]
    assert layer_prefix_hint(["W1", "b1", "W2"], ["W1", "b1"], found) is None


def test_paths_without_layer_numbers_give_no_hint():
    assert layer_order(["weight", "bias"]) is None
    assert layer_prefix_hint(["weight", "bias"], ["weight"], []) is None


def test_layer_numbers_come_from_the_paths():
    assert layer_order(["layers.0.W", "layers.0.b", "layers.1.W"]) == [0, 0, 1]
    hint = layer_prefix_hint(["layers.0.W", "layers.1.W"], ["layers.0.W"], [])
    assert hint.evidence["passing"] == ["layers.1.W"]


class _FakeDiagnosis:
    def __init__(self, kind, confidence):
        self.kind, self.confidence = kind, confidence
