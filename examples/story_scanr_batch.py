"""Story: a batched ``scanr``-style backprop ported from a Haskell question.

The Haskell original folds over the layers from the right, one sample at a time:

    deltas = scanr step lastDelta (zip weights zs)
      where step (w, z) d = (tr w #> d) * sigmoid' z

Ported to numpy and "batched", the step averaged the propagated delta over the batch
(``.mean(axis=0)``, meant for the weight update) before multiplying by sigma'(z): sample
i's gradient now depends on every other sample. The loss still goes down a bit, which is
why nobody noticed. gradcheck's batch-independence check names the layer and the samples.

Run:  python examples/story_scanr_batch.py [--fixed] [--report PATH]
"""

import argparse
from functools import reduce

import numpy as np

from gradcheck.adapters import FunctionPairLayer
from gradcheck.layers import check_layers
from gradcheck.report import RunReport, save_report

TITLE = "a batched scanr-style backprop that mixes samples"


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def sigmoid_prime(z):
    return sigmoid(z) * (1.0 - sigmoid(z))


def scanr(f, initial, xs):
    """Haskell's scanr: [f(x0, f(x1, ... initial)), ..., initial]."""
    return reduce(lambda acc, x: [f(x, acc[0]), *acc], reversed(xs), [initial])


def layer_forward(x, w, b):
    """One sigmoid layer on a batch: rows are samples."""
    z = x @ w + b
    return sigmoid(z), (x, w, z)


def make_layer_backward(fixed):
    def layer_backward(delta_out, cache):
        x, w, z = cache
        delta = delta_out * sigmoid_prime(z)
        dw, db = x.T @ delta, delta.sum(axis=0)
        propagated = delta @ w.T
        if not fixed:
            propagated = np.broadcast_to(propagated.mean(axis=0), propagated.shape)
        return propagated, dw, db

    return layer_backward


def backprop(weights, x, y, fixed):
    """The port: forward with a left fold, deltas with a right fold (scanr)."""
    backward = make_layer_backward(fixed)
    caches, a = [], x
    for w, b in weights:
        a, cache = layer_forward(a, w, b)
        caches.append(cache)
    deltas = scanr(lambda cache, d: backward(d, cache)[0], (a - y) / len(x), caches)
    return [backward(d, cache)[1:] for cache, d in zip(caches, deltas[1:], strict=True)]


def build(sizes, seed=0):
    rng = np.random.default_rng(seed)
    return [(rng.normal(0, 1, (m, n)), np.zeros(n)) for m, n in zip(sizes, sizes[1:], strict=False)]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fixed", action="store_true", help="propagate per sample")
    parser.add_argument("--report", metavar="PATH", help="also write a report (.html/.md/.json)")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(8, 5)), rng.uniform(size=(8, 2))
    weights = build([5, 7, 6, 2])
    backward = make_layer_backward(args.fixed)
    layers = [
        FunctionPairLayer(layer_forward, backward, {"w": w, "b": b}, name=f"layer{i + 1}")
        for i, (w, b) in enumerate(weights)
    ]
    grads = backprop(weights, x, y, args.fixed)
    print("scanr backprop gives", len(grads), "(dw, db) pairs; checking layer by layer...\n")
    result = check_layers(layers, x)
    print(result)
    for d in result.diagnoses[:1]:
        print(f"\ndiagnosis: {d.kind} at {d.path}: {d.message}")
    if args.report:
        save_report(RunReport.from_objects(checks=[result], title=TITLE), args.report)
    print("\nverdict:", "PASSED" if result.passed else "FAILED")
    return 0 if result.passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
