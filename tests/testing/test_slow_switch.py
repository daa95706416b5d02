"""The suite's switch: slow tests are left out of a local run, run in CI and with --runslow."""

from pathlib import Path

import pytest

CONFTEST = Path(__file__).resolve().parents[1] / "conftest.py"
TESTS = """
import pytest

def test_quick():
    pass

@pytest.mark.slow
def test_slow():
    pass
"""


@pytest.fixture
def project(pytester, monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    pytester.makeconftest(CONFTEST.read_text())
    pytester.makeini("[pytest]\nmarkers =\n    slow: slow\n")
    pytester.makepyfile(test_two=TESTS)
    return pytester


def test_a_local_run_deselects_slow_tests_and_says_how_to_run_them(project):
    result = project.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, deselected=1)
    result.stdout.fnmatch_lines(["*1 slow tests deselected*--runslow*CI=true*"])


@pytest.mark.parametrize("ci", ["true", "1"])
def test_ci_runs_everything(project, monkeypatch, ci):
    monkeypatch.setenv("CI", ci)
    project.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=2)


def test_ci_false_is_a_local_run(project, monkeypatch):
    monkeypatch.setenv("CI", "false")
    project.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1, deselected=1)


@pytest.mark.parametrize(
    "args", [["--runslow"], ["-m", "slow or not slow"], ["test_two.py::test_slow"]]
)
def test_asking_for_slow_tests_runs_them(project, args):
    result = project.runpytest("-p", "no:cacheprovider", *args)
    assert result.ret == 0 and "deselected" not in result.stdout.str()


BUDGET = """
from hypothesis import given, settings, strategies as st

from tests.budget import examples

SEEN = []


@settings(max_examples=examples(30), database=None, derandomize=True)
@given(st.integers())
def test_property(n):
    SEEN.append(n)


def test_count():
    print(f"examples run: {len(SEEN)}")
"""


@pytest.mark.parametrize(("ci", "expected"), [("", 5), ("true", 30)], ids=["local", "ci"])
def test_a_property_runs_its_full_budget_in_ci_and_a_few_examples_locally(
    project, monkeypatch, ci, expected
):
    monkeypatch.setenv("CI", ci)
    project.makepyfile(test_budget=BUDGET)
    result = project.runpytest("-p", "no:cacheprovider", "-s", "test_budget.py")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines([f"*examples run: {expected}"])
