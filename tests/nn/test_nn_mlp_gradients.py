"""Whole-MLP backprop against central differences: every activation x loss, float64.

The oracle is a plain central-difference loop written here (not gradcheck.checking.gradient), with
relative error ||analytic - numeric|| / ||numeric|| per parameter.
"""

import numpy as np
import pytest

from gradcheck.errors import InvalidArgumentError, InvalidTypeError, TreeMismatchError
from gradcheck.nn.activations import ACTIVATIONS
from gradcheck.nn.layers import Activation, Dense
from gradcheck.nn.losses import LOSSES
from gradcheck.nn.model import MLP
from gradcheck.nn.problem import mlp_problem

SIZES = [3, 5, 4, 3]
N = 6


def central_grad(loss, params, h=1e-5):
    grads = {}
    for path, p in params.items():
        g = np.zeros_like(p)
        for i in np.ndindex(p.shape):
            plus = {k: v.copy() for k, v in params.items()}
            minus = {k: v.copy() for k, v in params.items()}
            plus[path][i] += h
            minus[path][i] -= h
            g[i] = (loss(plus) - loss(minus)) / (2 * h)
        grads[path] = g
    return grads


def rel_errors(analytic, numeric):
    return {
        path: np.linalg.norm(analytic[path] - numeric[path])
        / max(np.linalg.norm(numeric[path]), 1e-12)
        for path in numeric
    }


def targets(loss, rng):
    return {
        "mse": rng.normal(size=(N, SIZES[-1])),
        "cross_entropy": rng.integers(0, SIZES[-1], size=N),
        "binary_cross_entropy": rng.integers(0, 2, size=(N, SIZES[-1])).astype(float),
    }[loss]


def batch(loss, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(N, SIZES[0])), targets(loss, rng)


@pytest.mark.parametrize("loss", sorted(LOSSES))
@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_backward_matches_central_differences(activation, loss):
    model = MLP(SIZES, activation=activation, init="glorot", seed=1)
    model.params["dense1.b"][:] = 0.1  # non-zero biases so their gradients are exercised
    x, y = batch(loss)
    problem = mlp_problem(model, x, y, loss=loss)
    numeric = central_grad(problem["loss"], problem["params"])
    analytic = problem["grad"](problem["params"])
    errors = rel_errors(analytic, numeric)
    assert max(errors.values()) <= 1e-6, errors


@pytest.mark.parametrize("output_activation", ["sigmoid", "softmax", "tanh"])
def test_output_activation_backward_matches(output_activation):
    model = MLP(SIZES, activation="tanh", output_activation=output_activation, seed=2)
    assert model.layers[-1].name == "output"
    x, y = batch("mse")
    problem = mlp_problem(model, x, y, loss="mse")
    numeric = central_grad(problem["loss"], problem["params"])
    assert max(rel_errors(problem["grad"](problem["params"]), numeric).values()) <= 1e-6


def test_l2_regularized_gradient_matches():
    x, y = batch("cross_entropy")
    problem = mlp_problem(MLP(SIZES, activation="tanh"), x, y, l2=0.3)
    numeric = central_grad(problem["loss"], problem["params"])
    assert max(rel_errors(problem["grad"](problem["params"]), numeric).values()) <= 1e-6


def test_input_gradient_matches():
    model = MLP(SIZES, activation="softplus", seed=3)
    x = np.random.default_rng(0).normal(size=(N, SIZES[0]))
    dout = np.random.default_rng(1).normal(size=(N, SIZES[-1]))
    model.forward(x)
    analytic = model.backward(dout)
    numeric = central_grad(lambda p: float(np.sum(model.forward(p["x"]) * dout)), {"x": x})["x"]
    np.testing.assert_allclose(analytic, numeric, rtol=1e-7, atol=1e-9)
    model.forward(x)
    assert model.backward(dout, input_grad=False) is None


def test_dense_grads_and_overwrite_semantics():
    layer = Dense(3, 2, rng=0)
    x, g = np.ones((4, 3)), np.arange(8.0).reshape(4, 2)
    layer.forward(x)
    layer.backward(g)
    layer.backward(g)  # a second call overwrites, never accumulates
    np.testing.assert_allclose(layer.grads["W"], x.T @ g)
    np.testing.assert_allclose(layer.grads["b"], g.sum(0))
    layer.zero_grad()
    assert not layer.grads["W"].any()
    assert "Dense(3, 2" in repr(layer) and "relu" in repr(Activation("relu"))


@pytest.mark.parametrize(
    ("args", "error", "match"),
    [
        ((-1, 2), InvalidArgumentError, "`n_in` must be finite and > 0; got n_in=-1"),
        ((3, 0), InvalidArgumentError, "`n_out` must be finite and > 0; got n_out=0"),
        ((2.5, 3), InvalidTypeError, r"`n_in` must be a positive integer \(a layer width\)"),
    ],
    ids=["negative", "zero", "float"],
)
def test_dense_rejects_bad_widths_by_name(args, error, match):
    with pytest.raises(error, match=match):
        Dense(*args)


def test_mlp_layer_names_paths_and_live_params():
    model = MLP([4, 8, 8, 2], activation="leaky_relu", alpha=0.2, output_activation="sigmoid")
    assert [layer.name for layer in model.layers] == [
        "dense1",
        "leaky_relu1",
        "dense2",
        "leaky_relu2",
        "dense3",
        "output",
    ]
    assert list(model.params) == [f"dense{i}.{k}" for i in (1, 2, 3) for k in "Wb"]
    assert model.params["dense1.W"] is model.layers[0].params["W"]
    assert model.layers[1].activation.options["alpha"] == 0.2
    assert "MLP([4, 8, 8, 2]" in repr(model)


def test_problem_never_mutates_given_arrays_or_the_model():
    model = MLP(SIZES, seed=4)
    before = {k: v.copy() for k, v in model.params.items()}
    x, y = batch("cross_entropy")
    problem = mlp_problem(model, x, y)
    params = problem["params"]
    snapshot = {k: v.copy() for k, v in params.items()}
    shifted = {k: v + 0.5 for k, v in params.items()}
    problem["loss"](shifted)
    grads = problem["grad"](shifted)
    for path in params:
        np.testing.assert_array_equal(params[path], snapshot[path])
        np.testing.assert_array_equal(model.params[path], before[path])
        assert grads[path] is not problem["grad"](shifted)[path]  # a new dict of new arrays


def test_problem_evaluates_float64_params_of_a_float32_model_in_float64():
    model = MLP(SIZES, activation="tanh", dtype=np.float32)
    x, y = batch("cross_entropy")
    problem = mlp_problem(model, x, y)
    assert problem["params"]["dense1.W"].dtype == np.float32
    params64 = {k: v.astype(np.float64) for k, v in problem["params"].items()}
    assert problem["grad"](params64)["dense1.W"].dtype == np.float64
    numeric = central_grad(problem["loss"], params64)
    assert max(rel_errors(problem["grad"](params64), numeric).values()) <= 1e-6


@pytest.mark.parametrize(
    ("mangle", "match"),
    [
        (lambda p: {k: v for k, v in p.items() if k != "dense1.b"}, "model's paths"),
        (lambda p: {**p, "dense1.W": p["dense1.W"].T}, r"`params\['dense1.W'\]`.*expected shape"),
    ],
    ids=["missing-path", "transposed"],
)
def test_problem_input_validation(mangle, match):
    x, y = batch("cross_entropy")
    problem = mlp_problem(MLP(SIZES), x, y)
    with pytest.raises(TreeMismatchError, match=match):
        problem["loss"](mangle(problem["params"]))


def test_problem_rejects_integer_params():
    x, y = batch("cross_entropy")
    problem = mlp_problem(MLP(SIZES), x, y)
    params = {**problem["params"], "dense2.b": np.zeros(SIZES[2], dtype=int)}
    with pytest.raises(InvalidTypeError, match="`params` leaf `dense2.b` has dtype int64"):
        problem["loss"](params)


def test_dense_reuses_grad_arrays_only_when_shape_and_dtype_match():
    layer = Dense(3, 2, rng=0, dtype=np.float32)
    rng = np.random.default_rng(0)
    x1, g1 = rng.normal(size=(4, 3)).astype(np.float32), rng.normal(size=(4, 2)).astype(np.float32)
    x2, g2 = rng.normal(size=(5, 3)).astype(np.float32), rng.normal(size=(5, 2)).astype(np.float32)
    layer.forward(x1)
    layer.backward(g1)
    first = layer.grads["W"]
    layer.forward(x2)
    layer.backward(g2)
    assert layer.grads["W"] is first  # overwritten in place, values of the second call
    np.testing.assert_allclose(layer.grads["W"], x2.T @ g2, rtol=1e-6)
    layer.forward(x2.astype(np.float64))
    layer.backward(g2.astype(np.float64))  # float64 inputs: new float64 arrays
    assert layer.grads["W"].dtype == np.float64 and layer.grads["W"] is not first


@pytest.mark.parametrize("loss", sorted(LOSSES))
@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_backward_passes_gradchecks_own_check(activation, loss):
    """The same grid through gradcheck.check_gradient (the oracle above stays independent)."""
    from gradcheck.checking.gradient import check_gradient

    model = MLP(SIZES, activation=activation, init="glorot", seed=1)
    model.params["dense1.b"][:] = 0.1
    x, y = batch(loss)
    report = check_gradient(**mlp_problem(model, x, y, loss=loss), batch_size=N)
    assert report.passed, str(report)
    assert report.max_rel_error <= 1e-6, str(report)
    assert not report.diagnoses
