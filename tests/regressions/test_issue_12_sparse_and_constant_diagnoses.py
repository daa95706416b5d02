"""Issue 12: diagnoses on sparse gradients and on all-equal inputs.

A gradient that is zero almost everywhere (``max(x)**2``, an embedding table with a few
rows used) made the `regularization` diagnosis veto itself: the numeric gradient "fitted"
``0 * param`` on its zeros, which the veto read as "numeric ~ param". A whole-parameter
bug on a gradient with one nonzero entry was reported as "one entry, other". And on
all-equal inputs (what hypothesis shrinks to) a small added term was reported as "the
analytic gradient is 0.9999x the numeric one: a constant factor".
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gradcheck import check_gradient
from gradcheck.diagnose.arrays import diagnose
from tests.budget import examples

LAM = 0.1


def _max_square(x0, grad_factor=2.0, lam=0.0):
    def loss(p):
        return float(np.max(p["x"]) ** 2)

    def grad(p):
        g = np.zeros_like(p["x"])
        i = np.argmax(p["x"])
        g[i] = grad_factor * p["x"][i]
        return {"x": g + lam * p["x"]}

    return loss, grad, {"x": x0}


def _embedding(rng, lam_loss=0.0, lam_grad=LAM):
    table = rng.normal(size=(20, 4))
    rows, target = np.array([1, 5, 9]), rng.normal(size=(3, 4))

    def loss(p):
        e = p["E"]
        return float(0.5 * np.sum((e[rows] - target) ** 2) + 0.5 * lam_loss * np.sum(e**2))

    def grad(p):
        g = np.zeros_like(p["E"])
        np.add.at(g, rows, p["E"][rows] - target)
        return {"E": g + lam_grad * p["E"]}

    return loss, grad, {"E": table}


def test_regularization_on_a_max_gradient_is_named():
    x0 = np.random.default_rng(0).normal(size=10)
    report = check_gradient(*_max_square(x0, lam=LAM))
    top = report.diagnoses[0]
    assert (top.kind, top.path) == ("regularization", "x")
    assert top.evidence["coefficient"] == pytest.approx(LAM, rel=1e-6)


def test_regularization_on_an_embedding_table_is_named_and_counts_informative_entries():
    report = check_gradient(*_embedding(np.random.default_rng(1)))
    top = report.diagnoses[0]
    assert (top.kind, top.path) == ("regularization", "E")
    assert top.evidence["n_informative"] == 80  # the penalty touches every entry
    assert top.confidence > 0.9


def test_sparse_gradients_with_the_penalty_in_both_pass():
    report = check_gradient(*_embedding(np.random.default_rng(1), lam_loss=LAM, lam_grad=LAM))
    assert report.passed and report.diagnoses == []


def test_a_scale_on_the_only_nonzero_entry_is_a_scale_not_one_entry_other():
    x0 = np.random.default_rng(2).normal(size=10)
    report = check_gradient(*_max_square(x0, grad_factor=4.0))
    top = report.diagnoses[0]
    assert (top.kind, top.evidence["matched"], top.evidence["pattern"]) == (
        "scale",
        "2",
        "all entries",
    )
    assert top.evidence["n_informative"] == 1
    assert "its only nonzero entry" in top.message and "other 9 checked entries" in top.message


def test_one_wrong_entry_among_several_nonzero_ones_stays_one_entry():
    numeric = {"W": np.arange(1.0, 13.0).reshape(3, 4)}
    analytic = {"W": numeric["W"].copy()}
    analytic["W"][2, 1] *= 2
    (only,) = diagnose(analytic, numeric, {"W": np.ones((3, 4))})
    assert (only.kind, only.evidence["pattern"]) == ("other", "one entry")


@settings(max_examples=examples(40), deadline=None)
@given(
    seed=st.integers(0, 10_000),
    used=st.integers(1, 4),
    lam=st.sampled_from([0.01, 0.1, 1.0]),
)
def test_property_regularization_is_found_whatever_the_sparsity(seed, used, lam):
    rng = np.random.default_rng(seed)
    param = rng.normal(size=(20, 3))
    numeric = np.zeros_like(param)
    numeric[rng.choice(20, size=used, replace=False)] = rng.normal(size=(used, 3))
    analytic = numeric + lam * param
    top = diagnose({"E": analytic}, {"E": numeric}, {"E": param})[0]
    assert top.kind == "regularization"
    assert top.evidence["coefficient"] == pytest.approx(lam, rel=1e-6)


def test_numeric_proportional_to_param_still_vetoes_regularization():
    # loss = 0.5*||W||^2: numeric = W, so a 2x scale also reads as "analytic - numeric = W"
    param = np.random.default_rng(3).normal(size=(4, 4))
    found = diagnose({"W": 2 * param}, {"W": param}, {"W": param})
    assert [d.kind for d in found] == ["scale"]


@pytest.mark.parametrize(
    "analytic_of",
    [lambda g, p: g + 1e-4 * p, lambda g, p: 1.0001 * g, lambda g, p: g * 0.9997],
    ids=["small-added-penalty", "factor-1.0001", "factor-0.9997"],
)
def test_all_equal_inputs_never_report_a_factor_near_one(analytic_of):
    param = np.full((3, 3), 0.5)
    numeric = 2 * param
    found = diagnose({"W": analytic_of(numeric, param)}, {"W": numeric}, {"W": param})
    assert [d.kind for d in found] == ["other"]
    assert "0.99" not in found[0].message.split("median ratio")[0]
    assert "same numeric value" in found[0].message and "random point" in found[0].message


def test_all_equal_inputs_keep_a_real_factor_with_a_caveat():
    param = np.full((3, 3), 0.5)
    top = diagnose({"W": 2 * param * 2}, {"W": 2 * param}, {"W": param})[0]
    assert (top.kind, top.evidence["matched"]) == ("scale", "2")
    assert "cannot be told from an added term" in top.message


def test_all_equal_healthy_twin_passes():
    def loss(p):
        return float(np.sum(np.tanh(p["x"])))

    def grad(p):
        return {"x": 1 - np.tanh(p["x"]) ** 2}

    assert check_gradient(loss, grad, {"x": np.ones(4)}).passed
