import json

import pytest

from gradcheck.errors import InvalidArgumentError
from gradcheck.report import (
    RunReport,
    load_json,
    save_check_report,
    save_monitor_report,
    save_report,
    validate,
)


class HasToDict:
    def __init__(self, data):
        self.data = data

    def to_dict(self):
        return self.data


def test_save_by_suffix(run_report, tmp_path, no_matplotlib, monkeypatch):
    with no_matplotlib(monkeypatch):  # the fast path: tables only
        html = save_report(run_report, tmp_path / "out" / "r.html")
        md = save_report(run_report, tmp_path / "out" / "r.md")
    js = save_report(run_report, tmp_path / "out" / "r.json")
    assert html.read_text().startswith("<!DOCTYPE html>")
    assert "pip install &quot;gradcheck[plots]&quot;" in html.read_text()
    assert md.read_text().startswith("# Digits MLP")
    assert 'pip install "gradcheck[plots]"' in md.read_text()
    assert not (tmp_path / "out" / "r_plots").exists()
    assert load_json(js) == run_report


def test_markdown_writes_pngs_beside_it(tmp_path, passing_check):
    monitor = {
        "kind": "monitor",
        "findings": [],
        "series": {"step": [0, 1, 2, 3], "loss": [2.0, 1.5, 1.2, "nan"]},
    }
    path = save_report(
        RunReport.from_objects(checks=[passing_check], monitor=monitor), tmp_path / "run.md"
    )
    pngs = sorted(p.name for p in (tmp_path / "run_plots").iterdir())
    assert pngs == ["loss.png"]
    text = path.read_text()
    assert "![Loss over steps](run_plots/loss.png)" in text
    assert "**Gradient norm per parameter over steps (log scale)**: Not drawn" in text


def test_unknown_suffix_lists_the_choices(run_report, tmp_path):
    with pytest.raises(InvalidArgumentError, match=r"expected one of '\.html', '\.htm', '\.md'"):
        save_report(run_report, tmp_path / "r.pdf")


def test_title_override_and_bare_objects(tmp_path, failing_check):
    path = save_report(HasToDict(failing_check), tmp_path / "c.json", title="Mine")
    data = json.loads(path.read_text())
    assert data["title"] == "Mine" and data["checks"] == [failing_check]


def test_save_monitor_and_check_reports(tmp_path, failing_check, layer_check, monitor_dict):
    mon = save_monitor_report(HasToDict(monitor_dict), tmp_path / "m.json")
    data = json.loads(mon.read_text())
    assert data["title"] == "Training stability report" and validate(data) == []
    # thinned from 3000: about 1000 evenly spaced steps, plus each finding's first and last step
    n_findings = len(data["monitor"]["findings"])
    assert len(data["monitor"]["series"]["step"]) <= 1002 + 2 * n_findings
    one = save_check_report(HasToDict(failing_check), tmp_path / "c.json")
    assert json.loads(one.read_text())["title"] == "Broken MLP gradient check"
    layers = save_check_report(layer_check, tmp_path / "l.json", config={"seed": 4})
    data = json.loads(layers.read_text())
    assert data["checks"][0]["kind"] == "layer_check" and data["environment"]["seed"] == 4


def test_long_runs_stay_small(tmp_path, long_monitor_dict):
    path = save_monitor_report(long_monitor_dict, tmp_path / "long.json")
    assert path.stat().st_size < 600_000
