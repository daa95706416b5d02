"""Issue 12: the plugin's summary reports the modes the checks ran in, and xdist totals."""

from types import SimpleNamespace

import pytest

from gradcheck.testing import plugin
from gradcheck.testing.fixture import CheckStats, Settings

MIXED = """
import numpy as np
import pytest

def loss(p):
    return float(np.sum(p["w"] ** 2))

def grad(p):
    return {"w": 2 * p["w"]}

W = {"w": np.linspace(0.5, 1.5, 8)}

def test_default(gradcheck):
    gradcheck.check(loss, grad, W)

@pytest.mark.gradcheck(mode="directional")
def test_marker_mode(gradcheck):
    gradcheck.check(loss, grad, W)

@pytest.mark.gradcheck(rtol=0, atol=1e-6)
def test_rtol_zero_as_in_the_api(gradcheck):
    gradcheck.check(loss, grad, W)
"""


def test_summary_names_the_modes_the_checks_actually_ran_in(pytester):
    pytester.makepyfile(MIXED)
    result = pytester.runpytest()
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(
        ["gradcheck: 3 checks, * 0 failed (seed=0 modes=directional 1, full 2 rtol=default*"]
    )


def test_a_marker_mode_alone_is_the_mode_reported(pytester):
    pytester.makepyfile(MIXED)
    result = pytester.runpytest("-k", "test_marker_mode")
    result.stdout.fnmatch_lines(["gradcheck: 1 check, * (seed=0 mode=directional rtol=*"])


def test_worker_counts_add_up_on_the_controller():
    # pytest-xdist: each worker hands its counts over in `workeroutput`; the controller sums
    controller = SimpleNamespace(stash={plugin.STATS_KEY: CheckStats()})
    for checks, mode in ((2, "full"), (3, "directional")):
        worker_config = SimpleNamespace(stash={plugin.STATS_KEY: CheckStats()}, workeroutput={})
        for _ in range(checks):
            worker_config.stash[plugin.STATS_KEY].add(evaluations=10, failed=False, mode=mode)
        plugin.pytest_sessionfinish(SimpleNamespace(config=worker_config))
        node = SimpleNamespace(config=controller, workeroutput=worker_config.workeroutput)
        plugin.pytest_testnodedown(node, None)
    total = controller.stash[plugin.STATS_KEY]
    assert (total.checks, total.evaluations, total.modes) == (5, 50, {"full": 2, "directional": 3})
    line = plugin.session_line(total, Settings())
    assert line.startswith("gradcheck: 5 checks, 50 evaluations, 0 failed (seed=0 modes=")


def test_a_run_without_xdist_hands_nothing_over():
    config = SimpleNamespace(stash={plugin.STATS_KEY: CheckStats()})
    plugin.pytest_sessionfinish(SimpleNamespace(config=config))
    assert not hasattr(config, "workeroutput")


@pytest.mark.parametrize("value", [0, 0.0], ids=["int", "float"])
def test_zero_tolerances_are_settings_like_in_the_api(value):
    assert Settings().merged({"rtol": value, "atol": value}).rtol == value
