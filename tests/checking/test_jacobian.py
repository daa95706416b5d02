"""check_vjp / check_jvp: planted Jacobian bugs caught with the right kind and entries."""

from typing import NamedTuple

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gradcheck
from gradcheck.checking.jacobian_diagnose import JACOBIAN_KINDS
from gradcheck.checking.vectors import entry_name
from gradcheck.diagnose.arrays import KINDS
from tests.budget import examples

RNG = np.random.default_rng(7)
W = RNG.normal(size=(3, 3))  # square and not symmetric
W_WIDE = RNG.normal(size=(2, 4))
X3 = np.array([0.3, -0.7, 1.1])
X4 = np.array([0.2, -0.5, 0.9, 0.4])


def softmax(z):
    e = np.exp(z - z.max())
    return e / e.sum()


def tanh_layer(x):
    return np.tanh(W_WIDE @ x)


def tanh_layer_vjp(x, g):
    return W_WIDE.T @ ((1 - np.tanh(W_WIDE @ x) ** 2) * g)


def tanh_layer_jvp(x, v):
    return (1 - np.tanh(W_WIDE @ x) ** 2) * (W_WIDE @ v)


def tree_f(x):
    return {"a": np.sin(x["u"]) * x["w"], "b": x["u"][0] * x["u"][1]}


def tree_vjp(x, g):
    u, w = x["u"], x["w"]
    du = np.cos(u) * w * g["a"] + g["b"] * np.array([u[1], u[0]])
    return {"u": du, "w": float(np.sum(np.sin(u) * g["a"]))}


def tree_vjp_forgets_b(x, g):
    u, w = x["u"], x["w"]
    return {"u": np.cos(u) * w * g["a"], "w": float(np.sum(np.sin(u) * g["a"]))}


TREE_X = {"u": np.array([0.4, -1.2]), "w": 1.5}


def coupled(x):
    return np.array([x[0] * x[1], x[1] ** 2, np.sin(x[2])])


def coupled_vjp(x, g, wrong=False):
    d11 = 3 * x[1] if wrong else 2 * x[1]  # derivative of output 1 w.r.t. input 1
    return np.array([g[0] * x[1], g[0] * x[0] + g[1] * d11, g[2] * np.cos(x[2])])


class Bug(NamedTuple):
    f: object
    linear: object
    x: object
    kind: str | None  # None: the healthy twin, must pass
    entry: tuple | None = None  # (output name, input name) that must be among the failures


VJP_CASES = {
    "healthy-tanh": Bug(tanh_layer, tanh_layer_vjp, X4, None),
    "sign": Bug(tanh_layer, lambda x, g: -tanh_layer_vjp(x, g), X4, "sign", ("[0]", "[0]")),
    "scale-2": Bug(tanh_layer, lambda x, g: 2 * tanh_layer_vjp(x, g), X4, "scale"),
    "healthy-linear": Bug(lambda x: W @ x, lambda x, g: W.T @ g, X3, None),
    "transpose": Bug(lambda x: W @ x, lambda x, g: W @ g, X3, "transpose", ("[0]", "[1]")),
    "healthy-softmax": Bug(softmax, lambda z, g: softmax(z) * (g - softmax(z) @ g), X3, None),
    "missing-cross-terms": Bug(
        softmax,
        lambda z, g: softmax(z) * (1 - softmax(z)) * g,
        X3,
        "missing_cross_terms",
        ("[0]", "[1]"),
    ),
    "healthy-tree": Bug(tree_f, tree_vjp, TREE_X, None),
    "zero-output-b": Bug(tree_f, tree_vjp_forgets_b, TREE_X, "zero", ("b", "u[1]")),
    "healthy-coupled": Bug(coupled, coupled_vjp, X3, None),
    "one-entry": Bug(
        coupled, lambda x, g: coupled_vjp(x, g, wrong=True), X3, "scale", ("[1]", "[1]")
    ),
}

JVP_CASES = {
    "healthy-tanh": Bug(tanh_layer, tanh_layer_jvp, X4, None),
    "sign": Bug(tanh_layer, lambda x, v: -tanh_layer_jvp(x, v), X4, "sign", ("[1]", "[2]")),
    "scale-half": Bug(tanh_layer, lambda x, v: 0.5 * tanh_layer_jvp(x, v), X4, "scale"),
    "healthy-linear": Bug(lambda x: W @ x, lambda x, v: W @ v, X3, None),
    "transpose": Bug(lambda x: W @ x, lambda x, v: W.T @ v, X3, "transpose", ("[2]", "[0]")),
    "healthy-softmax": Bug(softmax, lambda z, v: softmax(z) * (v - softmax(z) @ v), X3, None),
    "missing-cross-terms": Bug(
        softmax, lambda z, v: softmax(z) * (1 - softmax(z)) * v, X3, "missing_cross_terms"
    ),
}


def _entries(report):
    return {
        (entry_name(f.output_path, f.output_index), entry_name(f.path, f.index))
        for f in report.failures
    }


def _assert_verdict(report, bug: Bug):
    if bug.kind is None:
        assert report.passed, str(report)
        assert not report.failures and not report.diagnoses
        return
    assert not report.passed
    assert report.diagnoses[0].kind == bug.kind, str(report)
    if bug.entry is not None:
        assert bug.entry in _entries(report), sorted(_entries(report))


@pytest.mark.parametrize("case", VJP_CASES.values(), ids=VJP_CASES.keys())
def test_vjp_planted_bugs_and_twins(case):
    report = gradcheck.check_vjp(case.f, case.linear, case.x)
    assert report.mode == "jacobian"
    _assert_verdict(report, case)


@pytest.mark.parametrize("case", JVP_CASES.values(), ids=JVP_CASES.keys())
def test_jvp_planted_bugs_and_twins(case):
    report = gradcheck.check_jvp(case.f, case.linear, case.x)
    _assert_verdict(report, case)


def test_transpose_diagnosis_names_the_fix():
    report = gradcheck.check_vjp(lambda x: W @ x, lambda x, g: W @ g, X3)
    assert "J g where J^T g is needed" in report.diagnoses[0].message
    assert "wrong Jacobian entries (output <- input)" in str(report)


def test_missing_cross_terms_evidence_says_diagonal():
    case = VJP_CASES["missing-cross-terms"]
    found = gradcheck.check_vjp(case.f, case.linear, case.x).diagnoses[0]
    assert found.evidence["structure"] == "diagonal"
    assert found.evidence["n_failed"] == 6  # every off-diagonal entry, none on the diagonal


@pytest.mark.parametrize("name", ["sign", "scale-2"])
def test_vjp_projections_alone_catch_and_name_the_kind(name):
    case = VJP_CASES[name]
    report = gradcheck.check_vjp(case.f, case.linear, case.x, full=False)
    assert report.mode == "projections" and not report.passed
    assert report.diagnoses[0].kind == case.kind
    assert all(f.output_path is None for f in report.failures)


@pytest.mark.parametrize("name", ["sign", "scale-half", "healthy-tanh"])
def test_jvp_projections_alone(name):
    case = JVP_CASES[name]
    report = gradcheck.check_jvp(case.f, case.linear, case.x, full=False)
    assert report.mode == "projections"
    assert set(report.params) == {"direction 0", "direction 1", "direction 2"}
    if case.kind is None:
        assert report.passed, str(report)
    else:
        assert not report.passed and report.diagnoses[0].kind == case.kind


def test_rows_share_evaluations_of_f():
    """The full 2x4 Jacobian costs about one gradient check of x, not one per output."""
    calls = []

    def f(x):
        calls.append(1)
        return tanh_layer(x)

    report = gradcheck.check_vjp(f, tanh_layer_vjp, X4, probes=1)
    single = gradcheck.check_gradient(
        lambda x: float(tanh_layer(x)[0]),
        lambda x: (1 - tanh_layer(x)[0] ** 2) * W_WIDE[0],
        X4,
    )
    assert single.passed
    assert report.n_evaluations == len(calls) - 1  # the first call fixes the output layout
    # without sharing, two rows and a probe would cost three checks; each row pays only its
    # own step trials (issue 10's adaptive steps), the sweep's points are shared
    assert report.n_evaluations <= 1.5 * single.n_evaluations


def test_large_jacobian_uses_projections_by_default():
    x = np.linspace(-1, 1, 60)
    report = gradcheck.check_vjp(np.sin, lambda x, g: np.cos(x) * g, x)
    assert report.mode == "projections" and report.passed


@pytest.mark.slow
def test_many_rows_use_projections_by_default_and_full_on_request():
    k = np.linspace(0.0, 1.0, 200)  # 200 outputs of one input: 200 entries but 200 rows
    f, jvp = (lambda x: np.sin(x * k)), (lambda x, v: np.cos(x * k) * k * v)
    assert gradcheck.check_jvp(f, jvp, 0.3).mode == "projections"
    wrong = gradcheck.check_jvp(f, lambda x, v: jvp(x, v) * (1 + (k == k[7])), 0.3, full=True)
    assert wrong.mode == "jacobian" and _entries(wrong) == {("[7]", "scalar")}


def test_failures_and_dict_are_json_safe():
    case = VJP_CASES["transpose"]
    data = gradcheck.check_vjp(case.f, case.linear, case.x).to_dict()
    assert data["passed"] is False and data["diagnoses"][0]["kind"] == "transpose"
    assert data["diagnoses"][0]["evidence"]["entries"][0] == {"output": "[0]", "input": "[1]"}


def test_accumulating_vjp_is_diagnosed():
    state = {"acc": np.zeros(2)}

    def vjp(x, g):
        state["acc"] = state["acc"] + np.cos(x) * g
        return state["acc"].copy()

    report = gradcheck.check_vjp(np.sin, vjp, np.array([0.1, 0.2]))
    assert not report.passed
    assert "accumulation" in {d.kind for d in report.diagnoses}


def test_assert_vjp_and_jvp_raise_gradient_mismatch():
    with pytest.raises(gradcheck.GradientMismatch, match="transpose"):
        gradcheck.assert_vjp(lambda x: W @ x, lambda x, g: W @ g, X3)
    with pytest.raises(gradcheck.GradientMismatch, match="sign"):
        gradcheck.assert_jvp(np.sin, lambda x, v: -np.cos(x) * v, X3)
    assert gradcheck.assert_jvp(np.sin, lambda x, v: np.cos(x) * v, X3).passed


def test_new_kinds_do_not_clash_with_the_contract_vocabulary():
    assert set(JACOBIAN_KINDS) == {"missing_cross_terms", "asymmetric"}
    assert not set(JACOBIAN_KINDS) & set(KINDS)


@settings(max_examples=examples(25), deadline=None)
@given(
    n_in=st.integers(1, 5),
    n_out=st.integers(1, 5),
    seed=st.integers(0, 2**16),
    factor=st.sampled_from([-1.0, 2.0, 0.5, 1.001]),
)
def test_property_any_smooth_layer_passes_and_any_scaled_vjp_fails(n_in, n_out, seed, factor):
    """The class of the bug, not one example: tanh(A x + b) of any shape, any wrong factor."""
    rng = np.random.default_rng(seed)
    a, b, x = rng.normal(size=(n_out, n_in)), rng.normal(size=n_out), rng.normal(size=n_in)
    a[np.abs(a) < 0.1] = 0.5  # every entry of the Jacobian matters

    def f(x):
        return np.tanh(a @ x + b)

    def vjp(x, g):
        return a.T @ ((1 - f(x) ** 2) * g)

    assert gradcheck.check_vjp(f, vjp, x).passed
    wrong = gradcheck.check_vjp(f, lambda x, g: factor * vjp(x, g), x)
    assert not wrong.passed
    expected = "sign" if factor == -1.0 else "scale"
    assert wrong.diagnoses[0].kind == expected


BAD_INPUT = {
    "f-not-callable": (dict(f=1.0), gradcheck.InvalidTypeError, "`f` must be a callable"),
    "x-int": (dict(x=np.arange(3)), gradcheck.InvalidTypeError, "expected a float dtype"),
    "x-empty": (dict(x=np.zeros(0)), gradcheck.InvalidArgumentError, "no entries"),
    "vjp-shape": (dict(vjp=lambda x, g: np.zeros(2)), gradcheck.TreeMismatchError, r"vjp\(x, g\)"),
    "f-nan": (dict(f=lambda x: x * np.nan), gradcheck.LossValueError, "not finite"),
    "probes": (dict(probes=-1), gradcheck.InvalidArgumentError, "probes"),
    "nothing": (dict(probes=0, full=False), gradcheck.InvalidArgumentError, "checks nothing"),
    "full-type": (dict(full="yes"), gradcheck.InvalidTypeError, "`full` must be"),
    "seed": (dict(seed=-2), gradcheck.InvalidArgumentError, "seed"),
}


@pytest.mark.parametrize("override, error, message", BAD_INPUT.values(), ids=BAD_INPUT.keys())
def test_input_validation(override, error, message):
    kwargs = {"f": np.sin, "vjp": lambda x, g: np.cos(x) * g, "x": X3, **override}
    with pytest.raises(error, match=message):
        gradcheck.check_vjp(kwargs.pop("f"), kwargs.pop("vjp"), kwargs.pop("x"), **kwargs)


def test_jvp_of_the_wrong_structure_is_named():
    with pytest.raises(gradcheck.TreeMismatchError, match=r"jvp\(x, v\)"):
        gradcheck.check_jvp(np.sin, lambda x, v: {"y": v}, X3)


@pytest.mark.parametrize(
    "name",
    ["check_vjp", "check_jvp", "check_hvp", "check_hessian"]
    + ["assert_vjp", "assert_jvp", "assert_hvp", "assert_hessian"],
)
def test_contract_names_are_top_level(name):
    assert name in gradcheck.__all__ and callable(getattr(gradcheck, name))


def test_no_simple_relation_is_other_with_the_entries_named():
    def vjp(x, g):  # two wrong entries, off by unrelated amounts
        out = coupled_vjp(x, g)
        out[1] += g[1] * (0.3 + x[0])
        out[2] += g[0] * 0.7
        return out

    report = gradcheck.check_vjp(coupled, vjp, X3)
    assert report.diagnoses[0].kind == "other"
    assert _entries(report) == {("[1]", "[1]"), ("[0]", "[2]")}


def test_nondeterministic_f_is_refused():
    rng = np.random.default_rng(0)
    with pytest.raises(gradcheck.NondeterministicError):
        gradcheck.check_vjp(lambda x: np.sin(x) + 1e-3 * rng.normal(), lambda x, g: g, X3)


def test_method_defaults_follow_check_gradient_per_mode():
    """No method given: central entry by entry, Richardson with `directions` (issue 10)."""
    w = np.random.default_rng(0).normal(size=(30, 30))
    x = np.linspace(-1, 1, 30)

    def f(x):
        return np.tanh(w @ x)

    def vjp(x, g):
        return w.T @ ((1 - np.tanh(w @ x) ** 2) * g)

    assert gradcheck.check_vjp(f, vjp, x).method == "central"
    directional = gradcheck.check_vjp(f, vjp, x, full=False, directions=2)
    assert directional.passed and directional.method == "richardson"
    one_entry_off = np.r_[1.01, np.ones(29)]
    wrong = gradcheck.check_vjp(
        f, lambda x, g: vjp(x, g) * one_entry_off, x, full=False, directions=2
    )
    assert not wrong.passed
