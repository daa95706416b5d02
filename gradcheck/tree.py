"""Named parameter trees: an ndarray, a number, or dicts/lists/tuples nesting them.

Every leaf has a *path*, the name every report uses for it:

========================  ============
tree                      paths
========================  ============
``W``                     ``""``
``{"W1": W, "b1": b}``    ``"W1"``, ``"b1"``
``{"layers": [{"W": W}]}`` ``"layers.0.W"``
``[W, b, c]``             ``"[0]"``, ``"[1]"``, ``"[2]"``
========================  ============

Nothing here mutates the caller's arrays. :class:`PrivateCopy` owns a copy that the
checker perturbs in place and restores exactly, which is what makes a finite-difference
evaluation cost no more than the loss itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from numbers import Number
from typing import Any

import numpy as np

from gradcheck.errors import InvalidTypeError, TreeMismatchError, at_path

Tree = Any

_BRANCH_KINDS = {dict: "dict", list: "list", tuple: "tuple"}


@dataclass(frozen=True)
class TreeSpec:
    """The structure of a tree without its leaves; :func:`unflatten` rebuilds from it."""

    kind: str  # "array", "number", "dict", "list" or "tuple"
    keys: tuple = ()
    children: tuple[TreeSpec, ...] = ()
    tuple_type: type | None = None  # the namedtuple class, if any


def join_path(prefix: str, key: object, kind: str) -> str:
    """Return the path of child `key` of the branch at `prefix`."""
    if kind == "dict":
        return f"{prefix}.{key}" if prefix else str(key)
    return f"{prefix}.{key}" if prefix else f"[{key}]"


def _branch_kind(tree: Tree) -> str | None:
    for cls, kind in _BRANCH_KINDS.items():
        if isinstance(tree, cls):
            return kind
    return None


def _children(tree: Tree, kind: str) -> list[tuple[object, Tree]]:
    if kind == "dict":
        return list(tree.items())
    return list(enumerate(tree))


def _leaf_spec(tree: Tree, path: str) -> TreeSpec:
    if isinstance(tree, np.ndarray):
        return TreeSpec("array")
    if isinstance(tree, np.generic | Number) and not isinstance(tree, bool | np.bool_):
        return TreeSpec("number")
    raise InvalidTypeError(
        f"{at_path(path)} is a {type(tree).__name__}; expected an ndarray, a number, or a "
        "dict/list/tuple of them. Convert it with np.asarray(...) or leave it out of `params`."
    )


MAX_DEPTH = 100  # real parameter trees nest a handful of levels; this bounds the recursion


def _check_branch(tree: Tree, path: str, ancestors: tuple[int, ...], name: str) -> None:
    if id(tree) in ancestors:
        raise InvalidTypeError(
            f"`{name}` contains itself: {at_path(path)} is the same {type(tree).__name__} as "
            "one of its ancestors (a self-reference), so it has no finite set of leaves. "
            "Pass a tree of arrays without cycles."
        )
    if len(ancestors) >= MAX_DEPTH:
        shown = path if len(path) <= 60 else f"{path[:28]}...{path[-28:]}"
        raise InvalidTypeError(
            f"`{name}` nests deeper than {MAX_DEPTH} levels (at `{shown}`); a parameter tree "
            "is a few levels of dicts/lists/tuples around arrays: flatten the nesting."
        )


def _flatten_into(
    tree: Tree, path: str, out: dict[str, np.ndarray], ancestors: tuple[int, ...], name: str
) -> TreeSpec:
    kind = _branch_kind(tree)
    if kind is None:
        spec = _leaf_spec(tree, path)
        out[path] = tree if spec.kind == "array" else np.asarray(tree)
        return spec
    _check_branch(tree, path, ancestors, name)
    inner = (*ancestors, id(tree))
    items = _children(tree, kind)
    children = tuple(
        _flatten_into(child, join_path(path, key, kind), out, inner, name) for key, child in items
    )
    tuple_type = type(tree) if kind == "tuple" and type(tree) is not tuple else None
    return TreeSpec(kind, tuple(key for key, _ in items), children, tuple_type)


def flatten(tree: Tree, name: str = "params") -> tuple[dict[str, np.ndarray], TreeSpec]:
    """Return the leaves of `tree` by path (in order) and its structure.

    Array leaves are returned as they are (not copied); number leaves as 0-d arrays. A
    tree that contains itself or nests deeper than ``MAX_DEPTH`` raises
    :class:`InvalidTypeError` naming the argument `name`.

    Examples
    --------
    >>> import numpy as np
    >>> leaves, spec = flatten({"W": np.ones((2, 3)), "b": [np.zeros(3), 1.0]})
    >>> list(leaves)
    ['W', 'b.0', 'b.1']
    """
    leaves: dict[str, np.ndarray] = {}
    spec = _flatten_into(tree, "", leaves, (), name)
    return leaves, spec


def leaves(tree: Tree, name: str = "params") -> dict[str, np.ndarray]:
    """Return the leaves of `tree` (the argument `name`) by path, in order (see :func:`flatten`)."""
    return flatten(tree, name)[0]


def _build(spec: TreeSpec, path: str, leaf_of: Callable[[str, TreeSpec], Any]) -> Tree:
    if spec.kind in ("array", "number"):
        return leaf_of(path, spec)
    kind = spec.kind
    built = [
        _build(child, join_path(path, key, kind), leaf_of)
        for key, child in zip(spec.keys, spec.children, strict=True)
    ]
    if kind == "dict":
        return dict(zip(spec.keys, built, strict=True))
    if kind == "list":
        return built
    return spec.tuple_type(*built) if spec.tuple_type else tuple(built)


def unflatten(spec: TreeSpec, leaves_by_path: Mapping[str, np.ndarray]) -> Tree:
    """Rebuild a tree of structure `spec` from leaves by path.

    Number leaves come back as Python floats or complex numbers; arrays as given.

    Examples
    --------
    >>> import numpy as np
    >>> leaves, spec = flatten({"a": 1.0, "b": np.zeros(2)})
    >>> unflatten(spec, leaves)["a"]
    1.0
    """

    def leaf_of(path: str, leaf_spec: TreeSpec) -> Any:
        value = leaves_by_path[path]
        if leaf_spec.kind == "number":
            return complex(value) if np.iscomplexobj(value) else float(value)
        return value

    return _build(spec, "", leaf_of)


def map_tree(fn: Callable[..., np.ndarray], tree: Tree, *others: Tree) -> Tree:
    """Apply `fn` to each leaf (and the matching leaves of `others`); keep the structure.

    Examples
    --------
    >>> import numpy as np
    >>> map_tree(lambda a, b: a + b, {"x": np.ones(2)}, {"x": np.ones(2)})["x"]
    array([2., 2.])
    """
    flat, spec = flatten(tree)
    other_flats = [check_same_tree(tree, other, "other tree") for other in others]
    mapped = {path: fn(leaf, *(o[path] for o in other_flats)) for path, leaf in flat.items()}
    return unflatten(spec, mapped)


def copy_tree(tree: Tree) -> Tree:
    """Return a deep copy: new arrays, same structure."""
    return map_tree(np.array, tree)


def zeros_like(tree: Tree) -> Tree:
    """Return a tree of the same structure whose leaves are zeros of the same dtype."""
    return map_tree(np.zeros_like, tree)


def _shape_hint(expected: tuple, received: tuple) -> str:
    if len(expected) == 2 and received == expected[::-1]:
        return " — did you return the transpose (`.T`)?"
    if int(np.prod(expected)) == int(np.prod(received)):
        return " — same size: did you forget a reshape?"
    return ""


def _check_keys(expected: dict, received: dict, name: str) -> None:
    missing = [p for p in expected if p not in received]
    extra = [p for p in received if p not in expected]
    if missing or extra:
        raise TreeMismatchError(
            f"`{name}` does not have the paths of `params`: missing {missing}, unexpected "
            f"{extra}. Return one gradient per parameter, with the same keys and nesting."
        )


def check_same_tree(expected: Tree, received: Tree, name: str = "grad") -> dict[str, np.ndarray]:
    """Check that `received` has the structure and leaf shapes of `expected`.

    Returns the leaves of `received` by path, as arrays (their dtypes unchecked). Raises
    :class:`TreeMismatchError` naming the first path that differs and the shapes.

    Examples
    --------
    >>> import numpy as np
    >>> list(check_same_tree({"W": np.ones(2)}, {"W": np.zeros(2)}))
    ['W']
    """
    expected_leaves = leaves(expected)
    try:
        received_leaves = leaves(received, name)
    except InvalidTypeError as exc:
        raise TreeMismatchError(f"`{name}` is not a parameter tree: {exc}") from None
    _check_keys(expected_leaves, received_leaves, name)
    out = {}
    for path, want in expected_leaves.items():
        got = np.asarray(received_leaves[path])
        if got.shape != want.shape:
            raise TreeMismatchError(
                f"`{name}` for {at_path(path)} has shape {got.shape}; expected {want.shape}"
                f"{_shape_hint(want.shape, got.shape)}"
            )
        out[path] = got
    return out


class PrivateCopy:
    """A private float copy of a tree that can be perturbed in place and restored exactly.

    The caller's arrays are never touched. ``.tree`` is what the user's functions receive;
    for trees without number leaves it is built once and shares memory with ``.leaves``,
    so a perturbation costs one write and one restore, not a copy of the vector.

    Parameters
    ----------
    tree : Tree
        The parameters.
    dtype : numpy dtype, optional
        The dtype of the copy (default: each leaf's own floating dtype).

    Examples
    --------
    >>> import numpy as np
    >>> W = np.zeros((2, 2))
    >>> copy = PrivateCopy({"W": W})
    >>> with copy.perturbed_entry("W", (0, 1), 1e-3):
    ...     float(copy.tree["W"][0, 1])
    0.001
    >>> float(W[0, 1]), float(copy.tree["W"][0, 1])
    (0.0, 0.0)
    """

    def __init__(self, tree: Tree, dtype: Any = None) -> None:
        flat, self.spec = flatten(tree)
        self.leaves = {path: np.array(leaf, dtype=dtype) for path, leaf in flat.items()}
        self._has_numbers = _has_number_leaf(self.spec)
        self._tree = None if self._has_numbers else unflatten(self.spec, self.leaves)

    @property
    def tree(self) -> Tree:
        """The tree to hand to user functions (rebuilt each time only for number leaves)."""
        if self._has_numbers:
            return unflatten(self.spec, self.leaves)
        return self._tree

    @contextmanager
    def perturbed_entry(self, path: str, index: tuple, delta: float) -> Iterator[float]:
        """Add `delta` to one entry; yield the step really taken; restore it exactly."""
        leaf = self.leaves[path]
        original = leaf[index].copy()
        leaf[index] = original + delta
        try:
            yield leaf[index] - original
        finally:
            leaf[index] = original

    @contextmanager
    def perturbed_direction(self, path: str, direction: np.ndarray, scale: float) -> Iterator[None]:
        """Add ``scale * direction`` to a whole leaf; restore it exactly afterwards."""
        leaf = self.leaves[path]
        original = leaf.copy()
        leaf += scale * direction
        try:
            yield
        finally:
            leaf[...] = original

    def snapshot(self) -> dict[str, np.ndarray]:
        """Return copies of the current leaves (to detect mutation by user code)."""
        return {path: leaf.copy() for path, leaf in self.leaves.items()}

    def changed_paths(self, snapshot: Mapping[str, np.ndarray]) -> list[str]:
        """Return the paths whose leaves differ from `snapshot` (NaN equals NaN)."""
        return [
            path
            for path, leaf in self.leaves.items()
            if not np.array_equal(leaf, snapshot[path], equal_nan=True)
        ]


def _has_number_leaf(spec: TreeSpec) -> bool:
    if spec.kind == "number":
        return True
    return any(_has_number_leaf(child) for child in spec.children)
