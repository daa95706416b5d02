"""Losses as one table: name -> (batch-summed value, its gradient), plus L2 regularization.

Conventions (stated once, used everywhere)
------------------------------------------
- ``y`` is the network output, shape ``(n, k)`` (or ``(n,)``); axis 0 is the batch.
- Each loss is a *sum over output units* per sample; ``reduction="mean"`` (default)
  divides the batch total by ``n``, ``reduction="sum"`` does not.
- ``mse`` carries the ``0.5``: value ``= 0.5 * sum((y - t)**2) / n``, gradient
  ``(y - t) / n``. (Without the 0.5 the gradient would be ``2 (y - t) / n``.)
- ``cross_entropy`` is softmax cross-entropy from logits: value
  ``= sum(t * (logsumexp(y) - y)) / n`` (log-sum-exp with the max subtracted, so huge
  logits are fine); gradient ``(softmax(y) - t) / n``.
- ``binary_cross_entropy`` is from logits: value
  ``= sum(max(y, 0) - y*t + log1p(exp(-|y|))) / n``; gradient ``(sigmoid(y) - t) / n``.
- Targets may be integer labels of shape ``(n,)``; they become one-hot rows when ``y``
  has ``k > 1`` columns, and a column when ``y`` has one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from gradcheck._validate import check_choice
from gradcheck.errors import InvalidArgumentError
from gradcheck.nn.activations import ACTIVATIONS

Array = np.ndarray
REDUCTIONS = ("mean", "sum")
_sigmoid = ACTIVATIONS["sigmoid"].f
_softmax = ACTIVATIONS["softmax"].f


def _logsumexp(y: Array) -> Array:
    m = np.max(y, axis=-1, keepdims=True)
    return m + np.log(np.sum(np.exp(y - m), axis=-1, keepdims=True))


def _bce_value(y: Array, t: Array) -> float:
    return np.sum(np.maximum(y, 0) - y * t + np.log1p(np.exp(-np.abs(y))))


@dataclass(frozen=True, repr=False)
class Loss:
    """A loss from its batch total ``total(y, t)`` and that total's gradient ``dtotal(y, t)``.

    Use :meth:`value`, :meth:`grad` or :meth:`value_and_grad`; they normalize the targets
    and apply the reduction.
    """

    name: str
    total: Callable[[Array, Array], float]
    dtotal: Callable[[Array, Array], Array]

    def value(self, y: Array, target: Array, reduction: str = "mean") -> float:
        """Return the loss of outputs `y` against `target` as a Python float."""
        t, scale = _prepare(y, target, reduction)
        return float(self.total(y, t)) * scale

    def grad(self, y: Array, target: Array, reduction: str = "mean") -> Array:
        """Return ``d value / d y``, an array shaped like `y` with its dtype."""
        t, scale = _prepare(y, target, reduction)
        return _scaled(self.dtotal(y, t), scale, y.dtype)

    def value_and_grad(
        self, y: Array, target: Array, reduction: str = "mean"
    ) -> tuple[float, Array]:
        """Return ``(value, grad)`` with the target preparation done once."""
        t, scale = _prepare(y, target, reduction)
        return float(self.total(y, t)) * scale, _scaled(self.dtotal(y, t), scale, y.dtype)

    def __repr__(self) -> str:
        return f"Loss({self.name!r})"


LOSSES: dict[str, Loss] = {
    "mse": Loss("mse", lambda y, t: 0.5 * np.sum((y - t) ** 2), lambda y, t: y - t),
    "cross_entropy": Loss(
        "cross_entropy",
        lambda y, t: np.sum(t * (_logsumexp(y) - y)),
        lambda y, t: _softmax(y) - t,
    ),
    "binary_cross_entropy": Loss("binary_cross_entropy", _bce_value, lambda y, t: _sigmoid(y) - t),
}


def get_loss(name: str | Loss) -> Loss:
    """Return the loss called `name` (a :class:`Loss` is returned unchanged).

    Examples
    --------
    >>> import numpy as np
    >>> get_loss("mse").value(np.array([[1.0, 2.0]]), np.array([[0.0, 0.0]]))
    2.5
    """
    if isinstance(name, Loss):
        return name
    return LOSSES[check_choice("loss", name, LOSSES)]


def _scaled(g: Array, scale: float, dtype: np.dtype) -> Array:
    return (g * scale if scale != 1.0 else g).astype(dtype, copy=False)


def _prepare(y: Array, target: Array, reduction: str) -> tuple[Array, float]:
    """Return the target shaped and typed like `y`, and the reduction's scale factor."""
    check_choice("reduction", reduction, REDUCTIONS)
    target = np.asarray(target)
    if target.shape != y.shape and np.issubdtype(target.dtype, np.integer):
        target = _from_labels(target, y)
    if target.shape != y.shape:
        raise InvalidArgumentError(
            f"`target` has shape {target.shape}; expected {y.shape} like the output `y`, "
            "or integer labels of shape (n,)."
        )
    n = max(y.shape[0], 1) if y.ndim else 1
    return target.astype(y.dtype, copy=False), (1.0 / n if reduction == "mean" else 1.0)


def _from_labels(labels: Array, y: Array) -> Array:
    if labels.ndim != 1 or y.ndim != 2 or len(labels) != len(y):
        raise InvalidArgumentError(
            f"integer `target` labels have shape {labels.shape}; expected ({len(y)},) "
            f"for outputs `y` of shape {y.shape}."
        )
    if y.shape[1] == 1:
        return labels.reshape(-1, 1)
    if labels.size and (labels.min() < 0 or labels.max() >= y.shape[1]):
        raise InvalidArgumentError(
            f"`target` labels must lie in [0, {y.shape[1]}) for {y.shape[1]} outputs; got "
            f"min={labels.min()}, max={labels.max()}."
        )
    onehot = np.zeros(y.shape, dtype=y.dtype)
    onehot[np.arange(len(labels)), labels] = 1
    return onehot


def is_weight(path: str) -> bool:
    """Return True for the paths L2 regularization applies to: ``"W"`` or ``"*.W"``."""
    return path == "W" or path.endswith(".W")


def l2_penalty(params: Mapping[str, Array], lam: float) -> float:
    """Return ``0.5 * lam * sum(W**2)`` over the weights (paths ending in ``.W``).

    Biases are not regularized.

    Examples
    --------
    >>> import numpy as np
    >>> l2_penalty({"dense1.W": np.ones((2, 2)), "dense1.b": np.ones(2)}, 0.1)
    0.2
    """
    if lam == 0:
        return 0.0
    return 0.5 * lam * sum(float(np.sum(p * p)) for path, p in params.items() if is_weight(path))


def l2_penalty_grad(params: Mapping[str, Array], lam: float) -> dict[str, Array]:
    """Return the gradient of :func:`l2_penalty`: ``lam * W`` for weights, zeros for biases.

    Examples
    --------
    >>> import numpy as np
    >>> l2_penalty_grad({"W": np.ones(2), "b": np.ones(2)}, 0.1)["W"]
    array([0.1, 0.1])
    """
    return {
        path: (lam * p).astype(p.dtype, copy=False) if is_weight(path) else np.zeros_like(p)
        for path, p in params.items()
    }
