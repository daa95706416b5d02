"""Activations: each df against central differences of f, stability, softmax VJP."""

import numpy as np
import pytest

from gradcheck.errors import InvalidArgumentError
from gradcheck.nn.activations import ACTIVATIONS, get_activation

# name -> grid of z (away from relu's kink at 0)
GRIDS = {
    "identity": np.linspace(-5, 5, 41),
    "sigmoid": np.linspace(-20, 20, 81),
    "tanh": np.linspace(-5, 5, 41),
    "relu": np.concatenate([np.linspace(-5, -0.1, 20), np.linspace(0.1, 5, 20)]),
    "leaky_relu": np.concatenate([np.linspace(-5, -0.1, 20), np.linspace(0.1, 5, 20)]),
    "softplus": np.linspace(-30, 30, 61),
}


def central(f, z, h=1e-6):
    return (f(z + h) - f(z - h)) / (2 * h)


@pytest.mark.parametrize("name", sorted(GRIDS), ids=sorted(GRIDS))
def test_df_matches_central_differences_of_f(name):
    act = ACTIVATIONS[name]
    z = GRIDS[name]
    np.testing.assert_allclose(act.df(z), central(act.f, z), rtol=1e-7, atol=1e-9)


def test_every_table_entry_has_a_grid_or_a_vjp():
    assert set(ACTIVATIONS) == set(GRIDS) | {"softmax"}
    assert not ACTIVATIONS["softmax"].elementwise


def test_relu_derivative_at_zero_is_zero_and_leaky_is_alpha():
    z = np.array([0.0])
    assert ACTIVATIONS["relu"].df(z)[0] == 0.0
    assert get_activation("leaky_relu", alpha=0.2).df(z)[0] == pytest.approx(0.2)


def test_leaky_relu_alpha_is_configurable():
    act = get_activation("leaky_relu", alpha=0.1)
    np.testing.assert_allclose(act.f(np.array([-2.0, 3.0])), [-0.2, 3.0])
    np.testing.assert_allclose(act.df(np.array([-2.0, 3.0])), [0.1, 1.0])
    assert "alpha=0.1" in repr(act)
    assert ACTIVATIONS["leaky_relu"].options["alpha"] == 0.01


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sigmoid_and_softplus_are_stable_at_huge_inputs(dtype):
    z = np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0], dtype=dtype)
    # underflow to 0 is the exact answer (numpy ignores it by default); anything else raises
    with np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
        s = ACTIVATIONS["sigmoid"].f(z)
        ds = ACTIVATIONS["sigmoid"].df(z)
        sp = ACTIVATIONS["softplus"].f(z)
        dsp = ACTIVATIONS["softplus"].df(z)
        sm = ACTIVATIONS["softmax"].f(z[None, :])
    for value in (s, ds, sp, dsp, sm):
        assert np.all(np.isfinite(value))
        assert value.dtype == dtype
    np.testing.assert_allclose(s, [0, 0, 0.5, 1, 1], atol=1e-7)
    np.testing.assert_allclose(sp[[0, 2, 4]], [0, np.log(2), 1000], rtol=1e-6)


def test_softmax_rows_sum_to_one_and_vjp_matches_jacobian():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(3, 5))
    g = rng.normal(size=(3, 5))
    act = ACTIVATIONS["softmax"]
    a = act.f(z)
    np.testing.assert_allclose(a.sum(axis=1), 1.0)
    expected = np.empty_like(z)
    for i in range(3):  # oracle: the full Jacobian diag(s) - s s^T, row by row
        s = a[i]
        expected[i] = (np.diag(s) - np.outer(s, s)).T @ g[i]
    np.testing.assert_allclose(act.backward(z, a, g), expected, rtol=1e-12)
    np.testing.assert_allclose(act.df(z), a * (1 - a))


def test_activation_backward_is_g_times_df():
    z, g = np.array([[-1.0, 2.0]]), np.array([[3.0, -0.5]])
    act = ACTIVATIONS["tanh"]
    np.testing.assert_allclose(act.backward(z, act.f(z), g), g * (1 - np.tanh(z) ** 2))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"name": "relux"}, "'relu', 'leaky_relu'"),
        ({"name": "relu", "alpha": 0.1}, "applies only to 'leaky_relu'"),
        ({"name": "leaky_relu", "alpha": float("nan")}, "`alpha` must be finite"),
    ],
    ids=["unknown-name-lists-choices", "alpha-on-relu", "nan-alpha"],
)
def test_input_validation(kwargs, match):
    name = kwargs.pop("name")
    with pytest.raises(InvalidArgumentError, match=match):
        get_activation(name, **kwargs)
