"""check_gradient / assert_gradient: verdicts, kinks, dtype handling, sampling, directions."""

import math

import numpy as np
import pytest
from check_problems import largest_index, mlp_problem, planted
from hypothesis import given, settings
from hypothesis import strategies as st

import gradcheck.errors as E
from gradcheck.checking.gradient import assert_gradient, check_gradient
from tests.budget import examples

# ----------------------------------------------------------------------------- no false positives

SMOOTH = {
    "cubic": (lambda p: float(np.sum(p**3)), lambda p: 3 * p**2),
    "sin_prod": (
        lambda p: float(np.sin(p).prod()),
        lambda p: np.cos(p) * np.sin(p).prod() / np.sin(p),
    ),
    "exp_sum": (lambda p: float(np.exp(p).sum()), np.exp),
    "log_sum_exp": (
        lambda p: float(np.log(np.exp(p).sum())),
        lambda p: np.exp(p) / np.exp(p).sum(),
    ),
    "zero_gradient": (lambda p: 3.0, np.zeros_like),
}


@pytest.mark.parametrize("name", SMOOTH, ids=list(SMOOTH))
def test_smooth_functions_pass(name):
    loss, grad = SMOOTH[name]
    x = np.random.default_rng(1).uniform(0.3, 1.5, size=(3, 4))
    report = check_gradient(loss, grad, x)
    assert report.passed, str(report)
    assert report.kinks == []


@settings(max_examples=examples(25), deadline=None)
@given(
    coeffs=st.lists(st.floats(-3, 3), min_size=3, max_size=3),
    seed=st.integers(0, 2**16),
    scale=st.sampled_from([1e-6, 1.0, 1e4]),
)
def test_random_smooth_functions_pass(coeffs, seed, scale):
    a, b, c = coeffs
    x = np.random.default_rng(seed).uniform(-2, 2, size=6)

    def loss(p):
        return float(scale * np.sum(a * np.sin(p) + b * p**2 + c * np.tanh(2 * p)))

    def grad(p):
        return scale * (a * np.cos(p) + 2 * b * p + 2 * c / np.cosh(2 * p) ** 2)

    report = check_gradient(loss, grad, x)
    assert report.passed, str(report)


@pytest.mark.parametrize("act", ["tanh", "sigmoid"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_correct_mlps_pass(act, seed):
    loss, grad, params = mlp_problem(act=act, seed=seed)
    report = check_gradient(loss, grad, params)
    assert report.passed, str(report)
    assert report.max_rel_error < 1e-7


@pytest.mark.parametrize("scale", [1e-8, 1e8], ids=["tiny", "huge"])
def test_tiny_and_huge_gradients_pass(scale):
    loss, grad, params = mlp_problem(seed=3)
    report = check_gradient(
        lambda p: scale * loss(p),
        lambda p: {k: scale * g for k, g in grad(p).items()},
        params,
    )
    assert report.passed, str(report)


def test_mixed_tiny_and_huge_entries_pass():
    w = np.array([1e-7, 1.0, 1e5, -3e3, 0.0])

    def loss(p):
        return float(np.sum(np.array([1e6, 1.0, 1e-6, 1e-3, 5.0]) * p**2))

    def grad(p):
        return 2 * np.array([1e6, 1.0, 1e-6, 1e-3, 5.0]) * p

    assert check_gradient(loss, grad, w).passed


# ---------------------------------------------------------------------------- sensitivity


@pytest.mark.parametrize("method", ["central", "richardson", "complex"])
def test_relative_1e6_error_in_one_entry_fails(method):
    loss, grad, params = mlp_problem(n_in=8, n_hidden=16, seed=4)
    where = largest_index(grad, params, "W1")
    report = check_gradient(loss, planted(grad, "W1", where, 1 + 1e-6), params, method=method)
    assert not report.passed
    assert [(f.path, f.index) for f in report.failures] == [("W1", where)]
    failure = report.failures[0]
    assert failure.ratio > 1 and failure.error > failure.tolerance
    assert report.params["W1"].failed == 1 and report.params["b1"].passed


@pytest.mark.parametrize("method", ["forward", "backward"])
def test_one_sided_methods_pass_and_catch(method):
    loss, grad, params = mlp_problem(seed=5)
    assert check_gradient(loss, grad, params, method=method).passed
    bad = planted(grad, "W2", (1, 1), 1.001)
    report = check_gradient(loss, bad, params, method=method)
    assert [(f.path, f.index) for f in report.failures] == [("W2", (1, 1))]


def test_richardson_is_more_accurate_than_central():
    loss, grad, params = mlp_problem(n_in=6, n_hidden=6, seed=6)
    central = check_gradient(loss, grad, params)
    rich = check_gradient(loss, grad, params, method="richardson")
    assert rich.passed and central.passed
    assert rich.max_rel_error < central.max_rel_error / 20


def test_n_evaluations_counts_every_call():
    calls = []

    def loss(p):
        calls.append(1)
        return float(np.sum(p**2))

    report = check_gradient(loss, lambda p: 2 * p, np.ones(4))
    assert report.n_evaluations == len(calls)
    assert report.n_evaluations >= 2 * 4


# ------------------------------------------------------------------------------------ kinks


def test_relu_at_its_corner_is_a_kink_not_a_failure():
    x = np.array([0.0, 1e-9, -1e-9, 0.5, -0.3])
    report = check_gradient(lambda p: float(np.sum(np.maximum(p, 0))), lambda p: 1.0 * (p > 0), x)
    assert report.passed, str(report)
    assert ("", (0,)) in report.kinks
    assert ("", (3,)) not in report.kinks and ("", (4,)) not in report.kinks


def test_abs_and_max_corners_are_kinks():
    x = np.array([0.0, 2.0])
    report = check_gradient(
        lambda p: float(abs(p[0]) + max(p[1], 2.0)), lambda p: np.array([0.0, 1.0]), x
    )
    assert report.passed, str(report)
    assert {idx for _, idx in report.kinks} == {(0,), (1,)}


def test_smooth_function_reports_no_kinks():
    report = check_gradient(
        lambda p: float(np.sum(np.exp(3 * p))), lambda p: 3 * np.exp(3 * p), np.zeros(5)
    )
    assert report.kinks == []


@settings(max_examples=examples(40), deadline=None)
@given(
    seed=st.integers(0, 2**16),
    act=st.sampled_from(["relu", "leaky_relu"]),
    method=st.sampled_from(["central", "richardson", "forward"]),
    log_near=st.lists(st.floats(-14, -4), min_size=6, max_size=6),
    side=st.lists(st.sampled_from([-1.0, 0.0, 1.0]), min_size=6, max_size=6),
)
def test_relu_nets_with_preactivations_near_zero_pass(seed, act, method, log_near, side):
    """Every hidden unit gets a pre-activation within 1e-14..1e-4 of its corner (or on it)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((3, 4))
    _, _, params = mlp_problem(n_in=4, n_hidden=6, batch=3, act=act, seed=seed, x=x)
    sample = rng.integers(0, 3, size=6)
    params["b1"] = -(x @ params["W1"])[sample, np.arange(6)] + np.array(side) * 10.0 ** np.array(
        log_near
    )
    loss, grad, params = mlp_problem(act=act, seed=seed, x=x, params=params, n_out=3)
    report = check_gradient(loss, grad, params, method=method)
    assert report.passed, str(report)


# ------------------------------------------------------ determinism, accumulation, mutation


def test_nondeterministic_loss_raises_before_any_verdict():
    rng = np.random.default_rng(0)

    def noisy(p):
        return float(np.sum(p**2) + 1e-9 * rng.standard_normal())

    with pytest.raises(E.NondeterministicError, match="for the same parameters") as info:
        check_gradient(noisy, lambda p: 2 * p, np.ones(3))
    assert info.value.diagnosis.kind == "nondeterministic"


def test_loss_that_drifts_during_the_check_raises():
    state = {"n": 0}

    def drifting(p):
        state["n"] += 1
        return float(np.sum(p**2)) + (1e-6 if state["n"] > 10 else 0.0)

    with pytest.raises(E.NondeterministicError, match="start and at the end"):
        check_gradient(drifting, lambda p: 2 * p, np.ones(3))


def test_accumulating_grad_fails_with_accumulation_diagnosis_first():
    loss, grad, params = mlp_problem(seed=7)
    buffers = {}

    def accumulating(p):
        for k, g in grad(p).items():
            buffers[k] = buffers.get(k, 0) + g
        return dict(buffers)

    report = check_gradient(loss, accumulating, params)
    assert not report.passed
    assert report.diagnoses[0].kind == "accumulation"


def test_grad_returning_a_fresh_array_has_no_accumulation_diagnosis():
    loss, grad, params = mlp_problem(seed=7)
    report = check_gradient(loss, grad, params)
    assert report.passed and report.diagnoses == []


@pytest.mark.parametrize("who", ["loss", "grad"])
def test_mutating_function_raises_naming_the_path(who):
    def loss(p):
        if who == "loss":
            p["b"] += 1.0
        return float(np.sum(p["W"] ** 2) + np.sum(p["b"]))

    def grad(p):
        if who == "grad":
            p["W"] *= 2
        return {"W": 2 * p["W"], "b": np.ones_like(p["b"])}

    params = {"W": np.ones((2, 2)), "b": np.zeros(2)}
    original = {k: v.copy() for k, v in params.items()}
    path = "`b`" if who == "loss" else "`W`"
    with pytest.raises(E.MutationError, match=f"`{who}` changed .*{path}"):
        check_gradient(loss, grad, params)
    assert all(np.array_equal(params[k], original[k]) for k in params)


def test_caller_arrays_are_never_modified():
    loss, grad, params = mlp_problem(seed=8)
    before = {k: v.copy() for k, v in params.items()}
    check_gradient(loss, grad, params, method="richardson")
    assert all(np.array_equal(params[k], before[k]) for k in params)


# ------------------------------------------------------------------------------- float32


def test_float32_params_are_evaluated_in_float64():
    loss, grad, params = mlp_problem(seed=9, dtype=np.float32)
    report = check_gradient(loss, grad, params)
    assert report.passed, str(report)
    assert report.dtype == "float32" and report.evaluated_dtype == "float64"
    assert any("float64" in note for note in report.notes)


def test_float32_only_loss_falls_back_to_float32():
    loss, grad, params = mlp_problem(seed=10, dtype=np.float32)

    def loss32(p):
        return np.float32(loss({k: v.astype(np.float32) for k, v in p.items()}))

    def grad32(p):
        return grad({k: v.astype(np.float32) for k, v in p.items()})

    report = check_gradient(loss32, grad32, params)
    assert report.passed, str(report)
    assert report.evaluated_dtype == "float32"
    assert any("evaluated in float32" in note for note in report.notes)


def test_float32_loss_that_rejects_float64_falls_back():
    w = np.linspace(-1, 1, 6).astype(np.float32)

    def loss(p):
        if p.dtype != np.float32:
            raise TypeError("float32 only")
        return float(np.sum(np.sin(p)))

    report = check_gradient(loss, np.cos, w)
    assert report.passed and report.evaluated_dtype == "float32"
    assert "raised TypeError" in report.notes[0]


def test_float32_planted_error_is_still_caught():
    loss, grad, params = mlp_problem(seed=11, dtype=np.float32)
    where = largest_index(grad, params, "W2")
    report = check_gradient(loss, planted(grad, "W2", where, 1.01), params)
    assert ("W2", where) in [(f.path, f.index) for f in report.failures]


# ------------------------------------------------------------------------------- complex step


def test_complex_step_is_exact_on_a_safe_loss():
    x = np.linspace(0.1, 2, 7)
    report = check_gradient(
        lambda p: np.sum(np.sin(p) * p), lambda p: np.cos(p) * p + np.sin(p), x, method="complex"
    )
    assert report.passed and report.max_rel_error < 1e-14


@pytest.mark.parametrize(
    "loss",
    [
        lambda p: np.sum(np.abs(p) ** 3),
        lambda p: float(np.sum(p.real**3)),
    ],
    ids=["abs", "real_cast"],
)
def test_complex_step_detects_unsafe_loss(loss):
    with pytest.raises(E.InvalidArgumentError, match="not complex-safe|complex-safe loss"):
        check_gradient(loss, lambda p: 3 * p * np.abs(p), np.linspace(0.5, 2, 5), method="complex")


def test_complex_step_detects_loss_that_raises_on_complex():
    def loss(p):
        if np.iscomplexobj(p):
            raise TypeError("no complex here")
        return float(np.sum(p**2))

    with pytest.raises(E.InvalidArgumentError, match="raised TypeError"):
        check_gradient(loss, lambda p: 2 * p, np.ones(3), method="complex")


# ---------------------------------------------------------------------------------- sample=


def test_sample_checks_every_parameter_and_the_largest_entries():
    loss, grad, params = mlp_problem(n_in=10, n_hidden=20, seed=12)
    report = check_gradient(loss, grad, params, sample=5)
    assert report.mode == "sample" and report.passed
    # issue 12: at least MIN_SAMPLE (16) entries of each parameter, all of a smaller one
    assert {p: s.checked for p, s in report.params.items()} == {
        "W1": 16,
        "b1": 16,
        "W2": 16,
        "b2": 3,
    }
    where = largest_index(grad, params, "W1")
    bad = check_gradient(loss, planted(grad, "W1", where, 1 + 1e-6), params, sample=0.02)
    assert [(f.path, f.index) for f in bad.failures] == [("W1", where)]


def test_sample_fraction_and_seed_are_reproducible():
    loss, grad, params = mlp_problem(n_in=10, n_hidden=20, seed=12)
    a = check_gradient(loss, grad, params, sample=0.1, seed=3)
    b = check_gradient(loss, grad, params, sample=0.1, seed=3)
    assert a.params["W1"].checked == math.ceil(0.1 * 200)
    assert a.scatter == b.scatter


# ------------------------------------------------------------------------------ directions=


def test_directions_certify_a_correct_gradient_cheaply():
    loss, grad, params = mlp_problem(n_in=20, n_hidden=30, seed=13)
    report = check_gradient(loss, grad, params, directions=2, method="central")
    assert report.passed and report.mode == "directional"
    assert report.n_evaluations < 60
    assert report.params["W1"].checked == 600


@pytest.mark.parametrize("method", ["central", "richardson"])
def test_directions_localize_one_wrong_entry_in_log_evaluations(method):
    loss, grad, params = mlp_problem(n_in=64, n_hidden=64, seed=14)
    size = 64 * 64
    healthy = check_gradient(loss, grad, params, directions=1, method=method)
    bad = check_gradient(
        loss, planted(grad, "W1", (37, 5), 1.001), params, directions=1, method=method
    )
    assert [(f.path, f.index) for f in bad.failures] == [("W1", (37, 5))]
    assert bad.n_evaluations - healthy.n_evaluations <= 4 * math.log2(size) + 20
    assert bad.failures[0].numeric == pytest.approx(grad(params)["W1"][37, 5], rel=1e-6)


def test_directions_find_several_wrong_entries():
    loss, grad, params = mlp_problem(n_in=32, n_hidden=32, seed=15)
    bad = planted(planted(grad, "W1", (3, 4), 1.01), "W1", (30, 31), 0.98)
    report = check_gradient(loss, bad, params, directions=2)
    assert {(f.path, f.index) for f in report.failures} == {("W1", (3, 4)), ("W1", (30, 31))}


# ----------------------------------------------------------------------------- overrides, assert


def test_rtol_atol_override_the_error_model():
    loss, grad, params = mlp_problem(seed=16)
    bad = planted(grad, "b2", (0,), 1 + 1e-3)
    assert not check_gradient(loss, bad, params).passed
    assert check_gradient(loss, bad, params, rtol=1e-2).passed
    assert not check_gradient(loss, grad, params, rtol=0.0, atol=0.0).passed


def test_assert_gradient_raises_mismatch_with_table_and_diagnoses():
    loss, grad, params = mlp_problem(seed=17)

    def doubled(p):
        return {k: 2 * g for k, g in grad(p).items()}

    with pytest.raises(E.GradientMismatch, match="FAILED") as info:
        assert_gradient(loss, doubled, params)
    assert isinstance(info.value, AssertionError)
    assert "diagnoses:" in str(info.value)
    assert info.value.report.diagnoses[0].kind == "scale"
    assert info.value.diagnoses == info.value.report.diagnoses
    assert assert_gradient(loss, grad, params).passed


def test_batch_size_is_passed_to_the_diagnosis():
    loss, grad, params = mlp_problem(seed=18, batch=8)

    def unscaled(p):
        return {k: 8 * g for k, g in grad(p).items()}

    report = check_gradient(loss, unscaled, params, batch_size=8)
    assert report.diagnoses[0].kind == "scale"


def test_number_and_nested_params():
    params = {"a": 1.5, "layers": [np.ones(2), (np.array(3.0),)]}

    def loss(p):
        return float(p["a"] ** 2 + np.sum(p["layers"][0] ** 3) + p["layers"][1][0] ** 2)

    def grad(p):
        return {"a": 2 * p["a"], "layers": [3 * p["layers"][0] ** 2, (2 * p["layers"][1][0],)]}

    report = check_gradient(loss, grad, params)
    assert report.passed
    assert list(report.params) == ["a", "layers.0", "layers.1.0"]


@pytest.mark.slow
def test_progress_bar_on_a_slow_check(capsys):
    import time

    def slow(p):
        time.sleep(0.004)
        return float(np.sum(p**2))

    report = check_gradient(slow, lambda p: 2 * p, np.ones(150), progress=True)
    assert report.passed
    assert "gradcheck [" in capsys.readouterr().err


def test_float32_loss_whose_value_is_zero_passes():
    """Rounding noise scales with the perturbed values too, not only with f(x) = 0."""
    g = np.random.default_rng(0).standard_normal(4)
    w = np.zeros(4, dtype=np.float32)
    report = check_gradient(lambda p: np.float32(np.sum(g * p)), lambda p: g.copy(), w)
    assert report.passed, str(report)
    assert report.evaluated_dtype == "float32"


@pytest.mark.parametrize(
    "options",
    [{}, {"sample": 2}, {"directions": 2}, {"method": "richardson"}, {"method": "complex"}],
    ids=["full", "sample", "directions", "richardson", "complex"],
)
def test_empty_leaf_next_to_others(options):
    params = {"a": np.ones(3), "e": np.zeros((0, 2))}

    def loss(p):
        return np.sum(p["a"] ** 2) + np.sum(p["e"])

    def grad(p):
        return {"a": 2 * p["a"], "e": np.ones_like(p["e"])}

    report = check_gradient(loss, grad, params, **options)
    assert report.passed and report.params["e"].checked == 0
