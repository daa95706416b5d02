"""Hand-written numpy MLPs in the styles people write them, for the monitor's scenarios.

`train(**options)` runs one net on the digits data and observes each step with a Monitor.
Options cover what varies among real programs: the optimizer, the activation, the dtype,
the batch size (1 included), bias shapes ``(n,)``, ``(1, n)`` or ``(n, 1)``, the layout
(``"rows"``: arrays (batch, units), weights (in, out); ``"columns"``: arrays (units, batch),
weights (out, in), Nielsen-style), the data order (shuffled or sequential by class), which
forward arrays are passed, and planted bugs (``bug=``).
"""

from __future__ import annotations

import numpy as np
from _monitor_nets import data

from gradcheck.monitor import Monitor


def _sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # overflow-safe


def _naive_sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


ACTIVATIONS = {  # name -> (f, df(z, a))
    "relu": (lambda z: np.maximum(z, 0), lambda z, a: (z > 0).astype(z.dtype)),
    "leaky": (lambda z: np.where(z > 0, z, 0.01 * z), lambda z, a: np.where(z > 0, 1.0, 0.01)),
    "tanh": (np.tanh, lambda z, a: 1 - a * a),
    "sigmoid": (_sigmoid, lambda z, a: a * (1 - a)),
    "naive_sigmoid": (_naive_sigmoid, lambda z, a: a * (1 - a)),
}


def softmax(z, axis, naive=False):
    e = np.exp(z if naive else z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


class Net:
    """An MLP whose arrays follow `layout`; `bias` is "flat", "row" or "column"."""

    def __init__(self, sizes, act, layout, bias, dtype, seed, bias_value=0.0, scale=1.0):
        rng = np.random.default_rng(seed)
        self.act, self.layout, self.dtype = act, layout, dtype
        self.params = {}
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True), start=1):
            gain = 2.0 if act in ("relu", "leaky") else 1.0
            w = rng.standard_normal((n_in, n_out)) * scale * np.sqrt(gain / n_in)
            shape = {"flat": (n_out,), "row": (1, n_out), "column": (n_out, 1)}[bias]
            b = np.full(shape, bias_value if i < len(sizes) - 1 else 0.0)
            self.params[f"W{i}"] = (w if layout == "rows" else w.T).astype(dtype)
            self.params[f"b{i}"] = b.astype(dtype)
        self.n = len(sizes) - 1

    def _affine(self, i, h):
        w, b = self.params[f"W{i}"], self.params[f"b{i}"]
        if self.layout == "rows":
            return h @ w + b.reshape(1, -1)
        return w @ h + b.reshape(-1, 1)

    def forward(self, x):
        f = ACTIVATIONS[self.act][0]
        hs, zs, h = [x], [], x
        for i in range(1, self.n + 1):
            z = self._affine(i, h)
            zs.append(z)
            h = f(z) if i < self.n else z
            hs.append(h)
        return hs, zs

    def backward(self, hs, zs, dlogits):
        df = ACTIVATIONS[self.act][1]
        grads, d = {}, dlogits
        for i in range(self.n, 0, -1):
            h, b = hs[i - 1], self.params[f"b{i}"]
            if self.layout == "rows":
                grads[f"W{i}"], db = h.T @ d, d.sum(axis=0)
                d = d @ self.params[f"W{i}"].T
            else:
                grads[f"W{i}"], db = d @ h.T, d.sum(axis=1)
                d = self.params[f"W{i}"].T @ d
            grads[f"b{i}"] = db.reshape(b.shape).astype(b.dtype)
            if i > 1:
                d = d * df(zs[i - 2], hs[i - 1])
        return {k: grads[k].astype(self.dtype) for k in self.params}


class Optimizer:
    """SGD, momentum or Adam; `sign=-1` climbs (a planted bug); `accumulate` skips zero_grad."""

    def __init__(self, kind, lr, sign=1.0, accumulate=False):
        self.kind, self.lr, self.sign, self.accumulate = kind, lr, sign, accumulate
        self.state, self.t, self.sums = {}, 0, {}

    def gradients(self, grads):
        if not self.accumulate:
            return grads
        for k, g in grads.items():
            self.sums[k] = self.sums.get(k, 0.0) + g
        return {k: np.asarray(v, dtype=grads[k].dtype) for k, v in self.sums.items()}

    def step(self, params, grads):
        self.t += 1
        for k, g in grads.items():
            if self.kind == "sgd":
                u = g
            elif self.kind == "momentum":
                u = self.state[k] = 0.9 * self.state.get(k, 0.0) + g
            else:
                m, v = self.state.get(k, (0.0, 0.0))
                m, v = 0.9 * m + 0.1 * g, 0.999 * v + 0.001 * g * g
                self.state[k] = (m, v)
                u = (m / (1 - 0.9**self.t)) / (np.sqrt(v / (1 - 0.999**self.t)) + 1e-8)
            params[k] -= (self.sign * self.lr * u).astype(params[k].dtype)


def _batches(n, batch, order, rng, steps, y):
    if order == "sequential":  # the file's order, never shuffled (windows of a stream)
        idx = np.arange(n)
    elif order == "by_class":  # a file sorted by label, never shuffled (a planted bug)
        idx = np.argsort(y, kind="stable")
    else:
        idx = rng.permutation(n)
    position = 0
    for _ in range(steps):
        if position + batch > n:
            position = 0
            idx = idx if order != "shuffled" else rng.permutation(n)
        yield idx[position : position + batch]
        position += batch


def _loss(net, logits, y, reduction, naive):
    axis = 1 if net.layout == "rows" else 0
    p = softmax(logits, axis, naive=naive)
    rows = np.arange(len(y))
    picked = p[rows, y] if axis == 1 else p[y, rows]
    scale = 1.0 if reduction == "sum" else 1.0 / len(y)
    loss = -np.log(picked).sum() * scale
    d = p.copy()
    if axis == 1:
        d[rows, y] -= 1
    else:
        d[y, rows] -= 1
    return float(loss), (d * scale).astype(net.dtype), p


def _arrays(net, hs, zs, p, passed):
    names = [f"{net.act}{i}" for i in range(1, net.n)] + ["probs"]
    acts = dict(zip(names, hs[1:-1] + [p], strict=True))
    pres = {f"z{i}": z for i, z in enumerate(zs, start=1)}
    if passed == "activations":
        return acts, {}
    if passed == "logits":  # only the last pre-activation, under its own name
        return acts, {"logits": zs[-1]}
    return acts, pres


def train(
    *,
    steps=150,
    sizes=(64, 32, 10),
    act="relu",
    optimizer="sgd",
    lr=0.1,
    batch=32,
    dtype=np.float64,
    bias="flat",
    layout="rows",
    order="shuffled",
    passed="all",
    data_kind="normalised",
    reduction="mean",
    naive_softmax=False,
    bias_value=0.0,
    scale=1.0,
    sign=1.0,
    accumulate=False,
    hook=None,
    seed=0,
    monitor=None,
    n_data=None,
):
    """Train one scenario; return its Monitor (`hook(step, arrays)` may tamper with them)."""
    x, y = data(data_kind, dtype)
    x, y = x[:n_data], y[:n_data]
    rng = np.random.default_rng(seed)
    net = Net(sizes, act, layout, bias, dtype, seed, bias_value, scale)
    opt = Optimizer(optimizer, lr, sign, accumulate)
    mon = Monitor() if monitor is None else monitor
    for step, idx in enumerate(_batches(len(x), batch, order, rng, steps, y)):
        xb = x[idx] if layout == "rows" else x[idx].T
        with np.errstate(all="ignore"):
            hs, zs = net.forward(xb)
            loss, dlogits, p = _loss(net, zs[-1], y[idx], reduction, naive_softmax)
            grads = opt.gradients(net.backward(hs, zs, dlogits))
        acts, pres = _arrays(net, hs, zs, p, passed)
        arrays = dict(loss=loss, activations=acts, preactivations=pres, gradients=grads)
        if hook is not None:
            hook(step, arrays)
        mon.observe(step, params=net.params, **arrays)
        with np.errstate(all="ignore"):
            opt.step(net.params, grads)
    return mon
