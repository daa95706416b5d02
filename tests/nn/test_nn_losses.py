"""Losses: values against closed forms, gradients against central differences, stability."""

import numpy as np
import pytest

from gradcheck.errors import InvalidArgumentError
from gradcheck.nn.losses import LOSSES, get_loss, l2_penalty, l2_penalty_grad

RNG = np.random.default_rng(0)
Y = RNG.normal(size=(4, 3))
TARGETS = {
    "mse": RNG.normal(size=(4, 3)),
    "cross_entropy": np.array([0, 2, 1, 2]),
    "binary_cross_entropy": RNG.integers(0, 2, size=(4, 3)).astype(float),
}


def numeric_grad(f, y, h=1e-6):
    g = np.zeros_like(y)
    for i in np.ndindex(y.shape):
        e = np.zeros_like(y)
        e[i] = h
        g[i] = (f(y + e) - f(y - e)) / (2 * h)
    return g


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("name", sorted(LOSSES))
def test_grad_matches_central_differences(name, reduction):
    loss, t = LOSSES[name], TARGETS[name]
    numeric = numeric_grad(lambda y: loss.value(y, t, reduction), Y)
    analytic = loss.grad(Y, t, reduction)
    assert np.linalg.norm(analytic - numeric) / np.linalg.norm(numeric) < 1e-8
    value, grad = loss.value_and_grad(Y, t, reduction)
    assert value == loss.value(Y, t, reduction)
    np.testing.assert_array_equal(grad, analytic)


def test_mse_carries_the_half_and_means_over_samples():
    y, t = np.array([[1.0, 2.0], [0.0, 0.0]]), np.zeros((2, 2))
    mse = LOSSES["mse"]
    assert mse.value(y, t) == pytest.approx(0.5 * 5 / 2)
    assert mse.value(y, t, reduction="sum") == pytest.approx(2.5)
    np.testing.assert_allclose(mse.grad(y, t), y / 2)


def test_cross_entropy_closed_form_and_one_hot_equals_labels():
    y = np.array([[1.0, 2.0, 3.0]])
    expected = np.log(np.exp(y).sum()) - 1.0
    ce = LOSSES["cross_entropy"]
    assert ce.value(y, np.array([0])) == pytest.approx(expected)
    assert ce.value(y, np.array([[1.0, 0, 0]])) == pytest.approx(expected)


def test_binary_cross_entropy_closed_form():
    z, t = np.array([[0.3], [-1.2]]), np.array([1, 0])
    p = 1 / (1 + np.exp(-z[:, 0]))
    expected = -np.mean(np.log([p[0], 1 - p[1]]))
    assert LOSSES["binary_cross_entropy"].value(z, t) == pytest.approx(expected)


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_losses_are_finite_and_warning_free_at_huge_logits(name):
    y = np.array([[1000.0, -1000.0, 0.0], [-800.0, 900.0, 5.0]])
    t = {"mse": np.zeros((2, 3)), "cross_entropy": np.array([1, 0])}.get(name, np.ones((2, 3)))
    # underflow to 0 is the exact answer (numpy ignores it by default); anything else raises
    with np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
        value, grad = LOSSES[name].value_and_grad(y, t)
    assert np.isfinite(value) and np.all(np.isfinite(grad))


def test_cross_entropy_at_huge_logits_is_exact():
    y = np.array([[1000.0, -1000.0]])
    assert LOSSES["cross_entropy"].value(y, np.array([1])) == pytest.approx(2000.0)
    assert LOSSES["cross_entropy"].value(y, np.array([0])) == pytest.approx(0.0, abs=1e-12)


def test_float32_grad_keeps_dtype():
    y = Y.astype(np.float32)
    assert LOSSES["cross_entropy"].grad(y, TARGETS["cross_entropy"]).dtype == np.float32


def test_l2_penalty_counts_weights_only():
    params = {"dense1.W": np.full((2, 2), 2.0), "dense1.b": np.ones(2), "W": np.ones(3)}
    assert l2_penalty(params, 0.1) == pytest.approx(0.5 * 0.1 * (16 + 3))
    grads = l2_penalty_grad(params, 0.1)
    np.testing.assert_allclose(grads["dense1.W"], 0.2)
    np.testing.assert_array_equal(grads["dense1.b"], 0.0)
    assert l2_penalty(params, 0.0) == 0.0


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: get_loss("hinge"), "'mse', 'cross_entropy', 'binary_cross_entropy'"),
        (lambda: LOSSES["mse"].value(Y, Y, "avg"), "`reduction`='avg' is not one of 'mean', 'sum'"),
        (lambda: LOSSES["mse"].value(Y, np.zeros((3, 4))), r"expected \(4, 3\)"),
        (lambda: LOSSES["cross_entropy"].value(Y, np.array([0, 1, 2, 3])), r"lie in \[0, 3\)"),
        (lambda: LOSSES["cross_entropy"].value(Y, np.array([0, 1])), r"expected \(4,\)"),
    ],
    ids=["unknown-loss", "bad-reduction", "shape", "label-range", "label-count"],
)
def test_input_validation(call, match):
    with pytest.raises(InvalidArgumentError, match=match):
        call()
