"""Suite-wide settings: tests marked ``slow`` run in CI and on request, not by default.

``python -m pytest`` deselects them and says how many it left out; they run when the ``CI``
environment variable is set (CI sets ``CI=true``), with ``--runslow``, with a ``-m``
expression, or when a test is named by its node id (``path::test``).

Hypothesis budgets follow the same switch: a run with the slow tests loads the profile
``"ci"`` (hypothesis's own defaults: every test's ``max_examples`` as written), a local run
loads ``"dev"`` (at most ``DEV_EXAMPLES`` examples per property; see ``tests/budget.py``).
``--hypothesis-profile NAME`` overrides both.
"""

import os

import pytest

SKIP_WORDS = ("", "0", "false", "no")
DEV_EXAMPLES = 5  # tests/testing/test_slow_switch.py counts them


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--runslow",
        action="store_true",
        default=False,
        help="also run the tests marked slow (on whenever the CI environment variable is set)",
    )


def runs_slow(config: pytest.Config) -> bool:
    """Return whether this run includes the tests marked slow."""
    if config.getoption("--runslow") or config.option.markexpr:
        return True
    if any("::" in arg for arg in config.args):
        return True
    return os.environ.get("CI", "").strip().lower() not in SKIP_WORDS


def pytest_configure(config: pytest.Config) -> None:
    from hypothesis import settings

    settings.register_profile("ci", max_examples=100)  # hypothesis's default
    settings.register_profile("dev", max_examples=DEV_EXAMPLES)
    config.stash[PROFILE] = settings.get_current_profile_name()
    if not config.getoption("hypothesis_profile", None):
        settings.load_profile("ci" if runs_slow(config) else "dev")


def pytest_unconfigure(config: pytest.Config) -> None:
    """Give the profile back: a pytester run inside this one must not change its budget."""
    from hypothesis import settings

    if PROFILE in config.stash:
        settings.load_profile(config.stash[PROFILE])


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if runs_slow(config):
        return
    slow = [item for item in items if item.get_closest_marker("slow") is not None]
    if slow:
        items[:] = [item for item in items if item.get_closest_marker("slow") is None]
        config.hook.pytest_deselected(items=slow)
    config.stash[DESELECTED] = len(slow)


DESELECTED = pytest.StashKey[int]()
PROFILE = pytest.StashKey[str]()


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    n = config.stash.get(DESELECTED, 0)
    if n:
        terminalreporter.write_line(
            f"gradcheck: {n} slow tests deselected; run everything with `python -m pytest "
            "--runslow` (CI=true does too)."
        )
