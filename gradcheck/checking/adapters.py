"""Adapters: check the layers and networks people already wrote, without rewriting them.

=========================  ==================================================================
adapter                    wraps
=========================  ==================================================================
:class:`FunctionPairLayer`  ``forward(x, *params, *args) -> (out, cache)`` and
                            ``backward(dout, cache) -> dx or (dx, *dparams)`` (course style)
:class:`LossFunctionLayer`  ``loss(x, *args) -> (loss, dx)`` (a course-style loss function)
:class:`MethodMappingLayer` an object whose methods and attributes have other names
                            (``fprop``/``bprop``, ``weights``/``dweights``...)
:class:`FlatVectorNetwork`  a whole network as ``loss(theta)`` and ``grad(theta)`` over one flat
                            vector, with a reshape spec ``[("Wl1", (784, 1000)), ...]``
=========================  ==================================================================

The first three give objects that follow the layer protocol of :func:`gradcheck.check_layers`
(``params``, ``grads``, ``forward``, ``backward``, ``name``); the fourth checks the network
with :func:`gradcheck.check_gradient` and reports per unpacked parameter.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from gradcheck._validate import check_callable, check_choice
from gradcheck.checking.function_pair import FunctionPairLayer, LossFunctionLayer
from gradcheck.errors import InvalidArgumentError, InvalidTypeError, TreeMismatchError

__all__ = ["FlatVectorNetwork", "FunctionPairLayer", "LossFunctionLayer", "MethodMappingLayer"]


def _named_arrays(obj: Any, spec: str | Sequence[str], role: str) -> dict[str, np.ndarray]:
    """Read `obj`'s arrays named by `spec`: one attribute (dict or list) or several names."""
    if isinstance(spec, str):
        value = _attribute(obj, spec, role)
        if isinstance(value, Mapping):
            return dict(value)
        if isinstance(value, list | tuple):
            return {str(i): array for i, array in enumerate(value)}
        return {spec: value}
    return {name: _attribute(obj, name, role) for name in spec}


def _attribute(obj: Any, name: str, role: str) -> Any:
    if not hasattr(obj, name):
        raise InvalidArgumentError(
            f"{type(obj).__name__} has no attribute `{name}` (given as `{role}`). "
            f"Pass the name it uses, e.g. MethodMappingLayer(obj, {role}='...')."
        )
    return getattr(obj, name)


class MethodMappingLayer:
    """A layer protocol view of an object whose methods and attributes have other names.

    Parameters
    ----------
    obj : object
        The user's layer.
    forward, backward : str
        Names of its forward (``x -> y``) and backward (``dout -> dx``) methods.
    params, grads : str or sequence of str
        Where it keeps its parameters and their gradients: one attribute holding a dict or
        a list of arrays (listed by position, paths ``"0"``, ``"1"``...), or a list of
        attribute names, one array each (``params=["W", "b"], grads=["dW", "db"]``; the
        gradients take the names of the parameters they pair with).
    name : str, optional
        The layer's name in reports (default: the object's ``name`` or class name).

    Examples
    --------
    >>> import numpy as np
    >>> class Scale:
    ...     def __init__(self):
    ...         self.w = np.array([2.0])
    ...     def fprop(self, x):
    ...         self.x = x
    ...         return self.w * x
    ...     def bprop(self, dout):
    ...         self.dw = np.array([np.sum(dout * self.x)])
    ...         return dout * self.w
    >>> layer = MethodMappingLayer(Scale(), params=["w"], grads=["dw"])
    >>> layer.forward(np.ones((2, 1))).ravel().tolist()
    [2.0, 2.0]
    """

    def __init__(
        self,
        obj: Any,
        forward: str = "fprop",
        backward: str = "bprop",
        params: str | Sequence[str] = "weights",
        grads: str | Sequence[str] = "dweights",
        name: str | None = None,
    ) -> None:
        self.obj = obj
        self._forward = check_callable(forward, _attribute(obj, forward, "forward"))
        self._backward = check_callable(backward, _attribute(obj, backward, "backward"))
        self._grads_spec = grads
        self.params = _named_arrays(obj, params, "params")
        self.name = name or getattr(obj, "name", None) or type(obj).__name__
        if not isinstance(params, str) and not isinstance(grads, str) and len(params) != len(grads):
            raise InvalidArgumentError(
                f"`params` names {len(params)} arrays but `grads` names {len(grads)}; "
                "give one gradient attribute per parameter, in the same order."
            )

    @property
    def grads(self) -> dict[str, np.ndarray]:
        """The object's current gradients, under the parameters' names."""
        found = _named_arrays(self.obj, self._grads_spec, "grads")
        if isinstance(self._grads_spec, str) and isinstance(
            getattr(self.obj, self._grads_spec), Mapping
        ):
            return found  # a dict of gradients keeps its own keys
        return dict(zip(self.params, found.values(), strict=False))

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Call the object's forward method."""
        return self._forward(x)

    def backward(self, grad_y: np.ndarray) -> np.ndarray:
        """Call the object's backward method (it sets the object's gradients)."""
        return self._backward(grad_y)

    def __repr__(self) -> str:
        return f"MethodMappingLayer({self.name!r}, params={list(self.params)})"


def _normalize_spec(spec: Any) -> list[tuple[str, tuple[int, ...]]]:
    try:
        items = [(str(name), tuple(int(n) for n in np.atleast_1d(shape))) for name, shape in spec]
    except (TypeError, ValueError):
        raise InvalidTypeError(
            f"`spec` must be a list of (name, shape) pairs, e.g. [('W1', (784, 100)), "
            f"('b1', (100,))]; got {spec!r}."
        ) from None
    negative = [(name, shape) for name, shape in items if any(n < 0 for n in shape)]
    if negative:
        raise InvalidArgumentError(
            f"`spec` gives negative sizes: {negative}; every dimension must be >= 0."
        )
    names = [name for name, _ in items]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise InvalidArgumentError(f"`spec` names {duplicated} more than once; names must differ.")
    return items


class FlatVectorNetwork:
    """A monolithic network over one flat parameter vector, checked per unpacked parameter.

    Parameters
    ----------
    loss : callable
        ``loss(theta) -> float`` on the flat vector.
    grad : callable
        ``grad(theta) -> ndarray`` of the same size as `theta`.
    theta : ndarray
        The point to check at (not modified).
    spec : list of (str, tuple)
        How `theta` unpacks, in order: ``[("Wl1", (784, 1000)), ("bl1", (1000,)), ...]``.
        The sizes must add up to ``theta.size``.
    order : {"C", "F"}
        The reshape order the user's code uses ("F" for Octave/MATLAB-style unrolling).

    Examples
    --------
    >>> import numpy as np
    >>> net = FlatVectorNetwork(lambda t: float(t @ t), lambda t: 2 * t, np.arange(6.0),
    ...                         [("W", (2, 2)), ("b", (2,))])
    >>> {path: a.shape for path, a in net.params.items()}
    {'W': (2, 2), 'b': (2,)}
    >>> net.check().passed
    True
    """

    def __init__(
        self,
        loss: Callable[[np.ndarray], float],
        grad: Callable[[np.ndarray], np.ndarray],
        theta: np.ndarray,
        spec: Sequence[tuple[str, Sequence[int]]],
        *,
        order: str = "C",
    ) -> None:
        self.user_loss = check_callable("loss", loss)
        self.user_grad = check_callable("grad", grad)
        self.order = check_choice("order", order, ("C", "F"))
        self.spec = _normalize_spec(spec)
        self.theta = np.array(theta, dtype=None).reshape(-1)
        if not np.issubdtype(self.theta.dtype, np.floating):
            raise InvalidTypeError(
                f"`theta` must be a float vector; got dtype {self.theta.dtype}. Convert it "
                "with `np.asarray(theta, dtype=np.float64)`."
            )
        sizes = [int(np.prod(shape)) for _, shape in self.spec]
        if sum(sizes) != self.theta.size:
            parts = " + ".join(
                f"{name} {size}" for (name, _), size in zip(self.spec, sizes, strict=True)
            )
            raise TreeMismatchError(
                f"`spec` unpacks {sum(sizes)} numbers ({parts}) but `theta` has "
                f"{self.theta.size}; fix the shapes in `spec` (a bias left out?)."
            )
        self._bounds = np.cumsum([0, *sizes])
        self.params = self.unpack(self.theta)

    def unpack(self, theta: np.ndarray) -> dict[str, np.ndarray]:
        """Return the parameters of a flat vector as a dict of reshaped copies, by name."""
        theta = np.asarray(theta).reshape(-1)
        return {
            name: theta[start:stop].reshape(shape, order=self.order).copy()
            for (name, shape), start, stop in zip(
                self.spec, self._bounds, self._bounds[1:], strict=False
            )
        }

    def pack(self, params: Mapping[str, np.ndarray]) -> np.ndarray:
        """Return the flat vector of a dict of parameters (the inverse of :meth:`unpack`)."""
        return np.concatenate(
            [np.asarray(params[name]).ravel(order=self.order) for name, _ in self.spec]
        )

    def loss(self, params: Mapping[str, np.ndarray]) -> float:
        """Call the user's loss on the packed vector."""
        return self.user_loss(self.pack(params))

    def grad(self, params: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Call the user's gradient; unpack it into one array per parameter."""
        flat = np.asarray(self.user_grad(self.pack(params)))
        if flat.size != self.theta.size:
            raise TreeMismatchError(
                f"`grad(theta)` returned {flat.size} numbers (shape {flat.shape}); expected "
                f"{self.theta.size}, one per entry of `theta`. Did it leave out a bias gradient?"
            )
        return self.unpack(flat)

    def as_problem(self) -> dict[str, Any]:
        """Return ``{"loss", "grad", "params"}`` for :func:`gradcheck.check_gradient`."""
        return {"loss": self.loss, "grad": self.grad, "params": self.unpack(self.theta)}

    def check(self, **options: Any):
        """Check the gradient per unpacked parameter; options go to ``check_gradient``.

        Returns
        -------
        GradientReport
            Failures, summaries and diagnoses name the unpacked parameters (``"Wl1"``...).
        """
        from gradcheck.checking.gradient import check_gradient

        problem = self.as_problem()
        return check_gradient(problem["loss"], problem["grad"], problem["params"], **options)

    def __repr__(self) -> str:
        shapes = ", ".join(f"{name}{shape}" for name, shape in self.spec)
        return f"FlatVectorNetwork({shapes})"
