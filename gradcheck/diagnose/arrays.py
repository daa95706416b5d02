"""Diagnoses: from a wrong gradient to a plain-words hypothesis about the user's code.

:func:`diagnose` compares the analytic gradient with the numeric one, parameter by
parameter, and tests each failing parameter against the rows of the kind table
(:data:`gradcheck.diagnose.kinds.KIND_TABLE`: kind -> explanation, model, test). A test
gives a :class:`Diagnosis` with a confidence derived from how well its model explains the
wrong entries, or ``None``. When every failing
parameter shows the same pattern, one tree-level diagnosis (``path=None``) replaces them.

The kinds are the contract vocabulary, documented in :data:`KINDS`. Evidence keys:

- ``sign``: ``factor`` (-1.0); ``scale``: ``factor``, ``matched`` ("2", "1/2",
  "batch_size", "1/batch_size" or None); ``transpose``: none beyond the pattern;
  ``zero``: none beyond the pattern; ``regularization``: ``coefficient`` k (analytic -
  numeric = k * param) and ``interpretation`` ("gradient_penalty_larger" or "..._smaller");
  ``other``: ``ratio`` (median analytic/numeric), ``max_abs_diff``, ``n_nonfinite``.
- Every array diagnosis also has the pattern of the wrong entries: ``pattern`` ("one
  entry", "a row", "a column", "all entries", "scattered"; "parameters" with ``paths``
  for a tree-level one), ``n_failed``, ``n_checked``, up to five ``indices``, and
  ``row``/``column``.
- ``accumulation``: ``max_difference``, ``ratio`` (second/first), ``matched`` ("2" or
  None); ``nondeterministic``: ``first``, ``second``, ``difference``,
  ``relative_difference``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from gradcheck.diagnose.diagnosis import Diagnosis
from gradcheck.diagnose.fits import (
    ACCEPT,
    Case,
    build_cases,
    fitted,
    merge_cases,
    other_words,
    robust_slope,
    weigh_by_consistency,
)
from gradcheck.diagnose.hints import layer_prefix_hint
from gradcheck.diagnose.kinds import KIND_TABLE, SHARED, hypothesis_model, where
from gradcheck.errors import at_path

#: Kind -> its plain-words explanation: the contract vocabulary (rows of
#: :data:`gradcheck.diagnose.kinds.KIND_TABLE`).
KINDS: dict[str, str] = {name: row.explanation for name, row in KIND_TABLE.items()}


def _make(kind: str, case: Case, confidence: float, message: str, **evidence: Any) -> Diagnosis:
    evidence.update(case.pattern)
    return Diagnosis(kind, case.path, float(np.clip(confidence, 0.0, 1.0)), message, evidence)


def _other(case: Case) -> Diagnosis:
    take = case.failed & case.usable
    a, n = case.analytic[take], case.numeric[take]
    n_nonfinite = int(np.sum(case.failed & ~case.usable))
    with np.errstate(all="ignore"):
        ratios = a / np.where(n == 0, np.nan, n)
    finite = ratios[np.isfinite(ratios)]
    ratio = float(np.median(finite)) if finite.size else None
    max_diff = float(np.max(np.abs(a - n))) if a.size else None
    words = other_words(a, n, ratio, n_nonfinite)
    message = f"{where(case)}: the gradient is wrong there: {words}"
    confidence = 0.3 if case.pattern["pattern"] == "scattered" else 0.5
    evidence = {"ratio": ratio, "max_abs_diff": max_diff, "n_nonfinite": n_nonfinite}
    return _make("other", case, confidence, message, **evidence)


def _test(kind: str, case: Case) -> Diagnosis | None:
    """Run the test of `kind`'s row on `case`; a Diagnosis when its model fits."""
    fit = KIND_TABLE[kind].test(case)
    return None if fit is None else _make(kind, case, fit.confidence, fit.message, **fit.evidence)


def _tested() -> list[str]:
    return [name for name, row in KIND_TABLE.items() if row.test is not None]


def _diagnose_case(case: Case) -> list[Diagnosis]:
    if case.fit is None:
        return [_other(case)]
    found = [d for kind in _tested() if (d := _test(kind, case)) is not None]
    return weigh_by_consistency(case, found, hypothesis_model) or [_other(case)]


def _shared(kind: str, per_path: list[list[Diagnosis]]) -> bool:
    """Return True when every failing parameter has `kind`, with one common factor."""
    picks = [next((d for d in ds if d.kind == kind), None) for ds in per_path]
    if any(d is None for d in picks):
        return False
    key = KIND_TABLE[kind].tree_key
    return key == SHARED or all(fitted(d.evidence[key], picks[0].evidence[key]) for d in picks)


def _tree_level(cases: list[Case], per_path: list[list[Diagnosis]]) -> list[Diagnosis]:
    """Replace per-path diagnoses of a kind that every failing parameter shares."""
    found = [d for ds in per_path for d in ds]
    merged = merge_cases(cases) if len(cases) >= 2 else None
    if merged is None:
        return found
    for kind in [name for name in _tested() if KIND_TABLE[name].tree_key is not None]:
        tree = _test(kind, merged) if _shared(kind, per_path) else None
        if tree is not None:
            found = [d for d in found if d.kind != kind] + [tree]
    return found


def diagnose(
    analytic: Mapping[str, Any],
    numeric: Mapping[str, Any],
    params: Mapping[str, Any],
    *,
    checked: Mapping[str, Any] | None = None,
    failed: Mapping[str, Any] | None = None,
    batch_size: int | None = None,
) -> list[Diagnosis]:
    """Explain how the analytic gradient differs from the numeric one.

    Parameters
    ----------
    analytic, numeric, params : mapping of str to ndarray
        Path -> array, all of the same shape per path. `numeric` may hold NaN where an
        entry was not checked.
    checked : mapping of str to bool ndarray, optional
        Path -> mask of the checked entries; a missing mask means every finite entry of
        `numeric` was checked.
    failed : mapping of str to bool ndarray, optional
        Path -> mask of the entries that failed the check. A missing mask is inferred:
        an entry fails when it differs by more than ``1e-5`` relative plus ``1e-8`` of
        the tree's largest gradient entry.
    batch_size : int, optional
        Lets a scale factor equal to the batch size (or its inverse) be recognised.

    Returns
    -------
    list of Diagnosis
        Best first (by confidence); empty when no entry is wrong.

    Notes
    -----
    Each failing parameter is tested against the kind table on its wrong entries
    (``zero``, ``sign``, ``scale``, ``transpose``, ``regularization``). A model explains an
    entry when it matches to 1% and to a tenth of the entry's discrepancy (so noise-level
    errors around 1 never look like a scale); the confidence is the fraction explained
    (robust to a few noisy entries) times a support factor: 0.5 for a parameter with one
    entry (one number fits every scale), > 0.9 from three entries on. One wrong entry of a
    larger parameter is never fitted. Rival kinds are weighed by how many checked entries,
    passing ones too, each is consistent with (evidence ``consistent``): a sign that would
    have failed the passing entries ranks below a transpose that explains them all.
    A parameter that fits none gets ``other`` (0.5, or
    0.3 when its wrong entries are scattered) with the pattern of its wrong entries. A
    kind (with one common factor) shared by every failing parameter, two or more, is
    reported once for the tree, ``path=None``, from a fit on all their wrong entries.
    When no kind fits with confidence and only the first layers' parameters are wrong
    (by the number in their paths), an ``activation_derivative`` hint
    (0.8, ``path=None``) points to :func:`gradcheck.check_layers`.
    Parameters whose gradient is mostly zero are fitted on the entries that carry
    information (nonzero on either side; evidence ``n_informative``).

    Examples
    --------
    >>> import numpy as np
    >>> numeric = {"W": np.array([[1.0, -2.0], [3.0, 0.5]])}
    >>> params = {"W": np.array([[0.3, 0.1], [-0.2, 0.4]])}
    >>> top = diagnose({"W": 2 * numeric["W"]}, numeric, params)[0]
    >>> top.kind, top.path, top.evidence["matched"]
    ('scale', 'W', '2')
    """
    cases = build_cases(analytic, numeric, params, checked, failed, batch_size)
    per_path = [_diagnose_case(case) for case in cases]
    found = _tree_level(cases, per_path)
    hint = layer_prefix_hint(list(analytic), [case.path for case in cases], found)
    return sorted(found + ([hint] if hint else []), key=lambda d: -d.confidence)


def _name(path: str | None) -> str:
    return "the gradient" if path is None else at_path(path)


def accumulation_diagnosis(path: str | None, first: Any, second: Any) -> Diagnosis:
    """Explain a gradient that changed between two calls on the same parameters.

    Parameters
    ----------
    path : str or None
        The parameter whose gradient changed (None for the whole gradient).
    first, second : array_like
        The gradient returned by the first and the second call.

    Returns
    -------
    Diagnosis
        Kind ``accumulation``; evidence ``max_difference``, ``ratio`` (second/first,
        least squares) and ``matched`` ("2" when the second call returned twice the
        first: the gradient was accumulated once more).

    Examples
    --------
    >>> import numpy as np
    >>> accumulation_diagnosis("W", np.ones(3), 2 * np.ones(3)).evidence["matched"]
    '2'
    """
    first = np.asarray(first, dtype=np.float64)
    second = np.asarray(second, dtype=np.float64)
    with np.errstate(all="ignore"):
        diff = np.abs(second - first)
        max_diff = float(np.nanmax(diff)) if diff.size and not np.isnan(diff).all() else None
    ratio, frac = robust_slope(first.ravel(), second.ravel(), reference=first.ravel())
    matched = "2" if ratio is not None and frac >= ACCEPT and fitted(ratio, 2.0) else None
    if matched:
        hypothesis = (
            "the second call returned twice the first: the gradient is accumulated into a "
            "stored array (`+=`) across calls. Reset the gradients (zero_grad) before each "
            "backward, or return a fresh array."
        )
    else:
        hypothesis = (
            "the second call returned a different gradient: the gradient function keeps "
            "state between calls (accumulation without zero_grad, a stale cache, or "
            "randomness). Make it a pure function of the parameters."
        )
    message = f"{_name(path)}: `grad` called twice on the same parameters: {hypothesis}"
    evidence = {"max_difference": max_diff, "ratio": ratio, "matched": matched}
    return Diagnosis("accumulation", path, 1.0 if matched else 0.8, message, evidence)


def nondeterministic_diagnosis(first_value: Any, second_value: Any) -> Diagnosis:
    """Explain a loss that returned two different values for the same parameters.

    Parameters
    ----------
    first_value, second_value : float or array_like
        The two results of the loss at the same point.

    Returns
    -------
    Diagnosis
        Kind ``nondeterministic``, ``path=None``; evidence ``first``, ``second``,
        ``difference`` (largest absolute) and ``relative_difference``.

    Examples
    --------
    >>> nondeterministic_diagnosis(1.0, 1.25).evidence["difference"]
    0.25
    """
    first = np.asarray(first_value, dtype=np.float64)
    second = np.asarray(second_value, dtype=np.float64)
    with np.errstate(all="ignore"):
        diff = float(np.max(np.abs(second - first))) if first.size else 0.0
        size = float(np.max(np.maximum(np.abs(first), np.abs(second)))) if first.size else 0.0
        relative = diff / size if size > 0 else None
    message = (
        "The loss is not a function of the parameters alone: it draws random numbers on each "
        "call (dropout, a sampled mini-batch, noise), so no finite difference can be trusted. "
        "Fix them for the check: a seeded `np.random.default_rng(seed)` created inside the "
        "loss, a fixed dropout mask, or dropout off."
    )
    evidence = {
        "first": first.tolist(),
        "second": second.tolist(),
        "difference": diff,
        "relative_difference": relative,
    }
    return Diagnosis("nondeterministic", None, 1.0, message, evidence)
