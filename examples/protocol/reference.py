"""The reference implementation of gradcheck-protocol 1: the executable specification.

A small MLP (dense -> tanh -> ... -> dense, mean squared error) with hand-written
backprop, served over stdin/stdout exactly as docs/protocol.md describes. Every request
of the protocol is one function in ``REQUESTS``; anything the program cannot serve is
answered ``error MESSAGE`` and the program carries on.

    python3 examples/protocol/reference.py --sizes 4,5,3 --batch 6
    gradcheck check --cmd "python3 examples/protocol/reference.py" --layers

Only numpy is needed (not gradcheck).
"""

from __future__ import annotations

import argparse
import sys

import numpy as np


def fmt(values) -> str:
    """Numbers as round-trip text (``repr`` of a float64), single spaces, C order."""
    return " ".join(map(repr, np.asarray(values, dtype=np.float64).ravel().tolist()))


def parse(tokens: list[str], count: int, what: str) -> np.ndarray:
    """Exactly `count` numbers (any strtod format Python reads), or a ValueError for `error`."""
    if len(tokens) != count:
        raise ValueError(f"{what}: expected {count} numbers, got {len(tokens)}")
    return np.array([float(t) for t in tokens], dtype=np.float64)


class Net:
    """x -> dense -> tanh -> dense -> ... -> dense; loss = sum((y - t)^2) / (2 N)."""

    def __init__(self, sizes: list[int], batch: int, seed: int) -> None:
        rng = np.random.default_rng(seed)
        self.sizes = sizes
        self.shapes: dict[str, tuple[int, ...]] = {}
        for k, (d, e) in enumerate(zip(sizes[:-1], sizes[1:], strict=True), start=1):
            self.shapes[f"W{k}"] = (d, e)
            self.shapes[f"b{k}"] = (e,)
        self.theta = np.zeros(sum(int(np.prod(s)) for s in self.shapes.values()))
        self.x = rng.uniform(-1, 1, (batch, sizes[0]))
        self.t = rng.uniform(-1, 1, (batch, sizes[-1]))
        self.cache: tuple[int, np.ndarray] | None = None  # (K, input of the last forward K)

    def declaration(self) -> list[str]:
        """The lines printed on start."""
        lines = ["gradcheck-protocol 1"]
        lines += [f"param {name} {' '.join(map(str, s))}" for name, s in self.shapes.items()]
        for k in range(1, len(self.sizes)):
            lines.append(f"layer dense{k} W{k} b{k}")
            if k < len(self.sizes) - 1:
                lines.append(f"layer tanh{k}")
        return [*lines, "end"]

    def params(self, theta: np.ndarray) -> dict[str, np.ndarray]:
        """Split a flat vector into the declared arrays (C order)."""
        out, start = {}, 0
        for name, shape in self.shapes.items():
            size = int(np.prod(shape))
            out[name] = theta[start : start + size].reshape(shape)
            start += size
        return out

    def layer_params(self, k: int) -> list[str]:
        """Names of layer K's parameters (dense layers are the even K)."""
        return [f"W{k // 2 + 1}", f"b{k // 2 + 1}"] if k % 2 == 0 else []

    def forward(self, k: int, x: np.ndarray, p: dict) -> np.ndarray:
        """Layer K on the batch x."""
        if k % 2:
            return np.tanh(x)
        w, b = (p[name] for name in self.layer_params(k))
        return x @ w + b

    def backward(self, k: int, x: np.ndarray, gy: np.ndarray, p: dict) -> list[np.ndarray]:
        """[dx, d(each param of layer K)] for the upstream gradient gy."""
        if k % 2:
            return [gy * (1 - np.tanh(x) ** 2)]
        w, _ = (p[name] for name in self.layer_params(k))
        return [gy @ w.T, x.T @ gy, gy.sum(axis=0)]

    def n_layers(self) -> int:
        """Dense and tanh layers, in forward order."""
        return 2 * (len(self.sizes) - 1) - 1

    def loss(self, theta: np.ndarray) -> float:
        """The loss at the flat parameters theta."""
        p, a = self.params(theta), self.x
        for k in range(self.n_layers()):
            a = self.forward(k, a, p)
        return float(np.sum((a - self.t) ** 2) / (2 * len(self.x)))

    def grad(self, theta: np.ndarray) -> np.ndarray:
        """The gradient at theta, flat in declared order."""
        p, inputs, a = self.params(theta), [], self.x
        for k in range(self.n_layers()):
            inputs.append(a)
            a = self.forward(k, a, p)
        gy, grads = (a - self.t) / len(self.x), {}
        for k in reversed(range(self.n_layers())):
            gy, *dp = self.backward(k, inputs[k], gy, p)
            grads.update(zip(self.layer_params(k), dp, strict=True))
        return np.concatenate([grads[name].ravel() for name in self.shapes])


def r_params(net: Net, args: list[str]) -> str:
    net.theta = parse(args, net.theta.size, "params")
    return "ok"


def r_loss(net: Net, args: list[str]) -> str:
    return repr(net.loss(net.theta))


def r_grad(net: Net, args: list[str]) -> str:
    return fmt(net.grad(net.theta))


def _index(token: str, size: int, what: str) -> int:
    if not token.isdigit() or int(token) >= size:
        raise ValueError(f"{what}: expected an index in 0..{size - 1}, got {token!r}")
    return int(token)


def r_loss_at(net: Net, args: list[str]) -> str:
    if len(args) != 2:
        raise ValueError("loss_at: expected I H")
    i, h = _index(args[0], net.theta.size, "loss_at"), float(args[1])
    moved = net.theta.copy()  # the base stays unchanged
    moved[i] += h
    return repr(net.loss(moved))


def r_loss_along(net: Net, args: list[str]) -> str:
    tv = parse(args, net.theta.size + 1, "loss_along (T and then P numbers)")
    return repr(net.loss(net.theta + tv[0] * tv[1:]))


def r_input(net: Net, args: list[str]) -> str:
    return f"{net.x.shape[0]} {net.x.shape[1]} {fmt(net.x)}"


def r_forward(net: Net, args: list[str]) -> str:
    k = _index(args[0] if args else "", net.n_layers(), "forward K")
    n, d = (int(t) for t in args[1:3])
    x = parse(args[3:], n * d, f"forward {k} {n} {d}").reshape(n, d)
    y = net.forward(k, x, net.params(net.theta))
    net.cache = (k, x)
    return f"{y.shape[0]} {y.shape[1]} {fmt(y)}"


def r_backward(net: Net, args: list[str]) -> str:
    k = _index(args[0] if args else "", net.n_layers(), "backward K")
    if net.cache is None or net.cache[0] != k:
        raise ValueError(f"backward {k}: send `forward {k} N D X...` first")
    x = net.cache[1]
    p = net.params(net.theta)
    e = net.forward(k, x, p).shape[1]
    gy = parse(args[1:], len(x) * e, f"backward {k}").reshape(len(x), e)
    return fmt(np.concatenate([g.ravel() for g in net.backward(k, x, gy, p)]))


REQUESTS = {
    "params": r_params,
    "loss": r_loss,
    "grad": r_grad,
    "loss_at": r_loss_at,
    "loss_along": r_loss_along,
    "input": r_input,
    "forward": r_forward,
    "backward": r_backward,
}


def answer(net: Net, line: str) -> str:
    """The answer line to one request line (``error MESSAGE`` when it cannot be served)."""
    name, *args = line.split(" ")
    serve = REQUESTS.get(name)
    if serve is None:
        return f"error unknown request {name!r}"
    try:
        return serve(net, args)
    except (ValueError, IndexError) as exc:
        return f"error {exc}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="4,5,3", help="layer widths, e.g. 4,5,3")
    parser.add_argument("--batch", type=int, default=6)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    net = Net([int(s) for s in args.sizes.split(",")], args.batch, args.seed)
    print("\n".join(net.declaration()), flush=True)
    for raw in sys.stdin:
        line = raw.rstrip("\n")
        if line == "quit":
            return 0
        print(answer(net, line), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
