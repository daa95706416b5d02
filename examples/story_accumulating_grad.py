"""Story (d): "Why do I need zero_grad()?"

A small numpy net written PyTorch-style: ``backward`` ADDS into ``.dW``/``.db`` (so several
losses can contribute), and the training loop is expected to call ``zero_grad()`` first.
The user's gradient function forgot it, so every call returns the sum of all the previous
gradients. gradcheck calls the gradient twice at the same point and says so.

Run:  python examples/story_accumulating_grad.py [--fixed] [--report PATH]
"""

import argparse

import numpy as np

from gradcheck import check_gradient
from gradcheck.layers import check_layers
from gradcheck.report import RunReport, save_report

TITLE = "story (d): gradients that accumulate across calls"


class Linear:
    """The user's layer: gradients accumulate, like torch's .grad."""

    def __init__(self, n_in, n_out, rng, name):
        self.name = name
        self.params = {"W": rng.normal(0, 1 / np.sqrt(n_in), (n_in, n_out)), "b": np.zeros(n_out)}
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}

    def forward(self, x):
        self.x = x
        return x @ self.params["W"] + self.params["b"]

    def backward(self, dout):
        self.grads["W"] += self.x.T @ dout  # += on purpose: accumulate, like autograd
        self.grads["b"] += dout.sum(axis=0)
        return dout @ self.params["W"].T

    def zero_grad(self):
        for g in self.grads.values():
            g[...] = 0.0


class Tanh:
    name = "tanh"
    params = {}
    grads = {}

    def forward(self, x):
        self.a = np.tanh(x)
        return self.a

    def backward(self, dout):
        return dout * (1 - self.a**2)

    def zero_grad(self):
        pass


def build(seed=0):
    rng = np.random.default_rng(seed)
    return [Linear(8, 16, rng, "fc1"), Tanh(), Linear(16, 3, rng, "fc2")]


def loss_and_grad(layers, x, y, *, fixed):
    """Mean squared error and its gradient, as the user wrote them."""

    def loss(params):
        for layer in layers:
            for key in layer.params:
                layer.params[key][...] = params[f"{layer.name}.{key}"]
        out = x
        for layer in layers:
            out = layer.forward(out)
        return 0.5 * np.mean(np.sum((out - y) ** 2, axis=1))

    def grad(params):
        loss(params)
        if fixed:
            for layer in layers:
                layer.zero_grad()  # the fix: start every gradient from zero
        out = x
        for layer in layers:
            out = layer.forward(out)
        dout = (out - y) / len(x)
        for layer in reversed(layers):
            dout = layer.backward(dout)
        return {
            f"{layer.name}.{k}": layer.grads[k].copy() for layer in layers for k in layer.params
        }

    params = {f"{layer.name}.{k}": v.copy() for layer in layers for k, v in layer.params.items()}
    return loss, grad, params


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fixed", action="store_true", help="call zero_grad() first")
    parser.add_argument("--report", metavar="PATH", help="also write a report (.html/.md/.json)")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(10, 8)), rng.normal(size=(10, 3))
    layers = build()
    loss, grad, params = loss_and_grad(layers, x, y, fixed=args.fixed)
    report = check_gradient(loss, grad, params)
    checks = [report]
    print("== whole network ==")
    print(report)
    for d in report.diagnoses[:1]:
        print(f"diagnosis: {d.kind} at {d.path}: {d.message}")
    if not args.fixed:
        print("\n== layer by layer (backward called twice on the same input) ==")
        result = check_layers(build(), x)
        checks.append(result)
        print(result)
        for d in result.diagnoses[:1]:
            print(f"diagnosis: {d.kind} at {d.path}: {d.message}")
    if args.report:
        save_report(RunReport.from_objects(checks=checks, title=TITLE), args.report)
    print("\nverdict:", "PASSED" if report.passed else "FAILED")
    return 0 if report.passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
