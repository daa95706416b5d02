from gradcheck.report import RunReport, render_markdown

EVIL = '<script>alert(1)</script> | & "q"'


def test_sections_tables_and_verdict(run_dict):
    md = render_markdown(run_dict)
    lines = md.splitlines()
    assert lines[0] == "# Digits MLP"
    assert lines[2].startswith("> **🔴 FAIL — Problems found.**")
    for heading in (
        "## Training findings",
        "## Gradient checks",
        "## Plots",
        "## Run configuration and environment",
        "### Broken MLP gradient check — FAIL",
        "### Layer by layer — FAIL",
        "#### Worst entries (4 of 2048 failing)",
        "#### Diagnoses",
        "#### Layer 1: relu1 — FAIL",
    ):
        assert heading in lines, heading
    assert "| Severity | Code | Step | Where | What happened (evidence) | Suggestion |" in md
    severities = [
        line.split("|")[1].strip()
        for line in lines
        if line.startswith("| ") and line.split("|")[1].strip() in ("error", "warning", "info")
    ]
    assert severities == ["error", "error", "warning", "info"]


def test_nan_printed_as_text(run_dict):
    md = render_markdown(run_dict)
    row = next(line for line in md.splitlines() if line.startswith("| dense1.W | (1, 1) |"))
    assert row == "| dense1.W | (1, 1) | NaN | 0.3 | NaN | 1e-06 | Inf |"
    rows = [
        line
        for line in md.splitlines()
        if line.startswith("| ") and not line.startswith("| error | nan |")
    ]  # the finding code `nan` is a name
    assert not [r for r in rows if "| nan |" in r or "| inf |" in r or "| -inf |" in r]


def test_plot_links_and_notes(run_dict):
    files = {"loss": "run_plots/loss.png", "scatter_1": "run plots/scatter_1.png"}
    md = render_markdown(run_dict, plot_files=files, plot_notes={"grad_norm": "no matplotlib"})
    assert "![Loss over steps](run_plots/loss.png)" in md
    assert "(run%20plots/scatter_1.png)" in md
    assert "**Gradient norm per parameter over steps (log scale)**: no matplotlib" in md
    assert "save_report(report, &quot;report.md&quot;)" in md or "save_report(report" in md


def test_missing_series_note(passing_check):
    data = RunReport.from_objects(checks=[passing_check]).to_dict()
    md = render_markdown(data)
    assert "**Loss over steps**: Not drawn: this run has no data for `monitor.series.step`" in md
    assert "_No training monitor in this run._" in md
    assert "> **🟢 PASS — All clear.**" in md


def test_user_strings_are_escaped(failing_check):
    check = dict(failing_check, title=EVIL)
    check["params"] = [dict(check["params"][0], path=EVIL)]
    monitor = {
        "kind": "monitor",
        "findings": [
            {
                "code": "nan",
                "name": EVIL,
                "severity": "error",
                "message": EVIL + "\nline two",
                "suggestion": EVIL,
            }
        ],
    }
    md = render_markdown(
        RunReport.from_objects(checks=[check], monitor=monitor, title=EVIL).to_dict()
    )
    assert "<script>" not in md
    assert '&lt;script>alert(1)&lt;/script> \\| & "q"' in md
    assert "line two" in md and "<br>line two" in md
    table_rows = [line for line in md.splitlines() if line.startswith("| ")]
    assert all(line.count(" | ") == table_rows[0].count(" | ") for line in table_rows[:2])
