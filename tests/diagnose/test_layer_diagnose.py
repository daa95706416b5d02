"""Layer-aware diagnoses, on arrays and tiny forward functions (oracles in closed form)."""

import numpy as np
import pytest

from gradcheck.checking.batch_independence import (
    backward_mixing,
    forward_mixing,
    mixing_diagnosis,
)
from gradcheck.diagnose.layers import (
    dense_diagnoses,
    dense_parts,
    elementwise_diagnoses,
    probe_coupling,
    rowwise_diagnoses,
    shape_diagnosis,
)


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def leaky(z):
    return np.where(z > 0, z, 0.1 * z)


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


RNG = np.random.default_rng(0)
X = RNG.normal(size=(5, 4))
G = RNG.normal(size=(5, 4))


@pytest.mark.parametrize(
    "forward, kind",
    [
        (np.tanh, "elementwise"),
        (softmax, "rowwise"),
        (lambda x: x - x.mean(0), "other"),
        (lambda x: x[:, :2], "other"),
    ],
    ids=["tanh", "softmax", "batch_centering", "slicing"],
)
def test_probe_coupling(forward, kind):
    assert probe_coupling(forward, X, np.random.default_rng(0)) == kind


ELEMENTWISE = [
    (
        "sigmoid_at_output",
        sigmoid,
        lambda x: G * sigmoid(sigmoid(x)) * (1 - sigmoid(sigmoid(x))),
        "at_output",
    ),
    ("tanh_at_output", np.tanh, lambda x: G * (1 - np.tanh(np.tanh(x)) ** 2), "at_output"),
    ("tanh_missing", np.tanh, lambda x: G, "missing"),
    ("leaky_slope_zero", leaky, lambda x: G * (x > 0), "negative_slope"),
    ("leaky_slope_one", leaky, lambda x: G, "missing"),
]


@pytest.mark.parametrize(
    "forward, dx, pattern", [c[1:] for c in ELEMENTWISE], ids=[c[0] for c in ELEMENTWISE]
)
def test_elementwise_patterns(forward, dx, pattern):
    found = elementwise_diagnoses("act", forward, X, G, dx(X))
    assert found and found[0].kind == "activation_derivative"
    assert found[0].evidence["pattern"] == pattern
    assert found[0].path == "act"


@pytest.mark.parametrize(
    "forward, dx",
    [
        (sigmoid, lambda x: G * sigmoid(x) * (1 - sigmoid(x))),
        (np.tanh, lambda x: G / np.cosh(x) ** 2),
        (leaky, lambda x: G * np.where(x > 0, 1, 0.1)),
    ],
    ids=["sigmoid", "tanh", "leaky"],
)
def test_elementwise_correct_is_silent(forward, dx):
    assert elementwise_diagnoses("act", forward, X, G, dx(X)) == []


def test_negative_slope_evidence_gives_both_slopes():
    top = elementwise_diagnoses("act", leaky, X, G, G * np.where(X > 0, 1, 0.5))[0]
    assert top.evidence["used"] == pytest.approx(0.5)
    assert top.evidence["expected"] == pytest.approx(0.1)


def test_softmax_diagonal_and_healthy():
    s = softmax(X)
    assert (
        rowwise_diagnoses("sm", softmax, X, G, G * s * (1 - s))[0].evidence["pattern"] == "diagonal"
    )
    correct = s * (G - np.sum(G * s, axis=1, keepdims=True))
    assert rowwise_diagnoses("sm", softmax, X, G, correct) == []


def test_dense_parts_both_orientations():
    W, b = RNG.normal(size=(4, 3)), RNG.normal(size=3)
    assert dense_parts({"W": W, "b": b}, X, X @ W + b) == {"W": "W", "b": "b", "transposed": False}
    assert dense_parts({"w": W.T}, X, X @ W)["transposed"] is True
    assert dense_parts({"W": W}, X, np.tanh(X @ W)) is None


def dense_case(n_out=4):
    W, b = RNG.normal(size=(4, n_out)), RNG.normal(size=n_out)
    g = RNG.normal(size=(5, n_out))
    parts = dense_parts({"W": W, "b": b}, X, X @ W + b)
    return W, b, g, parts


def test_dense_correct_is_silent():
    W, b, g, parts = dense_case()
    grads = {"W": X.T @ g, "b": g.sum(0)}
    assert dense_diagnoses("fc", parts, {"W": W, "b": b}, X, g, g @ W.T, grads) == []


@pytest.mark.parametrize(
    "which, kind, path",
    [
        ("dW.T", "transpose", "fc.W"),
        ("db_axis1", "axis", "fc.b"),
        ("db_all", "axis", "fc.b"),
        ("dx=g", "other", "fc.x"),
        ("dx=gW", "transpose", "fc.x"),
    ],
)
def test_dense_planted(which, kind, path):
    W, b, g, parts = dense_case(n_out=4)
    X5 = X[:4]  # batch 4 == n_out, so a wrong-axis db has the right shape
    g = g[:4]
    grads = {"W": X5.T @ g, "b": g.sum(0)}
    dx = g @ W.T
    if which == "dW.T":
        grads["W"] = grads["W"].T
    elif which == "db_axis1":
        grads["b"] = g.sum(axis=1)
    elif which == "db_all":
        grads["b"] = np.full(4, g.sum())
    elif which == "dx=g":
        dx = g
    else:
        dx = g @ W
    found = dense_diagnoses("fc", parts, {"W": W, "b": b}, X5, g, dx, grads)
    assert [(d.kind, d.path) for d in found] == [(kind, path)]


@pytest.mark.parametrize(
    "got, want, dout, kind",
    [
        ((3, 5), (5, 3), (4, 3), "transpose"),
        ((4,), (3,), (4, 3), "axis"),
        ((1, 3), (3,), (4, 3), "axis"),
        ((4, 3), (4, 5), (4, 3), "other"),
    ],
    ids=["transposed", "batch_axis", "keepdims", "dout_shape"],
)
def test_shape_diagnosis(got, want, dout, kind):
    d = shape_diagnosis("p", got, want, dout)
    assert (d.kind, d.path) == (kind, "p")
    assert (d.evidence["shape"], d.evidence["expected"]) == (got, want)
    assert f"`p` has shape {got}; expected {want}" in d.message


class Centering:
    params = {}

    def forward(self, x):
        return x - x.mean(axis=0)

    def backward(self, g):
        return g - g.mean(axis=0)


class RowSum:
    params = {}

    def forward(self, x):
        self.x = x
        return x * 2

    def backward(self, g):
        return np.broadcast_to(g.sum(axis=0), g.shape) * 2


class Tanh:
    params = {}

    def forward(self, x):
        self.a = np.tanh(x)
        return self.a

    def backward(self, g):
        return g * (1 - self.a**2)


def batch_mixing(name, layer, x, g, rng):
    """The batch check of a per-sample layer: its forward first, then its backward."""

    def vjp(only_i):
        layer.forward(np.array(x))
        return layer.backward(only_i)

    found = forward_mixing(layer.forward, x, rng) or backward_mixing(vjp, x, g, rng)
    return None if found is None else mixing_diagnosis(name, found)


def test_batch_mixing_forward_and_backward():
    rng = np.random.default_rng(0)
    d = batch_mixing("bn", Centering(), X, G, rng)
    assert d.kind == "batch_mixing" and d.evidence["where"] == "forward"
    d = batch_mixing("sum", RowSum(), X, G, rng)
    assert d.kind == "batch_mixing" and d.evidence["where"] == "backward"
    assert d.path == "sum" and d.evidence["mixed"]


def test_batch_mixing_silent_when_independent_or_single_sample():
    rng = np.random.default_rng(0)
    assert batch_mixing("tanh", Tanh(), X, G, rng) is None
    assert batch_mixing("bn", Centering(), X[:1], G[:1], rng) is None


def test_unused_inputs_fires_only_when_failures_have_a_zero_numeric():
    from types import SimpleNamespace

    from gradcheck.diagnose.layers import unused_inputs

    def report(numerics):
        failures = [SimpleNamespace(numeric=v, analytic=1.0) for v in numerics]
        return SimpleNamespace(failures=failures)

    (found,) = unused_inputs("pool", report([0.0] * 9 + [0.5]))
    assert (found.kind, found.path, found.evidence["pattern"]) == (
        "other",
        "pool.x",
        "unused_inputs",
    )
    assert unused_inputs("pool", report([0.0] * 5 + [0.5] * 5)) == []
    assert unused_inputs("pool", report([])) == []
