"""The layers a program declares, as layer objects for :func:`gradcheck.check_layers`.

A :class:`RemoteLayer` has ``params`` (live arrays shared with ``Program.params``: the
checker perturbs them in place), ``forward(x)`` (``forward K N D X...``) and
``backward(dout)`` (``backward K G...``, which also sets ``grads``). ``forward K`` runs
at the program's base point, so when the checker has moved a parameter the layer first
sends the whole point (``params``): O(P) text per evaluation, which is why layer checks of
large nets are best run with ``--directions``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from gradcheck.checking.protocol import format_numbers, numbers
from gradcheck.errors import InvalidTypeError

if TYPE_CHECKING:
    from gradcheck.checking.external import Program


def _shape_then_numbers(what: str, rows: int | None = None):
    """Parse ``N E V1 ... V(N*E)`` (N must equal `rows` when given) into an (N, E) array."""

    def parse(tokens: list[str]) -> np.ndarray:
        head = tokens[:2]
        if len(head) != 2 or not all(t.isdigit() for t in head):
            raise ValueError(f"{what}: `N E` (two integers) and then N*E numbers")
        n, e = int(head[0]), int(head[1])
        if rows is not None and n != rows:
            raise ValueError(f"{what} with N = {rows} rows (one per input row), not N = {n}")
        return numbers(n * e, f"{what}: {n}*{e} numbers after `{n} {e}`")(tokens[2:]).reshape(n, e)

    return parse


def read_batch(program: Program) -> np.ndarray:
    """Return the batch the program offers for layer checks (``input -> N D X...``)."""
    return program.request("input", _shape_then_numbers("the batch `N D X1 ... X(N*D)`"))


def _matrix(x: Any, who: str) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise InvalidTypeError(
            f"{who} takes a batch of shape (N, D) over the protocol; got shape {x.shape}."
        )
    return x


class RemoteLayer:
    """Layer `index` of a program: ``params``, ``forward``, ``backward``, ``grads``."""

    def __init__(self, program: Program, index: int, name: str, names: tuple[str, ...]) -> None:
        self.program = program
        self.index = index
        self.name = name
        self.params = {key: program.params[key] for key in names}
        self.grads: dict[str, np.ndarray] = {}
        self._input_shape: tuple[int, int] | None = None

    def __repr__(self) -> str:
        return f"RemoteLayer({self.index}, {self.name!r}, params={list(self.params)})"

    def forward(self, x: Any) -> np.ndarray:
        """Return layer `index`'s output on `x` at the current parameters."""
        x = _matrix(x, f"layer {self.index} (`{self.name}`)")
        program = self.program
        program.ensure_base(program.flat(program.params))
        n, d = x.shape
        request = f"forward {self.index} {n} {d} " + format_numbers(x)
        y = program.request(request, _shape_then_numbers(f"layer {self.index}'s output", n))
        self._input_shape = (n, d)
        return y

    def backward(self, dout: Any) -> np.ndarray:
        """Return the input gradient for `dout`; set ``grads`` (after :meth:`forward`)."""
        dout = np.asarray(dout, dtype=np.float64)
        if self._input_shape is None:
            raise InvalidTypeError(f"layer {self.index}: `backward` called before `forward`.")
        n, d = self._input_shape
        sizes = [self.params[key].size for key in self.params]
        count = n * d + sum(sizes)
        what = (
            f"layer {self.index}'s input gradient ({n}*{d} numbers) and then the gradients "
            f"of {list(self.params) or 'no parameter'} ({sum(sizes)} numbers)"
        )
        request = f"backward {self.index} " + format_numbers(dout)
        flat = self.program.request(request, numbers(count, what))
        split = self.program.unflatten(flat[n * d :], list(self.params))
        self.grads = {key: np.array(value) for key, value in split.items()}
        return flat[: n * d].reshape(n, d)
