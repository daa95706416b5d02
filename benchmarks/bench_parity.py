"""Parity with torch gradcheck / gradgradcheck and jax check_grads on Jacobians and Hessians.

Run: ``python benchmarks/bench_parity.py`` (a few seconds; torch and jax are optional and
skipped with a message when absent — never a dependency of gradcheck).

20 functions, each with a correct linearization (VJP, JVP or HVP) and one with a planted
bug (sign, scale, transpose, missing cross terms, one wrong entry, a Hessian that is not
symmetric...). For every checker it prints: bugs detected, false positives on the correct
twins, evaluations of ``f`` (or ``grad``) and wall time; for gradcheck also whether the
first diagnosis names the planted kind. The peers get the same numpy functions wrapped
as custom autograd functions: torch ``gradcheck`` checks a VJP as ``backward``, a JVP as
``jvp`` (forward mode) and an HVP as the ``backward`` of ``grad`` — exactly what
``gradgradcheck`` checks for a loss defined in torch.
"""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import time  # noqa: E402
from typing import NamedTuple  # noqa: E402

import numpy as np  # noqa: E402

import gradcheck  # noqa: E402

RNG = np.random.default_rng(2026)
W24 = RNG.normal(size=(2, 4))
W33 = RNG.normal(size=(3, 3))
A33 = np.array([[2.0, 1.0, 0.5], [1.0, 3.0, -1.0], [0.5, -1.0, 4.0]])
B33 = np.triu(A33)  # a "gradient" B p that is the gradient of nothing
X_LOGIT = RNG.normal(size=(5, 3))
X3, X4 = np.array([0.3, -0.7, 1.1]), np.array([0.2, -0.5, 0.9, 0.4])


class Case(NamedTuple):
    name: str
    check: str  # "vjp", "jvp" or "hvp"
    f: object  # f (vjp, jvp) or grad (hvp), numpy vector -> numpy vector
    good: object
    bad: object
    x: np.ndarray
    kinds: tuple  # the diagnoses that name the planted bug
    bad_f: object = None  # the function of the buggy twin when it differs from f
    bug: str = ""  # what was planted, when no single kind says it


def softmax(z):
    e = np.exp(z - z.max())
    return e / e.sum()


def tanh_vjp(x, g):
    return W24.T @ ((1 - np.tanh(W24 @ x) ** 2) * g)


def tanh_jvp(x, v):
    return (1 - np.tanh(W24 @ x) ** 2) * (W24 @ v)


def normalize(x):
    return x / np.linalg.norm(x)


def normalize_vjp(x, g):
    n = np.linalg.norm(x)
    return (g - normalize(x) * (normalize(x) @ g)) / n


def polar(x):
    return np.array([x[0] * np.cos(x[1]), x[0] * np.sin(x[1])])


def polar_jvp(x, v, wrong=False):
    r, t = x
    j = np.array([[np.cos(t), -r * np.sin(t)], [np.sin(t), r * np.cos(t)]])
    if wrong:
        j[1, 1] = np.cos(t)  # forgot the factor r in one entry
    return j @ v


def rosen_grad(p):
    x, y = p
    return np.array([-2 * (1 - x) - 400 * x * (y - x**2), 200 * (y - x**2)])


def rosen_hvp(p, v, wrong=False):
    x, y = p
    off = -400 * x * (2.0 if wrong else 1.0)
    h = np.array([[2 - 400 * (y - x**2) + 800 * x**2, off], [off, 200.0]])
    return h @ v


def logistic_grad(w):
    p = 1 / (1 + np.exp(-X_LOGIT @ w))
    return X_LOGIT.T @ (p - 0.5)


def logistic_hvp(w, v, wrong=False):
    p = 1 / (1 + np.exp(-X_LOGIT @ w))
    d = p if wrong else p * (1 - p)  # wrong: the derivative of the sigmoid forgotten
    return X_LOGIT.T @ (d * (X_LOGIT @ v))


def pair_grad(p):  # L = 0.5 (a.b)^2 + 0.5 |a|^2 with p = [a, b]
    a, b = p[:2], p[2:]
    s = a @ b
    return np.concatenate([s * b + a, s * a])


def pair_hvp(p, v, blocks_only=False):
    a, b, va, vb = p[:2], p[2:], v[:2], v[2:]
    ha, hb = b * (b @ va) + va, a * (a @ vb)
    if not blocks_only:
        s = a @ b
        ha, hb = ha + s * vb + b * (a @ vb), hb + s * va + a * (b @ va)
    return np.concatenate([ha, hb])


def relu_grad(p):
    g = np.maximum(p, 0.0)
    g[:2] += 0.5 * (p[0] + p[1])
    return g


def relu_hvp(p, v, wrong=False):
    h = np.diag((p > 0).astype(float))
    h[:2, :2] += 0.5
    if wrong:
        h[1, 1] *= 1.5
    return h @ v


def cumsum_jvp(x, v):
    return np.cumsum(v) * np.exp(np.cumsum(x))


def cumsum_vjp(x, g):
    return np.cumsum((g * np.exp(np.cumsum(x)))[::-1])[::-1]


def _exp_cumsum(x):
    return np.exp(np.cumsum(x))


CASES = [
    Case(
        "tanh layer",
        "vjp",
        lambda x: np.tanh(W24 @ x),
        tanh_vjp,
        lambda x, g: -tanh_vjp(x, g),
        X4,
        ("sign",),
    ),
    Case(
        "tanh layer x2",
        "vjp",
        lambda x: np.tanh(W24 @ x),
        tanh_vjp,
        lambda x, g: 2 * tanh_vjp(x, g),
        X4,
        ("scale",),
    ),
    Case(
        "linear",
        "vjp",
        lambda x: W33 @ x,
        lambda x, g: W33.T @ g,
        lambda x, g: W33 @ g,
        X3,
        ("transpose",),
    ),
    Case(
        "softmax",
        "vjp",
        softmax,
        lambda z, g: softmax(z) * (g - softmax(z) @ g),
        lambda z, g: softmax(z) * (1 - softmax(z)) * g,
        X3,
        ("missing_cross_terms",),
    ),
    Case(
        "normalize",
        "vjp",
        normalize,
        normalize_vjp,
        lambda x, g: g / np.linalg.norm(x),
        X4,
        ("missing_cross_terms",),
    ),
    Case(
        "exp 1%",
        "vjp",
        np.exp,
        lambda x, g: np.exp(x) * g,
        lambda x, g: 1.01 * np.exp(x) * g,
        X3,
        ("scale",),
    ),
    Case(
        "exp-cumsum",
        "vjp",
        _exp_cumsum,
        cumsum_vjp,
        lambda x, g: np.cumsum(g * np.exp(np.cumsum(x))),
        X4,
        ("other", "transpose"),
        bug="cumsum reversed",
    ),
    Case(
        "tanh layer",
        "jvp",
        lambda x: np.tanh(W24 @ x),
        tanh_jvp,
        lambda x, v: -tanh_jvp(x, v),
        X4,
        ("sign",),
    ),
    Case(
        "linear",
        "jvp",
        lambda x: W33 @ x,
        lambda x, v: W33 @ v,
        lambda x, v: W33.T @ v,
        X3,
        ("transpose",),
    ),
    Case(
        "softmax",
        "jvp",
        softmax,
        lambda z, v: softmax(z) * (v - softmax(z) @ v),
        lambda z, v: softmax(z) * (1 - softmax(z)) * v,
        X3,
        ("missing_cross_terms",),
    ),
    Case(
        "polar",
        "jvp",
        polar,
        polar_jvp,
        lambda x, v: polar_jvp(x, v, True),
        np.array([1.5, 0.6]),
        ("other", "scale", "sign"),
        bug="one entry",
    ),
    Case(
        "exp-cumsum",
        "jvp",
        _exp_cumsum,
        cumsum_jvp,
        lambda x, v: 0.5 * cumsum_jvp(x, v),
        X4,
        ("scale",),
    ),
    Case(
        "sin x 1e-4",
        "jvp",
        np.sin,
        lambda x, v: np.cos(x) * v,
        lambda x, v: (1 + 1e-4) * np.cos(x) * v,
        X4,
        ("scale",),
    ),
    Case(
        "quadratic+sin",
        "hvp",
        lambda p: A33 @ p + np.sin(p),
        lambda p, v: A33 @ v + np.cos(p) * v,
        lambda p, v: -(A33 @ v + np.cos(p) * v),
        X3,
        ("sign",),
    ),
    Case(
        "rosenbrock",
        "hvp",
        rosen_grad,
        rosen_hvp,
        lambda p, v: rosen_hvp(p, v, True),
        np.array([0.8, 1.1]),
        ("other", "scale", "sign"),
        bug="one pair x2",
    ),
    Case(
        "logistic",
        "hvp",
        logistic_grad,
        logistic_hvp,
        lambda w, v: logistic_hvp(w, v, True),
        X3,
        ("other", "scale", "sign"),
        bug="sigmoid' dropped",
    ),
    Case(
        "pair blocks",
        "hvp",
        pair_grad,
        pair_hvp,
        lambda p, v: pair_hvp(p, v, True),
        np.array([0.5, -1.0, 1.5, 0.25]),
        ("missing_cross_terms", "zero"),
        bug="blocks only",
    ),
    Case(
        "relu corners",
        "hvp",
        relu_grad,
        relu_hvp,
        lambda p, v: relu_hvp(p, v, True),
        np.array([0.0, 0.7, -0.3, 0.0, 1.2]),
        ("scale",),
        bug="one entry x1.5",
    ),
    Case(
        "symmetric quadratic",
        "hvp",
        lambda p: A33 @ p,
        lambda p, v: A33 @ v,
        lambda p, v: np.diag(np.diag(A33)) @ v,
        X3,
        ("missing_cross_terms",),
    ),
    Case(
        "non-conservative grad",
        "hvp",
        lambda p: A33 @ p,
        lambda p, v: A33 @ v,
        lambda p, v: B33 @ v,
        X3,
        ("asymmetric",),
        bad_f=lambda p: B33 @ p,
    ),
]


CHECKS = {"vjp": gradcheck.check_vjp, "jvp": gradcheck.check_jvp, "hvp": gradcheck.check_hvp}


class Outcome(NamedTuple):
    failed: bool
    evaluations: int
    seconds: float
    kind: str = ""


def run_gradcheck(case: Case, f, linear) -> Outcome:
    start = time.perf_counter()
    report = CHECKS[case.check](f, linear, case.x)
    kind = report.diagnoses[0].kind if report.diagnoses else ""
    return Outcome(not report.passed, report.n_evaluations, time.perf_counter() - start, kind)


def _torch_function(torch, case: Case, f, linear, counter: list):
    as_tensor = lambda a: torch.from_numpy(np.array(a, dtype=np.float64))  # noqa: E731

    class Wrapped(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            counter[0] += 1
            ctx.x = x.detach().numpy().copy()
            return as_tensor(f(ctx.x))

        @staticmethod
        def backward(ctx, g):  # a VJP; for an HVP, the VJP of grad (H is symmetric)
            return as_tensor(linear(ctx.x, g.detach().numpy()))

        @staticmethod
        def jvp(ctx, v):
            return as_tensor(linear(ctx.x, v.detach().numpy()))

    return Wrapped.apply


def run_torch(torch, case: Case, f, linear) -> Outcome:
    counter = [0]
    fn = _torch_function(torch, case, f, linear, counter)
    x = torch.tensor(case.x, dtype=torch.float64, requires_grad=True)
    forward = case.check == "jvp"
    options = {"check_forward_ad": forward, "check_backward_ad": not forward}
    start = time.perf_counter()
    try:
        ok = torch.autograd.gradcheck(
            fn,
            (x,),
            raise_exception=False,
            check_undefined_grad=False,
            check_batched_grad=False,
            **options,
        )
    except Exception:  # a peer that cannot run the case counts as not detecting
        ok = True
    return Outcome(not ok, counter[0], time.perf_counter() - start)


def _peers():
    peers = {}
    try:
        import torch

        torch.set_num_threads(1)
        peers["torch"] = lambda case, f, lin: run_torch(torch, case, f, lin)
    except ImportError:
        print("torch: not installed, skipped (pip install torch to compare)")
    try:
        import jax  # noqa: F401
    except ImportError:
        print("jax: not installed, skipped")
    else:
        print("jax: installed, but this benchmark has no jax runner yet, skipped")
    return peers


def _row(case: Case, runners: dict) -> dict:
    out = {}
    for name, run in runners.items():
        good = run(case, case.f, case.good)
        bad = run(case, case.bad_f or case.f, case.bad)
        out[name] = (good, bad)
    return out


def _print_row(case: Case, results: dict) -> None:
    cells = [f"{case.check} {case.name:<22} {case.bug or case.kinds[0]:<19}"]
    for name, (good, bad) in results.items():
        verdict = ("FP " if good.failed else "ok ") + ("caught" if bad.failed else "MISSED")
        kind = f" {bad.kind:<19}" if name == "gradcheck" else ""
        evals = f"{good.evaluations + bad.evaluations:>5}"
        ms = f"{1e3 * (good.seconds + bad.seconds):>7.1f}"
        cells.append(f"{verdict:<10}{kind}{evals}{ms}")
    print(" | ".join(cells))


def _summary(all_results: list) -> None:
    names = all_results[0][1].keys()
    print()
    for name in names:
        pairs = [results[name] for _, results in all_results]
        caught = sum(bad.failed for _, bad in pairs)
        fp = sum(good.failed for good, _ in pairs)
        evals = sum(g.evaluations + b.evaluations for g, b in pairs)
        seconds = sum(g.seconds + b.seconds for g, b in pairs)
        line = (
            f"{name:<9}: caught {caught}/{len(pairs)} planted bugs, false positives "
            f"{fp}/{len(pairs)}, {evals} evaluations, {seconds:.2f} s"
        )
        if name == "gradcheck":
            named = sum(results[name][1].kind in case.kinds for case, results in all_results)
            line += f", first diagnosis names the bug in {named}/{len(pairs)}"
        print(line)


def main() -> None:
    runners = {"gradcheck": run_gradcheck, **_peers()}
    header = ["check function               planted            "]
    for name in runners:
        extra = " diagnosis          " if name == "gradcheck" else ""
        header.append(f"{name:<10}{extra}evals     ms")
    print(" | ".join(header))
    all_results = []
    for case in CASES:
        results = _row(case, runners)
        _print_row(case, results)
        all_results.append((case, results))
    _summary(all_results)


if __name__ == "__main__":
    main()
