"""Saved reports show the three outcomes of a check: PASS, FAIL and INCONCLUSIVE.

An inconclusive check (the numbers could not decide; nothing is wrong) has ``passed: False``
and ``status: "inconclusive"``; every renderer must read the status, never show it as FAIL
(nor as passed), and say why and what to change. Files saved before ``status`` existed
still render from ``passed``.
"""

import copy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gradcheck._vocab import CHECK_STATUSES
from gradcheck.report import RunReport, render_html, render_markdown
from gradcheck.report._format import fmt_outcome, outcome, verdict
from gradcheck.report.plots import failing_scatters, plot_jobs
from gradcheck.report.schema import validate
from tests.budget import examples
from tests.report.conftest import ADVICE, REASON


def _run(*checks) -> dict:
    return RunReport.from_objects(checks=[copy.deepcopy(c) for c in checks]).to_dict()


def _checks_detail(data: dict) -> list[str]:
    return [d for d in verdict(data)["details"] if "gradient check" in d]


# --- Markdown ------------------------------------------------------------------------------


def test_markdown_shows_inconclusive_with_reason_and_advice(inconclusive_check):
    md = render_markdown(_run(inconclusive_check))
    lines = md.splitlines()
    assert lines[2].startswith("> **🟠 WARN — Not everything could be certified.**")
    assert "### Edge-of-domain check — INCONCLUSIVE" in lines
    assert "| dense1.b | (32,) | INCONCLUSIVE | 3.1e-09 | 32 | 0 |" in lines
    assert "| dense1.W | (64, 32) | PASS | 3.1e-09 | 2048 | 0 |" in lines
    assert "#### Inconclusive (1 could not be certified)" in lines
    assert f"| dense1.b | 2 | {REASON} | {ADVICE} |" in lines
    assert "— FAIL" not in md and "🔴" not in md
    assert "checks passed" not in md and "checks failed" not in md


def test_markdown_healthy_twins_say_pass_and_fail(passing_check, failing_check):
    md = render_markdown(_run(passing_check, failing_check))
    assert "### MLP gradient check — PASS" in md
    assert "### Broken MLP gradient check — FAIL" in md
    assert "INCONCLUSIVE" not in md and "Inconclusive" not in md


# --- HTML ----------------------------------------------------------------------------------


def test_html_badge_row_class_and_reasons(inconclusive_check):
    page = render_html(_run(inconclusive_check), plots=[])
    assert 'Edge-of-domain check <span class="badge badge-inconclusive">INCONCLUSIVE</span>' in page
    assert '<tr class="row-inconclusive"><td data-label="Parameter">dense1.b</td>' in page
    assert '<tr class="row-pass"><td data-label="Parameter">dense1.W</td>' in page
    assert "left the loss&#x27;s domain at every step" in page  # the reason, escaped
    assert "farther from the edge of the loss&#x27;s domain" in page  # the advice
    assert 'class="verdict verdict-warn"' in page
    body = page.split("</style>", 1)[1]  # the CSS names every class
    assert "badge-fail" not in body and "row-fail" not in body


def test_html_styles_inconclusive_in_amber_like_the_other_outcomes():
    from gradcheck.report.html import CSS

    for outcome_class in ("badge-inconclusive", "row-inconclusive", "p.inconclusive"):
        assert outcome_class in CSS
    for existing in ("badge-pass", "badge-fail", "row-pass", "row-fail"):
        assert existing in CSS


def test_html_healthy_twins(passing_check, failing_check):
    page = render_html(_run(passing_check, failing_check), plots=[])
    assert 'MLP gradient check <span class="badge badge-pass">PASS</span>' in page
    assert 'Broken MLP gradient check <span class="badge badge-fail">FAIL</span>' in page
    assert "inconclusive" not in page.split("</style>", 1)[1]


# --- the run verdict -----------------------------------------------------------------------


def test_verdict_warns_and_names_reason_and_advice(passing_check, inconclusive_check):
    data = _run(passing_check, inconclusive_check, passing_check)
    result = verdict(data)
    assert result["level"] == "warn"
    assert _checks_detail(data) == [
        f"1 of 3 gradient checks inconclusive: Edge-of-domain check "
        f"(`dense1.b`: {REASON}. {ADVICE})."
    ]


def test_verdict_failed_wins_and_both_are_named(failing_check, inconclusive_check):
    data = _run(failing_check, inconclusive_check)
    assert verdict(data)["level"] == "fail"
    failed, unsure = _checks_detail(data)
    assert failed == "1 of 2 gradient checks failed: Broken MLP gradient check."
    assert unsure.startswith("1 of 2 gradient checks inconclusive: Edge-of-domain check (")


def test_verdict_healthy_twin_passes_only_when_all_passed(passing_check):
    data = _run(passing_check, passing_check)
    assert verdict(data)["level"] == "pass"
    assert _checks_detail(data) == ["All 2 gradient checks passed."]


def test_verdict_inconclusive_layer_check_names_the_layer_reason(layer_check):
    data = _run(_inconclusive_layer_check(layer_check))
    assert verdict(data)["level"] == "warn"
    (detail,) = _checks_detail(data)
    assert detail.startswith("1 of 1 gradient checks inconclusive: Layer by layer (`dense1.b`:")


# --- plots ---------------------------------------------------------------------------------


def test_inconclusive_check_is_not_drawn_as_failing(inconclusive_check):
    data = _run(inconclusive_check)
    assert failing_scatters(data) == []
    name, _, note, draw = plot_jobs(data)[-1]
    assert (name, draw) == ("scatter", None)
    assert note == (
        "Drawn for failing gradient checks only: no check failed, 1 of 1 inconclusive "
        "(see the gradient checks)."
    )
    assert "every check passed" not in note


def test_plot_caption_healthy_twins(passing_check, failing_check, inconclusive_check):
    note = plot_jobs(_run(passing_check))[-1][2]
    assert note == "Drawn for failing gradient checks only: every check passed."
    titles = [title for title, _ in failing_scatters(_run(failing_check, inconclusive_check))]
    assert titles == ["Broken MLP gradient check"]


# --- layer checks --------------------------------------------------------------------------


def _inconclusive_layer_check(layer_check: dict) -> dict:
    from tests.report.conftest import make_inconclusive_check

    check = copy.deepcopy(layer_check)
    layer = check["layers"][1]
    layer.update(
        passed=False,
        status="inconclusive",
        verdict=f"inconclusive at dense1.b: {REASON}",
        input_gradient=make_inconclusive_check(),
        diagnoses=[],
    )
    check.update(passed=False, status="inconclusive")
    return check


def test_layer_check_rows_and_sections_say_inconclusive(layer_check):
    md = render_markdown(_run(_inconclusive_layer_check(layer_check)))
    assert "### Layer by layer — INCONCLUSIVE" in md
    assert "#### Layer 1: relu1 — INCONCLUSIVE" in md
    assert "| 1 | relu1 | elementwise | INCONCLUSIVE |" in md
    assert "3 layers checked, 0 failed, 1 inconclusive; 9000 evaluations." in md
    assert f"| ∂input dense1.b | 2 | {REASON} | {ADVICE} |" in md
    assert "FAIL" not in md.split("## Gradient checks", 1)[1]


def test_layer_check_healthy_twin_still_fails_the_wrong_layer(layer_check):
    md = render_markdown(_run(layer_check))
    assert "#### Layer 1: relu1 — FAIL" in md and "| 1 | relu1 | elementwise | FAIL |" in md
    assert "3 layers checked, 1 failed; the first failure is layer 1 (relu1)" in md


# --- backward compatibility: files saved before `status` -----------------------------------


def test_dicts_without_status_render_from_passed(passing_check, failing_check):
    old = [copy.deepcopy(c) for c in (passing_check, failing_check)]
    for check in old:
        check.pop("status", None)
        for row in check["params"]:
            row.pop("status", None)
    assert [outcome(c) for c in old] == ["passed", "failed"]
    md = render_markdown(_run(*old))
    assert "### MLP gradient check — PASS" in md
    assert "### Broken MLP gradient check — FAIL" in md
    assert verdict(_run(*old))["level"] == "fail"
    assert validate(_run(*old)) == []


def test_outcome_of_a_dict_without_status_or_passed_is_unknown():
    assert outcome({"kind": "gradient_check"}) == ""
    assert fmt_outcome({}) == "—"
    assert outcome({"passed": False, "status": "bogus"}) == "failed"


# --- schema --------------------------------------------------------------------------------


def test_schema_accepts_status_and_inconclusive(inconclusive_check, layer_check):
    assert validate(_run(inconclusive_check, _inconclusive_layer_check(layer_check))) == []


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"status": "maybe"}, "`checks[0].status`: expected one of 'passed', 'failed'"),
        ({"status": "inconclusive", "passed": True}, "`checks[0].passed`: expected one of False"),
        ({"status": "passed", "passed": False}, "`checks[0].passed`: expected one of True"),
        ({"inconclusive": [{"path": "w"}]}, "`checks[0].inconclusive[0]`: missing required"),
    ],
)
def test_schema_refuses_a_status_that_contradicts_passed(inconclusive_check, change, problem):
    data = _run(inconclusive_check)
    data["checks"][0].update(change)
    assert any(p.startswith(problem) for p in validate(data)), validate(data)


# --- property: the rendered outcome is the status, whatever the check ----------------------

_STATUS_OR_NONE = st.sampled_from((*CHECK_STATUSES, None))
_LABELS = {"passed": "PASS", "failed": "FAIL", "inconclusive": "INCONCLUSIVE"}


@st.composite
def check_dicts(draw) -> dict:
    """A gradient-check dict: `status` one of the three (or absent), `passed` consistent."""
    status = draw(_STATUS_OR_NONE)
    passed = draw(st.booleans()) if status is None else status == "passed"
    params = []
    for k in range(draw(st.integers(0, 3))):
        param_status = draw(_STATUS_OR_NONE)
        param_passed = draw(st.booleans()) if param_status is None else param_status == "passed"
        row = {"path": f"p{k}", "shape": [2], "passed": param_passed}
        if param_status is not None:
            row["status"] = param_status
        params.append(row)
    check = {"kind": "gradient_check", "title": draw(st.sampled_from(["A", "B"])), "passed": passed}
    check["params"] = params
    if status is not None:
        check["status"] = status
    if status == "inconclusive":
        check["inconclusive"] = [{"path": "p0", "reason": "too coarse", "advice": "Use float64"}]
    return check


@settings(max_examples=examples(60), deadline=None)
@given(st.lists(check_dicts(), min_size=1, max_size=4))
def test_rendered_outcome_matches_status(checks):
    data = _run(*checks)
    assert validate(data) == []
    expected = [c.get("status") or ("passed" if c["passed"] else "failed") for c in checks]
    md = render_markdown(data).split("## Gradient checks", 1)[1].split("## Plots", 1)[0]
    headings = [line for line in md.splitlines() if line.startswith("### ")]
    assert [h.rsplit(" — ", 1)[1] for h in headings] == [_LABELS[s] for s in expected]
    for check in checks:
        for row in check["params"]:
            want = row.get("status") or ("passed" if row["passed"] else "failed")
            assert fmt_outcome(row) == _LABELS[want]
    level = verdict(data)["level"]
    if "failed" in expected:
        assert level == "fail"
    elif "inconclusive" in expected:
        assert level == "warn"
        assert not any("passed" in d or "failed" in d for d in _checks_detail(data))
    else:
        assert level == "pass"
        assert _checks_detail(data) == [f"All {len(checks)} gradient checks passed."]
