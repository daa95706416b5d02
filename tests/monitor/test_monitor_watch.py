"""`watch(layers)` records what the monitor needs from any layer-protocol stack."""

import numpy as np
import pytest

from gradcheck.errors import InvalidTypeError
from gradcheck.monitor import Monitor, watch


class Linear:
    def __init__(self, n_in, n_out, rng, name=None):
        self.params = {
            "W": rng.standard_normal((n_in, n_out)) / np.sqrt(n_in),
            "b": np.zeros(n_out),
        }
        self.grads = {}
        if name:
            self.name = name

    def forward(self, x):
        self.x = x
        return x @ self.params["W"] + self.params["b"]

    def backward(self, g):
        self.grads = {"W": self.x.T @ g, "b": g.sum(axis=0)}
        return g @ self.params["W"].T


class Relu:
    params, grads = {}, {}

    def forward(self, z):
        self.z = z
        return np.maximum(z, 0)

    def backward(self, g):
        return g * (self.z > 0)


def test_watch_records_activations_preactivations_gradients_params():
    rng = np.random.default_rng(0)
    net = watch([Linear(4, 8, rng, "fc1"), Relu(), Linear(8, 2, rng)])
    x = rng.standard_normal((5, 4))
    out = net.forward(x)
    net.backward(np.ones_like(out))
    assert list(net.activations) == ["fc1", "1:Relu", "2:Linear"]
    assert list(net.preactivations) == ["fc1", "2:Linear"]
    assert list(net.gradients) == ["fc1.W", "fc1.b", "2:Linear.W", "2:Linear.b"]
    assert list(net.params) == list(net.gradients)
    assert net.params["fc1.W"] is net.layers[0].params["W"]  # live references
    np.testing.assert_allclose(net.gradients["2:Linear.b"], [5.0, 5.0])
    assert "fc1" in repr(net)


def test_watched_loop_needs_one_line_and_finds_wrong_sign_update():
    rng = np.random.default_rng(1)
    net, mon = watch([Linear(4, 16, rng, "fc1"), Relu(), Linear(16, 1, rng, "fc2")]), Monitor()
    x, y = rng.standard_normal((32, 4)), rng.standard_normal((32, 1))
    for step in range(12):
        out = net.forward(x)
        loss = float(np.mean((out - y) ** 2))
        net.backward(2 * (out - y) / len(x))
        net.observe_into(mon, step, loss=loss)
        for name, p in net.params.items():
            p += 0.01 * net.gradients[name]  # planted bug: += climbs the loss
    asc = [f for f in mon.findings if f.code == "ascent"]
    assert [(f.name, f.step) for f in asc] == [("fc1.W", 1)]
    record = net.step_record(loss=1.0)
    assert set(record) == {"loss", "activations", "preactivations", "gradients", "params"}


def test_watch_rejects_non_layers():
    with pytest.raises(InvalidTypeError, match=r"`layers\[0\]`"):
        watch([object()])
    with pytest.raises(InvalidTypeError, match="`layers` must be a list"):
        watch(3)


def test_watch_reference_mlp():
    model_mod = pytest.importorskip("gradcheck.nn.model")
    model = model_mod.MLP([6, 12, 12, 3], activation="tanh", init="glorot", seed=0)
    net, mon = watch(model), Monitor()
    rng = np.random.default_rng(0)
    x, labels = rng.standard_normal((16, 6)), rng.integers(0, 3, 16)
    for step in range(3):
        out = net.forward(x)
        dout = np.exp(out) / np.exp(out).sum(axis=1, keepdims=True)
        dout[np.arange(16), labels] -= 1
        net.backward(dout / 16)
        net.observe_into(mon, step, loss=1.0)
    assert list(net.gradients) == list(model.params)
    assert "tanh1" in net.activations and "dense1" in net.preactivations
    assert mon.findings == []
