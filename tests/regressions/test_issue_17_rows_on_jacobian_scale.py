"""Issue 17 meets issue 10: Jacobian rows were judged on their own scale.

check_vjp/check_jvp/check_hvp/check_hessian check each row of the Jacobian as the
gradient of one output entry. Each row was judged like a whole gradient, against its own
largest derivative: for ``f(x) = tanh(A x + b)`` with ``A = [[1.0], [3e-194]]`` at
``x = 0`` the second row's scale was 3e-194, far below what differences of an output of
size ~0.5 resolve, so the row came out INCONCLUSIVE ("cannot be checked to 1%") and made
the whole, correct, Jacobian inconclusive. Its reason blamed a rounded loss ("The loss is
too noisy (rounded or quantized values)"): nothing was rounded. And the failure table and
``Failure.to_dict()`` left out the output entry of a wrong Jacobian entry.

Now an entry of a Jacobian is judged against the Jacobian's largest derivative per input
leaf; a 1% error in a significant entry still fails; a derivative far below the loss's
resolution is worded as such, with both numbers; failures show ``output <- input``.
"""

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gradcheck
from gradcheck import check_gradient
from gradcheck.checking.gradient_reasons import Facts, coarse_kind
from gradcheck.checking.gradient_results import Failure
from gradcheck.report import RunReport, validate
from tests.budget import examples

B = np.array([0.3, 0.5])


def _map(a):
    def f(x):
        return np.tanh(a @ x + B)

    def vjp(x, g):
        return a.T @ ((1 - f(x) ** 2) * g)

    def jvp(x, v):
        return (1 - f(x) ** 2) * (a @ v)

    return f, vjp, jvp


def _checks(a, wrong=1.0):
    f, vjp, jvp = _map(a)
    bad = np.array([wrong, 1.0])  # scales the first output's row
    x = np.zeros(a.shape[1])
    return {
        "vjp": gradcheck.check_vjp(f, lambda x, g: vjp(x, g * bad), x),
        "jvp": gradcheck.check_jvp(f, lambda x, v: jvp(x, v) * bad, x),
    }


@pytest.mark.parametrize("what", ["vjp", "jvp"])
def test_issue_17_a_tiny_row_of_a_correct_jacobian_passes(what):
    report = _checks(np.array([[1.0], [3e-194]]))[what]
    assert report.passed and report.status == "passed", str(report)
    assert not report.inconclusive


@pytest.mark.parametrize("what", ["vjp", "jvp"])
def test_issue_17_a_one_percent_error_in_a_significant_entry_fails(what):
    report = _checks(np.array([[1.0], [3e-194]]), wrong=1.01)[what]
    assert report.status == "failed", str(report)
    assert [(f.output_index, f.index) for f in report.failures] == [((0,), (0,))]


def test_issue_17_hessian_with_a_tiny_block_passes():
    scale = np.array([1.0, 1e-200])

    def grad(p):
        return scale * np.sin(p)

    report = gradcheck.check_hessian(grad, lambda p: np.diag(scale * np.cos(p)), np.ones(2))
    assert report.passed, str(report)
    wrong = gradcheck.check_hessian(grad, lambda p: -np.diag(scale * np.cos(p)), np.ones(2))
    assert wrong.status == "failed" and wrong.diagnoses[0].kind == "sign"


@settings(max_examples=examples(25), deadline=None)
@given(
    tiny=st.floats(1e-300, 1e-20),  # ~0 next to outputs of size ~0.5 (resolution ~1e-11)
    big=st.floats(0.05, 2.0),
    n_inputs=st.integers(1, 3),
    seed=st.integers(0, 2**16),
)
def test_issue_17_rows_of_any_tiny_scale_pass_and_sign_flips_fail(tiny, big, n_inputs, seed):
    rng = np.random.default_rng(seed)
    a = rng.uniform(0.5, 1.0, size=(3, n_inputs)) * rng.choice([-1, 1], size=(3, n_inputs))
    a *= np.array([[big], [tiny], [tiny * big]])  # one significant row, two ~0 ones
    f, vjp, jvp = _map_3(a)
    x = np.zeros(n_inputs)
    assert gradcheck.check_vjp(f, vjp, x).passed
    assert gradcheck.check_jvp(f, jvp, x).passed
    wrong = gradcheck.check_vjp(f, lambda x, g: -vjp(x, g), x)
    assert wrong.status == "failed" and wrong.diagnoses[0].kind == "sign"


def _map_3(a):
    b = np.array([0.3, 0.5, -0.2])

    def f(x):
        return np.tanh(a @ x + b)

    return f, lambda x, g: a.T @ ((1 - f(x) ** 2) * g), lambda x, v: (1 - f(x) ** 2) * (a @ v)


def test_issue_17_a_jacobian_entirely_below_resolution_is_inconclusive_and_says_why():
    report = _checks(np.array([[1e-200], [3e-194]]))["vjp"]
    assert report.status == "inconclusive" and report.params[""].status == "inconclusive"
    reasons = [item.reason for item in report.inconclusive]
    assert any(r.startswith("for output [1], ") for r in reasons), reasons
    assert all("far below" in r and "rounded" not in r.split("nothing")[0] for r in reasons)
    assert "noisy" not in str(report)


def test_issue_17_tiny_derivative_of_a_plain_loss_is_worded_as_such():
    report = check_gradient(
        lambda x: float(np.tanh(1e-194 * x[0] + 1.0)),
        lambda x: 1e-194 * (1 - np.tanh(1.0) ** 2) * np.ones(1),
        np.zeros(1),
    )
    assert report.status == "inconclusive"
    item = report.inconclusive[0]
    assert "nothing is rounded" in item.reason and "4.2e-195" in item.reason
    assert "of size 0.762" in item.reason  # the loss's size and its resolution: both numbers
    assert "~0 relative to the loss" in item.advice and "`atol`" in item.advice
    assert "noisy" not in item.reason + item.advice


@pytest.mark.parametrize("decimals", [3, 4])
def test_issue_17_a_rounded_loss_is_still_worded_as_rounded(decimals):
    x = np.random.default_rng(0).normal(size=6)
    report = check_gradient(lambda p: float(np.round(np.sum(np.sin(p)), decimals)), np.cos, x)
    assert report.status == "inconclusive"
    item = report.inconclusive[0]
    assert "rounded or quantized" in item.reason and "unrounded" in item.advice
    assert "nothing is rounded" not in item.reason
    if decimals == 4:  # the measured rounding next to float64's of the value: both numbers
        assert "measured at 5e-05" in item.reason and "its value 0.539" in item.reason


def _facts(**changes):
    base = Facts(0, False, 0, 0, 4, 4, 1.0, True, "float64", 1e-16, 2.2e-16, 1.0, 1.0, 1e-9)
    return base._replace(**changes)


@pytest.mark.parametrize(
    ("changes", "kind"),
    [
        ({"sigma": 1e-6}, "noisy"),  # measured rounding far above float64's of the value
        ({"sigma": float("inf")}, "noisy"),  # the loss never moved
        ({"scale": 1e-190}, "tiny"),  # clean loss, derivatives below its resolution
        ({"precision": "float32", "eps_eval": 1.2e-7, "sigma": 1.2e-7}, "low_precision"),
        (  # a float32 loss whose derivatives float64 could not resolve either
            {"precision": "float32", "eps_eval": 1.2e-7, "sigma": 1.2e-7, "scale": 1e-30},
            "tiny",
        ),
    ],
)
def test_issue_17_coarse_entries_are_told_apart_by_the_numbers(changes, kind):
    assert coarse_kind(_facts(**changes)) == kind


def test_issue_17_jacobian_failures_name_the_output_in_the_table_and_json():
    report = _checks(np.array([[1.0, -2.0], [0.5, 3.0]]), wrong=1.5)["vjp"]
    text = str(report)
    assert "[0] <- params[0]" in text and "[0] <- params[1]" in text
    data = json.loads(json.dumps(report.to_dict(), allow_nan=False))
    assert {(f["output_path"], tuple(f["output_index"])) for f in data["failures"]} == {("", (0,))}
    assert validate(RunReport(checks=[data]).to_dict()) == []
    data["failures"][0]["output_index"] = "0"  # the schema knows the field's type
    assert validate(RunReport(checks=[data]).to_dict())


def test_issue_17_tree_outputs_and_plain_failures_render():
    tree = Failure("W", (0, 1), 1.0, 0.0, 1.0, 0.1, 10.0, "out.y", (2,))
    assert tree.entry == "out.y[2] <- W[0,1]"
    assert tree.to_dict()["output_path"] == "out.y" and tree.to_dict()["output_index"] == [2]
    plain = Failure("W", (0, 1), 1.0, 0.0, 1.0, 0.1, 10.0)
    assert plain.entry == "W[0,1]"
    assert plain.to_dict()["output_path"] is None and plain.to_dict()["output_index"] is None
