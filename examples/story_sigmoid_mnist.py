"""Stories (a) and (c): a hand-written sigmoid net on MNIST that gives NaN, stays at 7% error,
and whose gradient check disagrees.

The user's net is written in the style of the MNIST question: one flat parameter vector
``W`` unpacked into ``Wl1, bl1, Wl2, bl2``, a sigmoid hidden layer (1000 units on MNIST;
20 here, on the 8x8 digits, so that it runs in a second: the bugs do not depend on size),
sigmoid outputs and a squared-error cost with L2 regularization. Three bugs:

1. ``sigmoid_prime`` is applied to the activation ``a`` instead of ``z`` (the cache holds ``a``);
2. the output delta lacks the output sigmoid's derivative (``delta2 = a2 - y``);
3. the cost has ``0.5 * reg * W**2`` but the gradient adds ``2 * reg * W`` (not ``reg * W``).

gradcheck finds them in two steps: layer by layer (the user's layer functions wrapped
with FunctionPairLayer) locates bugs 1 and 2; once those are fixed the whole-network check
over the flat vector (FlatVectorNetwork) reports the regularization mismatch per unpacked
parameter.

Run:  python examples/story_sigmoid_mnist.py [--fixed] [--report PATH]
"""

import argparse

import numpy as np

from gradcheck.adapters import FlatVectorNetwork, FunctionPairLayer
from gradcheck.layers import check_layers
from gradcheck.report import RunReport, save_report

TITLE = "stories (a) and (c): the sigmoid MNIST net"

N_IN, N_HIDDEN, N_OUT, REG = 64, 20, 10, 1e-2
SPEC = [
    ("Wl1", (N_IN, N_HIDDEN)),
    ("bl1", (N_HIDDEN,)),
    ("Wl2", (N_HIDDEN, N_OUT)),
    ("bl2", (N_OUT,)),
]
ALL_BUGS = {"sigmoid_prime_of_a", "no_output_derivative", "regularization"}


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def sigmoid_prime(z):
    return sigmoid(z) * (1.0 - sigmoid(z))


def unpack(W):
    Wl1 = W[: N_IN * N_HIDDEN].reshape(N_IN, N_HIDDEN)
    bl1 = W[N_IN * N_HIDDEN : N_IN * N_HIDDEN + N_HIDDEN]
    Wl2 = W[N_IN * N_HIDDEN + N_HIDDEN : -N_OUT].reshape(N_HIDDEN, N_OUT)
    bl2 = W[-N_OUT:]
    return Wl1, bl1, Wl2, bl2


# -- the user's layer functions (course style: forward -> (out, cache)) ---------------------
def affine_forward(x, w, b):
    return x @ w + b, (x, w)


def affine_backward(dout, cache):
    x, w = cache
    return dout @ w.T, x.T @ dout, dout.sum(axis=0)


def make_sigmoid_layer(bugs, output=False):
    def sigmoid_forward(z):
        a = sigmoid(z)
        return a, (z, a)

    def sigmoid_backward(da, cache):
        z, a = cache
        if output and "no_output_derivative" in bugs:
            return (da,)  # "the sigmoid is folded into the cost"
        if "sigmoid_prime_of_a" in bugs:
            return (da * sigmoid_prime(a),)  # BUG: the activation, not z
        return (da * sigmoid_prime(z),)

    return sigmoid_forward, sigmoid_backward


def cost(W, X, Y):
    Wl1, bl1, Wl2, bl2 = unpack(W)
    a2 = sigmoid(sigmoid(X @ Wl1 + bl1) @ Wl2 + bl2)
    return 0.5 * np.sum((a2 - Y) ** 2) / len(X) + 0.5 * REG * (np.sum(Wl1**2) + np.sum(Wl2**2))


def make_grad(bugs):
    hidden, output = make_sigmoid_layer(bugs), make_sigmoid_layer(bugs, output=True)

    def grad(W, X, Y):
        Wl1, bl1, Wl2, bl2 = unpack(W)
        z1, c1 = affine_forward(X, Wl1, bl1)
        a1, s1 = hidden[0](z1)
        z2, c2 = affine_forward(a1, Wl2, bl2)
        a2, s2 = output[0](z2)
        (delta2,) = output[1]((a2 - Y) / len(X), s2)
        da1, dWl2, dbl2 = affine_backward(delta2, c2)
        (delta1,) = hidden[1](da1, s1)
        _, dWl1, dbl1 = affine_backward(delta1, c1)
        k = 2 * REG if "regularization" in bugs else REG
        return np.concatenate([(dWl1 + k * Wl1).ravel(), dbl1, (dWl2 + k * Wl2).ravel(), dbl2])

    return grad


def user_layers(W, bugs):
    Wl1, bl1, Wl2, bl2 = (np.array(p) for p in unpack(W))
    return [
        FunctionPairLayer(
            affine_forward, affine_backward, {"Wl1": Wl1, "bl1": bl1}, name="affine1"
        ),
        FunctionPairLayer(*make_sigmoid_layer(bugs), name="sigmoid1"),
        FunctionPairLayer(
            affine_forward, affine_backward, {"Wl2": Wl2, "bl2": bl2}, name="affine2"
        ),
        FunctionPairLayer(*make_sigmoid_layer(bugs, output=True), name="sigmoid_out"),
    ]


def load_data(n=24, seed=0):
    from sklearn.datasets import load_digits

    digits = load_digits()
    rows = np.random.default_rng(seed).choice(len(digits.target), n, replace=False)
    return digits.data[rows] / 16.0, np.eye(N_OUT)[digits.target[rows]]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fixed", action="store_true", help="run the fixed twin")
    parser.add_argument("--report", metavar="PATH", help="also write a report (.html/.md/.json)")
    args = parser.parse_args(argv)
    bugs = set() if args.fixed else set(ALL_BUGS)
    X, Y = load_data()
    W = np.random.default_rng(0).normal(0, 0.3, sum(int(np.prod(s)) for _, s in SPEC))

    print("== step 1: layer by layer, the user's layer functions ==")
    result = check_layers(user_layers(W, bugs), X)
    print(result)
    for d in result.diagnoses:
        if d.kind == "activation_derivative":
            print(f"diagnosis: {d.kind} at {d.path}: {d.message}")

    print("\n== step 2: the whole network over the flat W, layer bugs fixed ==")
    bugs -= {"sigmoid_prime_of_a", "no_output_derivative"}
    net = FlatVectorNetwork(lambda w: cost(w, X, Y), lambda w: make_grad(bugs)(w, X, Y), W, SPEC)
    report = net.check()
    print(report)
    for d in report.diagnoses[:1]:
        print(f"diagnosis: {d.kind} at {d.path or 'every parameter'}: {d.message}")
    passed = result.passed and report.passed
    if args.report:
        save_report(RunReport.from_objects(checks=[result, report], title=TITLE), args.report)
    print("\nverdict:", "PASSED" if passed else "FAILED")
    return 0 if passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
