"""The diagnosis kinds, one row each: what it means, what it predicts, how it is tested.

A :class:`Kind` row holds the kind's plain-words ``explanation`` (the contract vocabulary,
:data:`gradcheck.diagnose.arrays.KINDS`), its ``model`` (the analytic gradient the hypothesis
predicts from the numeric one and the parameter), its ``test`` on a failing parameter's
wrong entries (a :class:`Fit`: confidence, message, evidence; or None) and, for a kind
that can be shared by every failing parameter, its tree-level evidence key. Kinds without
a test are made elsewhere (layer diagnoses, accumulation, the ``other`` fallback).

Adding a kind is one row of :data:`KIND_TABLE` (and its tests): :func:`gradcheck.diagnose.
arrays.diagnose` runs every row with a test, weighs it by its model and merges it across
parameters when the row says so.

Examples
--------
>>> KIND_TABLE["scale"].tree_key
'factor'
>>> [name for name, row in KIND_TABLE.items() if row.test is not None]
['zero', 'sign', 'scale', 'transpose', 'regularization']
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import numpy as np

from gradcheck.diagnose.fits import (
    ACCEPT,
    ALL_EQUAL_WORDS,
    FIT_RTOL,
    NEAR_ONE,
    SCALE_ADVICE,
    Case,
    agreement,
    all_equal,
    fitted,
    pattern_words,
    penalty_words,
    proportional,
    robust_slope,
    support,
)
from gradcheck.errors import at_path


class Fit(NamedTuple):
    """What a kind's test found: its confidence, the message, the numbers behind it."""

    confidence: float
    message: str
    evidence: dict


#: The predicted analytic gradient: ``model(numeric, param, evidence)``.
Model = Callable[[np.ndarray, np.ndarray, Mapping], np.ndarray]

#: Tree-level merging: no evidence key to compare (the kind alone must be shared).
SHARED = ""


class Kind(NamedTuple):
    """One diagnosis kind.

    Attributes
    ----------
    explanation : str
        The kind in one sentence (the contract vocabulary).
    model : callable or None
        ``model(numeric, param, evidence)``: the analytic gradient the hypothesis predicts
        (weighs a diagnosis by the checked entries it is consistent with).
    test : callable or None
        ``test(case)``: a :class:`Fit` when the model explains at least :data:`ACCEPT` of
        the wrong entries of `case`, else None.
    tree_key : str or None
        None: never merged across parameters; :data:`SHARED`: merged when every failing
        parameter has the kind; else the evidence key that must also agree (a factor).
    """

    explanation: str
    model: Model | None = None
    test: Callable[[Case], Fit | None] | None = None
    tree_key: str | None = None


def where(case: Case) -> str:
    """Name the parameter of `case` (or every failing one) and the pattern of its entries."""
    if case.path is None:
        names = ", ".join(f"`{path}`" for path in case.pattern["paths"])
        return f"Every failing parameter ({names}; {pattern_words(case.pattern)})"
    return f"{at_path(case.path)} ({pattern_words(case.pattern)})"


def _zero_model(n: np.ndarray, p: np.ndarray, evidence: Mapping) -> np.ndarray:
    return np.zeros_like(n)


def _sign_model(n: np.ndarray, p: np.ndarray, evidence: Mapping) -> np.ndarray:
    return -n


def _scale_model(n: np.ndarray, p: np.ndarray, evidence: Mapping) -> np.ndarray:
    return evidence["factor"] * n


def _transpose_model(n: np.ndarray, p: np.ndarray, evidence: Mapping) -> np.ndarray:
    return n.T


def _regularization_model(n: np.ndarray, p: np.ndarray, evidence: Mapping) -> np.ndarray:
    return n + evidence["coefficient"] * p


def _zero(case: Case) -> Fit | None:
    a, n, p = case.fit
    frac = agreement(a, _zero_model(n, p, {}), reference=n, scale=np.abs(n), rtol=1e-6)
    if frac < ACCEPT:
        return None
    message = (
        f"{where(case)}: the analytic gradient is zero where the numeric one is not. The "
        "gradient of this parameter is never written (left at its initial zeros), is "
        "overwritten, or a term of the loss that depends on it was forgotten in backward."
    )
    return Fit(frac * support(a.size), message, {})


def _sign(case: Case) -> Fit | None:
    a, n, p = case.fit
    frac = agreement(a, _sign_model(n, p, {}), reference=n)
    if frac < ACCEPT:
        return None
    message = (
        f"{where(case)}: the analytic gradient is the negative of the numeric one. A sign is "
        "flipped: look for `y - target` written as `target - y` in the loss derivative, a "
        "`-=` instead of `+=`, or a gradient of -loss."
    )
    return Fit(frac * support(a.size), message, {"factor": -1.0})


def _scale_matches(batch_size: int | None) -> dict[str, float]:
    known = {"2": 2.0, "1/2": 0.5}
    if batch_size is not None and batch_size > 1:
        known.update({"batch_size": float(batch_size), "1/batch_size": 1.0 / batch_size})
    return known


def _scale(case: Case) -> Fit | None:
    a, n, _ = case.fit
    c, frac = robust_slope(n, a, reference=n)  # the factor of _scale_model
    if c is None or frac < ACCEPT or abs(c + 1) < FIT_RTOL or abs(c) < 1e-6:
        return None  # c == -1 is a sign error, c ~ 0 a zero gradient
    matched = next((k for k, v in _scale_matches(case.batch_size).items() if fitted(c, v)), None)
    degenerate = all_equal(n)
    if degenerate and matched is None and abs(c - 1) < NEAR_ONE:
        return None  # on all-equal entries a small added term fits a factor c ~ 1
    message = (
        f"{where(case)}: the analytic gradient is {c:.4g}x the numeric one: "
        f"{SCALE_ADVICE[matched]}."
    )
    confidence = frac * support(a.size) * (1.0 if matched else 0.95)
    if degenerate:
        message += f" {ALL_EQUAL_WORDS}"
        confidence *= 0.6
    return Fit(confidence, message, {"factor": c, "matched": matched})


def _transpose(case: Case) -> Fit | None:
    if case.analytic.ndim != 2 or case.analytic.shape[0] != case.analytic.shape[1]:
        return None
    both = case.failed & case.usable & case.usable.T
    if both.sum() < 2:
        return None
    model = _transpose_model(case.numeric, case.param, {})
    frac = agreement(case.analytic[both], model[both], reference=case.numeric[both])
    if frac < ACCEPT:
        return None
    message = (
        f"{where(case)}: the analytic gradient is the transpose of the numeric one. For a "
        "weight used as `x @ W` the gradient is `x.T @ dout` (shape (n_in, n_out)), not "
        "`dout.T @ x`; a square matrix hides the mistake from shape checks."
    )
    return Fit(frac * support(int(both.sum())), message, {})


def _regularization(case: Case) -> Fit | None:
    a, n, p = case.fit
    if a.size < 2:
        return None
    k, frac = robust_slope(p, a - n)  # the coefficient of _regularization_model
    if k is None or frac < ACCEPT or abs(k) < 1e-12 or proportional(p, n):
        return None  # numeric ~ param: a scale error would look the same
    words = penalty_words(k, case.is_vector)
    message = f"{where(case)}: analytic - numeric is proportional to the parameter: {words}."
    interpretation = "gradient_penalty_larger" if k > 0 else "gradient_penalty_smaller"
    return Fit(
        frac * support(a.size),
        message,
        {"coefficient": k, "interpretation": interpretation},
    )


#: Every diagnosis kind, in the order the tests run (ties in confidence keep this order).
KIND_TABLE: dict[str, Kind] = {
    "zero": Kind(
        "The analytic gradient is zero where the numeric one is not (a forgotten term).",
        model=_zero_model,
        test=_zero,
        tree_key=SHARED,
    ),
    "sign": Kind(
        "The analytic gradient is the numeric one with its sign flipped.",
        model=_sign_model,
        test=_sign,
        tree_key=SHARED,
    ),
    "scale": Kind(
        "The analytic gradient is c times the numeric one (c = 2, 1/2, the batch size...).",
        model=_scale_model,
        test=_scale,
        tree_key="factor",
    ),
    "transpose": Kind(
        "The analytic gradient of a square matrix is the transpose of the numeric one.",
        model=_transpose_model,
        test=_transpose,
    ),
    "regularization": Kind(
        "analytic - numeric is proportional to the parameter: the L2 terms differ.",
        model=_regularization_model,
        test=_regularization,
        tree_key="coefficient",
    ),
    "activation_derivative": Kind(
        "An activation's derivative is at the wrong point, missing or wrong."
    ),
    "accumulation": Kind(
        "Two calls on the same parameters differ: gradients accumulate (no zero_grad)."
    ),
    "axis": Kind("A reduction (often the bias gradient's batch sum) runs over the wrong axis."),
    "batch_mixing": Kind("The gradient of sample i depends on sample j in a per-sample layer."),
    "nondeterministic": Kind(
        "The loss differs between two calls at the same point (dropout, noise)."
    ),
    "other": Kind("Wrong with no simple relation to the numeric gradient; the pattern is given."),
}


def hypothesis_model(kind: str, case: Case, evidence: Mapping[str, Any]) -> np.ndarray | None:
    """Return the analytic gradient that hypothesis `kind` predicts from the numeric one."""
    row = KIND_TABLE.get(kind)
    if row is None or row.model is None or case.path is None:
        return None
    return row.model(case.numeric, case.param, evidence)
