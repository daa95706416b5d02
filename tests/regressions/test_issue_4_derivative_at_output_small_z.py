"""Issue 4: a derivative taken at the output went unnamed for small pre-activations.

``layer_diagnose.elementwise_diagnoses`` compared ``dx / dout`` with each model at a fixed
``rtol=1e-3``; for tanh with ``|z| < ~0.3``, ``f'(z)`` and ``f'(tanh(z))`` differ by 1e-7 to
3e-4, so the at-output hypothesis was indistinguishable from the truth and check_layers
reported only ``other`` at ``tanh1.x``. Each entry is now judged against the error of the
finite-difference estimates themselves, and the hypothesis explaining most entries wins.
"""

import numpy as np
import pytest

from gradcheck.diagnose.layers import elementwise_diagnoses
from gradcheck.layers import check_layers
from gradcheck.testing.spec import MLPSpec


def test_issue_4_at_output_with_small_preactivations_in_check_layers():
    layers = MLPSpec(sizes=(2, 2, 2), activation="tanh", loss="mse").build(seed=0).layers
    tanh = layers[1]
    tanh.backward = lambda dout: dout * tanh.activation.df(tanh.a)  # f'(a), not f'(z)
    x = np.random.default_rng(0).normal(size=(2, 2))
    result = check_layers(layers, x, seed=12345)
    assert result.first_failure == 1
    top = result.layers[1].diagnoses[0]
    assert (top.kind, top.path, top.evidence["pattern"]) == (
        "activation_derivative",
        "tanh1",
        "at_output",
    )


X = np.linspace(-0.2, 0.2, 12).reshape(3, 4)  # |z| <= 0.2: gaps of 1e-7 .. 1e-3
G = np.random.default_rng(1).normal(size=(3, 4))


@pytest.mark.parametrize(
    "dx, pattern",
    [
        (G * (1 - np.tanh(np.tanh(X)) ** 2), "at_output"),
        (G, "missing"),
    ],
    ids=["at_output", "missing"],
)
def test_issue_4_small_z_patterns(dx, pattern):
    found = elementwise_diagnoses("tanh1", np.tanh, X, G, dx)
    assert found and found[0].evidence["pattern"] == pattern


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_issue_4_small_z_correct_backward_is_silent(dtype):
    dx = (G * (1 - np.tanh(X) ** 2)).astype(dtype)
    assert elementwise_diagnoses("tanh1", np.tanh, X.astype(dtype), G, dx) == []
