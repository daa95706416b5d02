"""Function-style access to an MLP's loss and backprop gradient, for gradient checkers."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from gradcheck._validate import check_float_leaves
from gradcheck.errors import TreeMismatchError, describe_shape
from gradcheck.nn.losses import get_loss, l2_penalty, l2_penalty_grad
from gradcheck.nn.model import MLP


class _Problem:
    """A private copy of the model per parameter dtype, plus the fixed batch."""

    def __init__(self, model: MLP, x: np.ndarray, y: np.ndarray, loss, l2: float) -> None:
        self.loss = get_loss(loss)
        self.l2 = float(l2)
        self.x = np.array(x)
        self.y = np.array(y)
        self.paths = {path: p.shape for path, p in model.params.items()}
        self.models = {model.dtype: model.astype(model.dtype)}

    def load(self, params: Mapping[str, np.ndarray]) -> MLP:
        """Copy the values of `params` into the private model of their dtype."""
        self._check_keys(params)
        dtype = np.result_type(*(np.asarray(p).dtype for p in params.values()))
        if dtype not in self.models:
            self.models[dtype] = next(iter(self.models.values())).astype(dtype)
        model = self.models[dtype]
        live = model.params
        for path, value in params.items():
            np.copyto(live[path], value)
        return model

    def _check_keys(self, params: Mapping[str, np.ndarray]) -> None:
        if not isinstance(params, Mapping) or set(params) != set(self.paths):
            got = sorted(params) if isinstance(params, Mapping) else type(params).__name__
            raise TreeMismatchError(
                f"`params` must be a dict with the model's paths {sorted(self.paths)}; got {got}."
            )
        check_float_leaves("params", {path: np.asarray(p) for path, p in params.items()})
        for path, shape in self.paths.items():
            if np.shape(params[path]) != shape:
                raise TreeMismatchError(
                    f"`params['{path}']` is a {describe_shape(params[path])}; expected shape "
                    f"{shape}."
                )

    def value(self, params: Mapping[str, np.ndarray]) -> float:
        model = self.load(params)
        out = model.forward(self.x)
        return self.loss.value(out, self.y) + l2_penalty(model.params, self.l2)

    def grad(self, params: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        model = self.load(params)
        out = model.forward(self.x)
        model.backward(self.loss.grad(out, self.y), input_grad=False)
        grads = {path: np.array(g) for path, g in model.grads.items()}
        if self.l2:
            for path, g in l2_penalty_grad(model.params, self.l2).items():
                grads[path] += g
        return grads


def mlp_problem(
    model: MLP, x: np.ndarray, y: np.ndarray, loss="cross_entropy", l2: float = 0.0
) -> dict:
    """Return ``{"loss", "grad", "params"}`` for checking `model`'s backprop on one batch.

    Parameters
    ----------
    model : MLP
        The network. It is copied: nothing done through the returned functions touches it.
    x, y : ndarray
        One batch of inputs and targets (labels or an array shaped like the output).
    loss : str or Loss
        A name from ``gradcheck.nn.losses.LOSSES`` (mean reduction).
    l2 : float
        L2 regularization strength on the weights (see ``l2_penalty``).

    Returns
    -------
    dict
        ``"params"``: path -> a copy of each parameter; ``"loss"``: ``loss(params) ->
        float``; ``"grad"``: ``grad(params) -> dict`` path -> new array from backprop.
        Both copy the given values into a private model (one per dtype, so float64
        parameters of a float32 model are evaluated in float64) and never modify them.

    Examples
    --------
    >>> import numpy as np
    >>> from gradcheck.nn.model import MLP
    >>> problem = mlp_problem(MLP([3, 4, 2]), np.ones((5, 3)), np.array([0, 1, 0, 1, 1]))
    >>> sorted(problem)
    ['grad', 'loss', 'params']
    >>> grads = problem["grad"](problem["params"])
    >>> grads["dense1.W"].shape
    (3, 4)
    """
    problem = _Problem(model, x, y, loss, l2)
    params = {path: np.array(p) for path, p in model.params.items()}
    return {"loss": problem.value, "grad": problem.grad, "params": params}
