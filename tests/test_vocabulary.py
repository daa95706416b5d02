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
