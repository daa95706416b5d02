"""Small, readable values that strategies draw (no hypothesis needed): MLPs, smooth maps."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class MLPSpec:
    """The architecture of a reference MLP, as drawn by :func:`mlp_specs`.

    Examples
    --------
    >>> spec = MLPSpec(sizes=(3, 4, 2), activation="tanh", loss="cross_entropy")
    >>> [layer.name for layer in spec.build(seed=0).layers]
    ['dense1', 'tanh1', 'dense2']
    """

    sizes: tuple[int, ...]
    activation: str = "tanh"
    loss: str = "mse"
    dtype: str = "float64"

    def build(self, seed: int = 0) -> Any:
        """Return the :class:`gradcheck.nn.model.MLP` of this spec."""
        from gradcheck.nn.model import MLP

        return MLP(list(self.sizes), activation=self.activation, seed=seed, dtype=self.dtype)

    def param_shapes(self) -> dict[str, tuple[int, ...]]:
        """Return ``{"dense1.W": (n_in, n_out), "dense1.b": (n_out,), ...}``, forward order."""
        shapes: dict[str, tuple[int, ...]] = {}
        for i, (n_in, n_out) in enumerate(zip(self.sizes[:-1], self.sizes[1:], strict=True), 1):
            shapes[f"dense{i}.W"] = (n_in, n_out)
            shapes[f"dense{i}.b"] = (n_out,)
        return shapes


@dataclass(frozen=True)
class SmoothMap:
    """``f(x) = tanh(A x + b)`` with its exact VJP and JVP, and a loss with its HVP.

    The loss is ``L(x) = sum(log cosh(A x + b))``: ``grad(x) = A^T tanh(A x + b)``, and
    ``hvp(x, v) = A^T ((1 - tanh^2) (A v))``. Drawn by
    :func:`gradcheck.testing.strategies.smooth_maps`.

    Examples
    --------
    >>> import numpy as np, gradcheck
    >>> m = SmoothMap(np.eye(2), np.zeros(2), np.array([0.5, -0.5]))
    >>> gradcheck.check_vjp(m.f, m.vjp, m.x).passed
    True
    """

    A: np.ndarray
    b: np.ndarray
    x: np.ndarray

    def f(self, x: np.ndarray) -> np.ndarray:
        """Return ``tanh(A x + b)``."""
        return np.tanh(self.A @ x + self.b)

    def vjp(self, x: np.ndarray, g: np.ndarray) -> np.ndarray:
        """Return ``J(x)^T g``."""
        return self.A.T @ ((1 - self.f(x) ** 2) * g)

    def jvp(self, x: np.ndarray, v: np.ndarray) -> np.ndarray:
        """Return ``J(x) v``."""
        return (1 - self.f(x) ** 2) * (self.A @ v)

    def grad(self, x: np.ndarray) -> np.ndarray:
        """Return the gradient of ``sum(log cosh(A x + b))``."""
        return self.A.T @ self.f(x)

    def hvp(self, x: np.ndarray, v: np.ndarray) -> np.ndarray:
        """Return the Hessian of ``sum(log cosh(A x + b))`` times `v`."""
        return self.A.T @ self.jvp(x, v)
