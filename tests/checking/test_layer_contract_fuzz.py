"""Fuzz: layers that break the contract never crash check_layers and never pass.

Every violation below is one of the mistakes of unfinished or broken layer code (issue 10,
item 9): a forward returning None, a tuple or an integer mask; a backward returning
``(dx, dW)``, None or the wrong shape; ``grads`` unset, partial or of the wrong shape;
parameters that are not float arrays; exceptions inside the user's code. Hypothesis
combines them, in a stack of healthy layers: the result must be a FAILED verdict at the
broken layer (zero bare tracebacks, zero wrong verdicts), and the healthy twin must pass.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gradcheck.adapters import FunctionPairLayer
from gradcheck.layers import check_layers
from gradcheck.nn.layers import Activation, Dense
from tests.budget import examples


def _forward(v, x, W, b):
    y = x @ W + b
    table = {
        "fwd_none": lambda: None,
        "fwd_tuple": lambda: (y, x),
        "fwd_list": lambda: [y],
        "fwd_str": lambda: "y",
        "fwd_bool": lambda: y > 0,
        "fwd_nan": lambda: y * np.nan,
        "fwd_drop_sample": lambda: y[:-1],
        "fwd_raises": lambda: x @ np.ones((W.shape[0] + 1, 2)),  # a shape mismatch in numpy
    }
    return table.get(next((k for k in v if k.startswith("fwd")), ""), lambda: y)()


def _backward(v, g, x, W):
    dx = g @ W.T
    table = {
        "bwd_none": lambda: None,
        "bwd_tuple": lambda: (dx, x.T @ g),
        "bwd_str": lambda: "dx",
        "bwd_shape": lambda: dx[:, :-1],
        "bwd_raises": lambda: {}["dx"],
        "bwd_wrong": lambda: 2 * dx,
        "bwd_nan": lambda: dx * np.nan,
    }
    return table.get(next((k for k in v if k.startswith("bwd")), ""), lambda: dx)()


def _grads(v, g, x):
    grads = {"W": x.T @ g, "b": g.sum(axis=0)}
    table = {
        "grads_unset": lambda: None,
        "grads_missing_b": lambda: {"W": grads["W"]},
        "grads_none_b": lambda: {"W": grads["W"], "b": None},
        "grads_list": lambda: [grads["W"], grads["b"]],
        "grads_shape_b": lambda: {"W": grads["W"], "b": grads["b"][None]},
        "grads_str_b": lambda: {"W": grads["W"], "b": "db"},
    }
    return table.get(next((k for k in v if k.startswith("grads")), ""), lambda: grads)()


class ContractLayer:
    """A dense layer with the contract violations `violations` planted."""

    def __init__(self, violations, n_in, n_out, rng):
        self.v = set(violations)
        W, b = rng.normal(size=(n_in, n_out)), rng.normal(size=n_out)
        self.params = {"W": W, "b": b}
        if "params_list" in self.v:
            self.params["b"] = b.tolist()
        if "params_int" in self.v:
            self.params["b"] = np.arange(n_out)
        if "params_readonly" in self.v:
            W.setflags(write=False)
        self.name = "broken"

    def forward(self, x):
        self.x = x
        return _forward(self.v, x, self.params["W"], np.asarray(self.params["b"], float))

    def backward(self, g):
        grads = _grads(self.v, g, self.x)
        if grads is not None:
            self.grads = grads
        return _backward(self.v, g, self.x, self.params["W"])


PAIR_VIOLATIONS = {
    "pair_forward_bare": (lambda x: np.tanh(x), None),
    "pair_forward_none": (lambda x: None, None),
    "pair_backward_none": (None, lambda d, c: None),
    "pair_backward_list_of_3": (None, lambda d, c: [d, d, d]),
    "pair_backward_raises": (None, lambda d, c: c["missing"]),
}


def pair_layer(violation):
    forward, backward = PAIR_VIOLATIONS[violation]

    def tanh_forward(x):
        a = np.tanh(x)
        return a, a

    def tanh_backward(dout, a):
        return dout * (1 - a**2)

    return FunctionPairLayer(forward or tanh_forward, backward or tanh_backward, name="broken")


VIOLATIONS = [
    "fwd_none",
    "fwd_tuple",
    "fwd_list",
    "fwd_str",
    "fwd_bool",
    "fwd_nan",
    "fwd_drop_sample",
    "fwd_raises",
    "bwd_none",
    "bwd_tuple",
    "bwd_str",
    "bwd_shape",
    "bwd_raises",
    "bwd_wrong",
    "bwd_nan",
    "grads_unset",
    "grads_missing_b",
    "grads_none_b",
    "grads_list",
    "grads_shape_b",
    "grads_str_b",
    "params_list",
    "params_int",
    "params_readonly",
]


def stack_with(broken, position, width, rng):
    layers = [Dense(3, width, rng=1, name="d0"), Activation("tanh", layer_name="t0")]
    layers.insert(position, broken)
    return layers


@settings(max_examples=examples(60), deadline=None)
@given(
    violations=st.lists(st.sampled_from(VIOLATIONS), min_size=1, max_size=2, unique=True),
    position=st.integers(0, 2),
    n=st.integers(2, 5),
    seed=st.integers(0, 2**16),
)
def test_contract_violations_fail_the_broken_layer_without_a_traceback(
    violations, position, n, seed
):
    rng = np.random.default_rng(seed)
    width = 4
    n_in = 3 if position == 0 else width
    broken = ContractLayer(violations, n_in, n_in, rng)  # keeps the width of the stack
    x = rng.normal(size=(n, 3))
    result = check_layers(stack_with(broken, position, width, rng), x, seed=seed)
    assert not result.passed
    assert result.first_failure == position, str(result)
    report = result.layers[position]
    assert report.diagnoses and report.verdict != "ok"
    assert str(result) and result.to_dict()


@settings(max_examples=examples(20), deadline=None)
@given(position=st.integers(0, 2), n=st.integers(1, 5), seed=st.integers(0, 2**16))
def test_the_healthy_twin_passes(position, n, seed):
    rng = np.random.default_rng(seed)
    n_in = 3 if position == 0 else 4
    healthy = ContractLayer([], n_in, n_in, rng)
    x = rng.normal(size=(n, 3))
    result = check_layers(stack_with(healthy, position, 4, rng), x, seed=seed)
    assert result.passed, str(result)


@pytest.mark.parametrize("violation", sorted(PAIR_VIOLATIONS))
def test_function_pair_violations_fail_naming_the_function(violation):
    x = np.random.default_rng(0).normal(size=(4, 3))
    result = check_layers([Dense(3, 3, rng=1, name="d0"), pair_layer(violation)], x)
    assert result.first_failure == 1, str(result)
    top = result.layers[1].diagnoses[0]
    assert top.path.startswith("broken"), top
    assert "broken" in top.message
