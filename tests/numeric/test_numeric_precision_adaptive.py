"""numeric/precision.py (working precision, quanta) and numeric/adaptive.py (the step)."""

import numpy as np
import pytest

from gradcheck.checking.gradient_preflight import PRECISION_STEPS
from gradcheck.numeric import precision as prec
from gradcheck.numeric.adaptive import step_factor, trial_entries
from gradcheck.numeric.differences import Evaluator
from gradcheck.numeric.levels import Context
from gradcheck.tree import PrivateCopy

RNG = np.random.default_rng(0)
EPS = float(np.finfo(float).eps)


@pytest.mark.parametrize(
    "values, expected",
    [
        (RNG.normal(size=8).astype(np.float32).astype(float), np.float32),
        (RNG.normal(size=8).astype(np.float16).astype(float), np.float16),
        (RNG.normal(size=8), None),
        (np.array([1.0, 2.0, 3.0]), None),  # too few distinct values: no evidence
    ],
    ids=["float32", "float16", "float64", "few"],
)
def test_representable_in(values, expected):
    found = prec.representable_in(values)
    assert (found is None) if expected is None else found == np.dtype(expected)


def test_loss_precision_is_the_coarsest_evidence():
    values = RNG.normal(size=10).astype(np.float32).astype(float)
    assert prec.of_loss(np.dtype(float), values).dtype == np.float32
    assert prec.of_loss(np.dtype(float), RNG.normal(size=10)).dtype == np.float64


def test_gradient_of_float32_valued_parameters_is_no_evidence():
    x = RNG.normal(size=10).astype(np.float32).astype(float)
    assert prec.of_gradient(np.dtype(float), 2 * x, x).dtype == np.float64
    g = RNG.normal(size=10).astype(np.float32).astype(float)
    assert prec.of_gradient(np.dtype(float), g, RNG.normal(size=10)).dtype == np.float32


@pytest.mark.parametrize(
    "values, expected",
    [
        (np.round(RNG.normal(size=20), 3), 1e-3),
        (1e-8 * np.array([0, 91, 209, 574, 2398, 11512, 56854]) + 1.3, 1e-8),  # coprime
        (0.7 + 2.5 * PRECISION_STEPS, 0.0),  # linear along the probe: not rounded
        (np.sin(RNG.normal(size=20)), 0.0),
    ],
    ids=["rounded", "coprime_multiples", "linear_probe", "smooth"],
)
def test_quantum(values, expected):
    assert prec.quantum(values, EPS) == pytest.approx(expected, rel=1e-6, abs=0)


def _divisor_one_m_at_a_time(gaps, ulp, most):
    """`_divisor` as it was first written: one candidate m per iteration."""
    smallest = float(np.min(gaps))
    ratios = np.asarray(gaps, dtype=float) / smallest
    rounding = 4 * ulp * (1 + ratios) / smallest
    for m in range(1, most + 1):
        scaled = m * ratios
        if np.all(np.abs(scaled - np.round(scaled)) <= 1e-3 + m * rounding):
            return smallest / m
    return 0.0


def test_divisor_tried_in_blocks_returns_what_one_at_a_time_returned():
    """Blocks of candidates change the speed (~40x), not one bit of the answer."""
    rng = np.random.default_rng(6)
    found = 0
    for _ in range(120):
        n, q = int(rng.integers(1, 30)), 10.0 ** rng.uniform(-12, 2)
        multiples = rng.integers(1, rng.choice([3, 50, 3000]), size=n)
        noise = 1 + rng.normal(size=n) * 10.0 ** rng.uniform(-17, -2)
        gaps, ulp = multiples * q * noise, 10.0 ** rng.uniform(-20, -8) * q
        most = int(rng.choice([1, 7, 128, 129, 300, 1024]))
        expected = _divisor_one_m_at_a_time(gaps, ulp, most)
        assert prec._divisor(gaps, ulp, most) == expected, (gaps, ulp, most)
        found += expected > 0
    assert 20 < found < 100  # both outcomes are exercised


def test_few_levels_are_evidence_only_when_asked():
    values = np.array([0.0] * 20 + [0.25] * 5)
    assert prec.quantum(values, EPS) == 0.25
    assert prec.quantum(values, EPS, few_levels=False) == 0.0


def _context(loss, x, sigma=None):
    copy = PrivateCopy(x)
    ev = Evaluator(loss, copy)
    f0 = ev()
    sigma = EPS * abs(f0) if sigma is None else sigma
    return Context(ev, f0, sigma, EPS, step_dtype=np.dtype(float)), copy.leaves[""]


def _cancelling(p):
    return float(3e7 + np.sum(p**3) - 3e7)


def _steep(p):
    return float(np.sum(np.sin(1e3 * p)))


STEP_CASES = {
    "cancelling_terms_longer": (_cancelling, lambda p: 3 * p**2, np.spacing(3e7) / 2, 8, 64),
    "steep_shorter": (_steep, lambda p: 1e3 * np.cos(1e3 * p), None, 1 / 64, 1),
}


@pytest.mark.parametrize("name", STEP_CASES)
def test_step_factor_follows_rounding_and_truncation(name):
    """The measured noise (here given) and the measured truncation set the step."""
    loss, grad, sigma, low, high = STEP_CASES[name]
    x = np.random.default_rng(3).uniform(0.2, 1.0, size=12)
    ctx, leaf = _context(loss, x, sigma)
    factor = step_factor(ctx, leaf, np.arange(12), grad(x))
    assert low <= factor <= high, factor


def test_step_factor_respects_a_given_eps_and_trial_entries():
    ctx, leaf = _context(lambda p: float(np.sum(p**2)), np.ones(4))
    assert step_factor(ctx._replace(eps=1e-4), leaf, np.arange(4), 2 * np.ones(4)) == 1.0
    assert trial_entries(np.arange(40.0), 3).tolist() == [0, 20, 39]
