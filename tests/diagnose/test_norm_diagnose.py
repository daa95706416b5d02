"""Normalization diagnoses: each pattern fires on its bug, and stays silent on its healthy twin.

Oracles in closed form: ``dx = s * (g - c_mean * mean_G(g) - c_var * xhat * mean_G(g xhat))``
for a normalization over groups G, with the truth at ``c_mean = c_var = 1``.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gradcheck.diagnose.arrays import Diagnosis
from gradcheck.diagnose.normalization import (
    factor_names,
    forward_suspects,
    keep_probability,
    name_scales,
    normalization_diagnoses,
)
from tests.budget import examples

EPS = 1e-5
RNG = np.random.default_rng(0)
GAMMA = RNG.normal(size=4)


def norm(axes):
    def forward(x):
        mu, var = x.mean(axis=axes, keepdims=True), x.var(axis=axes, keepdims=True)
        return GAMMA.reshape((1, -1) + (1,) * (x.ndim - 2)) * (x - mu) / np.sqrt(var + EPS)

    return forward


def backward(x, g, axes, *, c_mean=1.0, c_var=1.0, eps=EPS, diagonal=False):
    gamma = GAMMA.reshape((1, -1) + (1,) * (x.ndim - 2))
    mu, var = x.mean(axis=axes, keepdims=True), x.var(axis=axes, keepdims=True)
    xhat, istd, dxhat = (x - mu) / np.sqrt(var + EPS), 1 / np.sqrt(var + eps), gamma * g
    m = x.size / mu.size
    if diagonal:
        return istd * dxhat * (1 - 1 / m - xhat**2 / m)
    mean_d = dxhat.mean(axis=axes, keepdims=True)
    mean_dx = (dxhat * xhat).mean(axis=axes, keepdims=True)
    return istd * (dxhat - c_mean * mean_d - c_var * xhat * mean_dx)


CASES = {  # name -> (axes, x shape, backward options, pattern, kind)
    "bn_coupling_dropped": (
        (0,),
        (6, 4),
        {"c_mean": 0, "c_var": 0},
        "coupling_dropped",
        "batch_mixing",
    ),
    "bn_not_reduced": ((0,), (6, 4), {"diagonal": True}, "not_reduced", "axis"),
    "bn_count": ((0,), (6, 4), {"c_mean": 1.5, "c_var": 1.5}, "count", "scale"),
    "bn_one_term": ((0,), (6, 4), {"c_var": 0.0}, "one_term", "other"),
    "bn_eps": ((0,), (6, 4), {"eps": 0.0}, "eps", "other"),
    "ln_count": ((1,), (5, 4), {"c_mean": 4 / 5, "c_var": 4 / 5}, "count", "scale"),
    "sbn_count": ((0, 2, 3), (2, 4, 3, 3), {"c_mean": 9, "c_var": 9}, "count", "scale"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_pattern_fires(case):
    axes, shape, options, pattern, kind = CASES[case]
    x, g = RNG.normal(size=shape), RNG.normal(size=shape)
    found = normalization_diagnoses("n", norm(axes), x, g, backward(x, g, axes, **options))
    assert [(d.kind, d.evidence["pattern"]) for d in found] == [(kind, pattern)]


@pytest.mark.parametrize("case", sorted(CASES))
def test_healthy_twin_is_silent(case):
    axes, shape = CASES[case][:2]
    x, g = RNG.normal(size=shape), RNG.normal(size=shape)
    assert normalization_diagnoses("n", norm(axes), x, g, backward(x, g, axes)) == []


def test_counts_are_named_in_the_layers_terms():
    x, g = RNG.normal(size=(2, 4, 3, 3)), RNG.normal(size=(2, 4, 3, 3))
    dx = backward(x, g, (0, 2, 3), c_mean=9, c_var=9)
    (found,) = normalization_diagnoses("sbn", norm((0, 2, 3)), x, g, dx)
    assert (found.evidence["used"], found.evidence["expected"]) == ("N", "N·H·W")
    assert "divides by N = 2 where the forward's statistics run over N·H·W = 18" in found.message


def test_a_mixing_forward_that_is_not_a_normalization_is_left_alone():
    x, g = RNG.normal(size=(5, 4)), RNG.normal(size=(5, 4))
    centered = lambda v: np.tanh(v - v.mean(axis=0))  # noqa: E731
    assert normalization_diagnoses("c", centered, x, g, 2 * g) == []


def test_factor_names_and_keep_probability():
    names = factor_names((8, 3, 4, 4))
    assert names["N"] == 8 and names["1/(H·W)"] == 1 / 16 and names["N·H·W"] == 128
    x = RNG.normal(size=(6, 5))
    mask = RNG.random(x.shape) < 0.7
    assert keep_probability(x, x * mask / 0.7) == pytest.approx(0.7)
    assert keep_probability(x, np.tanh(x)) is None


def test_name_scales_names_known_factors_only():
    x = np.ones((8, 3, 4, 4))
    named = Diagnosis("scale", "c.b", 1.0, "`c.b` is 0.0625x.", {"factor": 1 / 16})
    unknown = Diagnosis("scale", "c.b", 1.0, "`c.b` is 0.3x.", {"factor": 0.3})
    first, second = name_scales([named, unknown], x, x)
    assert first.evidence["named"] == "1/(H·W)" and "a mean where the forward sums" in first.message
    assert second is unknown


class Runner:
    def __init__(self, forward):
        self.forward = forward

    def label(self, role):
        return "`f`"


def test_forward_suspects_fires_on_a_piecewise_constant_forward_only():
    x, g = RNG.normal(size=(4, 5)), RNG.normal(size=(4, 5))
    step = Runner(lambda v: (v > 0).astype(float))
    smooth = Runner(np.tanh)
    (found,) = forward_suspects("f", step, x, g, g * (x > 0))
    assert found.evidence["pattern"] == "piecewise_constant"
    assert forward_suspects("f", smooth, x, g, 2 * g) == []
    assert forward_suspects("f", step, x, g, np.zeros_like(g)) == []  # nothing to blame


@settings(max_examples=examples(25), deadline=None)
@given(
    layout=st.sampled_from([((0,), 2), ((1,), 2), ((0, 2, 3), 4)]),
    n=st.integers(3, 6),
    factor=st.floats(1.2, 6.0),
    seed=st.integers(0, 2**16),
)
def test_property_count_factor_is_measured(layout, n, factor, seed):
    axes, ndim = layout
    rng = np.random.default_rng(seed)
    shape = (n, 4) if ndim == 2 else (n, 4, 2, 3)
    x, g = rng.normal(size=shape), rng.normal(size=shape)
    healthy = normalization_diagnoses("n", norm(axes), x, g, backward(x, g, axes))
    assert healthy == []
    dx = backward(x, g, axes, c_mean=factor, c_var=factor)
    (found,) = normalization_diagnoses("n", norm(axes), x, g, dx)
    assert found.evidence["pattern"] == "count"
    assert found.evidence["factor"] == pytest.approx(factor, rel=1e-4)


def group_norm(x, groups=2):
    n, c = x.shape[:2]
    xg = x.reshape(n, groups, -1)
    xhat = (xg - xg.mean(axis=2, keepdims=True)) / np.sqrt(xg.var(axis=2, keepdims=True) + EPS)
    return GAMMA.reshape(1, -1, 1, 1) * xhat.reshape(x.shape)


def group_norm_backward(x, g, count_factor=1.0, groups=2):
    n = len(x)
    xg = x.reshape(n, groups, -1)
    istd = 1 / np.sqrt(xg.var(axis=2, keepdims=True) + EPS)
    xhat = (xg - xg.mean(axis=2, keepdims=True)) * istd
    d = (GAMMA.reshape(1, -1, 1, 1) * g).reshape(n, groups, -1)
    mean_d, mean_dx = d.mean(axis=2, keepdims=True), (d * xhat).mean(axis=2, keepdims=True)
    return (istd * (d - count_factor * (mean_d + xhat * mean_dx))).reshape(x.shape)


def test_group_norm_count_names_the_group_extent():
    x, g = RNG.normal(size=(2, 4, 2, 2)), RNG.normal(size=(2, 4, 2, 2))
    assert normalization_diagnoses("gn", group_norm, x, g, group_norm_backward(x, g)) == []
    dx = group_norm_backward(x, g, count_factor=4.0)
    (found,) = normalization_diagnoses("gn", group_norm, x, g, dx)
    assert found.evidence["expected"] == "2·H·W"
    assert "divides by N = 2 where the forward's statistics run over 2·H·W = 8" in found.message
