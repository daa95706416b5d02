"""The reference multi-layer perceptron: alternating Dense and Activation layers."""

from __future__ import annotations

import copy
from collections.abc import Sequence

import numpy as np

from gradcheck._validate import check_type
from gradcheck.errors import InvalidArgumentError
from gradcheck.nn.activations import get_activation
from gradcheck.nn.layers import Activation, Dense


class MLP:
    """A multi-layer perceptron ``dense1 -> act1 -> dense2 -> ... -> denseK [-> output]``.

    Parameters
    ----------
    sizes : sequence of int
        Layer widths, input first: ``[64, 100, 50, 10]`` makes three Dense layers.
    activation : str
        Hidden activation (a name from ``ACTIVATIONS``); layers are named ``f"{act}{i}"``.
    output_activation : str
        Applied after the last Dense layer as a layer named ``"output"``; ``"identity"``
        (default) adds no layer, so the network returns logits.
    init : str or callable
        Weight initializer for every Dense layer (biases start at zero).
    seed : int
        Seed of the initializer's ``np.random.default_rng``.
    dtype : numpy dtype
        Parameter dtype; inputs are cast to it in :meth:`forward`.
    alpha : float or None
        leaky_relu slope, when `activation` is "leaky_relu".

    Notes
    -----
    ``backward`` OVERWRITES the gradients (it never accumulates). ``zero_grad()`` is there
    for callers that add into ``grads`` themselves.

    Examples
    --------
    >>> import numpy as np
    >>> model = MLP([4, 8, 3], activation="tanh", seed=1)
    >>> [layer.name for layer in model.layers]
    ['dense1', 'tanh1', 'dense2']
    >>> out = model.forward(np.ones((5, 4)))
    >>> _ = model.backward(np.ones_like(out))
    >>> list(model.grads)
    ['dense1.W', 'dense1.b', 'dense2.W', 'dense2.b']
    """

    def __init__(
        self,
        sizes: Sequence[int],
        *,
        activation: str = "relu",
        output_activation: str = "identity",
        init="he",
        seed: int = 0,
        dtype=np.float64,
        alpha: float | None = None,
    ) -> None:
        self.sizes = _validate_sizes(sizes)
        self.dtype = np.dtype(dtype)
        self.activation = get_activation(activation, alpha=alpha).name
        self.output_activation = get_activation(output_activation).name
        self.layers = self._build(init, seed, alpha)

    def _build(self, init, seed: int, alpha: float | None) -> list:
        rng = np.random.default_rng(seed)
        layers: list = []
        n_dense = len(self.sizes) - 1
        for i, (n_in, n_out) in enumerate(
            zip(self.sizes[:-1], self.sizes[1:], strict=False), start=1
        ):
            layers.append(
                Dense(n_in, n_out, init=init, rng=rng, dtype=self.dtype, name=f"dense{i}")
            )
            if i < n_dense:
                name = f"{self.activation}{i}"
                layers.append(Activation(self.activation, alpha=alpha, layer_name=name))
        if self.output_activation != "identity":
            layers.append(Activation(self.output_activation, layer_name="output"))
        return layers

    @property
    def dense_layers(self) -> list[Dense]:
        """The Dense layers, in forward order."""
        return [layer for layer in self.layers if isinstance(layer, Dense)]

    @property
    def params(self) -> dict[str, np.ndarray]:
        """Path (``"dense1.W"``) -> live parameter array, in forward order."""
        return {f"{lay.name}.{k}": p for lay in self.layers for k, p in lay.params.items()}

    @property
    def grads(self) -> dict[str, np.ndarray]:
        """Path -> gradient set by the last :meth:`backward`, in forward order."""
        return {f"{lay.name}.{k}": g for lay in self.layers for k, g in lay.grads.items()}

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Return the network output for a batch `x` of shape ``(n, sizes[0])``."""
        a = np.asarray(x, dtype=self.dtype)
        for layer in self.layers:
            a = layer.forward(a)
        return a

    def backward(self, dout: np.ndarray, *, input_grad: bool = True) -> np.ndarray | None:
        """Backpropagate ``dout = dL/d output``; set ``grads``; return ``dL/dx``.

        With ``input_grad=False`` the first layer skips its input gradient (the trainer
        does not need it) and None is returned.
        """
        g = dout
        for i in range(len(self.layers) - 1, 0, -1):
            g = self.layers[i].backward(g)
        first = self.layers[0]
        return (
            first.backward(g, input_grad=input_grad)
            if isinstance(first, Dense)
            else first.backward(g)
        )

    def zero_grad(self) -> None:
        """Fill every gradient with zeros (in place)."""
        for layer in self.layers:
            layer.zero_grad()

    def predict(self, x: np.ndarray, *, batch_size: int = 1024) -> np.ndarray:
        """Return the network outputs for `x`, computed in batches (not labels).

        For class labels take ``predict(x).argmax(axis=1)``.
        """
        x = np.asarray(x, dtype=self.dtype)
        outs = [self.forward(x[i : i + batch_size]) for i in range(0, max(len(x), 1), batch_size)]
        return np.concatenate(outs) if len(outs) > 1 else outs[0]

    def astype(self, dtype) -> MLP:
        """Return a deep copy with parameters cast to `dtype`."""
        clone = copy.deepcopy(self)
        clone.dtype = np.dtype(dtype)
        for layer in clone.dense_layers:
            layer.dtype = clone.dtype
            layer.params = {k: p.astype(dtype) for k, p in layer.params.items()}
            layer.grads = {k: g.astype(dtype) for k, g in layer.grads.items()}
        return clone

    def __repr__(self) -> str:
        return (
            f"MLP({list(self.sizes)}, activation={self.activation!r}, "
            f"output_activation={self.output_activation!r}, dtype={self.dtype.name})"
        )


def _validate_sizes(sizes: Sequence[int]) -> tuple[int, ...]:
    check_type("sizes", sizes, (list, tuple), "a list of layer widths such as [64, 100, 10]")
    if len(sizes) < 2 or not all(isinstance(n, int | np.integer) and n > 0 for n in sizes):
        raise InvalidArgumentError(
            f"`sizes` must hold at least two positive integers (input width first, output "
            f"width last); got sizes={list(sizes)!r}."
        )
    return tuple(int(n) for n in sizes)
