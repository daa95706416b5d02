"""Optimizers: each decreases a quadratic, updates in place, and validates its input."""

import numpy as np
import pytest

from gradcheck.errors import InvalidArgumentError, TreeMismatchError
from gradcheck.nn.optim import OPTIMIZERS, axpy, get_optimizer

# name -> learning rate that suits the quadratic below
LRS = {"sgd": 0.1, "momentum": 0.05, "rmsprop": 0.05, "adam": 0.05}
A = np.diag([1.0, 3.0, 0.5])


def quadratic(p):
    return 0.5 * float(p @ A @ p)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_optimizer_decreases_a_quadratic(name, dtype):
    p = np.array([1.0, -2.0, 3.0], dtype=dtype)
    params = {"w": p}
    opt = get_optimizer(name, lr=LRS[name])
    start = quadratic(p)
    for _ in range(200):
        opt.step(params, {"w": (A @ params["w"]).astype(dtype)})
    assert params["w"] is p and p.dtype == dtype  # updated in place
    assert quadratic(p) < 0.01 * start


def test_sgd_step_is_exact_and_negative_lr_climbs():
    p = {"w": np.array([1.0, 2.0])}
    get_optimizer("sgd", lr=0.5).step(p, {"w": np.array([2.0, 2.0])})
    np.testing.assert_allclose(p["w"], [0.0, 1.0])
    get_optimizer("sgd", lr=-0.5).step(p, {"w": np.array([2.0, 2.0])})
    np.testing.assert_allclose(p["w"], [1.0, 2.0])


def test_axpy_handles_non_contiguous_and_mixed_dtypes():
    y = np.ones((3, 4))[:, ::2]
    axpy(2.0, np.ones((3, 2)), y)
    np.testing.assert_allclose(y, 3.0)
    z = np.ones(3, dtype=np.float32)
    axpy(-1.0, np.ones(3), z)
    np.testing.assert_allclose(z, 0.0)


def test_defaults_and_repr():
    assert get_optimizer("adam").lr == 1e-3 and get_optimizer("sgd").lr == 0.01
    assert repr(get_optimizer("momentum", lr=0.1)) == "Momentum(lr=0.1, mu=0.9)"


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (
            lambda: get_optimizer("adagrad"),
            InvalidArgumentError,
            "'sgd', 'momentum', 'rmsprop', 'adam'",
        ),
        (
            lambda: get_optimizer("sgd", lr=float("nan")),
            InvalidArgumentError,
            "`lr` must be finite",
        ),
        (
            lambda: get_optimizer("sgd").step({"w": np.ones(2)}, {}),
            TreeMismatchError,
            "`grads` for `w` is nothing",
        ),
        (
            lambda: get_optimizer("sgd").step({"w": np.ones(2)}, {"w": np.ones(3)}),
            TreeMismatchError,
            r"shape \(3,\); expected shape \(2,\)",
        ),
    ],
    ids=["unknown-name", "nan-lr", "missing-grad", "grad-shape"],
)
def test_input_validation(call, error, match):
    with pytest.raises(error, match=match):
        call()
