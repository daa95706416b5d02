"""check_layers: correct stacks pass, each planted layer bug is caught at its index and kind."""

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gradcheck.adapters import FunctionPairLayer
from gradcheck.errors import InvalidArgumentError, InvalidTypeError
from gradcheck.layers import check_layers
from gradcheck.nn.layers import Activation, Dense
from gradcheck.nn.model import MLP
from tests.budget import examples, slow_except

ACTIVATIONS = ["identity", "sigmoid", "tanh", "relu", "leaky_relu", "softplus"]


def batch(n=6, d=4, seed=3, dtype=np.float64):
    return np.random.default_rng(seed).normal(size=(n, d)).astype(dtype)


# -- planted bugs: one subclass per bug, each next to what it breaks -----------------------
class TransposedDW(Dense):
    def backward(self, g):
        dx = super().backward(g)
        self.grads["W"] = self.grads["W"].T.copy()
        return dx


class WrongAxisDb(Dense):
    def backward(self, g):
        dx = super().backward(g)
        self.grads["b"] = g.sum(axis=1)
        return dx


class InputGradWithoutW(Dense):
    def backward(self, g):
        super().backward(g)
        return g


class InputGradWithW(Dense):
    def backward(self, g):
        super().backward(g)
        return g @ self.params["W"]


class MixingBackward(Dense):
    def backward(self, g):
        dx = super().backward(g)
        return dx - dx.mean(axis=0)


class MixingForward(Dense):
    def forward(self, x):
        return super().forward(x - x.mean(axis=0))


class DerivativeAtOutput(Activation):
    def backward(self, g):
        return g * self.activation.df(self.a)


class MissingDerivative(Activation):
    def backward(self, g):
        return g


class LeakyAsRelu(Activation):
    def backward(self, g):
        return g * (self.z > 0)


class SoftmaxDiagonal(Activation):
    def backward(self, g):
        return g * self.a * (1 - self.a)


class Accumulating(Dense):
    def backward(self, g):
        before = {k: v.copy() for k, v in self.grads.items()}
        dx = super().backward(g)
        self.grads = {k: self.grads[k] + before[k] for k in before}
        return dx


def stack(bad, *, width=5):
    """A 4-layer stack whose layer 2 is `bad` (index 2)."""
    return [Dense(4, width, rng=1, name="dense1"), Activation("tanh"), bad, Activation("tanh")]


PLANTED = [
    ("transposed_dW", TransposedDW(5, 5, rng=2, name="dense2"), "transpose", "dense2.W"),
    ("transposed_dW_nonsquare", TransposedDW(5, 3, rng=2, name="dense2"), "transpose", "dense2.W"),
    ("wrong_axis_db", WrongAxisDb(5, 6, rng=2, name="dense2"), "axis", "dense2.b"),
    ("wrong_axis_db_shape", WrongAxisDb(5, 3, rng=2, name="dense2"), "axis", "dense2.b"),
    ("dx_without_W", InputGradWithoutW(5, 5, rng=2, name="dense2"), "other", "dense2.x"),
    ("dx_with_W_not_WT", InputGradWithW(5, 5, rng=2, name="dense2"), "transpose", "dense2.x"),
    ("mixing_backward", MixingBackward(5, 3, rng=2, name="dense2"), "batch_mixing", "dense2"),
    ("mixing_forward", MixingForward(5, 3, rng=2, name="dense2"), "batch_mixing", "dense2"),
    (
        "derivative_at_output",
        DerivativeAtOutput("sigmoid", layer_name="sig"),
        "activation_derivative",
        "sig",
    ),
    (
        "derivative_at_output_tanh",
        DerivativeAtOutput("tanh", layer_name="th"),
        "activation_derivative",
        "th",
    ),
    (
        "missing_derivative",
        MissingDerivative("tanh", layer_name="th"),
        "activation_derivative",
        "th",
    ),
    (
        "missing_derivative_relu",
        MissingDerivative("relu", layer_name="r"),
        "activation_derivative",
        "r",
    ),
    (
        "leaky_negative_slope",
        LeakyAsRelu("leaky_relu", layer_name="lr"),
        "activation_derivative",
        "lr",
    ),
    (
        "softmax_diagonal",
        SoftmaxDiagonal("softmax", layer_name="sm"),
        "activation_derivative",
        "sm",
    ),
    ("accumulating_grads", Accumulating(5, 3, rng=2, name="dense2"), "accumulation", "dense2.W"),
]


@pytest.mark.parametrize("bad, kind, path", [p[1:] for p in PLANTED], ids=[p[0] for p in PLANTED])
def test_planted_layer_bug_is_caught_at_its_index_with_its_kind(bad, kind, path):
    result = check_layers(stack(bad), batch())
    assert not result.passed
    assert result.first_failure == 2
    report = result.layers[2]
    assert (report.diagnoses[0].kind, report.diagnoses[0].path) == (kind, path), report.diagnoses
    assert report.verdict.startswith(f"{kind} at {path}")
    assert all(r.passed for i, r in enumerate(result.layers) if i != 2)


@pytest.mark.parametrize(
    "pattern, bad",
    [
        ("at_output", DerivativeAtOutput("sigmoid", layer_name="a")),
        ("missing", MissingDerivative("tanh", layer_name="a")),
        ("negative_slope", LeakyAsRelu("leaky_relu", layer_name="a")),
        ("diagonal", SoftmaxDiagonal("softmax", layer_name="a")),
    ],
    ids=["at_output", "missing", "negative_slope", "softmax_diagonal"],
)
def test_activation_derivative_pattern_in_evidence(pattern, bad):
    result = check_layers(stack(bad), batch())
    assert result.first_failure == 2, str(result)
    top = result.layers[2].diagnoses[0]
    assert (top.kind, top.path, top.evidence["pattern"]) == ("activation_derivative", "a", pattern)


def test_mixing_names_the_samples():
    result = check_layers(stack(MixingBackward(5, 3, rng=2, name="d")), batch())
    assert result.first_failure == 2, str(result)
    top = result.layers[2]
    assert top.batch_independent is False
    assert (top.diagnoses[0].kind, top.diagnoses[0].path) == ("batch_mixing", "d")
    assert "sample 0" in top.diagnoses[0].message
    assert top.diagnoses[0].evidence["mixed"]


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("output", slow_except(["identity", "softmax"], fast={"identity"}))
def test_reference_mlp_passes_for_every_activation(activation, output):
    model = MLP([4, 6, 5, 3], activation=activation, output_activation=output, seed=1)
    result = check_layers(model.layers, batch())
    assert result.passed, str(result)
    assert result.first_failure is None
    kinds = [r.kind for r in result.layers]
    assert kinds[0] == "dense" and kinds[1] == "elementwise"
    assert all(r.batch_independent for r in result.layers)


def test_layer_declaring_mixes_samples_skips_the_batch_check():
    class BatchCentering(MixingForward):
        mixes_samples = True

        def backward(self, g):
            super().backward(g)
            gx = g @ self.params["W"].T
            return gx - gx.mean(axis=0)

    result = check_layers([BatchCentering(4, 3, rng=0, name="bn")], batch())
    assert result.passed, str(result)
    assert result.layers[0].batch_independent is None


def test_params_are_restored_exactly():
    model = MLP([4, 6, 3], activation="tanh", seed=0)
    before = {k: v.copy() for k, v in model.params.items()}
    ids = {k: id(v) for k, v in model.params.items()}
    check_layers(model.layers, batch())
    for key, value in model.params.items():
        assert id(value) == ids[key]
        np.testing.assert_array_equal(value, before[key])


def test_directional_mode_agrees_and_spends_fewer_evaluations():
    layers = stack(TransposedDW(5, 5, rng=2, name="dense2"))
    full = check_layers(layers, batch())
    fast = check_layers(layers, batch(), mode="directional")
    assert fast.first_failure == full.first_failure == 2
    assert fast.layers[2].diagnoses[0].kind == "transpose"
    assert fast.n_evaluations < full.n_evaluations


def test_table_and_dict_are_readable_and_json_safe():
    result = check_layers(stack(TransposedDW(5, 5, rng=2, name="dense2")), batch(), title="t")
    text = str(result)
    assert "first wrong layer is #2" in text
    for word in ("layer", "kind", "params", "max error", "verdict", "dense2", "transpose"):
        assert word in text
    data = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert data["kind"] == "layer_check" and data["first_failure"] == 2
    row = data["layers"][2]
    assert set(row) >= {
        "index",
        "name",
        "kind",
        "passed",
        "verdict",
        "max_rel_error",
        "n_params",
        "input_gradient",
        "params",
        "batch_independent",
        "diagnoses",
    }
    assert row["diagnoses"][0]["kind"] == "transpose"
    assert data["layers"][1]["params"] is None


def test_function_pair_layers_are_checked():
    def affine_forward(x, w, b):
        return x @ w + b, (x, w)

    def affine_backward(dout, cache):
        x, w = cache
        return dout @ w.T, x.T @ dout, dout.sum(axis=0)

    rng = np.random.default_rng(0)
    layer = FunctionPairLayer(
        affine_forward, affine_backward, {"w": rng.normal(size=(4, 3)), "b": np.zeros(3)}, name="fc"
    )
    result = check_layers([layer], batch())
    assert result.passed and result.layers[0].kind == "dense"


class ListParams:
    params = [np.ones((4, 3))]

    def forward(self, x):
        return x @ self.params[0]

    def backward(self, dout):
        return dout @ self.params[0].T


@pytest.mark.parametrize(
    "layers, x, error, match",
    [
        ([], batch(), InvalidTypeError, "non-empty list"),
        ([object()], batch(), InvalidTypeError, r"layers\[0\]"),
        (
            [ListParams()],
            batch(),
            InvalidTypeError,
            r"`layers\[0\].params` must be a dict .*got list",
        ),
        ([Dense(4, 3)], np.ones((2, 4), dtype=int), InvalidTypeError, "float array"),
        ([Dense(4, 3)], np.ones(4), InvalidTypeError, r"x\[None, :\]"),
    ],
    ids=["empty", "not_a_layer", "params_not_a_dict", "integer_x", "one_dimensional_x"],
)
def test_input_validation(layers, x, error, match):
    with pytest.raises(error, match=match):
        check_layers(layers, x)


def test_input_validation_mode():
    with pytest.raises(InvalidArgumentError, match="`mode`"):
        check_layers([Dense(4, 3)], batch(), mode="fast")


@settings(max_examples=examples(20), deadline=None)
@given(
    sizes=st.lists(st.integers(1, 5), min_size=2, max_size=4),
    activation=st.sampled_from(["relu", "leaky_relu", "tanh", "sigmoid", "softplus"]),
    n=st.integers(1, 5),
    dtype=st.sampled_from([np.float64, np.float32]),
    seed=st.integers(0, 2**16),
    near_kink=st.booleans(),
)
def test_no_false_positive_on_correct_stacks(sizes, activation, n, dtype, seed, near_kink):
    model = MLP(sizes, activation=activation, seed=seed, dtype=dtype)
    x = np.random.default_rng(seed).normal(size=(n, sizes[0])).astype(dtype)
    if near_kink:  # put the first layer's pre-activations within 1e-9 of the ReLU kink
        dense = model.layers[0]
        z = x @ dense.params["W"]
        dense.params["b"][...] = -z[0] + dtype(1e-9)
    result = check_layers(model.layers, x, seed=seed)
    assert result.passed, str(result)


@pytest.mark.parametrize("suffix", slow_except([".json", ".md"], fast={".json"}))
def test_save_delegates_to_the_report_layer(tmp_path, suffix):
    result = check_layers(stack(TransposedDW(5, 5, rng=2, name="dense2")), batch(), title="t")
    path = result.save(tmp_path / f"layers{suffix}")
    text = open(path).read()
    assert "dense2" in text


class Dropout(Dense):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.rng = np.random.default_rng(0)

    def forward(self, x):
        return super().forward(x * (self.rng.random(x.shape) > 0.5))


class InPlaceRelu(Activation):
    def forward(self, x):
        np.maximum(x, 0, out=x)  # overwrites its input (the previous layer's output)
        return super().forward(x)


def test_refusal_of_the_checker_becomes_a_diagnosis():
    result = check_layers(stack(Dropout(5, 3, rng=2, name="drop")), batch())
    assert result.first_failure == 2
    top = result.layers[2].diagnoses[0]
    assert (top.kind, top.path) == ("nondeterministic", "drop"), result.layers[2].diagnoses


def test_layer_writing_into_its_input_passes_with_a_note():
    """Issue 11: checked on private copies, the gradient verdict is given, with a note."""
    result = check_layers(stack(InPlaceRelu("relu", layer_name="inplace")), batch())
    assert result.passed, str(result)
    notes = result.layers[2].notes
    assert len(notes) == 1 and "`inplace.forward` wrote into its input x in place" in notes[0]
    assert "note #2 inplace: `inplace.forward` wrote" in str(result)


def test_a_parameter_free_nondeterministic_forward_is_not_called_mixing():
    def dropout_forward(x, p):
        mask = (np.random.default_rng().random(x.shape) < p) / p  # unseeded: differs per call
        return x * mask, mask

    layer = FunctionPairLayer(dropout_forward, lambda d, m: d * m, args=(0.5,), name="drop")
    top = check_layers([layer], batch()).layers[0].diagnoses[0]
    assert (top.kind, top.path) == ("nondeterministic", "drop")
    assert "`dropout_forward` (the forward of layer `drop`)" in top.message


def test_checker_refusals_are_worded_with_the_users_function():
    x = np.full((3, 2), 1e-9)  # the probe steps out of log's domain
    layer = FunctionPairLayer(lambda v: (np.log(v), v), lambda d, c: d / c, name="log")
    with np.errstate(all="ignore"):
        result = check_layers([layer], x)
    for d in result.layers[0].diagnoses:
        assert not any(word in d.message for word in ("`loss", "`grad", "the bare parameter"))


def test_a_fault_of_gradchecks_own_machinery_propagates(monkeypatch):
    """A dead program behind a layer wrapper is not a verdict on the layer: it is raised."""
    from gradcheck.checking import layer_contract as layer_contract

    class DeadPipe(Dense):
        calls = 0

        def forward(self, x):
            DeadPipe.calls += 1
            if DeadPipe.calls > 3:
                raise BrokenPipeError("the program is gone")
            return super().forward(x)

    monkeypatch.setattr(layer_contract, "_is_user_file", lambda filename: False)
    with pytest.raises(BrokenPipeError, match="the program is gone"):
        check_layers([DeadPipe(4, 3, rng=0)], batch())
