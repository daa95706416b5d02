"""GradientReport: the table, the JSON-safe dict (schema of COMMON.md), the dataclasses."""

import dataclasses
import json

import numpy as np
import pytest
from check_problems import mlp_problem, planted

from gradcheck._jsonsafe import parse_float
from gradcheck.checking.gradient import check_gradient
from gradcheck.checking.gradient_results import Failure, GradientReport, Inconclusive, ParamSummary
from tests.budget import slow_except

TOP_KEYS = {
    "kind", "title", "passed", "max_rel_error", "n_evaluations", "method", "mode", "dtype",
    "evaluated_dtype", "notes", "params", "failures", "n_failures", "kinks", "diagnoses",
    "scatter", "status", "inconclusive", "detection_floor", "precision",
}  # fmt: skip
PARAM_KEYS = {
    "path", "shape", "passed", "max_rel_error", "checked", "failed", "size", "status",
    "detection_floor",
}  # fmt: skip
FAILURE_KEYS = {
    "path",
    "index",
    "analytic",
    "numeric",
    "error",
    "tolerance",
    "ratio",
    "output_path",
    "output_index",
}


@pytest.fixture(scope="module")
def failing():
    loss, grad, params = mlp_problem(n_in=12, n_hidden=15, seed=21)
    doubled = lambda p: {k: (2 * g if k == "W1" else g) for k, g in grad(p).items()}  # noqa: E731
    return check_gradient(loss, doubled, params)


@pytest.fixture(scope="module")
def passing():
    loss, grad, params = mlp_problem(seed=22)
    return check_gradient(loss, grad, params)


def test_to_dict_has_the_contract_schema(failing):
    data = failing.to_dict()
    assert set(data) == TOP_KEYS
    assert data["kind"] == "gradient_check" and data["passed"] is False
    assert all(set(p) == PARAM_KEYS for p in data["params"])
    assert all(set(f) == FAILURE_KEYS for f in data["failures"])
    assert data["n_failures"] == len(failing.failures) > 50
    assert len(data["failures"]) == 50
    assert [p["path"] for p in data["params"]] == ["W1", "b1", "W2", "b2"]
    assert data["params"][0]["size"] == 180 and data["params"][0]["shape"] == [12, 15]
    assert all(len(s["analytic"]) <= 200 for s in data["scatter"].values())
    assert data["diagnoses"][0]["kind"] == "scale"


def test_to_dict_is_strict_json(failing, passing):
    for report in (failing, passing):
        text = json.dumps(report.to_dict(), allow_nan=False)
        assert json.loads(text)["n_evaluations"] == report.n_evaluations


def test_failures_are_worst_first(failing):
    ratios = [f.ratio for f in failing.failures]
    assert ratios == sorted(ratios, reverse=True)
    assert all(f.error > f.tolerance for f in failing.failures)


def test_str_is_a_compact_table(failing):
    text = str(failing)
    lines = text.splitlines()
    assert lines[0].startswith("gradient check FAILED")
    assert "worst entries (10 of" in text
    assert sum(1 for line in lines if line.strip().startswith("W1[")) == 10
    assert "analytic" in text and "allowed" in text and "ratio" in text
    assert "diagnoses:" in text and "[scale" in text
    assert "b1" in text and "ok" in text


def test_str_of_passing_report_has_no_failure_section(passing):
    text = str(passing)
    assert "PASSED" in text and "worst entries" not in text and "diagnoses" not in text


def test_non_finite_values_are_encoded():
    failure = Failure("w", (0,), float("nan"), 1.0, float("inf"), 1e-9, float("inf"))
    summary = ParamSummary("w", (1,), False, float("nan"), 1, 1)
    report = GradientReport(False, float("nan"), 3, [failure], {"w": summary})
    data = report.to_dict()
    json.dumps(data, allow_nan=False)
    assert data["max_rel_error"] == "nan" and data["failures"][0]["ratio"] == "inf"
    assert data["failures"][0]["analytic"] == "nan" and data["failures"][0]["error"] == "inf"
    assert np.isnan(parse_float(data["failures"][0]["analytic"]))
    assert "FAILED" in str(report)


def test_nan_gradient_entry_fails():
    loss, grad, params = mlp_problem(seed=23)
    report = check_gradient(loss, planted(grad, "b1", (2,), float("nan")), params)
    assert not report.passed and report.failures[0].index == (2,)
    json.dumps(report.to_dict(), allow_nan=False)


def test_results_are_frozen(passing):
    with pytest.raises(dataclasses.FrozenInstanceError):
        passing.passed = False
    summary = passing.params["W1"]
    assert summary.checked == summary.size and summary.failed == 0


def test_kinks_and_notes_serialize():
    x = np.array([0.0, 1.0], dtype=np.float32)
    report = check_gradient(lambda p: float(np.sum(np.abs(p))), np.sign, x)
    data = report.to_dict()
    assert data["kinks"] == [{"path": "", "index": [0]}]
    assert data["dtype"] == "float32" and data["evaluated_dtype"] == "float64" and data["notes"]
    assert "kinks" in str(report)


@pytest.mark.parametrize("suffix", slow_except([".json", ".md", ".html"], fast={".json"}))
def test_save_delegates_to_the_report_layer(failing, tmp_path, suffix):
    pytest.importorskip("gradcheck.report")
    path = failing.save(tmp_path / f"check{suffix}")
    assert path.exists() and path.stat().st_size > 0


def test_param_summary_status_defaults_from_passed_and_is_serialized():
    ok = ParamSummary("w", (2,), True, 1e-9, 2, 0)
    bad = ParamSummary("w", (2,), False, 1.0, 2, 1)
    undecided = ParamSummary("w", (2,), False, 1e-3, 2, 0, "inconclusive", 0.05)
    assert (ok.status, bad.status, undecided.status) == ("passed", "failed", "inconclusive")
    assert undecided.to_dict()["detection_floor"] == 0.05
    assert ok.to_dict()["detection_floor"] == "nan"


def test_inconclusive_table_and_dict():
    item = Inconclusive("w", "the loss is rounded", "Return it unrounded", 2)
    summary = ParamSummary("w", (2,), False, 1e-3, 2, 0, "inconclusive", 0.05)
    report = GradientReport(False, 1e-3, 10, [], {"w": summary}, inconclusive=[item])
    text = str(report)
    assert text.startswith("gradient check INCONCLUSIVE") and "PASSED" not in text
    row = next(line for line in text.splitlines() if line.strip().startswith("w "))
    assert row.rstrip().endswith("INCONCLUSIVE") and "5.0e-02" in row
    assert "inconclusive: `w`: the loss is rounded. Return it unrounded" in text
    data = report.to_dict()
    assert data["status"] == "inconclusive" and data["inconclusive"][0]["entries"] == 2
    assert report.detection_floor == 0.05


def test_a_failure_outranks_inconclusive():
    item = Inconclusive("v", "left the domain", "move away", 1)
    failed = ParamSummary("w", (1,), False, 1.0, 1, 1)
    undecided = ParamSummary("v", (1,), False, 0.0, 1, 0, "inconclusive")
    report = GradientReport(False, 1.0, 4, [], {"w": failed, "v": undecided}, inconclusive=[item])
    assert report.status == "failed" and str(report).startswith("gradient check FAILED")
