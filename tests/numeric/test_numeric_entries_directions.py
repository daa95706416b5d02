"""Per-entry probes, directional probes, bisection and sweeps, on functions with known gradients."""

import math

import numpy as np
import pytest

from gradcheck.numeric.adaptive import TRIALS, TRIALS_STEPS
from gradcheck.numeric.differences import Evaluator
from gradcheck.numeric.directions import (
    directional_difference,
    localize,
    probe_direction,
    random_signs,
)
from gradcheck.numeric.entries import Context, probe_entries
from gradcheck.numeric.sweep import (
    MIN_SAMPLE,
    mirrored,
    sample_size,
    select_entries,
    sweep_entries,
)
from gradcheck.tree import PrivateCopy


def context(loss, params, sigma=None, imag=None):
    copy = PrivateCopy(params)
    ev = Evaluator(loss, copy)
    f0 = ev()
    sigma = np.finfo(float).eps * max(abs(f0), 1e-300) if sigma is None else sigma
    return Context(ev, f0, sigma, np.finfo(float).eps, imag=imag), copy, ev


def quartic(p):
    return float(np.sum(p**4) / 4 + np.sum(np.sin(p)))


def quartic_grad(p):
    return p**3 + np.cos(p)


X = np.random.default_rng(0).uniform(-2, 2, size=50)


@pytest.mark.parametrize("method", ["central", "forward", "backward", "richardson"])
def test_probe_entries_matches_and_allowed_covers_the_error(method):
    ctx, copy, ev = context(quartic, X)
    est = probe_entries(ctx, copy.leaves[""], np.arange(50), quartic_grad(X), method)
    error = np.abs(est.numeric - quartic_grad(X))
    assert np.all(error <= est.allowed) and not est.kink.any()
    assert np.max(est.allowed) < 1e-4 * np.max(np.abs(quartic_grad(X)))


def test_richardson_allowed_is_far_tighter_than_central():
    ctx, copy, _ = context(quartic, X)
    central = probe_entries(ctx, copy.leaves[""], np.arange(50), quartic_grad(X), "central")
    rich = probe_entries(ctx, copy.leaves[""], np.arange(50), quartic_grad(X), "richardson")
    assert np.median(rich.allowed) < np.median(central.allowed) / 20


def test_probe_entries_flags_a_wrong_entry_and_only_it():
    ctx, copy, _ = context(quartic, X)
    analytic = quartic_grad(X)
    analytic[7] *= 1 + 1e-6
    est = probe_entries(ctx, copy.leaves[""], np.arange(50), analytic, "central")
    assert np.flatnonzero(np.abs(est.numeric - analytic) > est.allowed).tolist() == [7]


def test_probe_entries_costs_two_evaluations_per_smooth_entry():
    """Two per entry, plus the step trials of the parameter (issue 10: adaptive steps)."""
    ctx, copy, ev = context(quartic, X)
    before = ev.count
    probe_entries(ctx, copy.leaves[""], np.arange(50), quartic_grad(X), "central")
    trials = 4 * TRIALS * len(TRIALS_STEPS)
    assert 100 <= ev.count - before <= 100 + trials


def test_kinks_are_flagged_for_relu_corners():
    x = np.array([0.0, 1e-8, 0.7])
    ctx, copy, _ = context(lambda p: float(np.sum(np.maximum(p, 0))), x)
    est = probe_entries(ctx, copy.leaves[""], np.arange(3), 1.0 * (x > 0), "central")
    assert est.kink.tolist() == [True, True, False]


def test_complex_entries_are_exact():
    x = np.linspace(0.2, 1.0, 5)
    copy = PrivateCopy(x.astype(complex))
    ev = Evaluator(lambda p: np.sum(np.exp(p) * p), copy)
    ctx = Context(ev, 0.0, 0.0, np.finfo(float).eps, imag=ev.imag)
    est = probe_entries(ctx, copy.leaves[""], np.arange(5), np.exp(x) * (1 + x), "complex")
    assert np.allclose(est.numeric, np.exp(x) * (1 + x), rtol=1e-15, atol=0)


# ------------------------------------------------------------------------------ directions

N = 1024
W = np.random.default_rng(1).standard_normal(N)


def bowl(p):
    return float(np.sum(np.cos(p)) + 0.5 * np.sum(p**2))


def bowl_grad(p):
    return -np.sin(p) + p


def test_random_signs_are_seeded():
    a = random_signs(np.random.default_rng(3), 10)
    assert np.array_equal(a, random_signs(np.random.default_rng(3), 10))
    assert set(np.abs(a)) == {1.0}


@pytest.mark.parametrize("method", ["central", "richardson"])
def test_probe_direction_passes_correct_and_fails_wrong(method):
    ctx, copy, _ = context(bowl, W)
    leaf, support = copy.leaves[""], np.arange(N)
    signs = random_signs(np.random.default_rng(0), N)
    assert not probe_direction(ctx, leaf, support, signs, bowl_grad(W), method).failed
    wrong = bowl_grad(W)
    wrong[100] += 1e-4
    assert probe_direction(ctx, leaf, support, signs, wrong, method).failed


@pytest.mark.parametrize("index", [0, 517, N - 1])
def test_localize_one_wrong_entry_within_the_log_budget(index):
    ctx, copy, ev = context(bowl, W)
    leaf, support = copy.leaves[""], np.arange(N)
    signs = random_signs(np.random.default_rng(0), N)
    wrong = bowl_grad(W)
    wrong[index] *= 1.001
    probe = probe_direction(ctx, leaf, support, signs, wrong)
    before = ev.count
    assert localize(ctx, leaf, signs, wrong, probe) == [index]
    assert ev.count - before <= 4 * math.log2(N) + 20


def test_localize_several_wrong_entries():
    ctx, copy, _ = context(bowl, W)
    leaf, support = copy.leaves[""], np.arange(N)
    signs = random_signs(np.random.default_rng(0), N)
    wrong = bowl_grad(W)
    wrong[[3, 600, 900]] += [1e-3, -2e-3, 5e-3]
    probe = probe_direction(ctx, leaf, support, signs, wrong)
    assert sorted(localize(ctx, leaf, signs, wrong, probe)) == [3, 600, 900]


def test_directional_difference_matches_the_dot_product():
    ctx, copy, _ = context(bowl, W)
    signs = random_signs(np.random.default_rng(2), N)
    value, allowed = directional_difference(ctx, copy.leaves[""], np.arange(N), signs)
    exact = float(bowl_grad(W) @ (signs * np.maximum(1.0, np.abs(W))))
    assert abs(value - exact) <= allowed


# ---------------------------------------------------------------------------------- sweeps


def test_sample_size_and_selection():
    # issue 12: at least MIN_SAMPLE entries of each parameter, all of a small one
    assert sample_size(10, 0.25) == 10 and sample_size(10, 1.0) == 10 and sample_size(10, 3) == 10
    assert sample_size(1000, 0.25) == 250 and sample_size(1000, 3) == MIN_SAMPLE
    analytic = np.arange(100.0)
    chosen = select_entries(analytic, 8, np.random.default_rng(0))
    assert len(chosen) == MIN_SAMPLE and {96, 97, 98, 99} <= set(chosen.tolist())
    again = select_entries(analytic, 8, np.random.default_rng(0))
    assert np.array_equal(chosen, again)
    assert np.array_equal(select_entries(analytic, 500, np.random.default_rng(0)), np.arange(100))


def test_sweep_entries_covers_every_leaf():
    params = {"a": np.linspace(-1, 1, 6).reshape(2, 3), "b": np.array(0.5)}
    ctx, copy, _ = context(lambda p: float(np.sum(p["a"] ** 3) + p["b"] ** 2), params)
    analytic = {"a": 3 * params["a"] ** 2, "b": 2 * params["b"]}
    results = sweep_entries(ctx, copy.leaves, analytic, "central", sample=4)
    assert results["a"].indices.size == 6 and results["b"].indices.tolist() == [0]  # all
    assert np.allclose(results["b"].numeric, 1.0)


def test_mirrored_adds_the_transposed_entries_of_square_matrices_only():
    assert mirrored(np.array([1, 5]), (3, 3)).tolist() == [1, 3, 5, 7]
    assert mirrored(np.array([1, 5]), (2, 3)).tolist() == [1, 5]
    assert mirrored(np.array([0]), (1, 1)).tolist() == [0]
