"""Layer probes on the one engine: derivatives, Jacobian columns, change detection."""

import numpy as np
import pytest

from gradcheck.numeric import layer_probes as lp

RNG = np.random.default_rng(0)


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_simultaneous_derivative_is_within_its_own_error(dtype):
    x = RNG.normal(size=(4, 5)).astype(dtype)
    d = lp.simultaneous_derivative(np.tanh, x)
    truth = 1 - np.tanh(x.astype(np.float64)) ** 2
    assert np.all(np.abs(d.value - truth) <= d.error + 1e-12)
    assert not d.kink.any()


def test_kinks_are_marked_and_their_value_dropped():
    x = np.array([[0.0, 1.0, -1.0]])
    d = lp.simultaneous_derivative(np.abs, x)
    assert d.kink.tolist() == [[True, False, False]]
    assert np.isnan(d.value[0, 0]) and d.value[0, 1:].tolist() == pytest.approx([1.0, -1.0])


def test_jacobian_columns_and_row_diagonal_agree_with_softmax():
    x = RNG.normal(size=(2, 3))
    s = softmax(x)
    columns = lp.jacobian_columns(softmax, x, np.arange(x.size)).reshape(2, 3, 2, 3)
    for i in range(2):
        jac = np.diag(s[i]) - np.outer(s[i], s[i])
        np.testing.assert_allclose(columns[i, :, i, :], jac.T, atol=1e-9)
        np.testing.assert_allclose(columns[i, :, 1 - i, :], 0.0, atol=1e-12)
    diagonal = lp.row_diagonal(softmax, x)
    np.testing.assert_allclose(diagonal.value, s * (1 - s), atol=1e-9)
    assert np.all(np.abs(diagonal.value - s * (1 - s)) <= diagonal.error + 1e-15)


def test_change_detection_separates_rounding_from_real_changes():
    y = RNG.normal(size=100)
    rounded = y + y * 2.2e-16 * RNG.choice([-1, 1], size=100)
    assert not lp.moved_beyond_rounding(rounded, y, 2.2e-16).any()
    assert lp.moved_beyond_rounding(y + 1e-10, y, 2.2e-16).all()
    assert lp.leaked(np.array([1e-17, 1e-6]), 1.0, 2.2e-16).tolist() == [False, True]
    assert lp.leaked(np.array([np.nan]), 1.0, 2.2e-16).tolist() == [True]


def test_directional_derivative_matches_the_analytic_one():
    x, g = RNG.normal(size=(3, 4)), RNG.normal(size=(3, 4))
    signs = RNG.choice([-1.0, 1.0], size=(2, 3, 4))
    numeric, noise, moves = lp.directional(np.sin, x, g, signs)
    analytic = [float(np.sum(g * np.cos(x) * d)) for d in moves]
    assert np.allclose(numeric, analytic, rtol=1e-8)
    assert np.all(noise > 0) and np.all(noise < 1e-10)
