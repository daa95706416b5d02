"""`gradcheck train --monitor [--report PATH]`: findings as they happen, a summary, a report."""

import json

import pytest

from gradcheck.cli import main
from gradcheck.report import validate


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")  # it diverges
def test_diverging_run_prints_findings_summary_and_writes_the_report(tmp_path, capsys):
    report = tmp_path / "run.json"
    argv = ["train", "--dataset", "blobs", "--epochs", "1", "--optimizer", "sgd", "--lr", "30"]
    assert main([*argv, "--monitor", "--report", str(report), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "[x] step" in out and "loss_divergence in `loss`" in out  # as it happens
    assert "severity  code" in out  # the summary table at the end
    data = json.loads(report.read_text())
    assert validate(data) == []
    assert any(f["code"] == "loss_divergence" for f in data["monitor"]["findings"])


def test_healthy_run_says_it_is_healthy(capsys):
    assert main(["train", "--dataset", "blobs", "--epochs", "3", "--monitor", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "no findings: training looks numerically healthy" in out


def test_report_without_monitor_is_bad_input(tmp_path, capsys):
    assert main(["train", "--dataset", "blobs", "--report", str(tmp_path / "r.html")]) == 2
    assert "`--report` needs `--monitor`" in capsys.readouterr().err
