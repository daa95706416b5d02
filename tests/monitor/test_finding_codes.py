"""A finding code is one row of `gradcheck.monitor.codes`: registering a toy row is enough.

The toy code `loss_above_ten` fires when the loss exceeds 10; it is registered, seen by a
`Monitor` (worded by its template, at its severity, kept once per name), and removed.
"""

import math

import pytest

from gradcheck.errors import InvalidArgumentError
from gradcheck.monitor import FINDINGS, Monitor
from gradcheck.monitor.codes import CODES, DETECTORS, ROWS, FindingCode, register, unregister
from gradcheck.monitor.observation import Hit


def detect_loss_above_ten(obs, hist, th):
    if obs.loss is not None and math.isfinite(obs.loss) and obs.loss > 10:
        return [Hit("loss", {"loss": obs.loss}, obs.loss, None, obs.step)]
    return []


TOY = FindingCode(
    code="loss_above_ten",
    severity="info",
    template="The loss is {loss:.3g} at step {step}.",
    suggestion="Toy code: nothing to do.",
    detector=detect_loss_above_ten,
    every_step=True,
)


@pytest.fixture
def toy_code():
    register(TOY)
    yield TOY
    unregister(TOY.code)


def _run(losses):
    mon = Monitor()
    for step, loss in enumerate(losses):
        mon.observe(step, loss=loss)
    return mon


def test_a_registered_row_is_detected_worded_and_removed(toy_code):
    assert FINDINGS["loss_above_ten"] == ("info", TOY.template, TOY.suggestion)
    mon = _run([1.0, 2.0, 1.0, 12.0, 1.0, 11.0] + [1.0] * 20)
    (found,) = [f for f in mon.findings if f.code == "loss_above_ten"]
    assert (found.step, found.severity, found.count) == (3, "info", 2)
    assert found.message == "The loss is 12 at step 3."
    assert found.suggestion == "Toy code: nothing to do."


def test_the_toy_row_stays_silent_on_a_healthy_run(toy_code):
    mon = _run([2.0 / (1 + s) for s in range(30)])
    assert not [f for f in mon.findings if f.code == "loss_above_ten"]


def test_unregister_restores_the_builtin_tables():
    before = (dict(FINDINGS), list(ROWS))
    register(TOY)
    unregister(TOY.code)
    assert (dict(FINDINGS), list(ROWS)) == before and "loss_above_ten" not in CODES
    assert _run([1.0, 50.0, 1.0]).findings == []


def test_builtin_detection_order_puts_causes_first():
    names = [d.__name__.removeprefix("detect_") for d in DETECTORS]
    assert names[:4] == ["ascent", "exploding_gradient", "overflow", "nan"]
    assert sorted(names) == sorted(CODES)


@pytest.mark.parametrize(
    "row",
    [
        TOY._replace(severity="fatal"),
        TOY._replace(code="other_name"),
        TOY._replace(code="nan", detector=CODES["nan"].detector),
    ],
    ids=["bad-severity", "detector-name", "existing-code"],
)
def test_register_refuses_a_bad_row(row):
    with pytest.raises(InvalidArgumentError):
        register(row)
    assert set(CODES) == set(FINDINGS)
