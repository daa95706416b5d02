"""check_hvp / check_hessian: planted second-order bugs, symmetry, and ReLU kinks."""

import numpy as np
import pytest

import gradcheck
from gradcheck.checking.vectors import entry_name

A = np.array([[2.0, 1.0, 0.5], [1.0, 3.0, -1.0], [0.5, -1.0, 4.0]])
P3 = np.array([0.3, -0.4, 0.8])


def smooth_grad(p):
    return A @ p + np.sin(p)


def smooth_hvp(p, v):
    return A @ v + np.cos(p) * v


# a two-leaf loss L = 0.5 * (a.b)^2 + 0.5 * |a|^2 whose Hessian has cross-parameter blocks
TREE = {"a": np.array([0.5, -1.0]), "b": np.array([1.5, 0.25])}


def tree_grad(p):
    s = p["a"] @ p["b"]
    return {"a": s * p["b"] + p["a"], "b": s * p["a"]}


def tree_hvp(p, v, *, blocks_only=False):
    a, b, s = p["a"], p["b"], p["a"] @ p["b"]
    hv_a = b * (b @ v["a"]) + v["a"]
    hv_b = a * (a @ v["b"])
    if not blocks_only:
        hv_a = hv_a + s * v["b"] + b * (a @ v["b"])
        hv_b = hv_b + s * v["a"] + a * (b @ v["a"])
    return {"a": hv_a, "b": hv_b}


def relu_grad(p):
    """Gradient of 0.5*sum(relu(p)^2) + 0.25*(p0 + p1)^2: ReLU corners where p == 0."""
    g = np.maximum(p, 0.0)
    g[:2] += 0.5 * (p[0] + p[1])
    return g


def relu_hessian(p):
    h = np.diag((p > 0).astype(float))
    h[:2, :2] += 0.5
    return h


RELU_POINT = np.array([0.0, 0.7, -0.3, 0.0, 1.2])


def _entries(report):
    return {
        (entry_name(f.output_path, f.output_index), entry_name(f.path, f.index))
        for f in report.failures
    }


def test_healthy_hvp_passes_full_and_projected():
    for full in (True, False):
        report = gradcheck.check_hvp(smooth_grad, smooth_hvp, P3, full=full)
        assert report.passed, str(report)
        assert not report.diagnoses


@pytest.mark.parametrize("full", [True, False], ids=["full", "projections"])
def test_sign_flipped_hvp(full):
    report = gradcheck.check_hvp(smooth_grad, lambda p, v: -smooth_hvp(p, v), P3, full=full)
    assert not report.passed
    assert report.diagnoses[0].kind == "sign"


def test_one_wrong_hessian_entry_is_located_by_row_and_column():
    def hvp(p, v):
        out = smooth_hvp(p, v)
        out[0] += 5.0 * v[2]  # H[0, 2] and only it is wrong (so H is also asymmetric)
        return out

    report = gradcheck.check_hvp(smooth_grad, hvp, P3)
    assert _entries(report) == {("[0]", "[2]")}
    assert {d.kind for d in report.diagnoses} >= {"asymmetric"}
    assert report.diagnoses[0].kind == "asymmetric"


def test_missing_cross_parameter_blocks():
    report = gradcheck.check_hvp(tree_grad, lambda p, v: tree_hvp(p, v, blocks_only=True), TREE)
    assert not report.passed
    first = report.diagnoses[0]
    assert first.kind == "missing_cross_terms" and first.evidence["structure"] == "blocks"
    assert ("a[0]", "b[0]") in _entries(report) and ("b[1]", "a[1]") in _entries(report)


def test_healthy_tree_hvp_passes():
    report = gradcheck.check_hvp(tree_grad, tree_hvp, TREE)
    assert report.passed, str(report)


@pytest.mark.parametrize("full", [True, False], ids=["full", "projections"])
def test_grad_that_is_no_gradient_makes_an_asymmetric_hessian(full):
    b = np.array([[2.0, 1.0, 0.0], [0.0, 3.0, 0.0], [0.0, 0.0, 1.0]])  # not symmetric
    report = gradcheck.check_hvp(lambda p: b @ p, lambda p, v: b @ v, P3, full=full)
    assert not report.passed
    assert not report.failures  # hvp agrees with the differences of grad
    assert report.diagnoses[0].kind == "asymmetric"
    assert "not the gradient of any function" in report.diagnoses[0].message


def test_relu_hessian_reports_kinks_not_failures():
    report = gradcheck.check_hessian(relu_grad, relu_hessian, RELU_POINT)
    assert report.passed, str(report)
    assert {index for _, index in report.kinks} == {(0,), (3,)}  # the inputs at ReLU corners


def test_relu_hvp_reports_kinks_not_failures():
    hvp = lambda p, v: relu_hessian(p) @ v  # noqa: E731
    report = gradcheck.check_hvp(relu_grad, hvp, RELU_POINT)
    assert report.passed, str(report)
    assert report.kinks and not report.failures


def test_wrong_relu_hessian_still_fails_away_from_the_corners():
    def wrong(p):
        h = relu_hessian(p)
        h[1, 1] = 2.0  # should be 1.5
        return h

    report = gradcheck.check_hessian(relu_grad, wrong, RELU_POINT)
    assert not report.passed
    assert _entries(report) == {("[1]", "[1]")}
    assert report.kinks


def test_explicit_hessian_scale_and_shape_forms():
    x = np.array([[0.5, -1.0], [2.0, 0.3]])
    grad = lambda p: p**3  # noqa: E731
    hessian = lambda p: np.diag(3 * p.ravel() ** 2).reshape(2, 2, 2, 2)  # noqa: E731
    assert gradcheck.check_hessian(grad, hessian, x).passed
    wrong = gradcheck.check_hessian(grad, lambda p: 2 * hessian(p), x)
    assert wrong.diagnoses[0].kind == "scale" and wrong.diagnoses[0].evidence["matched"] == "2"


def test_assert_hvp_and_hessian():
    with pytest.raises(gradcheck.GradientMismatch, match="sign"):
        gradcheck.assert_hvp(smooth_grad, lambda p, v: -smooth_hvp(p, v), P3)
    with pytest.raises(gradcheck.GradientMismatch, match="asymmetric"):
        gradcheck.assert_hessian(lambda p: np.triu(A) @ p, lambda p: np.triu(A), P3)


def test_input_validation():
    with pytest.raises(gradcheck.TreeMismatchError, match=r"hessian\(params\)` has shape"):
        gradcheck.check_hessian(smooth_grad, lambda p: np.eye(2), P3)
    with pytest.raises(gradcheck.TreeMismatchError, match=r"`grad\(params\)` must be a tree like"):
        gradcheck.check_hvp(lambda p: p[:2], lambda p, v: v, P3)
    with pytest.raises(gradcheck.TreeMismatchError, match=r"hvp\(params, v\)"):
        gradcheck.check_hvp(smooth_grad, lambda p, v: v[:2], P3)


def test_projections_that_all_cross_a_corner_certify_nothing():
    """At a ReLU corner every direction crosses the kink: never PASSED on that alone."""
    hvp = lambda p, v: relu_hessian(p) @ v  # noqa: E731
    report = gradcheck.check_hvp(relu_grad, hvp, RELU_POINT, full=False)
    assert not report.passed and not report.failures
    assert any("nothing was certified" in note for note in report.notes)
    away = gradcheck.check_hvp(relu_grad, hvp, RELU_POINT + 0.05, full=False)
    assert away.passed and not away.kinks


def test_kinks_are_named_by_output_and_input():
    report = gradcheck.check_hessian(relu_grad, relu_hessian, RELU_POINT)
    assert any("[0] <- [0]" in note and "[3] <- [3]" in note for note in report.notes)
