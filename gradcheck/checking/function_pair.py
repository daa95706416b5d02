"""Course-style layers as layer objects: a forward/backward function pair, a loss function.

:class:`FunctionPairLayer` wraps ``forward(x, *params, *args, **kwargs) -> (out, cache)``
and ``backward(dout, cache) -> dx`` or ``(dx, *dparams)``; :class:`LossFunctionLayer`
wraps ``loss(x, *args, **kwargs) -> (loss, dx)``. Non-differentiable arguments
(``conv_param``, ``bn_param``, labels ``y``...) are passed as given, deep-copied per call,
so a function that writes running means into ``bn_param`` sees a fresh dict every time.
Both are re-exported by :mod:`gradcheck.adapters`.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from gradcheck._validate import check_callable
from gradcheck.checking.layer_contract import LayerContractError, describe_returned
from gradcheck.errors import InvalidTypeError


def _function_name(fn: Callable) -> str:
    return getattr(fn, "__name__", "") or type(fn).__name__


def _layer_name(fn: Callable) -> str:
    name = _function_name(fn)
    return "layer" if name.startswith("<") else name


def validated_params(params: Any, owner: str) -> dict[str, np.ndarray]:
    """Return `params` as a dict after checking that every value is a float ndarray."""
    if params is None:
        return {}
    if not isinstance(params, Mapping):
        raise InvalidTypeError(
            f"`params` of `{owner}` must be a dict name -> float ndarray; got "
            f"{type(params).__name__}. Try params={{'w': w, 'b': b}} in the order the forward "
            "takes them, and pass other arguments with args=(...)."
        )
    for key, value in params.items():
        if not (isinstance(value, np.ndarray) and value.dtype.kind == "f"):
            what = (
                f"an ndarray of dtype {value.dtype}"
                if isinstance(value, np.ndarray)
                else (f"a {type(value).__name__}")
            )
            raise InvalidTypeError(
                f"`params['{key}']` of `{owner}` is {what}; params are the float arrays to "
                f"differentiate. Pass non-differentiable arguments (conv_param, bn_param, "
                f"dropout_param, G...) with args=({key},) or kwargs={{'{key}': ...}}; convert "
                "integer arrays with `.astype(float)`."
            )
    return dict(params)


def _unchanged(before: Any, after: Any, where: str) -> str | None:
    """Return where `after` differs from its snapshot `before` (a nested cache), or None."""
    if isinstance(before, np.ndarray):
        same = isinstance(after, np.ndarray) and before.shape == after.shape
        return None if same and np.array_equal(before, after, equal_nan=True) else where
    if isinstance(before, tuple | list):
        for k, (b, a) in enumerate(zip(before, after, strict=False)):
            found = _unchanged(b, a, f"{where}[{k}]")
            if found:
                return found
        return None
    if isinstance(before, dict):
        for key in before:
            found = _unchanged(
                before[key],
                after.get(key) if isinstance(after, dict) else None,
                f"{where}[{key!r}]",
            )
            if found:
                return found
    return None


class FunctionPairLayer:
    """A layer made of a course-style ``forward``/``backward`` function pair.

    Parameters
    ----------
    forward : callable
        ``forward(x, *params, *args, **kwargs) -> (out, cache)``, the parameters in the
        order of `params`.
    backward : callable
        ``backward(dout, cache) -> (dx, *dparams)``, the gradients in the same order; a
        layer without parameters may return ``dx`` alone.
    params : dict of str to ndarray, optional
        The float arrays to differentiate, by name, used live (the checker perturbs them).
    args, kwargs : tuple, dict, optional
        Non-differentiable arguments (``conv_param``, ``bn_param``...), deep-copied per call.
    name : str, optional
        The layer's name in reports (default: the forward function's name).
    mixes_samples : bool, optional
        Override the measured answer to "does the forward mix the samples of a batch?".

    Examples
    --------
    >>> import numpy as np
    >>> def affine_forward(x, w, b):
    ...     return x @ w + b, (x, w)
    >>> def affine_backward(dout, cache):
    ...     x, w = cache
    ...     return dout @ w.T, x.T @ dout, dout.sum(axis=0)
    >>> layer = FunctionPairLayer(affine_forward, affine_backward,
    ...                           {"w": np.ones((3, 2)), "b": np.zeros(2)})
    >>> layer.forward(np.ones((4, 3))).shape
    (4, 2)
    >>> sorted(layer.backward(np.ones((4, 2))) is not None and layer.grads)
    ['b', 'w']
    """

    def __init__(
        self,
        forward: Callable,
        backward: Callable,
        params: Mapping[str, np.ndarray] | None = None,
        *,
        args: tuple = (),
        kwargs: Mapping[str, Any] | None = None,
        name: str | None = None,
        mixes_samples: bool | None = None,
    ) -> None:
        self.forward_fn = check_callable("forward", forward)
        self.backward_fn = check_callable("backward", backward)
        self.function_names = {
            "forward": _function_name(forward),
            "backward": _function_name(backward),
        }
        self.params = validated_params(params, self.function_names["forward"])
        self.args, self.kwargs = tuple(args), dict(kwargs or {})
        self.name = name or _layer_name(forward)
        self.mixes_samples = mixes_samples
        self.grads: dict[str, np.ndarray] = {}
        self.notes: list[str] = []
        self._cache: Any = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Run ``forward(x, *params, *args, **kwargs)``; keep the cache for :meth:`backward`."""
        fn = self.function_names["forward"]
        args, kwargs = copy.deepcopy(self.args), copy.deepcopy(self.kwargs)
        returned = self.forward_fn(x, *self.params.values(), *args, **kwargs)
        if not isinstance(returned, tuple | list) or len(returned) != 2:
            hint = "Is it finished?" if returned is None else "Return the output and the cache."
            raise LayerContractError(
                f"`{fn}` returned {describe_returned(returned)}; expected (out, cache). {hint}"
            )
        out, self._cache = returned
        return out

    def backward(self, grad_y: np.ndarray) -> np.ndarray:
        """Run ``backward(dout, cache)`` on a private copy of the cache; set :attr:`grads`."""
        fn = self.function_names["backward"]
        private = copy.deepcopy(self._cache)
        returned = self.backward_fn(grad_y, private)
        written = _unchanged(self._cache, private, "cache")
        if written:
            self._note(f"`{fn}` wrote into its {written} in place (gradcheck passed it a copy)")
        if not self.params and not isinstance(returned, tuple | list):
            self.grads = {}
            return returned  # a bare dx from a parameter-free backward
        names = ", ".join(["dx", *(f"d{key}" for key in self.params)])
        names = names if self.params else "dx,"
        if not isinstance(returned, tuple | list) or len(returned) != 1 + len(self.params):
            hint = " Is it finished?" if returned is None else ""
            raise LayerContractError(
                f"`{fn}` returned {describe_returned(returned)}; expected ({names}): the input "
                f"gradient, then one per parameter in the order of `params`.{hint}"
            )
        dx, *dparams = returned
        self.grads = dict(zip(self.params, dparams, strict=True))
        return dx

    def _note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def __repr__(self) -> str:
        return f"FunctionPairLayer({self.name!r}, params={list(self.params)})"


class LossFunctionLayer:
    """A loss function ``loss(x, *args, **kwargs) -> (loss, dx)`` as the last layer.

    One call per evaluation: :meth:`forward` returns the loss (a 0-d array) and keeps
    ``dx`` for :meth:`backward`, which returns ``dout * dx``.

    Parameters
    ----------
    loss : callable
        ``loss(x, *args, **kwargs) -> (loss, dx)``, e.g. ``softmax_loss(x, y)``.
    args, kwargs : tuple, dict, optional
        The other arguments (labels ``y``...), deep-copied per call.
    name : str, optional
        The layer's name in reports (default: the function's name).

    Examples
    --------
    >>> import numpy as np
    >>> def l2_loss(x, y):
    ...     return 0.5 * np.sum((x - y) ** 2), x - y
    >>> layer = LossFunctionLayer(l2_loss, args=(np.zeros(3),))
    >>> float(layer.forward(np.ones(3))), layer.backward(np.array(2.0)).tolist()
    (1.5, [2.0, 2.0, 2.0])
    """

    params: dict = {}
    grads: dict = {}
    mixes_samples = None

    def __init__(
        self,
        loss: Callable,
        *,
        args: tuple = (),
        kwargs: Mapping[str, Any] | None = None,
        name: str | None = None,
    ) -> None:
        self.loss_fn = check_callable("loss", loss)
        fn = _function_name(loss)
        self.function_names = {"forward": fn, "backward": fn}
        self.args, self.kwargs = tuple(args), dict(kwargs or {})
        self.name = name or _layer_name(loss)
        self.params, self.grads, self.notes = {}, {}, []
        self._dx: Any = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Return the loss as a 0-d array; keep ``dx``."""
        args, kwargs = copy.deepcopy(self.args), copy.deepcopy(self.kwargs)
        returned = self.loss_fn(x, *args, **kwargs)
        if not isinstance(returned, tuple | list) or len(returned) != 2:
            raise LayerContractError(
                f"`{self.function_names['forward']}` returned "
                f"{describe_returned(returned)}; expected (loss, dx)."
            )
        loss, self._dx = returned
        return np.asarray(loss)

    def backward(self, grad_y: np.ndarray) -> Any:
        """Return ``dout * dx`` (dx as the last forward computed it)."""
        if self._dx is None:
            return None
        return np.asarray(grad_y) * np.asarray(self._dx)

    def __repr__(self) -> str:
        return f"LossFunctionLayer({self.name!r})"
