"""Optimizers: ``step(params, grads)`` updates every array of `params` in place.

`params` and `grads` are dicts path -> array with the same keys (``model.params``,
``model.grads``). State (velocities, moments) is kept per path and created on the first
step. Updates go through a scratch array per parameter, so a step allocates nothing after
the first.

``lr`` may be any finite number, negative included: a negative learning rate climbs
the loss, which is exactly what the monitor's ``ascent`` finding is there to catch.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from gradcheck._validate import check_choice, check_type
from gradcheck.errors import InvalidArgumentError, TreeMismatchError

Array = np.ndarray


def axpy(a: float, x: Array, y: Array, tmp: Array | None = None) -> None:
    """``y += a * x`` in place, through the scratch array `tmp` (no allocation) if given.

    Plain numpy on purpose: scipy's BLAS has a thread pool of its own, which fights
    numpy's for the cores and made a step several times slower on two cores.
    """
    if tmp is None:
        y += a * x
    else:
        np.multiply(x, a, out=tmp)
        y += tmp


class Optimizer:
    """Base class: validation and per-path state (the arrays named in ``slots``)."""

    default_lr = 0.01

    def __init__(self, lr: float | None = None) -> None:
        lr = self.default_lr if lr is None else lr
        check_type("lr", lr, (int, float, np.floating, np.integer), "a finite number")
        if not np.isfinite(lr):
            raise InvalidArgumentError(f"`lr` must be finite; got lr={lr!r}.")
        self.lr = float(lr)
        self.state: dict[str, dict[str, Array]] = {}
        self.t = 0

    def step(self, params: Mapping[str, Array], grads: Mapping[str, Array]) -> None:
        """Update each ``params[path]`` in place from ``grads[path]``."""
        self.t += 1
        for path, p in params.items():
            g = grads.get(path)
            if g is None or g.shape != p.shape:
                got = "nothing" if g is None else f"shape {g.shape}"
                raise TreeMismatchError(
                    f"`grads` for `{path}` is {got}; expected shape {p.shape} like the parameter."
                )
            self._update(p, g, self._state(path, p))

    def _state(self, path: str, p: Array) -> dict[str, Array]:
        if path not in self.state:
            self.state[path] = {name: np.zeros_like(p) for name in self.slots}
        return self.state[path]

    slots: tuple[str, ...] = ()

    def _update(self, p: Array, g: Array, s: dict[str, Array]) -> None:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}(lr={self.lr!r})"


class SGD(Optimizer):
    """Plain gradient descent: ``p -= lr * g``."""

    slots = ("tmp",)

    def _update(self, p: Array, g: Array, s: dict[str, Array]) -> None:
        axpy(-self.lr, g, p, s["tmp"])


class Momentum(Optimizer):
    """Heavy-ball momentum: ``v = mu * v - lr * g; p += v``."""

    slots = ("v", "tmp")

    def __init__(self, lr: float | None = None, mu: float = 0.9) -> None:
        super().__init__(lr)
        self.mu = mu

    def _update(self, p: Array, g: Array, s: dict[str, Array]) -> None:
        s["v"] *= self.mu
        axpy(-self.lr, g, s["v"], s["tmp"])
        p += s["v"]

    def __repr__(self) -> str:
        return f"Momentum(lr={self.lr!r}, mu={self.mu!r})"


class RMSprop(Optimizer):
    """RMSprop: ``s = rho * s + (1 - rho) * g**2; p -= lr * g / (sqrt(s) + eps)``."""

    default_lr = 1e-3
    slots = ("s", "tmp")

    def __init__(self, lr: float | None = None, rho: float = 0.9, eps: float = 1e-8) -> None:
        super().__init__(lr)
        self.rho, self.eps = rho, eps

    def _update(self, p: Array, g: Array, s: dict[str, Array]) -> None:
        tmp = s["tmp"]
        np.multiply(g, g, out=tmp)
        tmp *= 1 - self.rho
        s["s"] *= self.rho
        s["s"] += tmp
        np.sqrt(s["s"], out=tmp)
        tmp += self.eps
        np.divide(g, tmp, out=tmp)
        tmp *= self.lr
        p -= tmp


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015) with bias correction.

    ``m = b1 m + (1-b1) g``; ``v = b2 v + (1-b2) g**2``;
    ``p -= lr * m_hat / (sqrt(v_hat) + eps)``.
    """

    default_lr = 1e-3
    slots = ("m", "v", "tmp")

    def __init__(
        self, lr: float | None = None, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8
    ) -> None:
        super().__init__(lr)
        self.beta1, self.beta2, self.eps = beta1, beta2, eps

    def _update(self, p: Array, g: Array, s: dict[str, Array]) -> None:
        m, v, tmp = s["m"], s["v"], s["tmp"]
        m *= self.beta1
        np.multiply(g, 1 - self.beta1, out=tmp)
        m += tmp
        v *= self.beta2
        np.multiply(g, g, out=tmp)
        tmp *= 1 - self.beta2
        v += tmp
        step = self.lr * np.sqrt(1 - self.beta2**self.t) / (1 - self.beta1**self.t)
        np.sqrt(v, out=tmp)
        tmp += self.eps * np.sqrt(1 - self.beta2**self.t)
        np.divide(m, tmp, out=tmp)
        tmp *= step
        p -= tmp


OPTIMIZERS: dict[str, type[Optimizer]] = {
    "sgd": SGD,
    "momentum": Momentum,
    "rmsprop": RMSprop,
    "adam": Adam,
}


def get_optimizer(name: str | Optimizer, lr: float | None = None, **options: float) -> Optimizer:
    """Return a new optimizer `name` with learning rate `lr` (None: its default).

    Parameters
    ----------
    name : str or Optimizer
        One of ``OPTIMIZERS``; an :class:`Optimizer` instance is returned unchanged.
    lr : float or None
        Learning rate (defaults: sgd/momentum 0.01, rmsprop/adam 0.001).
    **options : float
        Extra hyper-parameters (``mu``, ``rho``, ``beta1``, ``beta2``, ``eps``).

    Returns
    -------
    Optimizer

    Examples
    --------
    >>> import numpy as np
    >>> opt = get_optimizer("sgd", lr=0.5)
    >>> p = {"w": np.array([1.0])}
    >>> opt.step(p, {"w": np.array([2.0])})
    >>> p["w"]
    array([0.])
    """
    if isinstance(name, Optimizer):
        return name
    return OPTIMIZERS[check_choice("optimizer", name, OPTIMIZERS)](lr, **options)
