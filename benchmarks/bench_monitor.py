"""Overhead of the default Monitor on two training steps, measured against the bare step.

Goals (issue 13), at the default settings (every array scanned in full for NaN / Inf at
every step, the other statistics on the default schedule's steps):

- ``784-1000-10``, batch 128, float64: monitored / bare <= 1.05;
- ``64-64-10`` (2 layers, 64 hidden units), batch 32, float64: monitored / bare <= 1.25.

A goal below the *floor* (see below) cannot be met by any monitor that reads every array at
every step on the machine at hand: the verdict then says "floor above goal".

The step is the reference trainer's (``gradcheck.nn``: MLP, softmax cross-entropy, SGD)
when that package is present, else the same step in plain numpy (``--plain``); both are
observed with the trainer's protocol (after backward, before the update; activations of the
activation layers, pre-activations of the dense layers, gradients and parameters).
Unmonitored and monitored steps alternate in the same run; the ratio is that of the
medians over whole cycles of the schedule (so the steps with full statistics count at their
share). Two more kinds of step share the rotation: *floor* steps, observed by an observer
that only reads every array once (one numpy dot product each: the least a full NaN / Inf
scan can cost here, so the floor ratio is the best any monitor could reach on this
machine), and *timed* steps, whose second monitor's observe() is timed on its own (the
timer's clocks stay out of the ratio). Everything is timed both by the wall clock and by
the process's CPU time (less sensitive to other processes on a busy machine).

Run: python benchmarks/bench_monitor.py [--scale 1.0] [--plain] [--from-step 1600]

The default schedule details every step for the first 10 calls, then every 10 steps up to
step 200, 20 up to 400, 40 up to 800, 80 up to 1600, then 100. The goals are about a long
run, which spends nearly all its steps past 1600: the monitored steps are numbered from
1600 (after 20 warm-up calls, which include the dense start), so every cycle of 100 steps
holds one detailed step, as in a long run. The early phase costs more (at its start, ten
detailed steps per 100): ``--from-step 20`` measures it.
"""

import argparse
import statistics
import time

import numpy as np

from gradcheck.monitor import Monitor

CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}
# name -> (layer sizes, batch, goal for the monitored / bare ratio, steps of each kind)
NETS = {
    "784-1000-10": ((784, 1000, 10), 128, 1.05, 500),
    "64-64-10": ((64, 64, 10), 32, 1.25, 5000),
}


def make_data(sizes, batch, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((batch * 8, sizes[0])), rng.integers(0, sizes[-1], batch * 8)


def plain_stepper(sizes, seed=0):
    """The step in plain numpy: returns step(x, y, observer, t)."""
    rng = np.random.default_rng(seed)
    params = {
        "dense1.W": rng.standard_normal(sizes[:2]) * np.sqrt(2.0 / sizes[0]),
        "dense1.b": np.zeros(sizes[1]),
        "dense2.W": rng.standard_normal(sizes[1:]) * np.sqrt(2.0 / sizes[1]),
        "dense2.b": np.zeros(sizes[2]),
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


def reference_stepper(sizes, seed=0):
    """The reference trainer's step (gradcheck.nn), or None when it is not installed."""
    try:
        from gradcheck.nn.losses import get_loss
        from gradcheck.nn.model import MLP
        from gradcheck.nn.optim import get_optimizer
        from gradcheck.nn.training import _step
    except ImportError:
        return None
    model = MLP(list(sizes), activation="relu", init="he", seed=seed)
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


class FloorObserver:
    """The least a full NaN / Inf scan costs: one BLAS dot product per array, nothing else.

    Its steps, in the same rotation, measure what reading every array once costs on this
    machine (memory traffic on a large net, the per-call cost on a small one): the
    monitor's ratio cannot go below this floor. It makes the monitor's calls: BLAS ``ddot``
    through scipy for arrays up to `gradcheck.monitor.scan.SMALL` entries (the cheapest
    call there is), numpy's dot (the training step's BLAS threads) for larger ones.
    """

    def __init__(self):
        from scipy.linalg.blas import ddot

        from gradcheck.monitor.scan import SMALL

        self.ddot, self.small = ddot, SMALL

    def observe(self, step, **arrays):
        for kind in ("activations", "preactivations", "gradients", "params"):
            for value in arrays.get(kind, {}).values():
                flat = value.ravel()
                self.ddot(flat, flat) if flat.size <= self.small else flat.dot(flat)


def timed_step(step, x, y, t, batch, observer, out):
    lo = (t * batch) % (len(x) - batch)
    start = {name: clock() for name, clock in CLOCKS.items()}
    step(x[lo : lo + batch], y[lo : lo + batch], observer, t)
    for name, clock in CLOCKS.items():
        out[name].append(clock() - start[name])


def _stepper(sizes, plain):
    return (None if plain else reference_stepper(sizes)) or plain_stepper(sizes)


def measure(name, steps, plain, first=1600):
    """Time bare and monitored steps of one net, interleaved; return the medians (seconds).

    Four kinds of step alternate, each training its own copy of the net: bare, monitored
    (a plain `Monitor`: the ratio), floor (`FloorObserver`) and timed (another `Monitor`
    inside `TimedMonitor`, whose clocks would otherwise count as the monitor's cost: it
    reports the time spent inside observe()).
    """
    sizes, batch = NETS[name][:2]
    which = "plain numpy step" if plain or reference_stepper(sizes) is None else None
    which = which or "gradcheck.nn reference step"
    x, y = make_data(sizes, batch)
    monitor, timed, floor = Monitor(), TimedMonitor(Monitor()), FloorObserver()
    every = int(monitor.thresholds["detail_every"])
    observers = {"bare": None, "monitored": monitor, "floor": floor, "timed": timed}
    # one net per kind of step, from the same seed: each monitor sees a real training run
    # (consecutive updates), and every kind of step does the same work
    steps_of = {kind: _stepper(sizes, plain) for kind in observers}
    cycles = {kind: {n: [] for n in CLOCKS} for kind in ("bare", "monitored", "floor")}
    for t in range(first - 20, first):  # warm up (caches, BLAS threads), the dense start
        for kind, observer in observers.items():
            timed_step(steps_of[kind], x, y, t, batch, observer, {n: [] for n in CLOCKS})
    t = first
    for _ in range(steps // every):  # whole cycles of the schedule, interleaved
        cycle = {kind: {n: 0.0 for n in CLOCKS} for kind in cycles}
        for _ in range(every):
            for kind, observer in observers.items():
                times = {n: [] for n in CLOCKS}
                timed_step(steps_of[kind], x, y, t, batch, observer, times)
                for n in CLOCKS:
                    if kind in cycle:
                        cycle[kind][n] += times[n][0] / every
            t += 1
        for kind in cycles:
            for n in CLOCKS:
                cycles[kind][n].append(cycle[kind][n])
    return which, cycles, timed


def main(scale=1.0, plain=False, first=1600):
    med = statistics.median
    ratios = {}
    for name, (_, batch, goal, n_steps) in NETS.items():
        steps = max(int(n_steps * scale), 100)
        which, cycles, timed = measure(name, steps, plain, first)
        print(f"bench_monitor: {name} MLP, batch {batch}, float64, default Monitor(), {which}")
        print(
            f"{steps} interleaved steps of each kind from step {first}; medians of schedule "
            f"cycles in ms; goal: ratio <= {goal}"
        )
        print(
            f"{'clock':6s}{'bare':>9s}{'monitored':>11s}{'observe()':>11s}{'ratio':>8s}"
            f"{'floor':>9s}{'floor ratio':>13s}"
        )
        for clock in CLOCKS:
            b, w, f = (med(cycles[kind][clock]) for kind in ("bare", "monitored", "floor"))
            o = statistics.mean(timed.seconds[clock][20:])  # per monitored step
            ratios[(name, clock)] = w / b
            verdict = "ok" if w / b <= goal else "ABOVE GOAL"
            if f / b > goal:  # no monitor that reads every array can meet it here
                verdict += " (floor above goal)"
            print(
                f"{clock:6s}{b * 1e3:9.3f}{w * 1e3:11.3f}{o * 1e3:11.3f}{w / b:8.3f}"
                f"{f * 1e3:9.3f}{f / b:13.3f}  {verdict}"
            )
        above = {c: med(cycles["monitored"][c]) - med(cycles["floor"][c]) for c in CLOCKS}
        print(
            "monitor above its floor: "
            + ", ".join(f"{clock} {us * 1e6:.0f} us" for clock, us in above.items())
            + " per step (bookkeeping, detectors, statistics at scheduled steps)"
        )
        findings = [(f.code, f.name, f.severity) for f in timed.monitor.findings]
        print(f"findings: {findings}\n")
    return ratios


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="x the default numbers of steps")
    parser.add_argument("--plain", action="store_true", help="the plain numpy step")
    parser.add_argument(
        "--from-step", type=int, default=1600, help="number of the first monitored step (>= 20)"
    )
    args = parser.parse_args()
    main(args.scale, plain=args.plain, first=max(args.from_step, 20))
