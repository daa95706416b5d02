"""Overhead of the default Monitor on a 784-1000-10 training step (batch 128, float64).

The step is the reference trainer's (``gradcheck.nn``: MLP([784, 1000, 10]), softmax
cross-entropy, SGD) when that package is present, else the same step in plain numpy; both
are observed with the trainer's protocol (after backward, before the update; activations of
the activation layers, pre-activations of the dense layers, gradients and parameters).
Unmonitored and monitored steps alternate in the same run; the ratio is that of the
medians. The time spent inside observe() is also reported on its own, and everything is
timed both by the wall clock and by the process's CPU time (less sensitive to other
processes on a busy machine).

Run: python benchmarks/bench_monitor.py [--steps 300] [--plain]
"""

import argparse
import statistics
import time

import numpy as np

from gradcheck.monitor import Monitor

CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}
SIZES = (784, 1000, 10)


def make_data(seed=0, batch=128):
    rng = np.random.default_rng(seed)
    return rng.random((batch * 8, SIZES[0])), rng.integers(0, SIZES[-1], batch * 8)


def plain_stepper(seed=0):
    """The step in plain numpy: returns step(x, y, observer, t)."""
    rng = np.random.default_rng(seed)
    params = {
        "dense1.W": rng.standard_normal(SIZES[:2]) * np.sqrt(2.0 / SIZES[0]),
        "dense1.b": np.zeros(SIZES[1]),
        "dense2.W": rng.standard_normal(SIZES[1:]) * np.sqrt(2.0 / SIZES[1]),
        "dense2.b": np.zeros(SIZES[2]),
    }

    def step(x, y, observer, t, lr=0.01):
        z1 = x @ params["dense1.W"] + params["dense1.b"]
        a1 = np.maximum(z1, 0.0)
        z2 = a1 @ params["dense2.W"] + params["dense2.b"]
        p = np.exp(z2 - z2.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        rows = np.arange(len(y))
        loss = -np.log(p[rows, y]).mean()
        p[rows, y] -= 1.0
        d = p / len(y)
        grads = {"dense2.W": a1.T @ d, "dense2.b": d.sum(axis=0)}
        dz1 = (d @ params["dense2.W"].T) * (z1 > 0)
        grads["dense1.W"], grads["dense1.b"] = x.T @ dz1, dz1.sum(axis=0)
        grads = {k: grads[k] for k in params}
        if observer is not None:
            observer.observe(
                t,
                loss=loss,
                activations={"relu1": a1},
                preactivations={"dense1": z1, "dense2": z2},
                gradients=grads,
                params=params,
            )
        for k in params:
            params[k] -= lr * grads[k]

    return step


def reference_stepper(seed=0):
    """The reference trainer's step (gradcheck.nn), or None when it is not installed."""
    try:
        from gradcheck.nn.losses import get_loss
        from gradcheck.nn.model import MLP
        from gradcheck.nn.optim import get_optimizer
        from gradcheck.nn.train import _step
    except ImportError:
        return None
    model = MLP(list(SIZES), activation="relu", init="he", seed=seed)
    loss, opt = get_loss("cross_entropy"), get_optimizer("sgd", 0.01)

    def step(x, y, observer, t):
        _step(model, loss, opt, x, y, 0.0, observer, t)

    return step


class TimedMonitor:
    """Forwards observe() to a Monitor and records the time spent inside it."""

    def __init__(self, monitor):
        self.monitor, self.seconds = monitor, {name: [] for name in CLOCKS}

    def observe(self, step, **arrays):
        start = {name: clock() for name, clock in CLOCKS.items()}
        self.monitor.observe(step, **arrays)
        for name, clock in CLOCKS.items():
            self.seconds[name].append(clock() - start[name])


def timed_step(step, x, y, t, batch, observer, out):
    lo = (t * batch) % (len(x) - batch)
    start = {name: clock() for name, clock in CLOCKS.items()}
    step(x[lo : lo + batch], y[lo : lo + batch], observer, t)
    for name, clock in CLOCKS.items():
        out[name].append(clock() - start[name])


def main(steps=300, batch=128, plain=False):
    step = None if plain else reference_stepper()
    which = "gradcheck.nn reference step" if step is not None else "plain numpy step"
    step = step or plain_stepper()
    x, y = make_data(batch=batch)
    timed = TimedMonitor(Monitor())
    plain_t, watched = {n: [] for n in CLOCKS}, {n: [] for n in CLOCKS}
    for t in range(5):  # warm up (caches, BLAS threads)
        timed_step(step, x, y, t, batch, None, {n: [] for n in CLOCKS})
    for t in range(5, 5 + 2 * steps, 2):  # interleaved: same conditions for both
        timed_step(step, x, y, t, batch, None, plain_t)
        timed_step(step, x, y, t + 1, batch, timed, watched)
    med = statistics.median
    print(f"bench_monitor: 784-1000-10 MLP, batch 128, float64, default Monitor(), {which}")
    print(f"{steps} interleaved pairs of steps; medians in ms; goal: ratio <= 1.05")
    print(f"{'clock':6s}{'unmonitored':>13s}{'monitored':>11s}{'observe()':>11s}"
          f"{'ratio':>8s}{'1+obs/step':>12s}")  # fmt: skip
    ratios = {}
    for name in CLOCKS:
        p, w, o = med(plain_t[name]), med(watched[name]), med(timed.seconds[name])
        ratios[name] = w / p
        print(
            f"{name:6s}{p * 1e3:13.3f}{w * 1e3:11.3f}{o * 1e3:11.3f}{w / p:8.3f}{1 + o / p:12.3f}"
        )
    findings = [(f.code, f.name, f.severity) for f in timed.monitor.findings]
    print(f"findings: {findings}")
    return ratios


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--plain", action="store_true", help="the plain numpy step")
    args = parser.parse_args()
    main(args.steps, plain=args.plain)
