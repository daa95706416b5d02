"""Issue 10, item 4: directional checks defaulted to central differences, which cannot see
one entry 5% wrong among many; `directions=10**6` on a 6-entry parameter made two million
evaluations; a large full check started without saying what it would cost.
"""

import numpy as np

import gradcheck.checking.gradient as gc
from gradcheck.checking.gradient import check_gradient


def test_issue_10_directional_mode_defaults_to_richardson_and_sees_one_entry():
    x = np.random.default_rng(0).normal(size=100_000)

    def grad(p):
        g = 2 * p
        g[7] *= 1.05
        return g

    report = check_gradient(lambda p: float(np.sum(p**2)), grad, x, directions=4)
    assert report.method == "richardson" and not report.passed
    assert any(f.index == (7,) for f in report.failures)


def test_issue_10_full_checks_keep_central_by_default():
    report = check_gradient(lambda p: float(np.sum(p**2)), lambda p: 2 * p, np.ones(3))
    assert report.method == "central"


def test_issue_10_directions_are_capped_at_the_parameter_size():
    report = check_gradient(
        lambda p: float(np.sum(p**2)), lambda p: 2 * p, np.ones(6), directions=10**6
    )
    assert report.passed and report.n_evaluations < 200


def test_issue_10_large_full_check_announces_its_cost(monkeypatch, capsys):
    monkeypatch.setattr(gc, "ANNOUNCE_ENTRIES", 10)
    check_gradient(lambda p: float(np.sum(p**2)), lambda p: 2 * p, np.ones(20))
    err = capsys.readouterr().err
    assert "full check of 20 entries" in err and "loss evaluations" in err
