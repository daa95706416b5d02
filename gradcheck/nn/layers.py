"""The reference layers, following the layer protocol of DESIGN.md.

A layer has ``params: dict[str, ndarray]``, ``forward(x) -> y`` (which caches what the
backward pass needs), ``backward(grad_y) -> grad_x`` and ``name``. ``backward`` OVERWRITES
``grads`` (same keys as ``params``): it never accumulates, so calling it twice gives the
same result. Dense writes into the arrays of the previous call when shape and dtype allow
(no per-step allocation), so keep a copy of ``grads`` if you need an old value.
``zero_grad()`` exists for code that adds into ``grads`` itself.
"""

from __future__ import annotations

import numpy as np

from gradcheck._validate import check_positive, check_type
from gradcheck.errors import InvalidArgumentError, describe_shape
from gradcheck.nn.activations import get_activation
from gradcheck.nn.init import get_initializer


class Dense:
    """Affine layer ``y = x @ W + b`` for a batch ``x`` of shape ``(n, n_in)``.

    Parameters
    ----------
    n_in, n_out : int
        Input and output widths; ``W`` is ``(n_in, n_out)``, ``b`` is ``(n_out,)`` (zeros).
    init : str or callable
        Weight initializer, a name from ``gradcheck.nn.init.INIT`` or a callable.
    rng : numpy Generator, int or None
        Randomness for the initializer; an int is a seed, None means seed 0.
    dtype : numpy dtype
        Parameter dtype.
    name : str or None
        Layer name (default ``"dense"``).

    Examples
    --------
    >>> import numpy as np
    >>> layer = Dense(3, 2, rng=0)
    >>> y = layer.forward(np.ones((4, 3)))
    >>> _ = layer.backward(np.ones((4, 2)))
    >>> layer.grads["W"].shape, layer.grads["b"]
    ((3, 2), array([4., 4.]))
    """

    def __init__(
        self,
        n_in: int,
        n_out: int,
        *,
        init="glorot",
        rng: np.random.Generator | int | None = None,
        dtype=np.float64,
        name: str | None = None,
    ) -> None:
        for arg, width in (("n_in", n_in), ("n_out", n_out)):
            check_type(arg, width, (int, np.integer), "a positive integer (a layer width)")
            check_positive(arg, width, allow_none=False)
        rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng or 0)
        self.name = name or "dense"
        self.dtype = np.dtype(dtype)
        W = np.asarray(get_initializer(init)((n_in, n_out), rng, self.dtype), dtype=self.dtype)
        self.params = {"W": W, "b": np.zeros(n_out, dtype=self.dtype)}
        self.grads = {key: np.zeros_like(p) for key, p in self.params.items()}
        self.x: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Return ``x @ W + b`` and cache `x`."""
        W = self.params["W"]
        if x.ndim != 2 or x.shape[1] != W.shape[0]:
            raise InvalidArgumentError(
                f"`x` for layer `{self.name}` is a {describe_shape(x)}; expected "
                f"(batch, {W.shape[0]})."
            )
        self.x = x
        y = x @ W
        y += self.params["b"]
        return y

    def backward(self, grad_y: np.ndarray, *, input_grad: bool = True) -> np.ndarray | None:
        """Set ``grads`` (``dW = x.T @ g``, ``db = g.sum(0)``); return ``g @ W.T``.

        With ``input_grad=False`` the input gradient is not computed and None is returned
        (the first layer of a network does not need it).
        """
        if self.x is None:
            raise InvalidArgumentError(f"`{self.name}.backward` called before `forward`.")
        if self._can_reuse_grads(grad_y):
            # Overwrite last step's arrays: no multi-megabyte allocation per step.
            np.matmul(self.x.T, grad_y, out=self.grads["W"])
            np.sum(grad_y, axis=0, out=self.grads["b"])
        else:
            self.grads = {"W": self.x.T @ grad_y, "b": grad_y.sum(axis=0)}
        return grad_y @ self.params["W"].T if input_grad else None

    def _can_reuse_grads(self, grad_y: np.ndarray) -> bool:
        dtype = np.result_type(self.x, grad_y)
        shapes = {"W": (self.x.shape[1], grad_y.shape[-1]), "b": (grad_y.shape[-1],)}
        return all(
            isinstance(self.grads.get(k), np.ndarray)
            and self.grads[k].shape == shape
            and self.grads[k].dtype == dtype
            for k, shape in shapes.items()
        )

    def zero_grad(self) -> None:
        """Fill every gradient with zeros (in place)."""
        for g in self.grads.values():
            g.fill(0)

    def __repr__(self) -> str:
        n_in, n_out = self.params["W"].shape
        return f"Dense({n_in}, {n_out}, name={self.name!r}, dtype={self.dtype.name})"


class Activation:
    """Elementwise (or softmax) activation layer with no parameters.

    Parameters
    ----------
    name : str
        An activation from ``gradcheck.nn.activations.ACTIVATIONS``.
    alpha : float or None
        Slope of leaky_relu for negative inputs.
    layer_name : str or None
        Layer name (default: the activation's name).

    Examples
    --------
    >>> import numpy as np
    >>> layer = Activation("relu")
    >>> layer.forward(np.array([[-1.0, 2.0]]))
    array([[0., 2.]])
    >>> layer.backward(np.array([[5.0, 5.0]]))
    array([[0., 5.]])
    """

    def __init__(self, name: str, *, alpha: float | None = None, layer_name: str | None = None):
        self.activation = get_activation(name, alpha=alpha)
        self.name = layer_name or self.activation.name
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.z: np.ndarray | None = None
        self.a: np.ndarray | None = None

    @property
    def elementwise(self) -> bool:
        """True unless the activation mixes features (softmax)."""
        return self.activation.elementwise

    def forward(self, z: np.ndarray) -> np.ndarray:
        """Return ``a = f(z)`` and cache `z` and `a`."""
        self.z = z
        self.a = self.activation.f(z)
        return self.a

    def backward(self, grad_y: np.ndarray) -> np.ndarray:
        """Return ``grad_y * f'(z)`` (the Jacobian-vector product for softmax)."""
        if self.z is None:
            raise InvalidArgumentError(f"`{self.name}.backward` called before `forward`.")
        return self.activation.backward(self.z, self.a, grad_y)

    def zero_grad(self) -> None:
        """Nothing to do: no parameters."""

    def __repr__(self) -> str:
        return f"Activation({self.activation!r}, name={self.name!r})"
