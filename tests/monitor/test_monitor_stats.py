"""Statistics, schedules, findings table: against small oracles."""

import itertools
import math

import numpy as np
import pytest

from gradcheck.errors import InvalidArgumentError
from gradcheck.monitor import DETECTORS, FINDINGS, THRESHOLDS, every, logarithmic
from gradcheck.monitor import stats as st
from gradcheck.monitor.findings import make_finding, update_finding
from gradcheck.monitor.layout import forward_order
from gradcheck.monitor.scan import ARRAY_ARGS, Scan

CODES = [
    "nan",
    "inf",
    "overflow",
    "underflow",
    "dead_relu",
    "saturation",
    "vanishing_gradient",
    "exploding_gradient",
    "loss_divergence",
    "loss_plateau",
    "ascent",
]


def test_codes_table_and_detectors_match_the_contract():
    assert list(FINDINGS) == CODES
    # DETECTORS run causes first (an overflowing exp before the NaN it makes): same codes
    assert sorted(d.__name__.removeprefix("detect_") for d in DETECTORS) == sorted(CODES)
    for severity, template, suggestion in FINDINGS.values():
        assert severity in ("info", "warning", "error") and template and suggestion


def test_summarize_small_array_is_exact():
    a = np.array([[3.0, 0.0, 1e-40], [np.nan, -4.0, np.inf]])
    s = st.summarize(a, limit=1.0, seed=0, k=4096, tiny=1e-30)
    assert (s.size, s.n_nan, s.n_inf) == (6, 1, 1)
    assert s.norm == pytest.approx(5.0) and s.peak == 4.0
    assert s.zero_fraction == pytest.approx(0.25)
    assert s.underflow_fraction == pytest.approx(1 / 3) and s.min_abs == 1e-40


def test_summarize_large_array_is_read_in_full_and_sampled_for_fractions():
    """Issue 10 item 10: arrays above 65,536 entries used to be read through a sample, and
    a NaN outside it was missed while the loss stayed finite."""
    a = np.random.default_rng(0).standard_normal(300_000)
    s = st.summarize(a, limit=1e300, seed=0, k=4096, tiny=1e-30)
    assert s.sample.size == 4096
    assert s.norm == pytest.approx(np.linalg.norm(a), rel=1e-12)
    a[12345] = np.nan  # one NaN, almost surely outside the sample: counted all the same
    s = st.summarize(a, limit=1e300, seed=0, k=4096, tiny=1e-30)
    assert s.n_nan == 1


def test_sample_indices_are_deterministic():
    first = st.sample_indices(10_000, 100, 0)
    assert np.array_equal(first, st.sample_indices(10_000, 100, 0))
    assert st.sample_indices(50, 100, 0) is None


def test_float16_and_int_arrays():
    s = st.summarize(np.full(10, 300.0, dtype=np.float16), limit=1e9, seed=0, k=8)
    assert math.isfinite(s.norm) and s.norm == pytest.approx(300 * math.sqrt(10))
    assert st.as_float_array([1, 2]).dtype == np.float64


SATURATION = {
    "sigmoid-saturated": (np.array([1.0, 0.99999, 1e-9, 0.5]), 0.75, "0 and 1"),
    "tanh-saturated": (np.array([-1.0, 0.9999, -0.2, 0.3]), 0.5, "-1 and 1"),
    "relu-unbounded": (np.array([0.0, 0.0, 2.0, 1.0]), 0.0, ""),
    "sigmoid-healthy": (np.array([0.2, 0.5, 0.7, 0.4]), 0.0, "0 and 1"),
}


@pytest.mark.parametrize("case", SATURATION.values(), ids=SATURATION.keys())
def test_saturation(case):
    values, fraction, bounds = case
    assert st.saturation(values, 1e-3) == (pytest.approx(fraction), bounds)


def test_alive_units():
    a = np.zeros((3, 4))
    a[1, 2] = 0.5
    assert st.alive_units(a).tolist() == [False, False, True, False]
    assert st.alive_units(np.ones(3)) is None


def test_forward_order_by_name_or_position():
    same = forward_order({"d1": 0, "r1": 0, "d2": 0}, {"d1": 0, "d2": 0})
    assert same == [
        ("preactivation", "d1"),
        ("activation", "d1"),
        ("activation", "r1"),
        ("preactivation", "d2"),
        ("activation", "d2"),
    ]
    positional = forward_order({"a1": 0}, {"z1": 0, "z2": 0})
    assert positional == [("preactivation", "z1"), ("activation", "a1"), ("preactivation", "z2")]


def test_histogram_and_cosine():
    h = st.histogram(np.array([0.0, 1.0, np.nan, 1.0]), 2)
    assert h == {"edges": [0.0, 0.5, 1.0], "counts": [1, 2]}
    assert st.histogram(np.array([np.nan]), 3) == {"edges": [], "counts": []}
    assert st.cosine(np.array([1.0, 0.0]), np.array([2.0, 0.0])) == pytest.approx(1.0)
    assert math.isnan(st.cosine(np.zeros(2), np.ones(2)))


def test_schedules():
    assert [s for s in range(7) if every(3)(s)] == [0, 3, 6]
    assert [s for s in range(40) if logarithmic(2.0, dense=3)(s)] == [0, 1, 2, 4, 8, 16, 32]
    with pytest.raises(InvalidArgumentError, match="`base`"):
        logarithmic(1.0)


def test_finding_update_keeps_first_step_and_worst_evidence():
    f = make_finding("saturation", "s1", 2, {"fraction": 0.6, "eps": 1e-3, "bounds": "0 and 1"})
    f.score = 0.6
    update_finding(
        f, 5, {"fraction": 0.9, "eps": 1e-3, "bounds": "0 and 1"}, severity=None, score=0.9
    )
    update_finding(
        f, 6, {"fraction": 0.7, "eps": 1e-3, "bounds": "0 and 1"}, severity=None, score=0.7
    )
    assert (f.step, f.last_step, f.count) == (2, 6, 3)
    assert f.evidence["fraction"] == 0.9 and "90%" in f.message
    d = f.to_dict()
    fields = "code name step last_step count severity message suggestion evidence"
    assert set(d) == {*fields.split(), "reported_step", "consequence_of"}


def test_message_with_missing_evidence_still_renders_as_a_sentence():
    f = make_finding("overflow", "h", 1, {})
    assert f.message == "A problem was seen in `h` at step 1."


def test_thresholds_have_documented_defaults():
    import gradcheck.monitor.detectors as detectors

    rows = {}
    for line in detectors.__doc__.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] in THRESHOLDS:
            rows[parts[0]] = float(parts[1])
    assert rows == {name: float(value) for name, value in THRESHOLDS.items()}


def test_summarize_uses_the_scanned_squared_norm():
    rng = np.random.default_rng(1)
    arrays = [rng.standard_normal((40, 60)), rng.standard_normal(5000), np.zeros((0, 3))]
    arrays += [rng.standard_normal(20).astype(np.float32), np.maximum(rng.standard_normal(9), 0)]
    named = {f"a{i}": a for i, a in enumerate(arrays)}
    scan = Scan({**dict.fromkeys(ARRAY_ARGS, {}), "params": named})
    assert not scan.bad
    sumsq = scan.sumsq
    for a, sq in zip(arrays, sumsq, strict=True):
        got = st.summarize(a, sq, limit=10.0, seed=0, k=256, tiny=1e-30)
        want = st.summarize(a, limit=10.0, seed=0, k=256, tiny=1e-30)
        assert got.norm == pytest.approx(want.norm, rel=1e-6)
        assert np.array_equal(got.sample, want.sample)


@pytest.mark.parametrize("seed", range(5))
def test_update_sums_are_the_per_parameter_dot_products(seed):
    from gradcheck.monitor.updates import Snapshot, _sums

    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, 40, size=rng.integers(1, 6))
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    scale, n = rng.random(len(sizes)) + 1, int(sizes.sum())
    names = [f"p{i}" for i in range(len(sizes))]
    before, now = (
        Snapshot(names, starts, scale, rng.standard_normal(n), rng.standard_normal(n))
        for _ in range(2)
    )
    sums, totals = _sums(before, now)
    for i, (lo, size) in enumerate(zip(starts, sizes, strict=True)):
        part = slice(lo, lo + size)
        d = now.params[part] - before.params[part]
        bp, bg, ng = before.params[part], before.grads[part], now.grads[part]
        pairs = {"dd": (d, d), "pp": (bp, bp), "dg": (d, bg), "turn": (ng, bg)}
        pairs.update(now=(ng, ng), prev=(bg, bg))
        for key, (a, b) in pairs.items():
            assert math.isclose(sums[key][i], scale[i] * float(a @ b), rel_tol=1e-12, abs_tol=1e-12)
    for key, values in sums.items():
        assert math.isclose(totals[key], math.fsum(values), rel_tol=1e-12, abs_tol=1e-12)


SPECIAL = [0.0, 1e-300, 0.5, 2.0, 1e300, math.inf, math.nan]


def test_update_ratio_and_cosine_match_numpy_on_special_values():
    # the per-parameter numbers are handled in Python; they must agree with numpy's
    # formulas (NaN / Inf where numpy gives them), whatever zeros or non-finite sums occur
    from gradcheck.monitor.updates import _cosine, _ratio

    with np.errstate(all="ignore"):
        for a, b, dot in itertools.product(SPECIAL, SPECIAL, [-1.0, 0.0, 3.0, math.nan]):
            ratio, mine = float(np.sqrt(np.float64(a) / np.float64(b))), _ratio(a, b)
            assert mine == ratio or not (math.isfinite(ratio) or math.isfinite(mine))
            den = float(np.sqrt(np.float64(a) * np.float64(b)))
            cos = dot / den if den > 0 and math.isfinite(den) else math.nan
            assert _cosine(dot, a, b) == cos or (math.isnan(cos) and math.isnan(_cosine(dot, a, b)))
