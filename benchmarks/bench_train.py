"""One training step of a 784-1000-10 MLP against the matrix products that step needs.

Run: python benchmarks/bench_train.py [--repeat N] [--threads N]

The step is forward, softmax cross-entropy value and gradient, backward (no input
gradient for the first layer) and an SGD update, batch 128. The reference is the five
matrix products of that step with the same shapes and dtype: forward ``x @ W1``, ``h @ W2``;
backward ``g2 @ W2.T``, ``x.T @ g1``, ``h.T @ g2``. Both are timed in the same run,
interleaved, and the median over many repeats is reported. Goal: ratio <= 1.3.
"fwd+bwd" is the same step without the SGD update (which reads and writes all 795k
parameters and their gradients: memory-bound work that no matrix product accounts for).

The elementwise work (bias, relu, loss, update) runs on one core while BLAS may use
several, so the ratio depends on the BLAS thread count; ``--threads`` pins it (through
threadpoolctl) and the table header states it. Timings are meaningless on a busy machine.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import time

import numpy as np

from gradcheck.nn.losses import get_loss
from gradcheck.nn.model import MLP
from gradcheck.nn.optim import get_optimizer

SIZES = (784, 1000, 10)
BATCH = 128
WIDTHS = (8, 10, 9, 6, 13)


def make_step(dtype, update: bool = True):
    rng = np.random.default_rng(0)
    model = MLP(list(SIZES), activation="relu", dtype=dtype, seed=0)
    loss = get_loss("cross_entropy")
    opt = get_optimizer("sgd", lr=0.01)
    x = rng.random((BATCH, SIZES[0])).astype(dtype)
    y = rng.integers(0, SIZES[-1], size=BATCH)

    def step():
        out = model.forward(x)
        _, dout = loss.value_and_grad(out, y)
        model.backward(dout, input_grad=False)
        if update:
            opt.step(model.params, model.grads)

    return step


def make_matmuls(dtype):
    rng = np.random.default_rng(1)
    x = rng.random((BATCH, SIZES[0])).astype(dtype)
    W1 = rng.random((SIZES[0], SIZES[1])).astype(dtype)
    W2 = rng.random((SIZES[1], SIZES[2])).astype(dtype)
    h = rng.random((BATCH, SIZES[1])).astype(dtype)
    g1 = rng.random((BATCH, SIZES[1])).astype(dtype)
    g2 = rng.random((BATCH, SIZES[2])).astype(dtype)

    def matmuls():
        x @ W1
        h @ W2
        g2 @ W2.T
        x.T @ g1
        h.T @ g2

    return matmuls


def timed(fn, number: int) -> float:
    start = time.perf_counter()
    for _ in range(number):
        fn()
    return (time.perf_counter() - start) / number


def measure(dtype, repeat: int, number: int) -> dict[str, float]:
    """Return the median seconds of the step, the step without update, and the matmuls."""
    fns = {
        "step": make_step(dtype),
        "fwd_bwd": make_step(dtype, update=False),
        "matmul": make_matmuls(dtype),
    }
    for fn in fns.values():  # warm up caches, allocator and optimizer state
        for _ in range(20):
            fn()
    times = {name: [] for name in fns}
    for _ in range(repeat):  # interleaved so all see the same machine state
        for name, fn in fns.items():
            times[name].append(timed(fn, number))
    return {name: statistics.median(values) for name, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=41)
    parser.add_argument("--number", type=int, default=10)
    parser.add_argument("--threads", type=int, default=None, help="BLAS threads (default: all)")
    args = parser.parse_args()
    with blas_threads(args.threads) as threads:
        print(f"784-1000-10 MLP, relu, softmax cross-entropy, SGD, batch {BATCH}")
        print(f"median of {args.repeat} repeats x {args.number} calls; BLAS threads: {threads}")
        table(args)


@contextlib.contextmanager
def blas_threads(n):
    """Limit BLAS to `n` threads when threadpoolctl is available; yield the counts in use."""
    try:
        from threadpoolctl import threadpool_info, threadpool_limits
    except ImportError:
        yield "unknown (install threadpoolctl)"
        return
    with threadpool_limits(limits=n, user_api="blas"):
        yield ",".join(map(str, sorted({pool["num_threads"] for pool in threadpool_info()})))


def table(args) -> None:
    header = ("dtype", "step ms", "fwd+bwd ms", "matmul ms", "ratio", "fwd+bwd ratio")
    print(
        f"{header[0]:<8}  "
        + "  ".join(f"{h:>{w}}" for h, w in zip(header[1:], WIDTHS, strict=True))
    )
    for dtype in (np.float64, np.float32):
        t = {k: v * 1e3 for k, v in measure(dtype, args.repeat, args.number).items()}
        cells = (t["step"], t["fwd_bwd"], t["matmul"])
        ratios = (t["step"] / t["matmul"], t["fwd_bwd"] / t["matmul"])
        row = [f"{c:>{w}.3f}" for c, w in zip(cells, WIDTHS[:3], strict=True)]
        row += [f"{r:>{w}.2f}" for r, w in zip(ratios, WIDTHS[3:], strict=True)]
        print(f"{np.dtype(dtype).name:<8}  " + "  ".join(row))


if __name__ == "__main__":
    main()
