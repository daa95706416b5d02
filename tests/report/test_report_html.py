import re

import pytest

from gradcheck.report import RunReport, render_html
from gradcheck.report.plots import Plot

EVIL = "<script>alert('x')</script> & \"q\""


@pytest.mark.slow  # draws every plot of a 3000-step run
def test_every_section_and_plot_is_present(drawn):
    plots, data = drawn
    page = render_html(data, plots=plots)
    for anchor in ("findings", "checks", "plots", "environment"):
        assert f'<section id="{anchor}">' in page
    for name in (
        "loss",
        "grad_norm",
        "dead_saturated",
        "activation_histograms",
        "gradient_histograms",
        "scatter_1",
        "scatter_2",
    ):
        assert f'id="plot-{name}"' in page, name
    assert page.count("data:image/png;base64,") == 7
    assert 'class="verdict verdict-fail"' in page
    assert "<h1>Digits</h1>" in page
    for code in ("nan", "exploding_gradient", "dead_relu", "loss_plateau"):
        assert f'<td data-label="Code">{code}</td>' in page
    assert "Worst entries (4 of 2048 failing)" in page and "Diagnoses" in page
    assert "Layer 1: relu1" in page


def test_findings_are_ordered_by_severity(run_dict):
    page = render_html(run_dict, plots=[])
    found = re.findall(r'class="sev sev-(\w+)"', page)
    assert found == ["error", "error", "warning", "info"]


def test_self_contained_responsive_and_printable(run_dict):
    page = render_html(run_dict, plots=[])
    assert '<meta name="viewport"' in page and "@media print" in page
    assert "overflow-x: auto" in page and "@media (max-width: 640px)" in page
    assert not re.search(r'(src|href)="(https?:)?//', page)  # nothing fetched from elsewhere


def test_nan_is_shown_as_text_never_as_a_number(run_dict):
    page = render_html(run_dict, plots=[])
    cells = re.findall(r'<td data-label="([^"]*)"[^>]*>(.*?)</td>', page)
    values = [text for label, text in cells if label != "Code"]  # the finding code `nan`
    assert "NaN" in values and "Inf" in values
    assert not [
        v
        for v in values
        if v.lower() in ("nan", "inf", "-inf", "+inf") and v not in ("NaN", "Inf", "-Inf")
    ]
    assert ">nan<" not in page.replace('data-label="Code">nan<', "")


def test_user_strings_are_escaped(failing_check, monitor_dict):
    check = dict(failing_check, title=EVIL)
    check["params"] = [dict(check["params"][0], path=EVIL)] + check["params"][1:]
    check["diagnoses"] = [dict(check["diagnoses"][0], message=EVIL, path=EVIL)]
    finding = dict(
        monitor_dict["findings"][0], name=EVIL, message=EVIL, suggestion=EVIL, evidence={EVIL: EVIL}
    )
    monitor = {"kind": "monitor", "findings": [finding]}
    data = RunReport.from_objects(
        checks=[check], monitor=monitor, title=EVIL, config={EVIL: EVIL}, notes=[EVIL]
    ).to_dict()
    page = render_html(data, plots=[Plot("loss", EVIL, None, EVIL)])
    assert "<script" not in page.lower()
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &quot;q&quot;" in page


@pytest.mark.parametrize(
    ("severities", "passed", "level"),
    [
        ([], True, "pass"),
        (["info"], True, "pass"),
        (["warning", "info"], True, "warn"),
        (["error"], True, "fail"),
        ([], False, "fail"),
    ],
    ids=["healthy", "info-only", "warning", "error", "failed-check"],
)
def test_verdict_banner_colour(severities, passed, level):
    findings = [{"code": "x", "severity": s, "message": "m"} for s in severities]
    data = RunReport.from_objects(
        checks=[{"kind": "gradient_check", "passed": passed}],
        monitor={"kind": "monitor", "findings": findings},
    ).to_dict()
    assert f'class="verdict verdict-{level}"' in render_html(data, plots=[])


def test_missing_series_give_visible_notes_not_a_crash(passing_check):
    data = RunReport.from_objects(
        checks=[passing_check], monitor={"kind": "monitor", "findings": []}
    ).to_dict()
    page = render_html(data)
    assert "data:image/png" not in page
    assert "Not drawn: this run has no data for `monitor.series.step`" in page
    assert "every check passed" in page


def test_empty_report_renders():
    page = render_html(RunReport().to_dict(), plots=[])
    assert "verdict-empty" in page and "No gradient checks in this run." in page
