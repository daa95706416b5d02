"""Adapters: function pairs, renamed methods and flat parameter vectors."""

import numpy as np
import pytest

from gradcheck.adapters import FlatVectorNetwork, FunctionPairLayer, MethodMappingLayer
from gradcheck.errors import InvalidArgumentError, InvalidTypeError, TreeMismatchError
from gradcheck.layers import check_layers


def affine_forward(x, w, b):
    return x @ w + b, (x, w)


def affine_backward(dout, cache):
    x, w = cache
    return dout @ w.T, x.T @ dout, dout.sum(axis=0)


def relu_forward(x):
    return np.maximum(x, 0), x


def relu_backward(dout, cache):
    return (dout * (cache > 0),)


def x_batch(n=5, d=4):
    return np.random.default_rng(0).normal(size=(n, d))


def test_function_pair_layer_follows_the_protocol():
    rng = np.random.default_rng(1)
    params = {"w": rng.normal(size=(4, 3)), "b": rng.normal(size=3)}
    layer = FunctionPairLayer(affine_forward, affine_backward, params, name="fc")
    y = layer.forward(x_batch())
    dx = layer.backward(np.ones_like(y))
    assert dx.shape == (5, 4)
    assert list(layer.grads) == ["w", "b"]
    assert layer.params["w"] is params["w"]  # live arrays, perturbed in place by the checker
    np.testing.assert_allclose(layer.grads["b"], np.full(3, 5.0))


def test_function_pair_stack_passes_and_names_layers():
    rng = np.random.default_rng(1)
    layers = [
        FunctionPairLayer(
            affine_forward, affine_backward, {"w": rng.normal(size=(4, 6)), "b": rng.normal(size=6)}
        ),
        FunctionPairLayer(relu_forward, relu_backward),
        FunctionPairLayer(
            affine_forward,
            affine_backward,
            {"w": rng.normal(size=(6, 2)), "b": np.zeros(2)},
            name="out",
        ),
    ]
    result = check_layers(layers, x_batch())
    assert result.passed, str(result)
    assert [r.name for r in result.layers] == ["affine_forward", "relu_forward", "out"]


def test_function_pair_bad_return_names_the_function():
    layer = FunctionPairLayer(
        lambda x, w: x @ w, affine_backward, {"w": np.ones((4, 2))}, name="fc"
    )
    with pytest.raises(
        InvalidTypeError, match=r"`<lambda>` returned an ndarray; expected \(out, cache\)"
    ):
        layer.forward(x_batch())
    bad = FunctionPairLayer(
        affine_forward, lambda d, c: (d,), {"w": np.ones((4, 2)), "b": np.zeros(2)}, name="fc"
    )
    bad.forward(x_batch())
    with pytest.raises(InvalidTypeError, match=r"returned a tuple of 1; expected \(dx, dw, db\)"):
        bad.backward(np.ones((5, 2)))


def test_parameter_free_backward_may_return_a_bare_dx():
    """Issue 11: relu, dropout and max-pool backwards return dx, not (dx,)."""
    bare = FunctionPairLayer(relu_forward, lambda d, c: d * (c > 0), name="relu")
    bare.forward(x_batch())
    assert bare.backward(np.ones((5, 4))).shape == (5, 4)
    assert check_layers([bare], x_batch()).passed


def test_backward_returning_none_or_wrong_shapes_is_explained():
    def forgets_return(dout, cache):
        x, w = cache
        return None, x.T @ dout, dout.sum(axis=0)

    def transposed_dw(dout, cache):
        x, w = cache
        return dout @ w.T, dout.T @ x, dout.sum(axis=0)

    rng = np.random.default_rng(1)
    results = [
        check_layers(
            [
                FunctionPairLayer(
                    affine_forward,
                    backward,
                    {"w": rng.normal(size=(4, 3)), "b": np.zeros(3)},
                    name="fc",
                )
            ],
            x_batch(),
        ).layers[0]
        for backward in (forgets_return, transposed_dw)
    ]
    none, transposed = (report.diagnoses[0] for report in results)
    assert (none.kind, none.path) == ("other", "fc.x")
    assert "`forgets_return` (the backward of layer `fc`) returned None" in none.message
    assert "(5, 4)" in none.message
    assert (transposed.kind, transposed.path) == ("transpose", "fc.w")
    assert transposed.evidence == {"shape": (3, 4), "expected": (4, 3)}
    assert not any(report.passed for report in results)


class Fprop:
    """A layer from another framework: fprop/bprop, weights/dweights as a list."""

    def __init__(self):
        rng = np.random.default_rng(2)
        self.weights = [rng.normal(size=(4, 3)), rng.normal(size=3)]
        self.dweights = [np.zeros((4, 3)), np.zeros(3)]

    def fprop(self, x):
        self.x = x
        return x @ self.weights[0] + self.weights[1]

    def bprop(self, dout):
        self.dweights = [self.x.T @ dout, dout.sum(axis=0)]
        return dout @ self.weights[0].T


class Named:
    def __init__(self):
        self.W = np.random.default_rng(3).normal(size=(4, 3))

    def run(self, x):
        self.x = x
        return x @ self.W

    def grad(self, dout):
        self.dW = self.x.T @ dout * 2  # planted: a factor 2
        return dout @ self.W.T


def test_method_mapping_with_list_attributes():
    layer = MethodMappingLayer(Fprop())
    assert list(layer.params) == ["0", "1"]
    result = check_layers([layer], x_batch())
    assert result.passed, str(result)
    assert result.layers[0].name == "Fprop"


def test_method_mapping_with_attribute_names_finds_a_scale_bug():
    layer = MethodMappingLayer(
        Named(), forward="run", backward="grad", params=["W"], grads=["dW"], name="named"
    )
    result = check_layers([layer], x_batch())
    assert result.first_failure == 0
    top = result.layers[0].diagnoses[0]
    assert (top.kind, top.path) == ("scale", "named.W")


class SingleArrays:
    """A layer keeping one weight array and its gradient under other attribute names."""

    def __init__(self):
        self.W = np.random.default_rng(3).normal(size=(4, 3))
        self.dW = np.zeros((4, 3))
        self.grads = {}

    def fprop(self, x):
        self.x = x
        return x @ self.W

    def bprop(self, dout):
        self.dW = self.x.T @ dout
        self.grads = {"W": self.dW}
        return dout @ self.W.T


@pytest.mark.parametrize(
    "params, grads",
    [("W", "dW"), (["W"], "grads"), (["W"], ["dW"])],
    ids=["one_array_each", "names_and_a_grads_dict", "names_each"],
)
def test_method_mapping_pairs_gradients_with_parameters(params, grads):
    layer = MethodMappingLayer(SingleArrays(), params=params, grads=grads, name="s")
    result = check_layers([layer], x_batch())
    assert result.passed, str(result)
    assert list(layer.params) == ["W"] and list(layer.grads) == ["W"]


def test_method_mapping_missing_attribute_is_explained():
    with pytest.raises(InvalidArgumentError, match="no attribute `forward_pass`"):
        MethodMappingLayer(Fprop(), forward="forward_pass")
    with pytest.raises(InvalidArgumentError, match="one gradient attribute per parameter"):
        MethodMappingLayer(Named(), forward="run", backward="grad", params=["W"], grads=[])


# -- flat vector ----------------------------------------------------------------------------
SPEC = [("Wl1", (3, 4)), ("bl1", (4,)), ("Wl2", (4, 2)), ("bl2", (2,))]


def two_layer(theta, x, y, order="C"):
    sizes = [int(np.prod(s)) for _, s in SPEC]
    parts = np.split(theta, np.cumsum(sizes)[:-1])
    Wl1, bl1, Wl2, bl2 = (p.reshape(s, order=order) for p, (_, s) in zip(parts, SPEC, strict=True))
    h = np.tanh(x @ Wl1 + bl1)
    out = h @ Wl2 + bl2
    loss = 0.5 * np.mean(np.sum((out - y) ** 2, axis=1))
    d_out = (out - y) / len(x)
    dh = d_out @ Wl2.T * (1 - h**2)
    grads = [x.T @ dh, dh.sum(0), h.T @ d_out, d_out.sum(0)]
    return loss, np.concatenate([g.ravel(order=order) for g in grads])


def problem(order="C", bug=None):
    rng = np.random.default_rng(4)
    x, y = rng.normal(size=(6, 3)), rng.normal(size=(6, 2))
    theta = rng.normal(size=sum(int(np.prod(s)) for _, s in SPEC))

    def grad(t):
        g = two_layer(t, x, y, order)[1].copy()
        if bug == "Wl2":
            g[16:24] *= 2
        return g

    return (lambda t: two_layer(t, x, y, order)[0]), grad, theta


@pytest.mark.parametrize("order", ["C", "F"])
def test_flat_vector_network_passes_per_unpacked_parameter(order):
    loss, grad, theta = problem(order)
    net = FlatVectorNetwork(loss, grad, theta, SPEC, order=order)
    report = net.check()
    assert report.passed, str(report)
    assert set(report.params) == {"Wl1", "bl1", "Wl2", "bl2"}
    np.testing.assert_array_equal(net.pack(net.unpack(theta)), theta)


def test_flat_vector_network_names_the_wrong_unpacked_parameter():
    report = FlatVectorNetwork(*problem(bug="Wl2"), SPEC).check()
    assert not report.passed
    assert {f.path for f in report.failures} == {"Wl2"}
    assert (report.diagnoses[0].kind, report.diagnoses[0].path) == ("scale", "Wl2")


def test_flat_vector_size_mismatch_names_the_sizes():
    loss, grad, theta = problem()
    with pytest.raises(TreeMismatchError, match=r"unpacks 24 numbers .*`theta` has 26"):
        FlatVectorNetwork(loss, grad, theta, SPEC[:-1] + [("bl2", (0,))])
    net = FlatVectorNetwork(loss, lambda t: grad(t)[:-2], theta, SPEC)
    with pytest.raises(TreeMismatchError, match=r"returned 24 numbers.*expected 26"):
        net.check()


@pytest.mark.parametrize(
    "spec, match",
    [
        ([("W", (2, 2)), ("W", (2,))], "more than once"),
        ([("W",)], "list of \\(name, shape\\) pairs"),
        ([("W", (2, -3))], r"negative sizes: \[\('W', \(2, -3\)\)\]"),
    ],
    ids=["duplicate", "malformed", "negative"],
)
def test_flat_vector_spec_validation(spec, match):
    with pytest.raises((InvalidArgumentError, InvalidTypeError), match=match):
        FlatVectorNetwork(lambda t: 0.0, lambda t: t, np.zeros(6), spec)


def test_flat_vector_theta_must_be_float():
    with pytest.raises(InvalidTypeError, match=r"`theta` must be a float vector; got dtype int64"):
        FlatVectorNetwork(lambda t: 0.0, lambda t: t, np.arange(6), [("W", (2, 3))])
