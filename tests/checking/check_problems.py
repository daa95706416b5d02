"""Small problems with known gradients for the checker's tests (plain numpy, seeded)."""

import numpy as np

ACTS = {
    "tanh": (np.tanh, lambda z, a: 1 - a**2),
    "sigmoid": (lambda z: 1 / (1 + np.exp(-z)), lambda z, a: a * (1 - a)),
    "relu": (lambda z: np.maximum(z, 0), lambda z, a: (z > 0).astype(z.dtype)),
    "leaky_relu": (
        lambda z: np.where(z > 0, z, 0.01 * z),
        lambda z, a: np.where(z > 0, 1.0, 0.01).astype(z.dtype),
    ),
}


def mlp_problem(
    n_in=5, n_hidden=7, n_out=3, batch=4, act="tanh", seed=0, dtype=np.float64, x=None, params=None
):
    """Loss/grad/params of a 2-layer MLP with softmax cross-entropy (mean over batch)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, n_in)).astype(dtype) if x is None else x
    y = rng.integers(0, n_out, len(x))
    if params is None:
        params = {
            "W1": (rng.standard_normal((n_in, n_hidden)) / np.sqrt(n_in)).astype(dtype),
            "b1": (0.1 * rng.standard_normal(n_hidden)).astype(dtype),
            "W2": (rng.standard_normal((n_hidden, n_out)) / np.sqrt(n_hidden)).astype(dtype),
            "b2": (0.1 * rng.standard_normal(n_out)).astype(dtype),
        }
    f, df = ACTS[act]
    rows = np.arange(len(x))

    def forward(p):
        z1 = x @ p["W1"] + p["b1"]
        a1 = f(z1)
        z = a1 @ p["W2"] + p["b2"]
        z = z - z.max(axis=1, keepdims=True)
        return z1, a1, z - np.log(np.exp(z).sum(axis=1, keepdims=True))

    def loss(p):
        return -forward(p)[2][rows, y].mean()

    def grad(p):
        z1, a1, logp = forward(p)
        dz = np.exp(logp)
        dz[rows, y] -= 1
        dz /= len(x)
        dz1 = dz @ p["W2"].T * df(z1, a1)
        return {"W1": x.T @ dz1, "b1": dz1.sum(0), "W2": a1.T @ dz, "b2": dz.sum(0)}

    return loss, grad, params


def planted(grad, path, index, factor):
    """Return grad with entry `index` of `path` multiplied by `factor`."""

    def bad(p):
        g = grad(p)
        g[path] = np.array(g[path], copy=True)
        g[path][index] *= factor
        return g

    return bad


def largest_index(grad, params, path):
    g = grad(params)[path]
    return tuple(int(i) for i in np.unravel_index(np.argmax(np.abs(g)), g.shape))
