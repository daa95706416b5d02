"""Activation functions as one table: name -> (f(z), df(z)), both of the pre-activation `z`.

Each derivative sits on the line right after its forward formula, so a derivative taken
at the wrong point (at the output `a` instead of `z`) stands out in review.

Conventions
-----------
- ``relu'(0) = 0`` and ``leaky_relu'(0) = alpha``: the derivative at the kink is the
  left one.
- ``sigmoid`` never calls ``exp`` on a positive number, so it is finite and warning-free
  for any ``|z|`` (``z = ±1000`` included). ``softplus`` is ``logaddexp(0, z)``.
- ``softmax`` acts along the last axis (max-subtracted). Its Jacobian is not diagonal:
  ``df`` returns only the diagonal ``s * (1 - s)`` for reference, and the backward pass
  uses the Jacobian-vector product ``vjp(z, a, g) = a * (g - sum(g * a, -1))``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from gradcheck._validate import check_choice
from gradcheck.errors import InvalidArgumentError

Array = np.ndarray


@dataclass(frozen=True, repr=False)
class ActivationFunction:
    """An activation: ``f(z)``, its derivative ``df(z)`` and optionally a non-diagonal VJP.

    Attributes
    ----------
    name : str
        The table key.
    f, df : callable
        ``a = f(z)`` and ``da/dz = df(z)``, elementwise.
    vjp : callable or None
        ``vjp(z, a, g) -> dL/dz`` for activations whose Jacobian is not diagonal (softmax).
    options : dict
        Hyper-parameters such as ``alpha`` of leaky_relu.
    """

    name: str
    f: Callable[[Array], Array]
    df: Callable[[Array], Array]
    vjp: Callable[[Array, Array, Array], Array] | None = None
    options: dict = field(default_factory=dict)

    @property
    def elementwise(self) -> bool:
        """True when output ``i`` depends on input ``i`` only."""
        return self.vjp is None

    def backward(self, z: Array, a: Array, g: Array) -> Array:
        """Return ``dL/dz`` given the upstream gradient ``g = dL/da``."""
        if self.vjp is not None:
            return self.vjp(z, a, g)
        return g * self.df(z)

    def __repr__(self) -> str:
        extra = "".join(f", {k}={v!r}" for k, v in self.options.items())
        return f"ActivationFunction({self.name!r}{extra})"


def _sigmoid(z: Array) -> Array:
    # exp(-|z|) <= 1 never overflows; pick the algebraically equal branch per sign.
    e = np.exp(-np.abs(z))
    d = 1 + e
    return np.where(z >= 0, 1 / d, e / d)


def _dsigmoid(z: Array) -> Array:
    s = _sigmoid(z)
    return s * (1 - s)


def _softmax(z: Array) -> Array:
    e = np.exp(z - np.max(z, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)


def _dsoftmax_diagonal(z: Array) -> Array:
    s = _softmax(z)
    return s * (1 - s)


def _softmax_vjp(z: Array, a: Array, g: Array) -> Array:
    return a * (g - np.sum(g * a, axis=-1, keepdims=True))


def _leaky_relu(alpha: float) -> ActivationFunction:
    return ActivationFunction(
        "leaky_relu",
        f=lambda z: np.where(z > 0, z, alpha * z).astype(z.dtype, copy=False),
        df=lambda z: np.where(z > 0, 1.0, alpha).astype(z.dtype, copy=False),  # at 0: alpha
        options={"alpha": alpha},
    )


_TABLE = (
    ActivationFunction("identity", f=lambda z: z, df=lambda z: np.ones_like(z)),
    ActivationFunction("sigmoid", f=_sigmoid, df=_dsigmoid),
    ActivationFunction("tanh", f=np.tanh, df=lambda z: 1 - np.tanh(z) ** 2),
    ActivationFunction("relu", f=lambda z: np.maximum(z, 0), df=lambda z: (z > 0).astype(z.dtype)),
    _leaky_relu(0.01),
    ActivationFunction("softplus", f=lambda z: np.logaddexp(0, z), df=_sigmoid),
    ActivationFunction("softmax", f=_softmax, df=_dsoftmax_diagonal, vjp=_softmax_vjp),
)

ACTIVATIONS: dict[str, ActivationFunction] = {act.name: act for act in _TABLE}


def get_activation(
    name: str | ActivationFunction, *, alpha: float | None = None
) -> ActivationFunction:
    """Return the activation called `name`, with `alpha` for leaky_relu.

    Parameters
    ----------
    name : str or ActivationFunction
        One of ``ACTIVATIONS`` (an :class:`ActivationFunction` is returned unchanged).
    alpha : float or None
        Slope of leaky_relu for ``z < 0`` (default 0.01). Only valid for leaky_relu.

    Returns
    -------
    ActivationFunction

    Examples
    --------
    >>> import numpy as np
    >>> act = get_activation("leaky_relu", alpha=0.1)
    >>> act.f(np.array([-2.0, 3.0]))
    array([-0.2,  3. ])
    """
    if isinstance(name, ActivationFunction):
        return name
    check_choice("activation", name, ACTIVATIONS)
    if alpha is None:
        return ACTIVATIONS[name]
    if name != "leaky_relu":
        raise InvalidArgumentError(
            f"`alpha`={alpha!r} applies only to 'leaky_relu'; got activation {name!r}. "
            "Drop `alpha` or use 'leaky_relu'."
        )
    if not np.isfinite(alpha):
        raise InvalidArgumentError(f"`alpha` must be finite; got alpha={alpha!r}.")
    return _leaky_relu(float(alpha))
