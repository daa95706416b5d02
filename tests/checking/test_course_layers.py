"""Course-style layers (examples/course): every typical bug caught and named, correct twins pass.

The layers are our own CS231n-style implementations with one switch per typical bug
(``examples/course/layers.py``); ``check_course_layers.course_problems`` wraps each one as
a user would, with one ``check_layers`` call per layer.
"""

import importlib.util
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.budget import examples, slow_except

COURSE = Path(__file__).resolve().parents[2] / "examples" / "course"


def _load():
    spec = importlib.util.spec_from_file_location(
        "check_course_layers", COURSE / "check_course_layers.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


CHECK = _load()
COURSE_LAYERS = CHECK.course


def check(key, *bugs):
    with COURSE_LAYERS.bugs(*bugs):
        layers, x = CHECK.course_problems()[key]
        return CHECK.check_layers(layers, x).layers[0]


# bug -> (layer, kind, path, words the top diagnosis must say)
BUGS = {
    "affine_forward_unfinished": (
        "affine",
        "other",
        "affine.forward",
        "`affine_forward` returned None",
    ),
    "affine_dw_transposed": ("affine", "transpose", "affine.w", "the transpose"),
    "affine_db_keepdims": ("affine", "axis", "affine.b", "drop keepdims"),
    "affine_dx_forgot_w": ("affine", "other", "affine.x", "forgot the weights"),
    "relu_forward_mask": ("relu", "other", "relu.forward", "Is the forward right?"),
    "relu_backward_unfinished": ("relu", "other", "relu.x", "`relu_backward` (the backward of"),
    "bn_coupling_dropped": ("batchnorm", "batch_mixing", "batchnorm", "dropped the terms through"),
    "bn_not_reduced": ("batchnorm", "axis", "batchnorm", "dvar and dmean were not reduced"),
    "bn_eps": ("batchnorm", "other", "batchnorm", "use `eps` differently"),
    "bn_count": ("batchnorm_alt", "scale", "batchnorm_alt", "by D = 5 where the forward's"),
    "bn_dgamma_keepdims": ("batchnorm", "axis", "batchnorm.gamma", "drop keepdims"),
    "ln_batch_axis": ("layernorm", "batch_mixing", "layernorm", "mixes samples in its backward"),
    "dropout_no_scale": ("dropout", "scale", "dropout", "The factor is p = 0.8"),
    "conv_db_mean": ("conv", "scale", "conv.b", "The factor is 1/(H·W) = 0.04"),
    "conv_dx_padded": ("conv", "other", "conv.x", "keeps the padding"),
    "maxpool_all_positions": ("maxpool", "other", "maxpool.x", "does not depend on"),
    "sbn_count": ("spatial_batchnorm", "scale", "spatial_batchnorm", "by N = 2 where the"),
    "softmax_no_mean": ("softmax_loss", "scale", "softmax_loss.x", "The factor is N = 8"),
}


@pytest.mark.parametrize("bug", slow_except(sorted(BUGS), fast=set(BUGS) - {"conv_db_mean"}))
def test_every_typical_bug_is_caught_and_named(bug):
    """The spatial count names N·H·W; batch norm's alt backward names D and N."""
    key, kind, path, words = BUGS[bug]
    report = check(key, bug)
    assert not report.passed
    top = report.diagnoses[0]
    assert (top.kind, top.path) == (kind, path), report.diagnoses
    assert words in top.message, top.message
    assert report.verdict.startswith(f"{kind} at {path}")
    if bug in ("sbn_count", "bn_count"):
        assert ("N·H·W = 32" if bug == "sbn_count" else "over N = 8") in top.message


def test_every_bug_switch_is_tested():
    hygiene = {"relu_inplace", "softmax_inplace"}
    assert set(BUGS) | hygiene == set(COURSE_LAYERS.BUG_NAMES)


@pytest.mark.parametrize("key", sorted(CHECK.course_problems()))
def test_correct_twin_passes_without_flags(key):
    report = check(key)
    assert report.passed, report.diagnoses
    assert report.diagnoses == []
    mixing = key in ("batchnorm", "batchnorm_alt", "spatial_batchnorm")
    assert (report.batch_independent is False) == mixing
    assert all("wrote into" not in note for note in report.notes)


@pytest.mark.parametrize(
    "bug, key, words",
    [
        ("relu_inplace", "relu", "`relu_backward` wrote into its cache in place"),
        ("softmax_inplace", "softmax_loss", "`softmax_loss` (the forward of layer"),
    ],
)
def test_in_place_writers_pass_with_a_note(bug, key, words):
    report = check(key, bug)
    assert report.passed, report.diagnoses
    assert any(words in note for note in report.notes), report.notes


def test_batch_norm_writes_into_bn_param_and_still_passes():
    layers, x = CHECK.course_problems()["batchnorm"]
    bn_param = layers[0].args[0]
    assert CHECK.check_layers(layers, x).passed
    assert "running_mean" not in bn_param  # each call got a deep copy


@pytest.mark.slow
def test_the_script_exits_0_when_correct_and_1_with_a_bug(capsys):
    assert CHECK.main([]) == 0
    assert CHECK.main(["--bug", "bn_eps"]) == 1
    out = capsys.readouterr().out
    assert "batchnorm          FAILED  other at batchnorm" in out


@pytest.mark.slow
@settings(max_examples=examples(6), deadline=None)
@given(seed=st.integers(0, 2**16))
def test_property_correct_course_layers_pass_on_any_draw(seed):
    results = CHECK.check_all(seed)
    assert all(r.passed for r in results.values()), {
        k: r.layers[0].verdict for k, r in results.items() if not r.passed
    }
