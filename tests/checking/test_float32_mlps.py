"""Issue 10 acceptance: 20 random float32 MLPs whose loss returns a Python float.

The correct gradient is never failed; a sign flip of one parameter is always caught and
diagnosed as `sign`.
"""

import numpy as np
import pytest

from gradcheck.checking.gradient import check_gradient


def mlp32(seed):
    rng = np.random.default_rng(seed)
    n_in, n_hidden, n_out, batch = rng.integers(2, 6), rng.integers(2, 8), rng.integers(1, 4), 5
    x = rng.normal(size=(batch, n_in)).astype(np.float32)
    y = rng.normal(size=(batch, n_out)).astype(np.float32)
    params = {
        "W1": (rng.normal(size=(n_in, n_hidden)) / np.sqrt(n_in)).astype(np.float32),
        "b1": (0.1 * rng.normal(size=n_hidden)).astype(np.float32),
        "W2": (rng.normal(size=(n_hidden, n_out)) / np.sqrt(n_hidden)).astype(np.float32),
    }

    def forward(p):
        p = {k: np.asarray(v, dtype=np.float32) for k, v in p.items()}
        h = np.tanh(x @ p["W1"] + p["b1"])
        return p, h, h @ p["W2"] - y

    def loss(p):
        return float(0.5 * np.mean(np.sum(forward(p)[2] ** 2, axis=1)))  # like tensor.item()

    def grad(p):
        p, h, r = forward(p)
        dr = r / batch
        dh = dr @ p["W2"].T * (1 - h**2)
        return {"W1": x.T @ dh, "b1": dh.sum(0), "W2": h.T @ dr}

    return loss, grad, params


@pytest.mark.slow
def test_float32_mlps_returning_python_floats():
    failed_correct, caught = 0, 0
    for seed in range(20):
        loss, grad, params = mlp32(seed)
        report = check_gradient(loss, grad, params)
        failed_correct += report.status == "failed"
        flipped = lambda p, g=grad: {k: (-v if k == "W2" else v) for k, v in g(p).items()}  # noqa: E731
        bad = check_gradient(loss, flipped, params)
        caught += (not bad.passed) and bool(bad.diagnoses) and bad.diagnoses[0].kind == "sign"
    assert failed_correct == 0
    assert caught == 20
