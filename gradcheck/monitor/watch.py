"""`watch(layers)`: run a layer-protocol stack and record what the monitor needs.

A layer is any object with ``params`` (dict name -> array), ``forward(x)``,
``backward(grad_y)`` (which sets ``grads`` with the keys of ``params``) and optionally
``name``. The watched stack records each layer's output as an activation, the output of
each layer with parameters as a pre-activation (it feeds the next, elementwise, layer), the
gradients as ``f"{layer}.{param}"`` and the parameters under the same paths.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from gradcheck.errors import InvalidTypeError


def _key(index: int, layer: Any, taken: set[str]) -> str:
    name = getattr(layer, "name", None)
    if isinstance(name, str) and name and name not in taken:
        return name
    return f"{index}:{type(layer).__name__}"


class WatchedStack:
    """A layer stack whose forward/backward record activations, gradients and parameters.

    Examples
    --------
    >>> import numpy as np
    >>> class Double:
    ...     params, grads = {}, {}
    ...     def forward(self, x):
    ...         return 2 * x
    ...     def backward(self, g):
    ...         return 2 * g
    >>> net = watch([Double()])
    >>> float(net.forward(np.ones((2, 3))).sum())
    12.0
    >>> list(net.activations)
    ['0:Double']
    """

    def __init__(self, layers: Sequence[Any]) -> None:
        self.layers = list(layers)
        taken: set[str] = set()
        self.keys = []
        for index, layer in enumerate(self.layers):
            _check_layer(index, layer)
            self.keys.append(_key(index, layer, taken))
            taken.add(self.keys[-1])
        self.activations: dict[str, np.ndarray] = {}
        self.preactivations: dict[str, np.ndarray] = {}
        self.gradients: dict[str, np.ndarray] = {}

    def __repr__(self) -> str:
        return f"WatchedStack({', '.join(self.keys)})"

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Run every layer forward, recording its output."""
        self.activations, self.preactivations = {}, {}
        for key, layer in zip(self.keys, self.layers, strict=True):
            x = layer.forward(x)
            self.activations[key] = x
            if getattr(layer, "params", None):
                self.preactivations[key] = x
        return x

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """Run every layer backward (last first), recording the parameter gradients."""
        grads: dict[str, np.ndarray] = {}
        for key, layer in zip(reversed(self.keys), reversed(self.layers), strict=True):
            dout = layer.backward(dout)
            for name, g in (getattr(layer, "grads", None) or {}).items():
                grads[f"{key}.{name}"] = g
        order = list(self.params)
        self.gradients = {path: grads[path] for path in order if path in grads}
        return dout

    @property
    def params(self) -> dict[str, np.ndarray]:
        """Parameter paths ``f"{layer}.{param}"`` -> live arrays, in forward order."""
        return {
            f"{key}.{name}": p
            for key, layer in zip(self.keys, self.layers, strict=True)
            for name, p in (getattr(layer, "params", None) or {}).items()
        }

    def step_record(self, loss: Any = None) -> dict[str, Any]:
        """Return the keyword arguments of ``Monitor.observe`` for the last forward/backward."""
        return {
            "loss": loss,
            "activations": self.activations,
            "preactivations": self.preactivations,
            "gradients": self.gradients,
            "params": self.params,
        }

    def observe_into(self, monitor: Any, step: int, *, loss: Any = None) -> Any:
        """Call ``monitor.observe(step, ...)`` with what the last forward/backward recorded."""
        return monitor.observe(step, **self.step_record(loss))


def _check_layer(index: int, layer: Any) -> None:
    missing = [a for a in ("forward", "backward") if not callable(getattr(layer, a, None))]
    if missing:
        raise InvalidTypeError(
            f"`layers[{index}]` ({type(layer).__name__}) lacks {', '.join(missing)}: a layer "
            "needs `params`, `forward(x)` and `backward(grad_y)` (which sets `grads`)."
        )


def watch(layers: Any) -> WatchedStack:
    """Wrap a layer stack (a list of layers, or an object with `.layers`) to record arrays.

    Parameters
    ----------
    layers : sequence of layers, or a model with a ``layers`` attribute
        Layers following the layer protocol, in forward order.

    Returns
    -------
    WatchedStack
        Use its ``forward``/``backward`` in place of the model's, then
        ``net.observe_into(monitor, step, loss=loss)`` once per step (before the update).

    Examples
    --------
    >>> import numpy as np
    >>> from gradcheck.monitor import Monitor
    >>> class Scale:
    ...     def __init__(self):
    ...         self.params, self.grads, self.name = {"w": np.ones(3)}, {}, "scale"
    ...     def forward(self, x):
    ...         self.x = x
    ...         return x * self.params["w"]
    ...     def backward(self, g):
    ...         self.grads = {"w": (g * self.x).sum(axis=0)}
    ...         return g * self.params["w"]
    >>> net, mon = watch([Scale()]), Monitor()
    >>> y = net.forward(np.ones((2, 3)))
    >>> _ = net.backward(np.ones_like(y))
    >>> _ = net.observe_into(mon, 0, loss=1.0)
    >>> list(net.gradients)
    ['scale.w']
    """
    stack = getattr(layers, "layers", layers)
    if isinstance(stack, np.ndarray) or not isinstance(stack, Sequence):
        raise InvalidTypeError(
            f"`layers` must be a list of layers or a model with `.layers`; got "
            f"{type(layers).__name__}."
        )
    return WatchedStack(stack)
