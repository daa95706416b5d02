"""Issue 10, item 11: the layer probes had their own numerics.

``layer_diagnose`` and the batch-independence probe had their own differencing, step
rule, kink rule (0.25 where the checker uses 0.02) and tolerances, so fixes to
``numeric/`` never reached them. They now use ``gradcheck.numeric`` (through
``numeric/layer_probes.py``): the same step rule, kink rule and rounding model.
"""

import numpy as np

from gradcheck.checking.batch_independence import forward_mixing
from gradcheck.numeric import estimates, layer_probes, steps


def test_probe_steps_are_the_checker_steps():
    x = np.array([[0.5, -300.0, 2.0]])
    np.testing.assert_array_equal(layer_probes.probe_steps(x, np.float64), steps.entry_steps(x, 2))


def test_the_kink_rule_is_the_checkers(monkeypatch):
    relu = lambda z: np.maximum(z, 0.0)  # noqa: E731
    x = np.array([[1e-7, 1.0]])  # a corner within the step of the first entry
    assert layer_probes.simultaneous_derivative(relu, x).kink.tolist() == [[True, False]]
    monkeypatch.setattr(estimates, "KINK_FRACTION", 10.0)  # no gap can deviate by 1000%
    assert not layer_probes.simultaneous_derivative(relu, x).kink.any()


def test_the_batch_probe_uses_the_checkers_rounding_model(monkeypatch):
    x = np.random.default_rng(0).normal(size=(3, 2))
    tiny_mixing = lambda v: v + 1e-4 * v.mean(axis=0)  # noqa: E731
    assert forward_mixing(tiny_mixing, x, np.random.default_rng(0)) is not None
    monkeypatch.setattr(estimates, "NOISE_SIGMAS", 1e12)
    assert forward_mixing(tiny_mixing, x, np.random.default_rng(0)) is None
