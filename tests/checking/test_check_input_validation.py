"""check_gradient: every bad input raises a documented error whose message names the problem."""

import numpy as np
import pytest

import gradcheck.errors as E
from gradcheck.checking.gradient import assert_gradient, check_gradient


def loss(p):
    return float(np.sum(p["W"] ** 2) + np.sum(p["b"]))


def grad(p):
    return {"W": 2 * p["W"], "b": np.ones_like(p["b"])}


PARAMS = {"W": np.ones((2, 3)), "b": np.zeros(3)}


def call(**overrides):
    args = {"loss": loss, "grad": grad, "params": PARAMS}
    args.update(overrides)
    return check_gradient(args.pop("loss"), args.pop("grad"), args.pop("params"), **args)


CASES = [
    # id, overrides, error, message pattern
    ("loss-not-callable", {"loss": 3.0}, E.InvalidTypeError, "`loss` must be a callable"),
    ("grad-not-callable", {"grad": None}, E.InvalidTypeError, "`grad` must be a callable"),
    ("params-bad-leaf", {"params": {"W": "abc"}}, E.InvalidTypeError, "`W` is a str"),
    ("params-empty", {"params": {}}, E.InvalidArgumentError, "`params` has no entries"),
    ("params-integer", {"params": {"W": np.ones(3, dtype=int), "b": np.zeros(3)}},
     E.InvalidTypeError, "leaf `W` has dtype int64; expected a float dtype"),
    ("params-complex", {"params": np.ones(2, dtype=complex)}, E.InvalidTypeError, "complex"),
    ("method-unknown", {"method": "five-point"}, E.InvalidArgumentError,
     "`method`='five-point' is not one of 'central', 'forward', 'backward', 'richardson', "
     "'complex'"),
    ("rtol-negative", {"rtol": -1e-3}, E.InvalidArgumentError, "`rtol` must be finite and >= 0"),
    ("atol-negative", {"atol": -1.0}, E.InvalidArgumentError, "`atol` must be finite and >= 0"),
    ("atol-nan", {"atol": float("nan")}, E.InvalidArgumentError, "`atol` must be finite"),
    ("eps-zero", {"eps": 0.0}, E.InvalidArgumentError, "`eps` must be finite and > 0"),
    ("sample-zero", {"sample": 0}, E.InvalidArgumentError, "`sample`=0 is out of range"),
    ("sample-fraction-too-big", {"sample": 1.5}, E.InvalidArgumentError,
     r"`sample`=1.5 is out of range: a fraction must be in \(0, 1\]"),
    ("sample-string", {"sample": "all"}, E.InvalidTypeError,
     "`sample` must be an int or a fraction"),
    ("directions-zero", {"directions": 0}, E.InvalidArgumentError,
     "`directions`=0 is out of range"),
    ("directions-and-sample", {"directions": 2, "sample": 3}, E.InvalidArgumentError,
     "Give `sample` or `directions`, not both"),
    ("directions-with-complex", {"directions": 2, "method": "complex"}, E.InvalidArgumentError,
     "`directions` works with method='central' or 'richardson'"),
    ("seed-float", {"seed": 1.5}, E.InvalidTypeError, "`seed` must be an int"),
    ("seed-negative", {"seed": -1}, E.InvalidArgumentError,
     "`seed`=-1 is out of range: numpy seeds must be >= 0"),
    ("batch-size-zero", {"batch_size": 0}, E.InvalidArgumentError,
     "`batch_size`=0 is out of range"),
    ("progress-string", {"progress": "yes"}, E.InvalidTypeError, "`progress` must be True, False"),
    ("grad-missing-key", {"grad": lambda p: {"W": 2 * p["W"]}}, E.TreeMismatchError,
     r"missing \['b'\]"),
    ("grad-extra-key", {"grad": lambda p: {**grad(p), "c": np.ones(1)}}, E.TreeMismatchError,
     r"unexpected \['c'\]"),
    ("grad-transposed", {"grad": lambda p: {"W": 2 * p["W"].T, "b": np.ones(3)}},
     E.TreeMismatchError, r"`grad` for `W` has shape \(3, 2\); expected \(2, 3\) — did you return"),
    ("grad-not-a-tree", {"grad": lambda p: "oops"}, E.TreeMismatchError,
     "`grad` is not a parameter tree"),
    ("grad-object-dtype", {"grad": lambda p: {"W": np.full((2, 3), None), "b": np.ones(3)}},
     E.InvalidTypeError, r"`grad` for `W` has dtype object; expected a float array of shape"),
    ("loss-not-scalar", {"loss": lambda p: p["W"] ** 2}, E.LossValueError,
     r"must return one number; got an array of shape \(2, 3\)"),
    ("loss-nan", {"loss": lambda p: float("nan")}, E.LossValueError, "returned nan"),
    ("loss-inf", {"loss": lambda p: np.inf}, E.LossValueError, "returned inf"),
    ("loss-string", {"loss": lambda p: "1.0"}, E.LossValueError, "must return a number"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("overrides", "error", "pattern"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_input_validation(overrides, error, pattern):
    with pytest.raises(error, match=pattern):
        call(**overrides)


@pytest.mark.parametrize(
    ("overrides", "error", "pattern"), [c[1:] for c in CASES[:6]], ids=[c[0] for c in CASES[:6]]
)
def test_assert_gradient_validates_the_same_way(overrides, error, pattern):
    args = {"loss": loss, "grad": grad, "params": PARAMS, **overrides}
    with pytest.raises(error, match=pattern):
        assert_gradient(args.pop("loss"), args.pop("grad"), args.pop("params"), **args)


def test_errors_are_also_builtin_errors():
    with pytest.raises(ValueError):
        call(method="nope")
    with pytest.raises(TypeError):
        call(loss=1)
