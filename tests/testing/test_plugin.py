"""The pytest plugin, through pytester: options, ini, marker, fixture, header, summary, reports."""

import re
import subprocess
import sys

import pytest

PLAIN_TESTS = """
import pytest

def test_pass():
    assert 1 + 1 == 2

def test_fail():
    assert [1, 2] == [1, 3]

@pytest.mark.skip(reason="not today")
def test_skip():
    pass
"""

# A linear least-squares problem; BROKEN doubles the gradient of `w`.
CHECKS = """
import numpy as np
import pytest

A = np.arange(12.0).reshape(4, 3) / 10
t = np.array([1.0, -1.0, 0.5, 2.0])

def loss(p):
    return 0.5 * float(np.sum((A @ p["w"] - t) ** 2))

def grad(p):
    return {"w": A.T @ (A @ p["w"] - t)}

def broken(p):
    return {"w": 2 * grad(p)["w"]}

def test_good(gradcheck):
    report = gradcheck.check(loss, grad, {"w": np.array([0.3, -0.2, 0.1])})
    assert report.passed and gradcheck.checks == 1

def test_broken(gradcheck):
    gradcheck.check(loss, broken, {"w": np.array([0.3, -0.2, 0.1])})
"""


def _timeless(lines):
    """Drop the lines that differ between two identical runs (timings, plugin list)."""
    skip = re.compile(r"^(platform|rootdir|plugins|cachedir|configfile)|\d+\.\d+s")
    return [line for line in lines if not skip.search(line)]


def test_help_lists_the_options_and_ini_settings(pytester):
    result = pytester.runpytest("--help")
    result.stdout.fnmatch_lines(
        [
            "gradient checks (gradcheck):",
            "*--gradcheck-mode=MODE*",
            "*--gradcheck-seed=SEED*",
            "*--gradcheck-report=DIR*",
            "*--gradcheck-rtol=RTOL*",
            "*--gradcheck-atol=ATOL*",
        ]
    )
    for ini in ("gradcheck_rtol", "gradcheck_atol", "gradcheck_mode"):
        result.stdout.fnmatch_lines([f"*{ini} (string)*"])


def test_marker_is_registered(pytester):
    result = pytester.runpytest("--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.gradcheck(rtol=None, atol=None, mode=None*"])
    pytester.makepyfile("import pytest\n@pytest.mark.gradcheck\ndef test_x():\n    pass\n")
    assert pytester.runpytest("--strict-markers").ret == 0


def test_plain_run_is_unchanged(pytester):
    pytester.makepyfile(PLAIN_TESTS)
    with_plugin = pytester.runpytest("-rA")
    without = pytester.runpytest("-rA", "-p", "no:gradcheck")
    assert (
        with_plugin.parseoutcomes()
        == without.parseoutcomes()
        == {
            "passed": 1,
            "failed": 1,
            "skipped": 1,
        }
    )
    assert _timeless(with_plugin.outlines) == _timeless(without.outlines)
    # pytest itself lists the installed plugin on its "plugins:" line; nothing else mentions it.
    assert "gradcheck-" in "".join(line for line in with_plugin.outlines if "plugins:" in line)
    assert not [line for line in _timeless(with_plugin.outlines) if "gradcheck" in line]


def test_header_line_appears_only_when_a_setting_is_given(pytester):
    pytester.makepyfile("def test_x():\n    pass\n")
    quiet = pytester.runpytest()
    assert not [line for line in quiet.outlines if line.startswith("gradcheck:")]
    loud = pytester.runpytest("--gradcheck-seed=7", "--gradcheck-rtol=1e-5")
    loud.stdout.fnmatch_lines(["gradcheck: seed=7 mode=full rtol=1e-05 atol=default"])


def test_ini_and_options_and_marker_resolve_in_order(pytester):
    pytester.makeini("[pytest]\ngradcheck_rtol = 1e-4\ngradcheck_mode = sample\n")
    pytester.makepyfile(
        """
        import pytest

        def test_project_settings(gradcheck):
            s = gradcheck.settings
            assert (s.rtol, s.atol, s.mode, s.seed) == (1e-4, 2e-9, "directional", 3)

        @pytest.mark.gradcheck(rtol=1e-3, seed=11)
        def test_marker_wins(gradcheck):
            s = gradcheck.settings
            assert (s.rtol, s.mode, s.seed) == (1e-3, "directional", 11)
        """
    )
    result = pytester.runpytest(
        "--gradcheck-mode=directional", "--gradcheck-seed=3", "--gradcheck-atol=2e-9"
    )
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["gradcheck: seed=3 mode=directional rtol=0.0001 atol=2e-09"])


def test_ini_alone_sets_the_defaults(pytester):
    pytester.makeini("[pytest]\ngradcheck_atol = 1e-7\n")
    pytester.makepyfile(
        "def test_x(gradcheck):\n"
        "    assert (gradcheck.settings.atol, gradcheck.settings.mode) == (1e-7, 'full')\n"
    )
    pytester.runpytest().assert_outcomes(passed=1)


@pytest.mark.parametrize(
    "args, ini, message",
    [
        (["--gradcheck-rtol=-1"], "", "*`rtol` must be >= 0; got rtol=-1.0*"),
        ([], "gradcheck_rtol = abc", "*`gradcheck_rtol` = 'abc' is not a float*"),
        ([], "gradcheck_mode = quick", "*`mode` must be one of 'full', 'sample', 'directional'*"),
        (["--gradcheck-mode=quick"], "", "*invalid choice: 'quick'*"),
    ],
    ids=["negative-rtol", "ini-not-a-float", "ini-bad-mode", "option-bad-mode"],
)
def test_bad_settings_are_usage_errors(pytester, args, ini, message):
    pytester.makeini(f"[pytest]\n{ini}\n")
    pytester.makepyfile("def test_x():\n    pass\n")
    result = pytester.runpytest(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])


def test_marker_keywords_are_checked_against_the_allowlist(pytester):
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.gradcheck(rtl=1e-3)
        def test_typo():
            pass

        @pytest.mark.gradcheck(mode="quick")
        def test_bad_mode(gradcheck):
            pass
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(
        [
            "*`@pytest.mark.gradcheck` got rtl=; it takes keywords only, among: rtol, atol,*",
            "*setting `mode` must be one of 'full', 'sample', 'directional'; got 'quick'*",
        ]
    )


def test_no_summary_line_when_no_check_ran(pytester):
    pytester.makepyfile("def test_x(gradcheck):\n    assert gradcheck.checks == 0\n")
    result = pytester.runpytest()
    result.assert_outcomes(passed=1)
    assert not [line for line in result.outlines if line.startswith("gradcheck:")]


def test_summary_line_counts_checks_and_failure_goes_in_a_section(pytester):
    pytester.makepyfile(CHECKS)
    result = pytester.runpytest()
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*GradientMismatch: gradient check failed (seed=0 mode=full*",
            "*- Captured gradcheck call -*",
            "settings: seed=0 mode=full rtol=default atol=default",
            "reproduce with: --gradcheck-seed=0 --gradcheck-mode=full",
            "gradcheck: 2 checks, * evaluations, 1 failed (seed=0 mode=full*",
        ]
    )
    evaluations = re.search(r"gradcheck: 2 checks, (\d+) evaluations", result.stdout.str())
    assert int(evaluations.group(1)) > 0


def test_report_directory_receives_a_report_per_failing_check(pytester):
    pytester.makepyfile(CHECKS)
    out = pytester.path / "gc-reports"
    result = pytester.runpytest(f"--gradcheck-report={out}")
    result.assert_outcomes(passed=1, failed=1)
    written = sorted(p.name for p in out.iterdir())
    assert written and all(name.startswith("test_report_directory") for name in written)
    assert any(name.endswith(".json") for name in written)
    result.stdout.fnmatch_lines([f"report written to {out}*test_broken-1.json"])


def test_modes_reach_the_checker(pytester):
    pytester.makepyfile(
        CHECKS.replace("def test_broken", "def _unused")
        + """
def test_mode(gradcheck):
    report = gradcheck.check(loss, grad, {"w": np.array([0.3, -0.2, 0.1])})
    assert report.mode == gradcheck.settings.mode
"""
    )
    for mode in ("full", "sample", "directional"):
        pytester.runpytest(f"--gradcheck-mode={mode}").assert_outcomes(passed=2)


@pytest.mark.slow  # a fresh interpreter; the in-process --help test above runs locally
def test_pytest_help_in_a_subprocess_lists_the_options(pytester):
    result = pytester.runpytest_subprocess("--help")
    result.stdout.fnmatch_lines(["*--gradcheck-report=DIR*"])


HEAVY = ("numpy", "scipy", "hypothesis", "matplotlib", "sklearn")


def _loaded_after(statement):
    code = f"import sys; {statement}; print(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(eval(done.stdout))


def test_the_plugin_imports_nothing_heavy_beyond_gradcheck_itself():
    # pytest imports the plugin at every start; only the fixture may load the checker.
    baseline = _loaded_after("import gradcheck")
    assert _loaded_after("import gradcheck.testing.plugin") <= baseline
    assert _loaded_after("import gradcheck.testing, gradcheck.testing.fixture") <= baseline
