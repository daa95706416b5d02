"""Each vocabulary is stated once, in gradcheck._vocab; the others take it from there."""

from gradcheck import _vocab
from gradcheck.monitor import findings
from gradcheck.report import _format
from gradcheck.testing import assertions, fixture, plugin


def test_severities_come_from_one_place():
    assert findings.SEVERITIES is _vocab.SEVERITIES is assertions.SEVERITIES
    assert _format.SEVERITIES == tuple(reversed(_vocab.SEVERITIES))


def test_the_plugin_and_the_fixture_read_the_one_vocabulary():
    # plugin.py is loaded by every pytest run of anyone who installed gradcheck; the
    # vocabulary module imports nothing, so the plugin takes its words from there too
    assert plugin.MODES is fixture.MODES is _vocab.CHECK_MODES
    assert plugin.MARKER_KEYWORDS is _vocab.MARKER_KEYWORDS
    assert fixture.OVERRIDABLE is _vocab.CHECK_SETTINGS
    assert list(_vocab.MARKER_KEYWORDS) == list(_vocab.CHECK_SETTINGS)


def test_check_outcomes_come_from_one_place():
    from gradcheck.checking import gradient_results
    from gradcheck.report.schema import SCHEMA

    assert gradient_results.STATUSES is _vocab.CHECK_STATUSES
    assert tuple(_format.OUTCOME_STYLES) == _vocab.CHECK_STATUSES
    status = SCHEMA["$defs"]["gradient_check"]["properties"]["status"]
    assert status["enum"] == list(_vocab.CHECK_STATUSES)


def test_the_demo_has_words_for_every_check_outcome():
    from gradcheck.commands.demo_phases import SAID

    assert tuple(SAID) == _vocab.CHECK_STATUSES


def test_the_worst_outcome_wins_in_every_merge():
    assert sorted(_vocab.STATUS_SEVERITY) == sorted(_vocab.CHECK_STATUSES)
    assert _vocab.worst_status([]) == "passed"
    for i, mild in enumerate(_vocab.STATUS_SEVERITY):
        for worse in _vocab.STATUS_SEVERITY[i:]:
            assert _vocab.worst_status([mild, worse, mild]) == worse
