"""Validate the arguments of the Jacobian checks and set up what they share.

:func:`prepare` checks the user's functions and point once, evaluates ``f`` at the point
(its output fixes the layout of every later value), and returns a :class:`Problem`: the
input and output layouts, the memo of ``f``, the seeded generator and the options passed
on to :func:`gradcheck.check_gradient` for every row and probe.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from gradcheck import _validate as v
from gradcheck import tree as tr
from gradcheck.checking.vectors import Layout, Memo, output_layout
from gradcheck.errors import InvalidArgumentError, InvalidTypeError

#: ``full=None`` checks the whole Jacobian when it has at most this many entries and rows
#: (each row is one gradient check, a few milliseconds however small).
AUTO_FULL_ENTRIES = 2048
AUTO_FULL_ROWS = 128
#: ``probes=None`` checks this many random projections without the full Jacobian, else 1.
DEFAULT_PROBES = 3


class Names(NamedTuple):
    """What the user calls the function, its linearization and the point in messages."""

    f: str  # "f" or "grad"
    linear: str  # "vjp", "jvp" or "hvp"
    x: str  # "x" or "params"
    direction: str  # "g" (an output cotangent) or "v" (an input tangent)


VJP = Names("f", "vjp", "x", "g")
JVP = Names("f", "jvp", "x", "v")
HVP = Names("grad", "hvp", "params", "v")
HESSIAN = Names("grad", "hessian", "params", "v")


class Problem(NamedTuple):
    """Everything a Jacobian check needs after validation."""

    names: Names
    f: Callable
    linear: Callable
    x: Any
    inputs: Layout
    outputs: Layout
    memo: Memo
    rng: np.random.Generator
    full: bool
    probes: int
    options: dict  # keyword arguments of check_gradient


class Counted:
    """A user function that counts its calls (reported next to the evaluations of ``f``)."""

    def __init__(self, fn: Callable) -> None:
        self.fn, self.calls = fn, 0

    def __call__(self, *args: Any) -> Any:
        """Call the function and count the call."""
        self.calls += 1
        return self.fn(*args)


def _check_point(name: str, x: Any) -> Layout:
    leaves = tr.leaves(x)
    if not leaves or all(leaf.size == 0 for leaf in leaves.values()):
        raise InvalidArgumentError(f"`{name}` has no entries: there is nothing to check.")
    v.check_float_leaves(name, leaves)
    for path, leaf in leaves.items():
        if np.iscomplexobj(leaf):
            raise InvalidTypeError(
                f"`{name}` leaf `{path}` is complex; Jacobians of complex inputs are not "
                "supported. Split it into real and imaginary parts."
            )
    return Layout(x)


def _check_modes(full: Any, probes: Any) -> None:
    if full is not None:
        v.check_type("full", full, bool, "True, False or None (automatic)")
    if probes is None:
        return
    v.check_type("probes", probes, (int, np.integer), "a non-negative int or None")
    if probes < 0:
        raise InvalidArgumentError(f"`probes`={probes!r} is out of range: it must be >= 0.")
    if probes == 0 and full is False:
        raise InvalidArgumentError(
            "`probes=0` with `full=False` checks nothing: give probes >= 1 or full=True."
        )


def prepare(names: Names, f: Any, linear: Any, x: Any, full: Any, probes: Any, options: dict):
    """Validate the arguments of a Jacobian check; return the :class:`Problem`."""
    v.check_callable(names.f, f)
    v.check_callable(names.linear, linear)
    inputs = _check_point(names.x, x)
    _check_modes(full, probes)
    seed = options.get("seed", 0)
    v.check_type("seed", seed, (int, np.integer), "an int")
    if seed < 0:
        raise InvalidArgumentError(f"`seed`={seed!r} is out of range: it must be >= 0.")
    outputs = output_layout(f(tr.copy_tree(x)), names.f)
    if full is None:
        full = inputs.size * outputs.size <= AUTO_FULL_ENTRIES and outputs.size <= AUTO_FULL_ROWS
    if probes is None:  # the rows certify every entry; one projection still runs f whole
        probes = 1 if full else DEFAULT_PROBES
    return Problem(
        names=names,
        f=f,
        linear=Counted(linear),
        x=x,
        inputs=inputs,
        outputs=outputs,
        memo=Memo(f, outputs, names.f),
        rng=np.random.default_rng(seed),
        full=full,
        probes=int(probes),
        options=options,
    )


def linear_vector(problem: Problem, value: Any, layout: Layout) -> np.ndarray:
    """Return the entries of what the linear map returned, checked against `layout`."""
    n = problem.names
    return layout.vector(value, f"{n.linear}({n.x}, {n.direction})")


def counts_note(problem: Problem) -> str:
    """Return the note that says how often the user's functions ran."""
    n = problem.names
    return (
        f"`{n.f}` evaluated {problem.memo.calls} times, `{n.linear}` called "
        f"{problem.linear.calls} times"
    )
