"""The user's network for the planted-bug tests: a 2-layer tanh MLP written by hand in numpy.

It is written the way people write it when they debug backprop (no gradcheck.nn), so each
test module can copy `mse_grad`, plant one bug in it, and keep this healthy version as its
twin. W1 is square (D == H) so that a transposed dW1 keeps its shape.
"""

import numpy as np

B, D, H, C = 8, 5, 5, 3  # batch, inputs, hidden units, outputs


def make_data(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(B, D))
    t = rng.normal(size=(B, C))
    params = {
        "W1": rng.normal(size=(D, H)) / np.sqrt(D),
        "b1": 0.1 * rng.normal(size=H),  # non-zero, as after a few training steps
        "W2": rng.normal(size=(H, C)) / np.sqrt(H),
        "b2": 0.1 * rng.normal(size=C),
    }
    return x, t, params


def forward(params, x):
    z1 = x @ params["W1"] + params["b1"]
    a1 = np.tanh(z1)
    y = a1 @ params["W2"] + params["b2"]
    return a1, y


def mse_loss(params, x, t, reg=0.0):
    """Mean over the batch of 0.5*||y - t||^2, plus 0.5*reg*||W||^2 on the weights."""
    _, y = forward(params, x)
    data = 0.5 * np.sum((y - t) ** 2) / len(x)
    return data + 0.5 * reg * (np.sum(params["W1"] ** 2) + np.sum(params["W2"] ** 2))


def mse_grad(params, x, t, lam=0.0):
    """The healthy gradient of `mse_loss` (with lam == reg)."""
    a1, y = forward(params, x)
    dy = (y - t) / len(x)
    dz1 = (dy @ params["W2"].T) * (1 - a1**2)
    return {
        "W1": x.T @ dz1 + lam * params["W1"],
        "b1": dz1.sum(axis=0),
        "W2": a1.T @ dy + lam * params["W2"],
        "b2": dy.sum(axis=0),
    }


def problem(grad, *, loss=mse_loss, seed=0, reg=0.0):
    """Return (loss(params), grad(params), params) closures over one fixed batch."""
    x, t, params = make_data(seed)
    return (lambda p: loss(p, x, t, reg)), (lambda p: grad(p, x, t, reg)), params


def top(report):
    """The best diagnosis of a failed report."""
    assert report.diagnoses, str(report)
    return report.diagnoses[0]
