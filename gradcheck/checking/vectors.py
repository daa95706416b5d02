"""Trees as vectors: the flat view that Jacobians need, and a memo of the function's values.

A Jacobian has one row per output entry and one column per input entry. :class:`Layout`
numbers the entries of a tree (leaves in path order, each in C order) and names entry
``k`` back as ``(path, index)``. :class:`Memo` remembers ``f`` at the points the checker
visits, so the rows of a Jacobian, each checked as the gradient of one output entry,
share one set of evaluations of ``f``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from gradcheck import tree as tr
from gradcheck.errors import InvalidArgumentError, LossValueError, TreeMismatchError, at_path

#: The memo keeps at most this many output values in all (floats), then stops storing.
MAX_MEMO_FLOATS = 1 << 22


class Layout:
    """The numbering of a tree's entries: leaves in path order, each in C order.

    Examples
    --------
    >>> import numpy as np
    >>> layout = Layout({"W": np.zeros((2, 2)), "b": np.zeros(3)})
    >>> layout.size, layout.locate(5), layout.name(5)
    (7, ('b', (1,)), 'b[1]')
    """

    def __init__(self, tree: Any) -> None:
        leaves, self.spec = tr.flatten(tree)
        self.template = tree
        self.paths = list(leaves)
        self.shapes = [np.shape(leaf) for leaf in leaves.values()]
        self.dtypes = [_float_dtype(leaf) for leaf in leaves.values()]
        sizes = [int(np.prod(shape)) for shape in self.shapes]
        self.starts = np.concatenate([[0], np.cumsum(sizes)]).astype(int)
        self.size = int(self.starts[-1])

    def vector(self, tree: Any, name: str = "tree") -> np.ndarray:
        """Return the entries of `tree` (same structure as the template) as one 1-D array."""
        leaves = tr.check_same_tree(self.template, tree, name)
        parts = [np.asarray(leaves[path]).reshape(-1) for path in self.paths]
        return np.concatenate(parts) if parts else np.zeros(0)

    def tree(self, vector: np.ndarray, *, cast: bool = True) -> Any:
        """Return the tree of the template's structure whose entries are `vector`.

        With `cast` each leaf takes the template leaf's float dtype (else `vector`'s).
        """
        leaves = {
            path: np.array(vector[start:stop], dtype=dtype if cast else None).reshape(shape)
            for path, shape, dtype, start, stop in zip(
                self.paths,
                self.shapes,
                self.dtypes,
                self.starts[:-1],
                self.starts[1:],
                strict=True,
            )
        }
        return tr.unflatten(self.spec, leaves)

    def basis(self, k: int) -> Any:
        """Return the tree with a 1 at entry `k` and zeros elsewhere."""
        vector = np.zeros(self.size)
        vector[k] = 1.0
        return self.tree(vector)

    def leaf_of(self, k: int) -> int:
        """Return the position (in :attr:`paths`) of the leaf that holds entry `k`."""
        return int(np.searchsorted(self.starts, k, side="right") - 1)

    def locate(self, k: int) -> tuple[str, tuple]:
        """Return ``(path, index)`` of entry `k`."""
        leaf = self.leaf_of(k)
        index = np.unravel_index(int(k - self.starts[leaf]), self.shapes[leaf])
        return self.paths[leaf], tuple(int(i) for i in index)

    def name(self, k: int) -> str:
        """Return entry `k` as people write it: ``W[0,1]``, ``[2]`` for a bare vector."""
        return entry_name(*self.locate(k))

    def entry(self, path: str, index: tuple) -> int:
        """Return the number of entry `index` of leaf `path` (inverse of :meth:`locate`)."""
        leaf = self.paths.index(path)
        return int(self.starts[leaf] + np.ravel_multi_index(index, self.shapes[leaf]))

    def random(self, rng: np.random.Generator, scale: np.ndarray | None = None) -> Any:
        """Return a tree of standard normal entries (times `scale`, entry by entry)."""
        vector = rng.standard_normal(self.size)
        return self.tree(vector if scale is None else vector * scale)


def _float_dtype(leaf: np.ndarray) -> np.dtype:
    return leaf.dtype if np.issubdtype(leaf.dtype, np.floating) else np.dtype(np.float64)


def entry_name(path: str, index: tuple) -> str:
    """Return ``path[i,j]`` for an entry of a leaf (``path`` alone for a named scalar)."""
    if not index:
        return path or "scalar"
    return f"{path}[{','.join(str(int(i)) for i in index)}]"


def dot(a: np.ndarray, b: np.ndarray) -> float:
    """Return the real inner product of two entry vectors (a scalar for the checker)."""
    return float(np.real(np.sum(a * b)))


def _key(x: Any) -> tuple:
    return tuple(
        (path, leaf.dtype.str, leaf.shape, np.ascontiguousarray(leaf).tobytes())
        for path, leaf in tr.leaves(x).items()
    )


class Memo:
    """``f`` as a function of the input tree, returning its output entries as a vector.

    Every call is counted in :attr:`calls`. While :attr:`serving` is False (the first
    check, whose determinism test must reach ``f``) values are only recorded; then a point
    seen before is answered from memory.

    Parameters
    ----------
    f : callable
        The user's function, ``f(x) -> tree``.
    outputs : Layout
        The layout of ``f(x)`` at the checked point; every value must keep it.
    name : str
        How messages call `f` (``"f"``, ``"grad"``).
    """

    def __init__(self, f: Callable, outputs: Layout, name: str = "f") -> None:
        self.f, self.outputs, self.name = f, outputs, name
        self.values: dict[tuple, np.ndarray] = {}
        self.stored = 0
        self.calls = 0
        self.serving = False

    def __call__(self, x: Any) -> np.ndarray:
        """Return the output entries of ``f(x)``, from memory when serving and seen."""
        key = _key(x)
        if self.serving and key in self.values:
            return self.values[key]
        value = output_vector(self.f(x), self.outputs, f"`{self.name}(x)` at a perturbed point")
        self.calls += 1
        if self.stored + value.size <= MAX_MEMO_FLOATS:
            self.values[key] = value
            self.stored += value.size
        return value


def output_vector(value: Any, outputs: Layout, where: str) -> np.ndarray:
    """Return the entries of an output tree, checked to keep the layout and be finite."""
    try:
        vector = outputs.vector(value, where)
    except TreeMismatchError as exc:
        raise TreeMismatchError(f"{exc}. The output of {where} changed structure.") from None
    if not np.all(np.isfinite(vector)):
        bad = int(np.flatnonzero(~np.isfinite(vector))[0])
        path, index = outputs.locate(bad)
        raise LossValueError(
            f"{where} is not finite at {at_path(path)} entry {index} ({vector[bad]}); the "
            "function must be finite at the checked point and nearby."
        )
    return vector


def output_layout(value: Any, name: str) -> Layout:
    """Return the layout of the output `value` of the user's `name`, checked."""
    layout = Layout(value)
    if layout.size == 0:
        raise InvalidArgumentError(
            f"`{name}(x)` has no entries: there is no Jacobian to check. Return an array or "
            "a tree of arrays."
        )
    for path, leaf in tr.leaves(value).items():
        if not (np.issubdtype(leaf.dtype, np.number) or leaf.dtype == bool):
            raise LossValueError(
                f"`{name}(x)` leaf {at_path(path)} has dtype {leaf.dtype}; expected numbers."
            )
    output_vector(value, layout, f"`{name}(x)`")
    return layout
