"""Three outcomes, the detection floor and per-entry relative errors (issue 10, issue 12).

Each face of an inconclusive check says so and what to change: the report (str, table,
to_dict), ``assert_gradient``, the pytest fixture and ``gradcheck check`` (exit 1). A
healthy twin passes everywhere.
"""

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from gradcheck.checking.gradient import assert_gradient, check_gradient
from gradcheck.errors import GradientMismatch
from gradcheck.testing.fixture import CheckStats, GradcheckFixture, Settings

X = np.random.default_rng(0).normal(size=6)


def coarse_loss(p):  # rounded to 1e-3: no step can certify it
    return float(np.round(np.sum(np.sin(p)), 3))


def smooth_loss(p):
    return float(np.sum(np.sin(p)))


@pytest.fixture(scope="module")
def inconclusive():
    return check_gradient(coarse_loss, np.cos, X)


@pytest.fixture(scope="module")
def passing():
    return check_gradient(smooth_loss, np.cos, X)


def test_inconclusive_report_says_so_everywhere(inconclusive):
    assert inconclusive.status == "inconclusive" and not inconclusive.passed
    text = str(inconclusive)
    assert text.splitlines()[0].startswith("gradient check INCONCLUSIVE")
    assert "PASSED" not in text and "INCONCLUSIVE" in text.splitlines()[2]
    item = inconclusive.inconclusive[0]
    assert item.path == "" and item.reason and "float64" in item.advice
    data = json.loads(json.dumps(inconclusive.to_dict(), allow_nan=False))
    assert data["status"] == "inconclusive" and data["passed"] is False
    assert data["inconclusive"][0]["advice"] == item.advice
    assert data["params"][0]["status"] == "inconclusive"


def test_healthy_twin_passes_with_a_small_floor(passing):
    assert passing.status == "passed" and not passing.inconclusive
    assert passing.detection_floor < 1e-6
    precision = passing.to_dict()["precision"]
    assert precision == {"dtype": "float64", "reason": passing.precision_reason}


def test_assert_gradient_fails_on_inconclusive_saying_what_to_change():
    with pytest.raises(GradientMismatch, match="could not be certified") as info:
        assert_gradient(coarse_loss, np.cos, X)
    assert "float64" in str(info.value)
    assert assert_gradient(smooth_loss, np.cos, X).passed


def test_fixture_fails_on_inconclusive():
    fixture = GradcheckFixture(Settings(), CheckStats(), name="t")
    with pytest.raises(GradientMismatch, match="gradient check was inconclusive"):
        fixture.check(coarse_loss, np.cos, X)
    assert fixture.check(smooth_loss, np.cos, X).passed


PROBLEM = textwrap.dedent(
    """
    import numpy as np

    def make(coarse=True):
        def loss(p):
            value = float(np.sum(np.sin(p)))
            return round(value, 3) if coarse else value
        return {"loss": loss, "grad": np.cos, "params": np.linspace(0.1, 1.0, 6)}

    def healthy():
        return make(coarse=False)
    """
)


def test_gradcheck_check_exits_1_on_inconclusive(tmp_path):
    problem = tmp_path / "problem.py"
    problem.write_text(PROBLEM)

    def run(target):
        command = [sys.executable, "-m", "gradcheck", "check", f"{problem}:{target}"]
        return subprocess.run(command, capture_output=True, text=True, timeout=120)

    bad, good = run("make"), run("healthy")
    assert bad.returncode == 1 and "INCONCLUSIVE" in bad.stdout, bad.stdout + bad.stderr
    assert good.returncode == 0, good.stdout + good.stderr


def test_relative_error_is_per_entry_and_per_parameter():
    """Issue 12: a gradient 20x too large showed 0.14 (normalized by the whole tree)."""
    params = {"big": np.linspace(1.0, 2.0, 4), "small": np.linspace(0.1, 0.2, 3)}

    def loss(p):
        return float(10 * np.sum(p["big"] ** 2) + np.sum(p["small"] ** 2))

    def grad(p):
        return {"big": 20 * p["big"], "small": 20 * 2 * p["small"]}  # small is 20x

    report = check_gradient(loss, grad, params)
    assert report.params["small"].max_rel_error == pytest.approx(19 / 20, rel=1e-6)
    assert report.params["big"].max_rel_error < 1e-8
    assert report.max_rel_error == report.params["small"].max_rel_error


def test_tiny_entries_are_measured_against_a_tenth_of_their_parameter():
    def grad(p):
        g = 2 * p
        g[0] += 1e-3  # an entry of size 2e-9: relative to itself it would be 5e5
        return g

    x = np.array([1e-9, 1.0, -2.0])
    report = check_gradient(lambda p: float(np.sum(p**2)), grad, x)
    assert report.params[""].max_rel_error == pytest.approx(1e-3 / 0.4, rel=1e-3)
