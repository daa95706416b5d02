"""Issue 12: reports never cut a verdict or a diagnosis mid-sentence; Markdown keeps `->`."""

import pytest

from gradcheck.report import RunReport
from gradcheck.report._format import full_verdict
from gradcheck.report.html import render_html
from gradcheck.report.markdown import md_escape, render_markdown

MESSAGE = (
    "`sigmoid1`: backward multiplies dout by the derivative evaluated at the layer's OUTPUT "
    "f'(a) instead of its input f'(z): pass z, or write the derivative in terms of a (a * (1 - a))."
)
TOP = {
    "kind": "activation_derivative",
    "path": "sigmoid1",
    "confidence": 1.0,
    "message": MESSAGE,
    "evidence": {},
}
ABRIDGED = "activation_derivative at sigmoid1: backward multiplies dout by the ..."
FULL = "activation_derivative at sigmoid1: " + MESSAGE.removeprefix("`sigmoid1`: ")


def _layer_check():
    layer = {
        "index": 0,
        "name": "sigmoid1",
        "kind": "elementwise",
        "passed": False,
        "max_rel_error": 0.7,
        "n_params": 0,
        "batch_independent": True,
        "verdict": ABRIDGED,
        "diagnoses": [TOP],
    }
    check = {
        "kind": "layer_check",
        "passed": False,
        "first_failure": 0,
        "n_evaluations": 10,
        "layers": [layer],
    }
    return RunReport.from_objects(checks=[check]).to_dict()


def test_full_verdict_rebuilds_an_abridged_one():
    assert full_verdict({"verdict": ABRIDGED, "diagnoses": [TOP]}) == FULL
    assert full_verdict({"verdict": "ok", "diagnoses": []}) == "ok"
    assert full_verdict({"verdict": "short and whole", "diagnoses": [TOP]}) == "short and whole"


@pytest.mark.parametrize("render", [render_markdown, render_html], ids=["markdown", "html"])
def test_layer_tables_show_the_whole_verdict(render):
    text = render(_layer_check())
    assert "the derivative is ..." not in text and "by the ..." not in text
    assert "in terms of a (a * (1 - a))." in text


def test_markdown_keeps_arrows_and_comparisons_readable():
    assert md_escape("dout -> dx, x < 0, a >= b") == "dout -> dx, x < 0, a >= b"
    assert md_escape("<b>bold</b> &amp;") == "&lt;b>bold&lt;/b> &amp;amp;"
