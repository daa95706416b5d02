"""Which earlier finding a consequence is linked to: the likeliest cause, not the first raised."""

from gradcheck.monitor.causes import link_causes
from gradcheck.monitor.findings import make_finding

SATURATION = {"fraction": 0.97, "eps": 1e-3, "bounds": "0 and 1"}
EXPLOSION = {"value": 0.9, "reason": "the loss rose"}
UNDERFLOW = {"fraction": 0.7, "threshold": 1e-30, "min_abs": 1e-300, "array": "activation"}


def _raised(*findings):
    seen = []
    for finding in findings:
        link_causes(finding, seen)
        seen.append(finding)
    return seen


def test_underflow_follows_the_saturation_of_its_own_layer_even_if_raised_later():
    explosion = make_finding("exploding_gradient", "dense2.b", 1, EXPLOSION)
    saturation = make_finding("saturation", "sigmoid1", 0, SATURATION)
    underflow = make_finding("underflow", "sigmoid1", 1, UNDERFLOW)
    _raised(explosion, saturation, underflow)
    assert underflow.consequence_of == "saturation:sigmoid1"
    assert underflow.severity == "info" and "`saturation`" in underflow.message


def test_the_earliest_cause_wins_between_other_arrays():
    late = make_finding("saturation", "sigmoid2", 3, SATURATION)
    early = make_finding("exploding_gradient", "dense1.W", 1, EXPLOSION)
    underflow = make_finding("underflow", "dense1.b", 4, UNDERFLOW)
    _raised(late, early, underflow)
    assert underflow.consequence_of == "exploding_gradient:dense1.W"


def test_no_cause_no_link():
    underflow = make_finding("underflow", "sigmoid1", 1, UNDERFLOW)
    _raised(make_finding("saturation", "sigmoid1", 5, SATURATION), underflow)
    assert underflow.consequence_of is None and underflow.severity != "info"


DIVERGENCE = {"loss": 1e6, "reason": "5.3e+04x its reference 19.2 in one step"}


def test_the_cause_of_an_error_becomes_an_error_whichever_is_raised_first():
    for order in ("cause first", "consequence first"):
        explosion = make_finding("exploding_gradient", "dense1.W", 1, EXPLOSION)
        divergence = make_finding("loss_divergence", "loss", 1, DIVERGENCE)
        assert (explosion.severity, divergence.severity) == ("warning", "error")
        pair = (explosion, divergence) if order == "cause first" else (divergence, explosion)
        _raised(*pair)
        assert divergence.consequence_of == "exploding_gradient:dense1.W", order
        assert (explosion.severity, divergence.severity) == ("error", "info"), order


def test_the_cause_of_a_warning_keeps_its_own_severity():
    explosion = make_finding("exploding_gradient", "dense1.W", 1, EXPLOSION)
    underflow = make_finding("underflow", "dense1.b", 4, UNDERFLOW)
    _raised(explosion, underflow)
    assert underflow.consequence_of == "exploding_gradient:dense1.W"
    assert explosion.severity == "warning"
