from collections import namedtuple

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from gradcheck.errors import InvalidTypeError, TreeMismatchError
from gradcheck.tree import (
    PrivateCopy,
    check_same_tree,
    copy_tree,
    flatten,
    map_tree,
    unflatten,
    zeros_like,
)

arrays = hnp.arrays(
    np.float64,
    hnp.array_shapes(min_dims=0, max_dims=3, max_side=3),
    elements=st.floats(-1e3, 1e3),
)
numbers = st.floats(-1e3, 1e3)
leaves_st = st.one_of(arrays, numbers)
keys = st.text(alphabet="abcxyzW_", min_size=1, max_size=4)
trees = st.recursive(
    leaves_st,
    lambda children: st.one_of(
        st.dictionaries(keys, children, min_size=1, max_size=3),
        st.lists(children, min_size=1, max_size=3),
        st.lists(children, min_size=1, max_size=3).map(tuple),
    ),
    max_leaves=6,
)


def assert_trees_equal(a, b):
    fa, sa = flatten(a)
    fb, sb = flatten(b)
    assert sa == sb
    assert list(fa) == list(fb)
    for path in fa:
        np.testing.assert_array_equal(fa[path], fb[path])


@given(trees)
def test_flatten_unflatten_round_trips(tree):
    flat, spec = flatten(tree)
    assert_trees_equal(unflatten(spec, flat), tree)


@given(trees)
def test_copy_is_deep_and_equal(tree):
    copied = copy_tree(tree)
    assert_trees_equal(copied, tree)
    for original, new in zip(flatten(tree)[0].values(), flatten(copied)[0].values(), strict=True):
        if isinstance(original, np.ndarray) and original.size:
            assert not np.shares_memory(original, new)


@pytest.mark.parametrize(
    ("tree", "paths"),
    [
        (np.ones(3), [""]),
        ({"W1": np.ones(2), "b1": 0.0}, ["W1", "b1"]),
        ({"layers": [{"W": np.ones(2)}, {"W": np.ones(1)}]}, ["layers.0.W", "layers.1.W"]),
        ([np.ones(1), np.ones(2), np.ones(3)], ["[0]", "[1]", "[2]"]),
        ((np.ones(1), [np.ones(1)]), ["[0]", "[1].0"]),
    ],
    ids=["bare", "dict", "nested", "list", "tuple-of-list"],
)
def test_paths(tree, paths):
    assert list(flatten(tree)[0]) == paths


def test_namedtuple_round_trips():
    Pair = namedtuple("Pair", "W b")
    tree = Pair(np.ones(2), np.zeros(1))
    flat, spec = flatten(tree)
    assert list(flat) == ["[0]", "[1]"]
    assert isinstance(unflatten(spec, flat), Pair)


def test_map_and_zeros_like_keep_structure():
    tree = {"a": np.ones(2, dtype=np.float32), "b": [1.5]}
    doubled = map_tree(lambda x: x * 2, tree)
    assert doubled["b"][0] == 3.0
    zeros = zeros_like(tree)
    assert zeros["a"].dtype == np.float32 and zeros["b"][0] == 0.0


@pytest.mark.parametrize(
    ("received", "match"),
    [
        (
            {"W": np.ones((3, 2))},
            r"`grad` for `W` has shape \(3, 2\); expected \(2, 3\).*transpose",
        ),
        ({"W": np.ones(6)}, r"shape \(6,\); expected \(2, 3\).*reshape"),
        ({"V": np.ones((2, 3))}, r"missing \['W'\], unexpected \['V'\]"),
        ("nonsense", r"not a parameter tree"),
    ],
    ids=["transposed", "flattened", "wrong-key", "not-a-tree"],
)
def test_check_same_tree_errors_name_path_and_shapes(received, match):
    with pytest.raises(TreeMismatchError, match=match):
        check_same_tree({"W": np.ones((2, 3))}, received)


def test_unsupported_leaf_names_its_path():
    with pytest.raises(InvalidTypeError, match=r"`layers.0` is a str"):
        flatten({"layers": ["relu"]})


def test_private_copy_perturbs_and_restores_exactly():
    W = np.array([[0.1, 0.2], [0.3, 0.4]])
    copy = PrivateCopy({"W": W, "s": 2.0})
    with copy.perturbed_entry("W", (1, 0), 1e-7) as step:
        assert copy.tree["W"][1, 0] == 0.3 + 1e-7
        assert step == pytest.approx(1e-7, rel=1e-8)
    assert copy.tree["W"][1, 0] == 0.3
    direction = np.ones((2, 2))
    with copy.perturbed_direction("W", direction, 1e-3):
        assert copy.tree["W"][0, 0] == 0.1 + 1e-3
    np.testing.assert_array_equal(copy.leaves["W"], W)
    with copy.perturbed_entry("s", (), 0.5):
        assert copy.tree["s"] == 2.5
    assert W[1, 0] == 0.3  # the caller's array is never touched


def test_private_copy_detects_mutation():
    copy = PrivateCopy({"W": np.zeros(3)})
    snap = copy.snapshot()
    copy.tree["W"][1] = 5.0
    assert copy.changed_paths(snap) == ["W"]


def test_a_bare_non_array_is_named_as_the_bare_parameter():
    with pytest.raises(
        InvalidTypeError, match=r"^the bare parameter is a str; expected an ndarray"
    ):
        flatten("relu")
