"""examples/ci passes as shipped, and fails with its documented message when the bug is planted."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "ci"


def _documented_lines() -> list[str]:
    text = (EXAMPLE / "README.md").read_text()
    block = re.search(r"<!-- documented-failure -->\n```text\n(.*?)```", text, re.S).group(1)
    return [line.strip() for line in block.splitlines() if line.strip()]


def _run(tmp_path: Path, bug: bool) -> subprocess.CompletedProcess:
    project = tmp_path / "ci"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns("__pycache__", ".*"))
    env = {**os.environ, "MYLAYERS_BUG": "1" if bug else "0", "COLUMNS": "80"}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-W", "ignore"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("example-ci")
    return {bug: _run(root / str(bug), bug) for bug in (False, True)}


@pytest.mark.slow  # two pytest runs of the example project
def test_example_passes_as_shipped(runs):
    result = runs[False]
    assert result.returncode == 0, result.stdout[-3000:]
    assert re.search(r"\b3 passed\b", result.stdout)
    assert "gradcheck: 2 checks, " in result.stdout and " 0 failed (seed=0" in result.stdout


@pytest.mark.slow
def test_example_fails_with_the_documented_message_when_the_bug_is_planted(runs):
    result = runs[True]
    assert result.returncode == 1, result.stdout[-3000:]
    assert re.search(r"\b2 failed, 1 passed\b", result.stdout)
    output = {line.strip() for line in result.stdout.splitlines()}
    missing = [line for line in _documented_lines() if line not in output]
    assert not missing, "lines of examples/ci/README.md not in the output:\n" + "\n".join(missing)


def test_readme_installs_gradcheck_from_this_checkout():
    text = (EXAMPLE / "README.md").read_text()
    installs = re.findall(r"^pip install .*$", text, re.M)
    assert installs and all('"gradcheck' not in line for line in installs)
    assert any('-e ".[test]"' in line for line in installs)
