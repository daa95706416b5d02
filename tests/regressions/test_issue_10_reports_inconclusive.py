"""Issue 10 (follow-up): saved reports showed an inconclusive check as FAIL.

Issue 10 gave every check three outcomes (passed, failed, inconclusive). The console table,
``assert_gradient``, the pytest plugin and the CLI said INCONCLUSIVE, but the saved reports
read only ``passed`` (False for an inconclusive check): the HTML and Markdown reports gave it
a FAIL badge and a FAIL row, the run verdict listed it under "N of M gradient checks
failed", and the scatter plot drew it as a failing check. ``sqrt`` checked at 0 and 1e-30
(every probe leaves the domain) was reported as a wrong gradient, although nothing in it is
wrong. A layer check had no status at all: such a layer said "FAILED: first wrong layer" and
"wrong gradient for this layer". Now each says INCONCLUSIVE, why, and what to change.
"""

import json
import warnings

import numpy as np
import pytest

from gradcheck import check_gradient, check_layers
from gradcheck.report import render_markdown, save_report
from gradcheck.report._format import verdict
from gradcheck.report.plots import plot_jobs
from gradcheck.report.schema import validate


def _loss(p):
    return float(np.sum(np.sqrt(p["w"])))


def _grad(p):
    return {"w": 0.5 / np.sqrt(p["w"])}


class Sqrt:
    """An elementwise layer with a correct backward, checked at the edge of its domain."""

    params: dict = {}
    grads: dict = {}

    def forward(self, x):
        self.x = x
        return np.sqrt(x)

    def backward(self, g):
        return g * 0.5 / np.sqrt(self.x)


@pytest.fixture(scope="module")
def report():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the user's sqrt at 0
        result = check_gradient(_loss, _grad, {"w": np.array([0.0, 1e-30, 1.0])})
    assert result.status == "inconclusive" and not result.passed
    return result


def test_saved_markdown_and_html_say_inconclusive(report, tmp_path):
    md = save_report(report, tmp_path / "r.md").read_text()
    assert "### Gradient check #1 — INCONCLUSIVE" in md
    assert "| w | (3,) | INCONCLUSIVE |" in md
    assert "left the loss's domain" in md and "farther from the edge" in md
    assert "FAIL" not in md and "checks failed" not in md and "every check passed" not in md
    page = save_report(report, tmp_path / "r.html").read_text()
    assert 'class="badge badge-inconclusive">INCONCLUSIVE</span>' in page
    assert 'class="verdict verdict-warn"' in page
    assert "badge-fail" not in page.split("</style>", 1)[1]


def test_verdict_and_plots_do_not_call_it_failed(report):
    data = {"kind": "run", "schema_version": "1.0", "title": "t", "checks": [report.to_dict()]}
    result = verdict(data)
    assert result["level"] == "warn"
    assert result["details"][0].startswith("1 of 1 gradient checks inconclusive: Gradient check")
    assert "`w`:" in result["details"][0] and "eps" in result["details"][0]  # reason, advice
    assert not any("passed" in d or "failed" in d for d in result["details"])
    name, _, note, _ = plot_jobs(data)[-1]
    assert name == "scatter" and "every check passed" not in note


def test_saved_json_validates_with_status_and_inconclusive(report, tmp_path):
    data = json.loads(save_report(report, tmp_path / "r.json").read_text())
    assert data["checks"][0]["status"] == "inconclusive"
    assert validate(data) == []


def test_an_inconclusive_layer_is_not_a_wrong_layer():
    x = np.abs(np.random.default_rng(0).normal(size=(4, 3)))
    x[0, 0], x[1, 1] = 1e-30, 1e-25
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        result = check_layers([Sqrt()], x)
    assert not result.passed and result.status == "inconclusive"
    assert result.layers[0].status == "inconclusive"
    assert str(result).startswith("layer check INCONCLUSIVE")
    assert result.layers[0].verdict.startswith("inconclusive at x: ")
    data = result.to_dict()
    assert data["status"] == data["layers"][0]["status"] == "inconclusive"
    md = render_markdown(data)
    assert "| 0 | Sqrt0 | elementwise | INCONCLUSIVE |" in md
    assert "1 layers checked, 0 failed, 1 inconclusive" in md
    assert "FAIL" not in md and "wrong gradient" not in md


def test_healthy_twin_layer_still_passes():
    x = np.abs(np.random.default_rng(0).normal(size=(4, 3))) + 0.5
    result = check_layers([Sqrt()], x)
    assert result.passed and result.status == "passed"
    assert result.to_dict()["layers"][0]["status"] == "passed"
    assert "| 0 | Sqrt0 | elementwise | PASS |" in render_markdown(result.to_dict())
