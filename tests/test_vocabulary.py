"""Each vocabulary is stated once; the few copies that must stay import-free agree with it."""

from gradcheck import _vocab
from gradcheck.monitor import findings
from gradcheck.report import _format
from gradcheck.testing import assertions, fixture, plugin


def test_severities_come_from_one_place():
    assert findings.SEVERITIES is _vocab.SEVERITIES is assertions.SEVERITIES
    assert _format.SEVERITIES == tuple(reversed(_vocab.SEVERITIES))


def test_the_plugin_copies_agree_with_the_fixture_and_the_vocabulary():
    # plugin.py is loaded by every pytest run of anyone who installed gradcheck: it imports
    # nothing of gradcheck at import time, so it keeps literal copies; they must agree.
    assert plugin.MODES == fixture.MODES == _vocab.CHECK_MODES
    assert set(plugin.MARKER_KEYWORDS) == set(fixture.OVERRIDABLE)


def test_check_outcomes_come_from_one_place():
    from gradcheck.checking import gradient_results
    from gradcheck.report.schema import SCHEMA

    assert gradient_results.STATUSES is _vocab.CHECK_STATUSES
    assert tuple(_format.OUTCOME_STYLES) == _vocab.CHECK_STATUSES
    status = SCHEMA["$defs"]["gradient_check"]["properties"]["status"]
    assert status["enum"] == list(_vocab.CHECK_STATUSES)
