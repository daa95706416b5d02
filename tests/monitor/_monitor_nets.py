"""A tiny hand-written numpy MLP and training loop for the monitor tests.

It follows the reference trainer's protocol: ``observe`` after backward, before the update,
with activations {dense1: z1, act1: a1, dense2: z2, ...}, preactivations {dense_i: z_i},
gradients and params keyed ``dense_i.W`` / ``dense_i.b``.
"""

from functools import lru_cache

import numpy as np

ACTS = {
    "relu": (lambda z: np.maximum(z, 0.0), lambda z, a: (z > 0).astype(z.dtype)),
    "sigmoid": (lambda z: 1.0 / (1.0 + np.exp(-z)), lambda z, a: a * (1.0 - a)),
    "tanh": (np.tanh, lambda z, a: 1.0 - a * a),
}


@lru_cache(maxsize=1)
def digits():
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    return x.astype(np.float64), y


def data(kind="normalised", dtype=np.float64):
    x, y = digits()
    if kind == "normalised":
        x = (x - x.mean(0)) / (x.std(0) + 1e-8)
    elif kind == "raw255":  # pixels scaled to 0..255 like raw MNIST
        x = x * (255.0 / 16.0)
    return x.astype(dtype), y


def init(sizes, *, scheme="he", seed=0, bias=0.0, scale=1.0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    params = {}
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True), start=1):
        std = np.sqrt(2.0 / n_in) if scheme == "he" else np.sqrt(2.0 / (n_in + n_out))
        params[f"dense{i}.W"] = (scale * std * rng.standard_normal((n_in, n_out))).astype(dtype)
        params[f"dense{i}.b"] = np.full(n_out, bias if i < len(sizes) - 1 else 0.0, dtype=dtype)
    return params


def forward(params, x, act):
    f = ACTS[act][0]
    n = len(params) // 2
    acts, pres, h = {}, {}, x
    for i in range(1, n + 1):
        z = h @ params[f"dense{i}.W"] + params[f"dense{i}.b"]
        acts[f"dense{i}"] = pres[f"dense{i}"] = z
        h = z
        if i < n:
            h = f(z)
            acts[f"{act}{i}"] = h
    return acts, pres


def loss_and_grads(params, x, y, act, *, reduction="mean"):
    acts, pres = forward(params, x, act)
    n = len(params) // 2
    logits = acts[f"dense{n}"]
    shifted = logits - logits.max(axis=1, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    rows = np.arange(len(y))
    scale = 1.0 / len(y) if reduction == "mean" else 1.0
    loss = -logp[rows, y].sum() * scale
    d = np.exp(logp)
    d[rows, y] -= 1.0
    d *= scale
    grads = {}
    for i in range(n, 0, -1):
        h = x if i == 1 else acts[f"{act}{i - 1}"]
        grads[f"dense{i}.W"] = h.T @ d
        grads[f"dense{i}.b"] = d.sum(axis=0)
        if i > 1:
            z = pres[f"dense{i - 1}"]
            d = (d @ params[f"dense{i}.W"].T) * ACTS[act][1](z, h)
    grads = {k: grads[k] for k in params}
    return loss, acts, pres, grads


class Optimizer:
    def __init__(self, kind="sgd", lr=0.1, beta=0.9, flip=()):
        self.kind, self.lr, self.beta, self.state, self.t = kind, lr, beta, {}, 0
        self.flip = set(flip)  # parameters updated with the wrong sign (a planted bug)

    def update(self, params, grads):
        self.t += 1
        for k, g in grads.items():
            g = -g if k in self.flip else g
            if self.kind == "sgd":
                params[k] -= self.lr * g
            elif self.kind == "momentum":
                v = self.state[k] = self.beta * self.state.get(k, 0.0) + g
                params[k] -= self.lr * v
            else:  # adam
                m, v = self.state.get(k, (0.0, 0.0))
                m, v = 0.9 * m + 0.1 * g, 0.999 * v + 0.001 * g * g
                self.state[k] = (m, v)
                mh, vh = m / (1 - 0.9**self.t), v / (1 - 0.999**self.t)
                params[k] -= self.lr * mh / (np.sqrt(vh) + 1e-8)


def run(
    monitor,
    *,
    steps=100,
    sizes=(64, 32, 10),
    act="relu",
    scheme="he",
    data_kind="normalised",
    optimizer="sgd",
    lr=0.1,
    batch=64,
    bias=0.0,
    scale=1.0,
    reduction="mean",
    dtype=np.float64,
    seed=0,
    hook=None,
    flip=(),
):
    """Train; `hook(step, loss, acts, pres, grads, params)` may tamper before observe."""
    x, y = data(data_kind, dtype)
    params = init(sizes, scheme=scheme, seed=seed, bias=bias, scale=scale, dtype=dtype)
    opt = Optimizer(optimizer, lr, flip=flip)
    rng = np.random.default_rng(seed)
    for step in range(steps):
        idx = rng.choice(len(x), size=batch, replace=False)
        with np.errstate(all="ignore"):
            loss, acts, pres, grads = loss_and_grads(
                params, x[idx], y[idx], act, reduction=reduction
            )
        if hook is not None:
            loss = hook(step, loss, acts, pres, grads, params)
        monitor.observe(
            step, loss=loss, activations=acts, preactivations=pres, gradients=grads, params=params
        )
        with np.errstate(all="ignore"):
            opt.update(params, grads)
    return monitor
