"""Check a backprop written in any language: :class:`Program` speaks the line protocol.

A :class:`Program` starts the user's program, reads its declaration and exposes what the
checkers take: ``loss``, ``grad`` and ``params`` for :func:`gradcheck.check_gradient`,
``layers`` and :meth:`Program.input` for :func:`gradcheck.check_layers`. Every mode,
diagnosis and report works unchanged. The per-entry evaluations of a check are ``loss_at
I H`` requests (O(1) text each), directional probes ``loss_along``; a bounded window of
requests is kept in flight (see ``docs/protocol.md``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from gradcheck.checking.declaration import Declaration, read_declaration
from gradcheck.checking.protocol import Child, checked, command_words, format_numbers, numbers, ok
from gradcheck.checking.remote_layers import RemoteLayer, read_batch
from gradcheck.errors import InvalidArgumentError, InvalidTypeError, TreeMismatchError

__all__ = ["Program"]

#: Requests in flight while the per-entry evaluations stream (DESIGN.md: the window is
#: what makes the protocol cost a few microseconds per evaluation instead of ~65).
WINDOW = 64


def _initial_point(shapes: Mapping[str, tuple], seed: int) -> dict[str, np.ndarray]:
    """Random parameters: N(0, 1/fan_in) for matrices (fan_in = first dim), N(0, 0.1^2) else."""
    rng = np.random.default_rng(seed)
    point = {}
    for name, shape in shapes.items():
        scale = 1.0 / np.sqrt(shape[0]) if len(shape) >= 2 else 0.1
        point[name] = scale * rng.standard_normal(shape)
    return point


def _given_point(params: Mapping, shapes: Mapping[str, tuple]) -> dict[str, np.ndarray]:
    if not isinstance(params, Mapping) or set(params) != set(shapes):
        got = sorted(params) if isinstance(params, Mapping) else type(params).__name__
        raise TreeMismatchError(
            f"`params` must be a dict with the declared names {list(shapes)}; got {got}."
        )
    point = {}
    for name, shape in shapes.items():
        value = np.array(params[name], dtype=np.float64)
        if value.shape != shape:
            raise TreeMismatchError(
                f"`params['{name}']` has shape {value.shape}; the program declared {shape}."
            )
        point[name] = value
    return point


class _RemoteLoss:
    """``loss(params) -> float`` over the protocol; offers the engine a batch evaluator."""

    def __init__(self, program: Program) -> None:
        self.program = program

    def __call__(self, params: Any) -> float:
        program = self.program
        x = program.flat(params)
        moved = np.flatnonzero(~program.at_base(x))
        if moved.size == 0:
            return program.request("loss", numbers(1, "one number (the loss)"))[0]
        if moved.size == 1:
            i = int(moved[0])
            return program.loss_at([(i, float(x[i] - program.base[i]))])[0]
        return program.loss_along([x - program.base])[0]

    def batch_evaluator(self, evaluator: Any) -> _Batch:
        """Return the batch evaluator the differencing engine delegates whole batches to."""
        return _Batch(self.program, evaluator)


class _Batch:
    """Evaluate the engine's batches as pipelined ``loss_at`` / ``loss_along`` requests."""

    def __init__(self, program: Program, evaluator: Any) -> None:
        self.program = program
        self.evaluator = evaluator

    def _offset(self, leaf: np.ndarray) -> int:
        copy = self.evaluator.copy
        self.program.ensure_base(self.program.flat(copy.tree))
        for path, candidate in copy.leaves.items():
            if candidate is leaf:
                return self.program.offsets[path]
        raise InvalidArgumentError("the leaf to perturb is not one of the program's parameters")

    def entry_values(self, leaf, indices, perturbed, columns, out, on_entry=None) -> np.ndarray:
        """Fill `out` like :func:`gradcheck.numeric.differences.entry_values`, pipelined."""
        indices = np.asarray(indices, dtype=np.intp)
        columns = list(columns)
        offset = self._offset(leaf)
        x = leaf.reshape(-1)[indices].astype(np.float64)
        steps = np.asarray(perturbed, dtype=np.float64)[:, columns] - x[:, None]
        flat = np.repeat(indices + offset, len(columns))
        values = self.program.loss_at(zip(flat.tolist(), steps.reshape(-1).tolist(), strict=True))
        out[:, columns] = np.asarray(values).reshape(len(indices), len(columns))
        self.evaluator.count += len(values)
        for _ in range(len(indices) if on_entry is not None else 0):
            on_entry()
        return out

    def support_values(self, leaf, support, perturbed) -> list[float]:
        """Return the loss at each row of `perturbed` on `support`, as ``loss_along`` requests."""
        offset = self._offset(leaf)
        x = leaf.reshape(-1)[support].astype(np.float64)
        positions = np.asarray(support, dtype=np.intp) + offset
        moves = []
        for row in perturbed:
            v = np.zeros(self.program.size)
            v[positions] = np.asarray(row, dtype=np.float64) - x
            moves.append(v)
        values = self.program.loss_along(moves)
        self.evaluator.count += len(values)
        return values


class Program:
    """A program in any language, checked over ``gradcheck-protocol 1`` (docs/protocol.md).

    Parameters
    ----------
    argv : str or sequence of str
        The program and its arguments; a string is split with :func:`shlex.split` (the
        program is never run through a shell).
    timeout : float
        Seconds each answer may take before the program counts as hung.
    params : dict, optional
        The point to check at, by declared name and shape (default: a random point drawn
        with `seed`, N(0, 1/fan_in) for matrices and N(0, 0.01) for vectors).
    seed : int
        Seeds the default point.
    window : int
        Requests kept in flight while evaluations stream (1: strict lockstep).
    echo_stderr : bool
        Pass the program's stderr through to ours (its tail is quoted in errors either way).

    Examples
    --------
    >>> import sys, gradcheck
    >>> cmd = [sys.executable, "examples/protocol/reference.py", "--sizes", "3,4,2"]
    >>> with Program(cmd) as program:  # doctest: +SKIP
    ...     report = gradcheck.check_gradient(program.loss, program.grad, program.params)
    ...     layers = gradcheck.check_layers(program.layers, program.input())
    """

    def __init__(
        self,
        argv: str | Sequence[str],
        *,
        timeout: float = 30.0,
        params: Mapping[str, Any] | None = None,
        seed: int = 0,
        window: int = WINDOW,
        echo_stderr: bool = True,
    ) -> None:
        if not (isinstance(timeout, int | float) and timeout > 0):
            raise InvalidArgumentError(f"`timeout`={timeout!r} must be a positive number.")
        if not (isinstance(window, int) and window >= 1):
            raise InvalidArgumentError(f"`window`={window!r} must be an int >= 1.")
        self.window = window
        self.child = Child(command_words(argv), timeout=timeout, echo_stderr=echo_stderr)
        try:
            self.declaration: Declaration = read_declaration(self.child)
            shapes = self.declaration.params
            point = _initial_point(shapes, seed) if params is None else _given_point(params, shapes)
            sizes = [int(np.prod(s, dtype=np.int64)) for s in shapes.values()]
            starts = np.concatenate([[0], np.cumsum(sizes)]).tolist()
            self.offsets = dict(zip(shapes, starts[:-1], strict=True))
            self.size = int(starts[-1])
            self.params = point
            self.base = np.full(self.size, np.nan)
            self.ensure_base(self.flat(point), force=True)
        except BaseException:
            self.child.close(quit_first=False)
            raise
        self.loss = _RemoteLoss(self)
        self._layers: list | None = None

    def __repr__(self) -> str:
        return f"Program({self.child.name!r}, params={self.declaration.params})"

    def __enter__(self) -> Program:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> int | None:
        """Send ``quit``, then stop and reap the program; return its exit status."""
        return self.child.close()

    # -- the point ----------------------------------------------------------------------

    def flat(self, params: Any) -> np.ndarray:
        """Return the flat float64 vector of a params dict, in declared order (C order)."""
        try:
            parts = [np.asarray(params[name]).reshape(-1) for name in self.declaration.params]
        except (KeyError, TypeError, ValueError) as exc:
            raise TreeMismatchError(
                f"expected a dict with the declared names {list(self.declaration.params)}: {exc}"
            ) from None
        if any(np.iscomplexobj(p) for p in parts):
            raise InvalidTypeError(
                "a program over the protocol evaluates real numbers only: complex-step "
                "differences cannot reach it. Use method='central' or 'richardson'."
            )
        flat = np.concatenate(parts).astype(np.float64, copy=False)
        if flat.size != self.size:
            raise TreeMismatchError(f"expected {self.size} numbers in all; got {flat.size}.")
        return flat

    def at_base(self, x: np.ndarray) -> np.ndarray:
        """Entries of `x` equal to the program's base point (NaN equals NaN)."""
        return (x == self.base) | (np.isnan(x) & np.isnan(self.base))

    def ensure_base(self, x: np.ndarray, *, force: bool = False) -> None:
        """Make `x` the program's base point (a ``params`` request) unless it already is."""
        if force or not self.at_base(x).all():
            request = "params " + format_numbers(x)
            self.request(request, ok)
            self.base = np.array(x, dtype=np.float64)

    def unflatten(self, flat: np.ndarray, names: Sequence[str] | None = None) -> dict:
        """Split a flat vector into arrays of the declared shapes (of `names`, in order)."""
        out, start = {}, 0
        for name in names if names is not None else self.declaration.params:
            shape = self.declaration.params[name]
            size = int(np.prod(shape, dtype=np.int64))
            out[name] = flat[start : start + size].reshape(shape)
            start += size
        return out

    # -- requests -----------------------------------------------------------------------

    def request(self, request: str, parse: Callable[[list[str]], Any]) -> Any:
        """Send one request and return its parsed answer (lockstep)."""
        return checked(self.child, request, self.child.exchange(request), parse)

    def _stream(self, requests: list[str], window: int) -> list[float]:
        values, parse = [], numbers(1, "one number (the loss)")
        for request, answer in zip(requests, self.child.pipeline(requests, window), strict=True):
            try:
                values.append(float(answer))
            except ValueError:
                values.append(checked(self.child, request, answer, parse)[0])
        return values

    def loss_at(self, moves: Any) -> list[float]:
        """Return the loss at ``base + H e_I`` for each ``(I, H)`` (pipelined ``loss_at``)."""
        requests = [f"loss_at {i} {h!r}" for i, h in moves]
        return self._stream(requests, self.window)

    def loss_along(self, moves: Sequence[np.ndarray]) -> list[float]:
        """Return the loss at ``base + V`` for each full-length `V` (``loss_along 1.0 V``)."""
        requests = ["loss_along 1.0 " + format_numbers(v) for v in moves]
        return self._stream(requests, min(self.window, 2))

    def grad(self, params: Any) -> dict[str, np.ndarray]:
        """Return the program's gradient at `params` (a dict by declared name), as arrays."""
        self.ensure_base(self.flat(params))
        flat = self.request("grad", numbers(self.size, "the gradient (one number per entry)"))
        return self.unflatten(flat)

    @property
    def layers(self) -> list:
        """The declared layers, for :func:`gradcheck.check_layers` (empty if none declared)."""
        if self._layers is None:
            self._layers = [
                RemoteLayer(self, index, name, names)
                for index, (name, names) in enumerate(self.declaration.layers)
            ]
        return self._layers

    def input(self) -> np.ndarray:
        """Return the program's batch to check layers on (the ``input`` request)."""
        return read_batch(self)
