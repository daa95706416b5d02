"""The gradcheck pytest plugin: hooks only (the fixture object lives in ``fixture.py``).

Loaded through the ``pytest11`` entry point, so installing gradcheck is enough. It imports
nothing heavy at import time (``gradcheck`` loads its names lazily; the vocabulary module
imports nothing): numpy and the checker load inside the ``gradcheck`` fixture,
so a run that never asks for the fixture is unchanged (same output, no header line, no
summary line).

Settings resolve, later winning: built-in defaults < ini (``gradcheck_rtol``,
``gradcheck_atol``, ``gradcheck_mode``) < command line (``--gradcheck-*``) < the test's
``@pytest.mark.gradcheck(...)`` keywords < keywords passed to ``gradcheck.check(...)``.
"""

from __future__ import annotations

import pytest

from gradcheck._vocab import CHECK_MODES as MODES
from gradcheck._vocab import MARKER_KEYWORDS

MARKER_LINE = (
    "gradcheck(rtol=None, atol=None, mode=None, seed=None, ...): a gradient test; its keywords "
    "override the project's gradcheck settings for this test (allowed: "
    + ", ".join(MARKER_KEYWORDS)
    + ")."
)
# (option, dest, ini name or None, type, metavar, help)
OPTIONS = (
    (
        "--gradcheck-mode",
        "gradcheck_mode",
        "gradcheck_mode",
        str,
        "MODE",
        "full (every entry, default) | sample | directional",
    ),
    ("--gradcheck-seed", "gradcheck_seed", None, int, "SEED", "seed of every check (default 0)"),
    (
        "--gradcheck-report",
        "gradcheck_report",
        None,
        str,
        "DIR",
        "write an HTML and a JSON report of every failing check into DIR",
    ),
    (
        "--gradcheck-rtol",
        "gradcheck_rtol",
        "gradcheck_rtol",
        float,
        "RTOL",
        "relative tolerance (default: the checker's error estimate)",
    ),
    (
        "--gradcheck-atol",
        "gradcheck_atol",
        "gradcheck_atol",
        float,
        "ATOL",
        "absolute tolerance (default: the checker's error estimate)",
    ),
)
SETTINGS_KEY = pytest.StashKey[object]()
STATS_KEY = pytest.StashKey[object]()


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add the ``gradcheck`` option group and its ini settings."""
    group = parser.getgroup("gradcheck", "gradient checks (gradcheck)")
    for option, dest, ini, kind, metavar, text in OPTIONS:
        choices = MODES if dest == "gradcheck_mode" else None
        group.addoption(
            option, dest=dest, type=kind, choices=choices, metavar=metavar, default=None, help=text
        )
        if ini is not None:
            parser.addini(ini, f"gradcheck fixture default: {text}", type="string")


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``gradcheck`` marker; read the settings (cheap: no numpy)."""
    config.addinivalue_line("markers", MARKER_LINE)
    from gradcheck.testing.fixture import CheckStats, settings_from

    values = {opt[1]: _raw_setting(config, *opt[1:4]) for opt in OPTIONS}
    try:
        config.stash[SETTINGS_KEY] = settings_from(values)
    except ValueError as error:
        raise pytest.UsageError(str(error)) from None
    config.stash[STATS_KEY] = CheckStats()


def _raw_setting(config: pytest.Config, dest: str, ini: str | None, kind: type) -> object:
    value = config.getoption(dest)
    if value is None and ini is not None:
        text = config.getini(ini)
        value = _parse_ini(ini, text, kind) if text else None
    return value


def _parse_ini(ini: str, text: str, kind: type) -> object:
    try:
        return kind(text.strip())
    except ValueError:
        raise pytest.UsageError(
            f"ini setting `{ini}` = {text!r} is not a {kind.__name__}."
        ) from None


def pytest_report_header(config: pytest.Config) -> str | None:
    """Give seed and tolerances, only when a gradcheck option or ini value was set."""
    settings = config.stash.get(SETTINGS_KEY, None)
    if settings is None or not settings.explicit:
        return None
    return f"gradcheck: {settings.describe()}"


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Reject ``gradcheck`` marker keywords outside the allowlist, naming the valid ones."""
    for marker in item.iter_markers(name="gradcheck"):
        _check_marker(marker)


def _check_marker(marker: pytest.Mark) -> None:
    unknown = sorted(set(marker.kwargs) - set(MARKER_KEYWORDS))
    if marker.args or unknown:
        received = [repr(a) for a in marker.args] + [f"{k}=" for k in unknown]
        raise pytest.UsageError(
            f"`@pytest.mark.gradcheck` got {', '.join(received)}; it takes keywords only, "
            f"among: {', '.join(MARKER_KEYWORDS)}."
        )


@pytest.fixture
def gradcheck(request: pytest.FixtureRequest):
    """Check gradients with the project's settings: ``gradcheck.check(loss, grad, params)``.

    Also ``gradcheck.check_layers(layers, x)``. Failing checks raise
    :class:`gradcheck.GradientMismatch`; their details go in the test report's sections.
    """
    __tracebackhide__ = True
    from gradcheck.testing.fixture import GradcheckFixture

    config = request.config
    marker_kwargs: dict = {}
    for marker in reversed(list(request.node.iter_markers(name="gradcheck"))):
        _check_marker(marker)
        marker_kwargs.update(marker.kwargs)
    settings = config.stash[SETTINGS_KEY].merged(marker_kwargs)
    return GradcheckFixture(
        settings,
        config.stash[STATS_KEY],
        name=request.node.nodeid,
        on_failure=lambda text: request.node.add_report_section("call", "gradcheck", text),
    )


def session_line(stats, settings) -> str:
    """Return the summary line: counts, seed, the mode(s) the checks actually ran in, tolerances.

    A marker or a call may change a check's mode, so the modes come from the checks, not
    from the session's setting: ``mode=directional`` or ``modes=full 2, directional 1``.
    """
    modes = stats.modes or {settings.mode: stats.checks}
    if len(modes) == 1:
        used = f"mode={next(iter(modes))}"
    else:
        used = "modes=" + ", ".join(f"{mode} {n}" for mode, n in sorted(modes.items()))
    described = settings.describe().replace(f"mode={settings.mode}", used, 1)
    return f"gradcheck: {stats.describe()} ({described})"


def pytest_sessionfinish(session: pytest.Session) -> None:
    """On a pytest-xdist worker, hand this worker's counts to the controller."""
    stats = session.config.stash.get(STATS_KEY, None)
    output = getattr(session.config, "workeroutput", None)
    if stats is not None and output is not None:
        output["gradcheck_stats"] = {
            "checks": stats.checks,
            "evaluations": stats.evaluations,
            "failures": stats.failures,
            "modes": dict(stats.modes),
        }


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:
    """On the pytest-xdist controller, add a finished worker's counts to the session's."""
    counts = (getattr(node, "workeroutput", None) or {}).get("gradcheck_stats")
    stats = node.config.stash.get(STATS_KEY, None)
    if not counts or stats is None:
        return
    stats.checks += counts["checks"]
    stats.evaluations += counts["evaluations"]
    stats.failures += counts["failures"]
    for mode, n in counts["modes"].items():
        stats.modes[mode] = stats.modes.get(mode, 0) + n


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    """Count checks, evaluations and failures: one line, only if any check ran.

    Under pytest-xdist the controller prints the sum over every worker.
    """
    stats = config.stash.get(STATS_KEY, None)
    settings = config.stash.get(SETTINGS_KEY, None)
    if stats is None or not stats.checks:
        return
    terminalreporter.write_line(session_line(stats, settings))
