"""Story (b): "My numpy ReLU net's cost grows to infinity."

The user's class prints the MEAN squared error, but its backprop returns the gradient of
the SUM over the data set (no ``/ n``): with 2,000 samples every step is 2,000 times too
long and the cost overflows to inf within a few steps. (The net also has no bias: each ReLU
can only cut through the origin, and one that dies never comes back.) gradcheck sees the
factor between the gradient and the cost and names it: the batch size.

The fix: divide the gradient by the number of samples (and give the layers a bias).

Run:  python examples/story_relu_cost_sum.py [--fixed] [--report PATH]
"""

import argparse

import numpy as np

from gradcheck import check_gradient
from gradcheck.monitor import Monitor
from gradcheck.report import RunReport, save_report

TITLE = "story (b): a ReLU net whose cost grows to infinity"


class ReluNet:
    """Two layers, ReLU hidden units, linear output; the user's own class."""

    def __init__(self, n_in, n_hidden, n_out, *, bias, seed=0):
        rng = np.random.default_rng(seed)
        self.params = {
            "W1": rng.normal(0, np.sqrt(2 / n_in), (n_in, n_hidden)),
            "W2": rng.normal(0, np.sqrt(2 / n_hidden), (n_hidden, n_out)),
        }
        if bias:
            self.params.update(b1=np.full(n_hidden, 0.1), b2=np.zeros(n_out))

    def forward(self, p, X):
        self.z1 = X @ p["W1"] + p.get("b1", 0.0)
        self.a1 = np.maximum(self.z1, 0.0)
        return self.a1 @ p["W2"] + p.get("b2", 0.0)

    def cost(self, p, X, Y):
        return 0.5 * np.mean(np.sum((self.forward(p, X) - Y) ** 2, axis=1))

    def gradient(self, p, X, Y, *, fixed):
        delta2 = self.forward(p, X) - Y
        if fixed:
            delta2 = delta2 / len(X)  # the fix: the cost is a mean, so is its gradient
        delta1 = (delta2 @ p["W2"].T) * (self.z1 > 0)
        grads = {"W1": X.T @ delta1, "W2": self.a1.T @ delta2}
        if "b1" in p:
            grads.update(b1=delta1.sum(axis=0), b2=delta2.sum(axis=0))
        return grads


def train(net, X, Y, *, fixed, lr=0.05, steps=30, monitor=None):
    p = {k: v.copy() for k, v in net.params.items()}
    costs = []
    with np.errstate(all="ignore"):
        for step in range(steps):
            costs.append(net.cost(p, X, Y))
            grads = net.gradient(p, X, Y, fixed=fixed)
            if monitor is not None:  # one line watches the user's own loop
                monitor.observe(
                    step,
                    loss=costs[-1],
                    activations={"relu": net.a1},
                    preactivations={"z1": net.z1},
                    gradients=grads,
                    params=p,
                )
            for k, g in grads.items():
                p[k] -= lr * g
    return costs


def make_data(n, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 6))
    Y = np.sin(X[:, :2]) + 0.1 * rng.normal(size=(n, 2))
    return X, Y


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fixed", action="store_true", help="mean gradient and a bias")
    parser.add_argument("--report", metavar="PATH", help="also write a report (.html/.md/.json)")
    args = parser.parse_args(argv)
    X, Y = make_data(2000)
    net = ReluNet(6, 20, 2, bias=args.fixed)
    monitor = Monitor()
    costs = train(net, X, Y, fixed=args.fixed, monitor=monitor)
    shown = ", ".join(f"{c:.3g}" for c in costs[:6])
    print(f"training on {len(X)} samples: cost {shown}, ... {costs[-1]:.3g}", end="")
    print(f" after {len(costs)} steps\n")
    Xs, Ys = X[:64], Y[:64]  # a batch of 64 is enough to check the gradient
    report = check_gradient(
        lambda p: net.cost(p, Xs, Ys),
        lambda p: net.gradient(p, Xs, Ys, fixed=args.fixed),
        net.params,
        batch_size=len(Xs),
    )
    print(report)
    for d in report.diagnoses[:1]:
        print(f"\ndiagnosis: {d.kind} at {d.path or 'every parameter'}: {d.message}")
        print(f"evidence: {d.evidence}")
    print()
    for finding in monitor.findings[:3]:
        print(f"monitor: step {finding.step} {finding.code} in `{finding.name}`: {finding.message}")
    if args.report:
        save_report(
            RunReport.from_objects(checks=[report], monitor=monitor, title=TITLE), args.report
        )
    print("\nverdict:", "PASSED" if report.passed else "FAILED")
    return 0 if report.passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
