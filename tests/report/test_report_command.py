import json

from gradcheck.cli import main
from gradcheck.report import save_json


def test_rerender_saved_run(tmp_path, small_run_dict, capsys, no_matplotlib, monkeypatch):
    saved = save_json(small_run_dict, tmp_path / "run.json")
    with no_matplotlib(monkeypatch):  # plots are tested elsewhere; keep this fast
        assert main(["report", str(saved), "-o", str(tmp_path / "out.md")]) == 0
    assert "wrote" in capsys.readouterr().out
    assert (tmp_path / "out.md").read_text().startswith("# small")
    assert main(["report", str(saved), "--title", "Again", "-o", str(tmp_path / "a.json")]) == 0
    assert json.loads((tmp_path / "a.json").read_text())["title"] == "Again"


def test_default_output_is_html_next_to_the_input(tmp_path):
    saved = tmp_path / "check.json"
    saved.write_text(json.dumps({"kind": "gradient_check", "passed": True}))  # a bare check
    assert main(["report", str(saved)]) == 0
    assert (tmp_path / "check.html").read_text().startswith("<!DOCTYPE html>")


def test_invalid_run_exits_2_with_the_problems(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps(
            {
                "kind": "run",
                "schema_version": "1.0",
                "title": "t",
                "checks": [{"kind": "gradient_check", "passed": "yes"}],
                "monitor": {"kind": "monitor", "findings": [{"code": "nan", "severity": "bad"}]},
            }
        )
    )
    assert main(["report", str(bad), "-o", str(tmp_path / "x.html")]) == 2
    err = capsys.readouterr().err
    assert "does not follow the report schema (3 problems)" in err
    assert "- `checks[0].passed`: expected boolean, got str 'yes'" in err
    assert "- `monitor.findings[0]`: missing required field `message`" in err
    assert not (tmp_path / "x.html").exists()


def test_missing_or_broken_file_exits_2(tmp_path, capsys):
    assert main(["report", str(tmp_path / "nope.json")]) == 2
    assert "does not exist" in capsys.readouterr().err
    (tmp_path / "x.json").write_text("[1,")
    assert main(["report", str(tmp_path / "x.json")]) == 2
    assert "is not a JSON file" in capsys.readouterr().err
