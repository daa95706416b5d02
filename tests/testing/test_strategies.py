"""Hypothesis strategies: argument validation, generated values, minimal counterexamples."""

import re

import numpy as np
import pytest
from hypothesis import find, given, settings
from hypothesis import strategies as st

from gradcheck.errors import InvalidArgumentError
from gradcheck.nn.losses import LOSSES
from gradcheck.testing import strategies as gs
from gradcheck.testing.strategies import MLPSpec
from tests.budget import examples

SPEC = MLPSpec(sizes=(3, 4, 2), activation="tanh", loss="cross_entropy")
FAST = settings(max_examples=examples(25), deadline=None)

BAD_ARGUMENTS = {
    "layers-order": (
        lambda: gs.mlp_specs(min_layers=3, max_layers=1),
        "Cannot have min_layers=3 > max_layers=1 for `layers`: pass min_layers <= max_layers",
    ),
    "width-below-one": (
        lambda: gs.mlp_specs(min_width=0),
        "`min_width` must be an int >= 1; got min_width=0",
    ),
    "width-not-int": (
        lambda: gs.mlp_specs(max_width=2.5),
        "`max_width` must be an int >= 1; got max_width=2.5",
    ),
    "unknown-activation": (
        lambda: gs.mlp_specs(activations=["relu", "swish"]),
        "`activations`='swish' is not one of 'identity'",
    ),
    "no-losses": (lambda: gs.mlp_specs(losses=[]), "`losses` is empty"),
    "bad-dtype": (
        lambda: gs.mlp_specs(dtypes="float16"),
        "`dtypes`='float16' is not one of 'float64', 'float32'",
    ),
    "cross-entropy-width-1": (
        lambda: gs.mlp_specs(losses="cross_entropy", max_width=1),
        "`loss`='cross_entropy' needs an output width >= 2, but max_width=1",
    ),
    "too-many-leaves": (
        lambda: gs.param_trees(max_leaves=27),
        "`max_leaves` must be <= 26; got max_leaves=27",
    ),
    "sides-order": (
        lambda: gs.param_trees(min_side=3, max_side=2),
        "Cannot have min_side=3 > max_side=2 for `side`",
    ),
    "max-abs-zero": (
        lambda: gs.param_trees(max_abs=0),
        "`max_abs` must be a finite number > 0; got max_abs=0",
    ),
    "batch-zero": (
        lambda: gs.input_batches(SPEC, min_batch=0),
        "`min_batch` must be an int >= 1; got min_batch=0",
    ),
    "margin-above-max": (
        lambda: gs.arrays_away_from_kinks((2,), margin=3.0),
        "Cannot have margin=3.0 > max_abs=2.0",
    ),
    "negative-margin": (
        lambda: gs.arrays_away_from_kinks((2,), margin=-1.0),
        "`margin` must be a finite number > 0; got margin=-1.0",
    ),
    "int-dtype": (
        lambda: gs.arrays_near_kinks((2,), dtype="int32"),
        "`dtype`='int32' is not one of 'float64', 'float32'",
    ),
    "zero-distance": (
        lambda: gs.arrays_near_kinks((2,), distance=0.0),
        "`distance` must be a finite number > 0; got distance=0.0",
    ),
    "bad-shape": (
        lambda: gs.arrays_near_kinks([2, 3]),
        "`shape` must be a tuple of ints or a strategy; got [2, 3]",
    ),
    "spec-and-bounds": (
        lambda: gs.layer_stacks(SPEC, max_layers=2),
        "Give either `spec` or bounds for `mlp_specs`, not both",
    ),
}


@pytest.mark.parametrize("case", list(BAD_ARGUMENTS), ids=list(BAD_ARGUMENTS))
def test_input_validation(case):
    build, message = BAD_ARGUMENTS[case]
    with pytest.raises(InvalidArgumentError, match=re.escape(message)):
        build()


def test_bounds_given_as_strategies_are_checked_when_drawn():
    strategy = gs.mlp_specs(min_layers=st.just(3), max_layers=st.just(1))
    with pytest.raises(InvalidArgumentError, match="Cannot have min_layers=3 > max_layers=1"):
        find(strategy, lambda spec: True)


DTYPES = ("float64", "float32")


@FAST
@given(gs.mlp_specs(min_layers=2, max_layers=3, min_width=2, max_width=5, dtypes=DTYPES))
def test_specs_respect_their_bounds(spec):
    assert 3 <= len(spec.sizes) <= 4
    assert all(2 <= n <= 5 for n in spec.sizes)
    assert spec.dtype in DTYPES and spec.loss in LOSSES


@FAST
@given(gs.mlp_specs(losses="cross_entropy", max_width=2))
def test_cross_entropy_specs_have_two_outputs_or_more(spec):
    assert spec.sizes[-1] == 2


@FAST
@given(st.data())
def test_trees_batches_and_stacks_fit_their_spec(data):
    spec = data.draw(gs.mlp_specs(dtypes=("float64", "float32")))
    model = spec.build(seed=0)
    tree = data.draw(gs.param_trees(spec))
    assert {p: (a.shape, a.dtype) for p, a in tree.items()} == {
        p: (a.shape, a.dtype) for p, a in model.params.items()
    }
    x, target = data.draw(gs.input_batches(spec, max_batch=3))
    assert x.shape[1] == spec.sizes[0] and 1 <= len(x) <= 3 and len(target) == len(x)
    assert np.isfinite(LOSSES[spec.loss].value(model.forward(x), target))
    layers = data.draw(gs.layer_stacks(spec))
    assert [layer.name for layer in layers] == [layer.name for layer in model.layers]


@FAST
@given(gs.param_trees(min_leaves=2, max_leaves=3, max_ndim=3, max_abs=0.5))
def test_free_trees(tree):
    assert 2 <= len(tree) <= 3
    assert all(a.ndim <= 3 and np.all(np.abs(a) <= 0.5) for a in tree.values())


@FAST
@given(gs.arrays_away_from_kinks(st.sampled_from([(3,), (2, 2)]), margin=0.25, dtype="float32"))
def test_arrays_away_from_kinks_keep_the_margin(x):
    assert x.dtype == np.float32 and np.all(np.abs(x) >= 0.25) and np.all(np.abs(x) <= 2)


@FAST
@given(gs.arrays_near_kinks((5,), distance=1e-4))
def test_arrays_near_kinks_stay_close(x):
    assert np.all(np.abs(x) <= 1e-4)


# Shrinking: the smallest example that satisfies a condition is small and readable. No
# example database, so a stale local entry cannot stand in for the minimum.
MINIMAL = settings(database=None, derandomize=True, max_examples=10)


def test_specs_shrink_to_the_simplest_network():
    spec = find(gs.mlp_specs(), lambda s: len(s.sizes) >= 3, settings=MINIMAL)
    assert spec == MLPSpec(sizes=(1, 1, 1), activation="identity", loss="mse", dtype="float64")
    assert repr(spec) == (
        "MLPSpec(sizes=(1, 1, 1), activation='identity', loss='mse', dtype='float64')"
    )


def test_trees_shrink_to_zero_scalars():
    tree = find(gs.param_trees(), lambda t: len(t) >= 2, settings=MINIMAL)
    assert list(tree) == ["a", "b"] and all(a.shape == () and a == 0 for a in tree.values())


def test_arrays_away_from_kinks_shrink_to_the_margin():
    x = find(gs.arrays_away_from_kinks((3,), margin=0.5), lambda x: True, settings=MINIMAL)
    assert x.tolist() == [0.5, 0.5, 0.5]


def test_layer_stacks_shrink_to_one_small_layer_and_seed_zero():
    layers = find(gs.layer_stacks(), lambda stack: len(stack) >= 3, settings=MINIMAL)
    assert [repr(layer) for layer in layers] == [
        "Dense(1, 1, name='dense1', dtype=float64)",
        "Activation(ActivationFunction('identity'), name='identity1')",
        "Dense(1, 1, name='dense2', dtype=float64)",
    ]
