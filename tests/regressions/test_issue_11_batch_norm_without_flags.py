"""Issue 11: every correct batch norm failed with ``batch_mixing`` unless a flag was set.

On buggy batch norms ``batch_mixing`` also outranked the real diagnosis. Mixing is now
measured: a forward that mixes samples is information (the full vector-Jacobian product
is checked), and only mixing the backward has but the forward lacks (a layer norm summing
over the batch axis) is a failure. ``mixes_samples`` stays an override.
"""

import numpy as np

from gradcheck.adapters import FunctionPairLayer
from gradcheck.layers import check_layers


def bn_forward(x, gamma, beta):
    mu, var = x.mean(axis=0), x.var(axis=0)
    xhat = (x - mu) / np.sqrt(var + 1e-5)
    return gamma * xhat + beta, (xhat, gamma, var)


def bn_backward(dout, cache, count=None):
    xhat, gamma, var = cache
    n = count or len(dout)
    dx = (
        gamma
        / np.sqrt(var + 1e-5)
        * (dout - dout.sum(axis=0) / n - xhat * (dout * xhat).sum(axis=0) / n)
    )
    return dx, np.sum(dout * xhat, axis=0), dout.sum(axis=0)


def ln_forward(x, gamma, beta):
    mu, var = x.mean(axis=1, keepdims=True), x.var(axis=1, keepdims=True)
    xhat = (x - mu) / np.sqrt(var + 1e-5)
    return gamma * xhat + beta, (xhat, gamma, var)


def ln_backward_batch_axis(dout, cache):
    xhat, gamma, var = cache
    d = dout * gamma
    dx = (d - d.mean(axis=0) - xhat * (d * xhat).mean(axis=0)) / np.sqrt(var + 1e-5)
    return dx, np.sum(dout * xhat, axis=0), dout.sum(axis=0)


def params(rng):
    return {"gamma": rng.normal(size=4), "beta": rng.normal(size=4)}


def test_a_correct_batch_norm_passes_without_a_flag():
    rng = np.random.default_rng(0)
    result = check_layers(
        [FunctionPairLayer(bn_forward, bn_backward, params(rng))], rng.normal(size=(6, 4))
    )
    assert result.passed, str(result)
    report = result.layers[0]
    assert report.batch_independent is False and report.diagnoses == []
    assert any("mixes samples in its forward pass" in note for note in report.notes)


def test_the_real_diagnosis_outranks_batch_mixing():
    rng = np.random.default_rng(0)
    wrong_count = lambda dout, cache: bn_backward(dout, cache, count=3)  # noqa: E731
    result = check_layers(
        [FunctionPairLayer(bn_forward, wrong_count, params(rng), name="bn")],
        rng.normal(size=(6, 4)),
    )
    top = result.layers[0].diagnoses[0]
    assert (top.kind, top.evidence["pattern"]) == ("scale", "count"), top
    assert "divides by 3" in top.message and "N = 6" in top.message


def test_mixing_only_in_the_backward_fails():
    rng = np.random.default_rng(0)
    layer = FunctionPairLayer(ln_forward, ln_backward_batch_axis, params(rng), name="ln")
    result = check_layers([layer], rng.normal(size=(6, 4)))
    top = result.layers[0].diagnoses[0]
    assert (top.kind, top.path, top.evidence["where"]) == ("batch_mixing", "ln", "backward")


def test_mixes_samples_stays_an_override():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(6, 4))
    declared = FunctionPairLayer(bn_forward, bn_backward, params(rng), mixes_samples=True)
    assert check_layers([declared], x).layers[0].batch_independent is None
    denied = FunctionPairLayer(bn_forward, bn_backward, params(rng), mixes_samples=False)
    top = check_layers([denied], x).layers[0].diagnoses[0]
    assert (top.kind, top.evidence["where"]) == ("batch_mixing", "forward")
