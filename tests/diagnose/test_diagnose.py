"""Diagnoses from arrays: each kind fires on its bug, stays silent on a healthy gradient."""

import json
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from gradcheck.diagnose.arrays import (
    KINDS,
    Diagnosis,
    accumulation_diagnosis,
    diagnose,
    nondeterministic_diagnosis,
)
from gradcheck.diagnose.fits import entry_pattern
from gradcheck.diagnose.kinds import KIND_TABLE
from gradcheck.errors import InvalidTypeError, TreeMismatchError
from tests.budget import examples

CONTRACT_KINDS = {
    "sign",
    "scale",
    "transpose",
    "zero",
    "regularization",
    "activation_derivative",
    "accumulation",
    "axis",
    "batch_mixing",
    "nondeterministic",
    "other",
}


@pytest.fixture(autouse=True)
def _no_numpy_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


def _tree(seed=0):
    rng = np.random.default_rng(seed)
    numeric = {
        "W1": rng.normal(size=(4, 4)),
        "b1": rng.normal(size=4),
        "W2": rng.normal(size=(4, 3)),
        "b2": rng.normal(size=3),
    }
    params = {path: rng.normal(size=value.shape) for path, value in numeric.items()}
    return numeric, params


def _with(numeric, path, value):
    return {**numeric, path: value}


def _one_entry(g):
    g = g.copy()
    g[1, 2] += 0.3
    return g


def _row_sign(g):
    g = g.copy()
    g[2] *= -1
    return g


def _column(g):
    g = g.copy()
    g[:, 1] = g[:, 1] * 1.7 + 0.4
    return g


# id -> (make analytic from (numeric, params), batch_size, kind, path, evidence subset)
FIRES = {
    "sign_whole_tree": (lambda n, p: {k: -v for k, v in n.items()}, None, "sign", None, {}),
    "sign_one_path": (lambda n, p: _with(n, "W2", -n["W2"]), None, "sign", "W2", {}),
    "sign_one_row": (
        lambda n, p: _with(n, "W1", _row_sign(n["W1"])),
        None,
        "sign",
        "W1",
        {"pattern": "a row", "row": 2},
    ),
    "scale_2": (
        lambda n, p: _with(n, "W1", 2 * n["W1"]),
        None,
        "scale",
        "W1",
        {"matched": "2"},
    ),
    "scale_half": (
        lambda n, p: _with(n, "b2", 0.5 * n["b2"]),
        None,
        "scale",
        "b2",
        {"matched": "1/2"},
    ),
    "scale_batch_whole_tree": (
        lambda n, p: {k: 64 * v for k, v in n.items()},
        64,
        "scale",
        None,
        {"matched": "batch_size", "factor": 64.0},
    ),
    "scale_inverse_batch": (
        lambda n, p: _with(n, "W2", n["W2"] / 10),
        10,
        "scale",
        "W2",
        {"matched": "1/batch_size"},
    ),
    "scale_unmatched": (
        lambda n, p: _with(n, "W2", 3.0 * n["W2"]),
        None,
        "scale",
        "W2",
        {"matched": None, "factor": 3.0},
    ),
    "transpose": (lambda n, p: _with(n, "W1", n["W1"].T), None, "transpose", "W1", {}),
    "zero_one_path": (
        lambda n, p: _with(n, "b1", np.zeros(4)),
        None,
        "zero",
        "b1",
        {"pattern": "all entries"},
    ),
    "zero_whole_tree": (
        lambda n, p: {k: np.zeros_like(v) for k, v in n.items()},
        None,
        "zero",
        None,
        {},
    ),
    "regularization_larger": (
        lambda n, p: _with(n, "W1", n["W1"] + 0.01 * p["W1"]),
        None,
        "regularization",
        "W1",
        {"coefficient": 0.01, "interpretation": "gradient_penalty_larger"},
    ),
    "regularization_missing": (
        lambda n, p: _with(n, "W2", n["W2"] - 0.1 * p["W2"]),
        None,
        "regularization",
        "W2",
        {"coefficient": -0.1, "interpretation": "gradient_penalty_smaller"},
    ),
    "regularization_bias_only": (
        lambda n, p: _with(n, "b1", n["b1"] + 0.05 * p["b1"]),
        None,
        "regularization",
        "b1",
        {"coefficient": 0.05},
    ),
    "other_one_entry": (
        lambda n, p: _with(n, "W2", _one_entry(n["W2"])),
        None,
        "other",
        "W2",
        {"pattern": "one entry", "indices": [[1, 2]]},
    ),
    "other_column": (
        lambda n, p: _with(n, "W2", _column(n["W2"])),
        None,
        "other",
        "W2",
        {"pattern": "a column", "column": 1},
    ),
}


def _assert_evidence(evidence, expected):
    for key, want in expected.items():
        if isinstance(want, float):
            assert evidence[key] == pytest.approx(want, rel=1e-6), key
        else:
            assert evidence[key] == want, key


@pytest.mark.parametrize("case", FIRES.values(), ids=FIRES.keys())
def test_kind_fires_top_ranked(case):
    make, batch_size, kind, path, evidence = case
    numeric, params = _tree()
    found = diagnose(make(numeric, params), numeric, params, batch_size=batch_size)
    top = found[0]
    assert (top.kind, top.path) == (kind, path), found
    assert top.confidence > (0.4 if kind == "other" else 0.9)
    _assert_evidence(top.evidence, evidence)
    assert f"`{path}`" in top.message if path else "Every failing parameter" in top.message


TESTED = [name for name, row in KIND_TABLE.items() if row.test is not None]


@pytest.mark.parametrize("kind", TESTED, ids=str)
def test_kind_silent_on_healthy_gradient(kind):
    numeric, params = _tree(seed=3)
    noisy = {
        k: v * (1 + 1e-9 * np.cos(np.arange(v.size)).reshape(v.shape)) for k, v in numeric.items()
    }
    assert diagnose(numeric, numeric, params) == []
    assert diagnose(noisy, numeric, params) == []


def test_kinds_table_documents_every_contract_kind():
    assert set(KINDS) == CONTRACT_KINDS
    assert set(TESTED) <= CONTRACT_KINDS
    assert all(text.endswith(".") and len(text) < 160 for text in KINDS.values())


def test_sign_is_reported_instead_of_scale_minus_one():
    numeric, params = _tree()
    found = diagnose(_with(numeric, "W1", -numeric["W1"]), numeric, params)
    assert [d.kind for d in found] == ["sign"]


def test_small_consistent_factor_is_a_scale():
    numeric, params = _tree()
    top = diagnose(_with(numeric, "W1", 1.003 * numeric["W1"]), numeric, params)[0]
    assert (top.kind, top.path) == ("scale", "W1")
    assert top.evidence["factor"] == pytest.approx(1.003, rel=1e-9)


def test_sign_is_robust_to_a_few_noisy_entries():
    rng = np.random.default_rng(1)
    numeric = {"W": rng.normal(size=(10, 10))}
    analytic = {"W": -numeric["W"]}
    analytic["W"][0, :3] = rng.normal(size=3)
    top = diagnose(analytic, numeric, {"W": rng.normal(size=(10, 10))})[0]
    assert top.kind == "sign"
    assert 0.9 < top.confidence < 1.0


def test_partial_tree_pattern_is_per_path_and_passing_paths_are_silent():
    numeric, params = _tree()
    analytic = _with(_with(numeric, "W1", -numeric["W1"]), "b2", 2 * numeric["b2"])
    found = diagnose(analytic, numeric, params)
    assert {(d.kind, d.path) for d in found} == {("sign", "W1"), ("scale", "b2")}


def test_different_factors_are_not_merged_into_one_tree_level_scale():
    numeric, params = _tree()
    analytic = {k: 2 * v for k, v in numeric.items()}
    analytic["b2"] = 3 * numeric["b2"]
    found = diagnose(analytic, numeric, params)
    assert {(d.path, round(d.evidence["factor"], 6)) for d in found} == {
        ("W1", 2.0),
        ("b1", 2.0),
        ("W2", 2.0),
        ("b2", 3.0),
    }


def test_single_entry_parameter_gets_low_confidence():
    numeric = {"s": np.array(0.7), "v": np.array([1.5])}
    params = {"s": np.array(2.0), "v": np.array([-1.0])}
    found = diagnose({"s": np.array(1.4), "v": np.array([1.5])}, numeric, params)
    assert [(d.kind, d.path, d.evidence["matched"]) for d in found] == [("scale", "s", "2")]
    assert found[0].confidence <= 0.5
    assert found[0].evidence["indices"] == [[]]


def test_one_wrong_entry_is_not_called_a_scale():
    numeric = {"W": np.arange(1.0, 13.0).reshape(3, 4)}
    analytic = {"W": numeric["W"].copy()}
    analytic["W"][2, 1] *= 2
    (only,) = diagnose(analytic, numeric, {"W": np.ones((3, 4))})
    assert (only.kind, only.evidence["pattern"], only.evidence["ratio"]) == (
        "other",
        "one entry",
        2.0,
    )
    assert "entry (2, 1)" in only.message


def test_one_localized_entry_of_a_large_parameter_is_other():
    # directional checks localize one entry and leave the rest unchecked (NaN)
    numeric = {"W": np.full((3, 4), np.nan)}
    numeric["W"][1, 2] = 0.5
    analytic = {"W": np.full((3, 4), 0.25)}
    (only,) = diagnose(analytic, numeric, {"W": np.ones((3, 4))})
    assert (only.kind, only.evidence["pattern"], only.evidence["indices"]) == (
        "other",
        "one entry",
        [[1, 2]],
    )


def test_masked_and_nan_numeric_use_checked_entries_only():
    numeric, params = _tree()
    partial = {k: v.copy() for k, v in numeric.items()}
    partial["W1"][::2] = np.nan
    checked = {"W2": np.arange(12).reshape(4, 3) % 2 == 0}
    analytic = {k: 2 * v for k, v in numeric.items()}
    analytic["W1"][::2] = 123.0  # not checked: must not matter
    analytic["W2"][:, :] = np.where(checked["W2"], analytic["W2"], -7.0)
    top = diagnose(analytic, partial, params, checked=checked)[0]
    assert (top.kind, top.path, top.evidence["matched"]) == ("scale", None, "2")
    assert top.evidence["n_checked"] == 8 + 4 + 6 + 3


def test_failed_mask_is_authoritative():
    numeric, params = _tree()
    analytic = _with(numeric, "W1", -numeric["W1"])
    none_failed = {path: np.zeros(v.shape, bool) for path, v in numeric.items()}
    assert diagnose(analytic, numeric, params, failed=none_failed) == []
    one_row = {"W1": np.zeros((4, 4), bool)}
    one_row["W1"][0] = True
    top = diagnose(analytic, numeric, params, failed=one_row)[0]
    assert (top.kind, top.path, top.evidence["pattern"]) == ("sign", "W1", "a row")


EDGE_CASES = {
    "zero_size": ({"W": np.zeros((0, 3))}, {"W": np.zeros((0, 3))}),
    "all_zero_numeric_and_analytic": ({"W": np.zeros((2, 2))}, {"W": np.zeros((2, 2))}),
    "all_nan_numeric": ({"W": np.ones(3)}, {"W": np.full(3, np.nan)}),
    "zero_d_match": ({"s": np.array(1.5)}, {"s": np.array(1.5)}),
}


@pytest.mark.parametrize("case", EDGE_CASES.values(), ids=EDGE_CASES.keys())
def test_edge_cases_give_no_diagnosis(case):
    analytic, numeric = case
    params = {k: np.ones_like(v) for k, v in numeric.items()}
    assert diagnose(analytic, numeric, params) == []


def test_nonzero_analytic_where_numeric_is_zero_is_other():
    params = {"W": np.array([0.5, -1.0, 2.0])}
    (only,) = diagnose({"W": np.ones(3)}, {"W": np.zeros(3)}, params)
    assert only.kind == "other"
    assert "does not depend" in only.message


def test_nonfinite_analytic_is_other_and_warning_free():
    numeric = {"W": np.arange(1.0, 5.0)}
    analytic = {"W": np.array([1.0, np.nan, np.inf, 4.0])}
    (only,) = diagnose(analytic, numeric, {"W": np.ones(4)})
    assert (only.kind, only.evidence["n_failed"], only.evidence["n_nonfinite"]) == ("other", 2, 2)
    assert "NaN or infinite" in only.message


def test_mismatched_shapes_raise_naming_the_path():
    with pytest.raises(
        TreeMismatchError, match=r"`numeric` for `W` has shape \(4,\); expected \(3,\)"
    ):
        diagnose({"W": np.ones(3)}, {"W": np.ones(4)}, {"W": np.ones(3)})
    with pytest.raises(TreeMismatchError, match="`params` has no entry for `W`"):
        diagnose({"W": np.ones(3)}, {"W": np.ones(3)}, {})
    with pytest.raises(TreeMismatchError, match="`checked` mask for `W` has shape \\(2,\\)"):
        diagnose({"W": np.ones(3)}, {"W": np.ones(3)}, {"W": np.ones(3)}, checked={"W": [1, 0]})


@pytest.mark.parametrize("name", ["analytic", "numeric", "params", "checked", "failed"])
def test_non_mapping_arguments_are_named(name):
    args = {
        "analytic": {"W": np.ones(3)},
        "numeric": {"W": np.ones(3)},
        "params": {"W": np.ones(3)},
    }
    args[name] = np.ones(3)
    with pytest.raises(
        InvalidTypeError, match=f"`{name}` must be a dict path -> array; got ndarray"
    ):
        diagnose(**args)


PATTERNS = {
    "none": (np.zeros((2, 3), bool), "none"),
    "one_entry": (np.eye(1, 6, 4, dtype=bool).reshape(2, 3), "one entry"),
    "all": (np.ones((2, 3), bool), "all entries"),
    "row": (np.array([[0, 0, 0], [1, 1, 0]], bool), "a row"),
    "column": (np.array([[0, 1, 0], [0, 1, 0]], bool), "a column"),
    "scattered": (np.array([[1, 0, 0], [0, 1, 0]], bool), "scattered"),
}


@pytest.mark.parametrize("case", PATTERNS.values(), ids=PATTERNS.keys())
def test_entry_pattern(case):
    mask, pattern = case
    assert entry_pattern(mask)["pattern"] == pattern


def test_accumulation_diagnosis_recognises_a_doubled_gradient():
    first = np.array([[0.5, -1.0], [2.0, 0.25]])
    d = accumulation_diagnosis("W1", first, 2 * first)
    assert (d.kind, d.path, d.evidence["matched"]) == ("accumulation", "W1", "2")
    assert d.evidence["ratio"] == pytest.approx(2.0)
    assert d.evidence["max_difference"] == pytest.approx(2.0)
    assert "zero_grad" in d.message and d.confidence == 1.0


def test_accumulation_diagnosis_other_change():
    d = accumulation_diagnosis(None, np.array([1.0, 2.0]), np.array([1.0, 2.5]))
    assert (d.kind, d.evidence["matched"]) == ("accumulation", None)
    assert d.confidence < 1.0
    assert accumulation_diagnosis("z", np.zeros(2), np.ones(2)).evidence["ratio"] is None


def test_nondeterministic_diagnosis():
    d = nondeterministic_diagnosis(0.75, 0.5)
    assert (d.kind, d.path) == ("nondeterministic", None)
    assert d.evidence["difference"] == pytest.approx(0.25)
    assert d.evidence["relative_difference"] == pytest.approx(1 / 3)
    assert "dropout" in d.message


def test_to_dict_is_json_safe():
    d = Diagnosis("scale", "W", 0.9, "m", {"factor": np.float64(np.inf), "idx": (1, 2)})
    out = json.loads(json.dumps(d.to_dict(), allow_nan=False))
    assert out["evidence"] == {"factor": "inf", "idx": [1, 2]}
    numeric, params = _tree()
    for diagnosis in diagnose({k: -v for k, v in numeric.items()}, numeric, params):
        json.dumps(diagnosis.to_dict(), allow_nan=False)


def _arrays(min_side=1, max_side=6, square=False):
    side = st.integers(min_side, max_side)
    shapes = side.map(lambda n: (n, n)) if square else st.tuples(side, side)
    values = st.floats(-10, 10).filter(lambda x: abs(x) > 1e-3)
    return shapes.flatmap(lambda s: hnp.arrays(np.float64, s, elements=values))


@settings(max_examples=examples(60), deadline=None)
@given(g=_arrays(min_side=2), c=st.floats(0.05, 20).filter(lambda c: abs(c - 1) > 0.05))
def test_property_scale_recovers_the_factor(g, c):
    params = {"W": np.full(g.shape, 0.5)}
    top = diagnose({"W": c * g}, {"W": g}, params)[0]
    assert top.kind == "scale" and top.evidence["factor"] == pytest.approx(c, rel=1e-9)


@settings(max_examples=examples(60), deadline=None)
@given(g=_arrays(min_side=2), c=st.floats(-20, -0.05).filter(lambda c: abs(c + 1) > 0.01))
def test_property_negative_scale_is_not_a_sign(g, c):
    top = diagnose({"W": c * g}, {"W": g}, {"W": np.full(g.shape, 0.5)})[0]
    assert top.kind == "scale" and top.evidence["factor"] == pytest.approx(c, rel=1e-9)


@settings(max_examples=examples(40), deadline=None)
@given(g=_arrays(min_side=3), seed=st.integers(0, 2**32 - 1))
def test_property_random_relative_errors_are_other(g, seed):
    wrong = g * (1 + 1e-3 * np.random.default_rng(seed).standard_normal(g.shape))
    found = diagnose({"W": wrong}, {"W": g}, {"W": np.full(g.shape, 0.5)})
    assert [d.kind for d in found] == ["other"]


@settings(max_examples=examples(60), deadline=None)
@given(g=_arrays(min_side=2))
def test_property_sign(g):
    top = diagnose({"W": -g}, {"W": g}, {"W": np.full(g.shape, 0.5)})[0]
    assert (top.kind, top.path) == ("sign", "W")


@settings(max_examples=examples(60), deadline=None)
@given(g=_arrays(min_side=2, square=True))
def test_property_transpose(g):
    found = diagnose({"W": g.T}, {"W": g}, {"W": np.full(g.shape, 0.5)})
    asymmetric = not np.allclose(g, g.T, rtol=1e-5)
    assert (found[0].kind == "transpose") if asymmetric else found == []


@settings(max_examples=examples(60), deadline=None)
@given(g=_arrays(), seed=st.integers(0, 2**32 - 1))
def test_property_tiny_noise_gives_no_diagnosis(g, seed):
    noise = 1 + 1e-10 * np.random.default_rng(seed).standard_normal(g.shape)
    assert diagnose({"W": g * noise}, {"W": g}, {"W": g}) == []
