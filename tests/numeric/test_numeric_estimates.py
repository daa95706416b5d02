"""The error model: truncation from two steps, Romberg, noise, kinks."""

import numpy as np
import pytest

from gradcheck.numeric import estimates as est


def test_truncation_recovers_the_leading_error():
    h = 1e-2
    c = 5.0
    coarse, fine = c * h**2, c * (h / 2) ** 2
    assert est.truncation(np.array([coarse]), np.array([fine]), 2)[0] == pytest.approx(c * h**2)
    assert est.truncation(np.array([c * h]), np.array([c * h / 2]), 1)[0] == pytest.approx(c * h)


def central(f, x, h):
    return (f(x + h) - f(x - h)) / (2 * h)


def test_romberg_beats_each_level_and_bounds_its_error():
    levels = [np.array([central(np.exp, 0.5, 0.05 / 2**k)]) for k in range(3)]
    value, error, weights = est.romberg(levels)
    truth = np.exp(0.5)
    assert abs(value[0] - truth) < 1e-12 < abs(levels[-1][0] - truth)
    assert abs(value[0] - truth) <= error[0]
    assert sum(weights) == pytest.approx(1.0)


def test_measure_noise_ignores_curvature_and_finds_noise():
    t = np.linspace(-1, 1, 13)
    assert est.measure_noise(2 + 3 * t + 4 * t**2) == pytest.approx(0.0, abs=1e-15)
    noise = np.random.default_rng(0).standard_normal((200, 13)) * 1e-10
    estimates = [est.measure_noise(1 + t + row) for row in noise]
    assert np.median(estimates) == pytest.approx(1e-10, rel=0.3)


def test_measure_noise_is_robust_to_one_kink():
    t = np.linspace(-1, 1, 13)
    assert est.measure_noise(np.abs(t - 0.01)) < 1e-12


def test_loss_noise_and_allowed_error():
    assert est.loss_noise(np.array([3.0]), 1e-16, measured=1e-12) == 1e-12
    assert est.loss_noise(np.array([3.0]), 1e-16) == pytest.approx(3e-16)
    assert est.allowed_error(1.0, np.array([1.0, 2.0]))[1] == est.SAFETY * 3.0
    assert est.rounding_bound(1e-16, 2.0) == pytest.approx(est.NOISE_SIGMAS * 2e-16)


def one_sided_gap(f, x, h):
    return (f(x + h) - f(x)) / h - (f(x) - f(x - h)) / h


@pytest.mark.parametrize(
    ("f", "x", "kink"),
    [
        (np.abs, 0.0, True),
        (lambda z: max(z, 0.0), 1e-7, True),
        (lambda z: z**2, 0.3, False),
        (lambda z: np.exp(50 * z), 0.1, False),
    ],
    ids=["abs-corner", "relu-near-corner", "parabola", "steep-exp"],
)
def test_kink_mask(f, x, kink):
    h = 1e-5
    coarse, fine = one_sided_gap(f, x, h), one_sided_gap(f, x, h / 2)
    noise = est.rounding_bound(1e-16 * max(abs(f(x)), 1.0), 4 / h)
    assert est.kink_mask(np.array([coarse]), np.array([fine]), np.array([noise]))[0] == kink


def test_measure_noise_sees_quantized_rounding_of_cancelled_terms():
    # a loss ~1 computed next to a term of 220: rounded to ulp(220) = 2**-45
    t = np.linspace(-1, 1, 25) + 0.3 * np.sin(np.arange(25.0) ** 2)
    values = (0.7 + 1.3e-11 * t + 220.0) - 220.0
    assert est.measure_noise(values, t) > 2**-45 / 10


def test_measure_noise_irregular_offsets_ignore_curvature():
    t = np.sort(np.random.default_rng(1).uniform(-1, 1, 25))
    assert est.measure_noise(2 + 3 * t + 4 * t**2, t) < 1e-14


def test_loss_noise_floor_is_the_loss_dtype_subnormal():
    floor32 = float(np.finfo(np.float32).smallest_subnormal)
    assert est.loss_noise(np.array([0.0]), 1e-7, dtype=np.float32) == floor32


def test_analytic_rounding_follows_the_parameter_scale_not_the_entry():
    small = est.analytic_rounding(np.array([1e-6]), 1e-16, scale=2.0)
    assert small[0] == pytest.approx(est.ANALYTIC_ULPS * 1e-16 * 2.0)
    assert est.analytic_rounding(np.array([3.0]), 1e-16, scale=2.0)[0] == pytest.approx(
        est.ANALYTIC_ULPS * 3e-16
    )


def test_step_noise_scales_with_step_and_gradient_scale():
    assert est.step_noise(1e-5, 2.0, 1e-16) == pytest.approx(2e-21)
