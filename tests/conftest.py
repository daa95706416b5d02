"""Suite-wide settings: tests marked ``slow`` run in CI and on request, not by default.

``python -m pytest`` deselects them and says how many it left out; they run when the ``CI``
environment variable is set (CI sets ``CI=true``), with ``--runslow``, with a ``-m``
expression, or when a test is named by its node id (``path::test``).
"""

import os

import pytest

SKIP_WORDS = ("", "0", "false", "no")


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


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if runs_slow(config):
        return
    slow = [item for item in items if item.get_closest_marker("slow") is not None]
    if slow:
        items[:] = [item for item in items if item.get_closest_marker("slow") is None]
        config.hook.pytest_deselected(items=slow)
    config.stash[DESELECTED] = len(slow)


DESELECTED = pytest.StashKey[int]()


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    n = config.stash.get(DESELECTED, 0)
    if n:
        terminalreporter.write_line(
            f"gradcheck: {n} slow tests deselected; run everything with `python -m pytest "
            "--runslow` (CI=true does too)."
        )
