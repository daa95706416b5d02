"""The arrays behind the diagnoses: per-parameter cases, robust fits and entry patterns.

:func:`build_cases` turns the analytic/numeric/params mappings into one :class:`Case` per
failing parameter; :mod:`gradcheck.diagnose.arrays` tests each case against its table of kinds
with :func:`agreement` and :func:`robust_slope`. Everything here is warning-free on NaN,
zero-size and 0-d arrays.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

import numpy as np

from gradcheck.errors import InvalidTypeError, TreeMismatchError, at_path

#: A model is accepted when it explains at least this fraction of the entries it is fitted on.
ACCEPT = 0.8
FIT_RTOL = 1e-2  # an entry fits a model when it agrees to 1% (finite differences are far better)
INFER_RTOL = 1e-5  # without `failed`, an entry is wrong when it differs by more than this
INFER_ATOL = 1e-8  # ... plus this fraction of the largest gradient entry of the tree
MAX_INDICES = 5
NEAR_ONE = 0.05  # a ratio this close to 1 that fits no factor is an added term in disguise
ALL_EQUAL_WORDS = (
    "Every checked entry has the same numeric value, so a factor cannot be told from an "
    "added term (a regularization, an epsilon): check again at a random point, e.g. "
    "`np.random.default_rng(0).normal(size=shape)`."
)


@dataclass(frozen=True)
class Case:
    """One failing parameter: its arrays, masks, the fitted entries and their pattern."""

    path: str | None  # None for the tree-level case of merge_cases
    analytic: np.ndarray
    numeric: np.ndarray
    param: np.ndarray
    usable: np.ndarray  # checked, and finite on both sides
    failed: np.ndarray  # the wrong entries
    batch_size: int | None
    pattern: dict
    fit: tuple[np.ndarray, np.ndarray, np.ndarray] | None  # (a, n, p) at the wrong entries
    is_vector: bool = False  # 1-D parameters (biases, most often)


def support(n_entries: int) -> float:
    """Return how much a fit on `n_entries` entries can be trusted (1 entry fits any scale)."""
    return 1.0 - 0.5 * 0.4 ** max(n_entries - 1, 0)


def fitted(value: float, target: float, rel: float = 0.02) -> bool:
    """Return True when `value` is within `rel` (relative) of `target`."""
    return abs(value - target) <= rel * abs(target)


def agree_mask(y, model, *, reference=None, scale=None, rtol=FIT_RTOL) -> np.ndarray:
    """Return the entries where `model` explains `y`.

    An entry is explained when it matches to `rtol` of the larger magnitude (or of
    `scale`) and, given the bug-free `reference`, to a tenth of its discrepancy
    ``|y - reference|``: a model must account for the error, not only for the value.
    """
    with np.errstate(all="ignore"):
        size = np.maximum(np.abs(y), np.abs(model))
        if scale is not None:
            size = np.maximum(size, scale)
        allowed = rtol * size
        if reference is not None:
            allowed = np.minimum(allowed, 0.1 * np.abs(y - reference))
        return np.abs(y - model) <= allowed + np.finfo(np.float64).tiny


def agreement(y, model, *, reference=None, scale=None, rtol=FIT_RTOL) -> float:
    """Return the fraction of entries that `model` explains (0 for no entries)."""
    if np.size(y) == 0:
        return 0.0
    return float(np.mean(agree_mask(y, model, reference=reference, scale=scale, rtol=rtol)))


def robust_slope(x: np.ndarray, y: np.ndarray, reference=None) -> tuple[float | None, float]:
    """Fit ``y ~ k * x``: median ratio, refined by least squares on the entries it explains.

    Returns ``(k, fraction of entries explained)`` (see :func:`agree_mask` for
    `reference`), or ``(None, 0.0)`` when `x` is all zero. A few outliers move neither
    `k` nor, much, the fraction.
    """
    with np.errstate(all="ignore"):
        size = np.abs(x)
        if x.size == 0 or not np.max(size) > 0:
            return None, 0.0
        big = size > 1e-3 * np.max(size)
        k = float(np.median(y[big] / x[big]))
        inliers = agree_mask(y, k * x)
        denominator = float(np.dot(x[inliers], x[inliers]))
        if denominator > 0:
            k = float(np.dot(x[inliers], y[inliers]) / denominator)
    return k, agreement(y, k * x, reference=reference)


def proportional(x: np.ndarray, y: np.ndarray) -> bool:
    """Return True when ``y ~ k * x`` on most entries with a slope ``k`` that is not ~0.

    A mostly-zero `y` (a sparse gradient) fits ``k = 0`` on its zeros: that is no
    proportionality.
    """
    k, frac = robust_slope(x, y)
    if k is None or frac < ACCEPT:
        return False
    return abs(k) * float(np.max(np.abs(x))) > 1e-3 * float(np.max(np.abs(y), initial=0.0))


def all_equal(values: np.ndarray) -> bool:
    """Return True for two or more entries that all have the same value (to 1e-7, FD noise)."""
    if np.size(values) < 2:
        return False
    return float(np.ptp(values)) <= 1e-7 * float(np.max(np.abs(values)))


def entry_pattern(
    failed: np.ndarray, checked: np.ndarray | None = None, informative: np.ndarray | None = None
) -> dict:
    """Describe where the wrong entries are.

    Returns a dict with ``pattern`` ("none", "one entry", "all entries", "a row",
    "a column" or "scattered"), ``n_failed``, ``n_checked``, up to five ``indices``, and
    ``row`` or ``column`` for those patterns (2-D parameters). Given `informative` (the
    checked entries whose gradient is nonzero on either side), ``n_informative`` too, and
    a parameter whose every informative entry is wrong is "all entries" (a sparse
    gradient: the zeros on both sides say nothing about the bug).
    """
    failed = np.asarray(failed, dtype=bool)
    checked = np.ones(failed.shape, bool) if checked is None else np.asarray(checked, bool)
    where = np.argwhere(failed)
    n_failed, n_checked = len(where), int(checked.sum())
    out = {"n_failed": n_failed, "n_checked": n_checked}
    out["indices"] = [[int(i) for i in index] for index in where[:MAX_INDICES]]
    n_informative = n_checked if informative is None else int(np.sum(informative & checked))
    if informative is not None:
        out["n_informative"] = n_informative
    if n_failed == 0:
        out["pattern"] = "none"
    elif n_failed >= n_informative and n_informative < n_checked:
        out["pattern"] = "all entries"
    elif n_failed == 1:
        out["pattern"] = "one entry"
    elif n_failed >= n_checked:
        out["pattern"] = "all entries"
    elif failed.ndim == 2 and np.all(where[:, 0] == where[0, 0]):
        out.update(pattern="a row", row=int(where[0, 0]))
    elif failed.ndim == 2 and np.all(where[:, 1] == where[0, 1]):
        out.update(pattern="a column", column=int(where[0, 1]))
    else:
        out["pattern"] = "scattered"
    return out


def pattern_words(pattern: dict) -> str:
    """Return the pattern in words: "entry (2, 3)", "row 1", "all 12 entries"..."""
    kind, n_failed, n_checked = pattern["pattern"], pattern["n_failed"], pattern["n_checked"]
    if kind == "one entry":
        return f"entry {tuple(pattern['indices'][0])}"
    if kind == "all entries":
        return _all_entries_words(pattern)
    if kind == "a row":
        return f"row {pattern['row']}: {n_failed} of {n_checked} checked entries"
    if kind == "a column":
        return f"column {pattern['column']}: {n_failed} of {n_checked} checked entries"
    if kind == "none":
        return "no wrong entry"
    if kind == "parameters":
        return f"{n_failed} of {n_checked} checked entries"
    return f"{n_failed} of {n_checked} checked entries, scattered"


def _all_entries_words(pattern: dict) -> str:
    n_checked, n_informative = pattern["n_checked"], pattern.get("n_informative")
    if n_informative is None or n_informative >= n_checked:
        return f"all {n_checked} checked entries" if n_checked > 1 else "its only entry"
    zeros = n_checked - n_informative
    which = (
        f"its only nonzero entry {tuple(pattern['indices'][0])}"
        if n_informative == 1
        else f"all {n_informative} entries with a nonzero gradient"
    )
    return f"{which}; the other {zeros} checked entries are zero in both gradients"


# The words of the hypotheses: one entry per recognised scale factor.
SCALE_ADVICE = {
    "2": "a missing 0.5 in the loss (0.5*||r||^2) or a factor 2 in the derivative",
    "1/2": "a 0.5 in the derivative that the loss does not have (or a loss without its 0.5)",
    "batch_size": "the gradient sums over the batch while the loss averages: divide the "
    "gradient by the batch size (or make the loss a sum)",
    "1/batch_size": "the loss sums over the batch while the gradient averages: make both "
    "means (or both sums)",
    None: "a constant factor in the loss or in the derivative that the other lacks",
}


def penalty_words(k: float, is_vector: bool) -> str:
    """Return the regularization hypotheses for ``analytic - numeric = k * param``."""
    where = ("gradient", "loss") if k > 0 else ("loss", "gradient")
    unequal = (
        "if the loss uses 0.5*lam*||W||^2 the gradient should add lam*W, not 2*lam*W"
        if k > 0
        else "if the loss uses lam*||W||^2 the gradient should add 2*lam*W, not lam*W"
    )
    only = f"the parameter is regularized in the {where[0]} but not in the {where[1]}"
    if is_vector:
        only += " (a bias is usually not regularized at all)"
    first, second = (only, unequal) if is_vector else (unequal, only)
    size = f"{abs(k):.4g}*param {'more' if k > 0 else 'less'}"
    return f"the gradient adds {size} than the loss's derivative: {first}; or {second}"


def other_words(a: np.ndarray, n: np.ndarray, ratio: float | None, n_nonfinite: int) -> str:
    """Return what can be said of wrong entries that fit no model."""
    if n_nonfinite:
        return (
            f"{n_nonfinite} analytic entries are NaN or infinite: look for a division by zero, "
            "a log of 0 or an overflow (exp of a large number) in backward."
        )
    if a.size and not np.any(n):
        return (
            "the numeric gradient is zero there, so the loss does not depend on these entries: "
            "is the parameter used in the forward pass, or is the gradient written to the "
            "wrong entries?"
        )
    if a.size == 1:
        relative = abs(a[0] - n[0]) / max(abs(a[0]), abs(n[0]))
        relation = f"analytic {a[0]:.10g} against numeric {n[0]:.10g} ({relative:.2g} relative)"
    elif ratio is not None and abs(ratio - 1) < NEAR_ONE:
        relation = (
            f"analytic and numeric differ by about {abs(ratio - 1):.2g} relative (median ratio "
            f"{ratio:.6g}), too little for a missing factor: a small term added or left out "
            "(a regularization, an epsilon), or a slightly wrong derivative formula"
        )
        if all_equal(n):
            relation += f". {ALL_EQUAL_WORDS[:-1]}"
    else:
        relation = "analytic/numeric has no common factor"
        relation += f" (median ratio {ratio:.4g})" if ratio is not None else ""
    return f"{relation}. Look at the code that writes those entries of the gradient."


def _array(mapping: Mapping, path: str, name: str, shape: tuple | None) -> np.ndarray:
    if path not in mapping:
        raise TreeMismatchError(f"`{name}` has no entry for {at_path(path)}; pass every path.")
    value = np.asarray(mapping[path], dtype=np.float64)
    if shape is not None and value.shape != shape:
        raise TreeMismatchError(
            f"`{name}` for {at_path(path)} has shape {value.shape}; expected {shape}, the "
            "shape of `analytic` there: pass arrays of one shape per path."
        )
    return value


def _mask(masks: Mapping | None, path: str, name: str, shape: tuple) -> np.ndarray | None:
    if masks is None or masks.get(path) is None:
        return None
    mask = np.asarray(masks[path], dtype=bool)
    if mask.shape != shape:
        raise TreeMismatchError(
            f"`{name}` mask for {at_path(path)} has shape {mask.shape}; expected {shape}."
        )
    return mask


def tree_scale(analytic: Mapping, numeric: Mapping) -> float:
    """Return the largest finite gradient magnitude of the tree (0.0 when there is none)."""
    largest = 0.0
    for tree in (analytic, numeric):
        for value in tree.values():
            value = np.abs(np.asarray(value, dtype=np.float64))
            value = value[np.isfinite(value)]
            largest = max(largest, float(value.max()) if value.size else 0.0)
    return largest


def _infer_failed(a: np.ndarray, n: np.ndarray, checked: np.ndarray, atol: float) -> np.ndarray:
    with np.errstate(all="ignore"):
        wrong = np.abs(a - n) > INFER_RTOL * np.maximum(np.abs(a), np.abs(n)) + atol
    return checked & (wrong | ~np.isfinite(a))


def _fit_entries(a, n, p, usable, failed, informative) -> tuple | None:
    take = usable & failed
    alone = a.size == 1 or (informative.sum() == 1 and usable.all())  # the only nonzero entry
    if take.sum() == 0 or (take.sum() == 1 and not alone):
        return None  # one wrong entry of a larger parameter says nothing about a factor
    return a[take], n[take], p[take]


def build_case(path, analytic, numeric, params, checked, failed, batch_size, atol) -> Case | None:
    """Return the :class:`Case` of `path`, or None when it has no wrong entry."""
    a = _array(analytic, path, "analytic", None)
    n = _array(numeric, path, "numeric", a.shape)
    p = _array(params, path, "params", a.shape)
    given = _mask(checked, path, "checked", a.shape)
    checked_here = np.asarray(np.isfinite(n) & (True if given is None else given), dtype=bool)
    usable = np.asarray(checked_here & np.isfinite(a), dtype=bool)
    wrong = _mask(failed, path, "failed", a.shape)
    wrong = _infer_failed(a, n, checked_here, atol) if wrong is None else wrong & checked_here
    if a.size == 0 or not wrong.any():
        return None
    informative = usable & ((a != 0) | (n != 0))
    pattern = entry_pattern(wrong, checked_here, informative)
    fit = _fit_entries(a, n, p, usable, wrong, informative)
    return Case(path, a, n, p, usable, wrong, batch_size, pattern, fit, a.ndim == 1)


def build_cases(analytic, numeric, params, checked, failed, batch_size) -> list[Case]:
    """Return one :class:`Case` per parameter with wrong entries, in the order of `analytic`."""
    named = {"analytic": analytic, "numeric": numeric, "params": params}
    for name, value in {**named, "checked": checked, "failed": failed}.items():
        if not isinstance(value, Mapping) and (value is not None or name in named):
            raise InvalidTypeError(
                f"`{name}` must be a dict path -> array; got {type(value).__name__}. "
                f"Wrap a single array: {name}={{'W': array}}."
            )
    atol = INFER_ATOL * tree_scale(analytic, numeric)
    cases = (
        build_case(path, analytic, numeric, params, checked, failed, batch_size, atol)
        for path in analytic
    )
    return [case for case in cases if case is not None]


def merge_cases(cases: list[Case]) -> Case | None:
    """Return one tree-level case (``path=None``) pooling the wrong entries of `cases`."""
    if any(case.fit is None for case in cases):
        return None
    a, n, p = (np.concatenate([case.fit[i] for case in cases]) for i in range(3))
    everything = np.ones(a.shape, dtype=bool)
    pattern = {
        "pattern": "parameters",
        "paths": [case.path for case in cases],
        "n_failed": sum(case.pattern["n_failed"] for case in cases),
        "n_checked": sum(case.pattern["n_checked"] for case in cases),
    }
    if all("n_informative" in case.pattern for case in cases):
        pattern["n_informative"] = sum(case.pattern["n_informative"] for case in cases)
    vectors = all(case.is_vector for case in cases)
    batch_size = cases[0].batch_size
    return Case(None, a, n, p, everything, everything, batch_size, pattern, (a, n, p), vectors)


def consistency(case: Case, model: np.ndarray) -> float:
    """Return the fraction of the checked entries that `model` is consistent with.

    A wrong entry is consistent when the model explains it (:func:`agree_mask`); a passing
    entry unless the model predicts a discrepancy there (``model`` differs from ``numeric``
    by more than ``FIT_RTOL`` relative, and by more than ``1e-3`` of the largest wrong
    numeric entry): a hypothesis under which that entry would have failed. Entries the
    model cannot predict (e.g. a transpose partner not checked) count as consistent.
    """
    a, n, usable = case.analytic, case.numeric, case.usable
    if not usable.any():
        return 1.0
    wrong, passing = usable & case.failed, usable & ~case.failed
    floor = 1e-3 * float(np.max(np.abs(n[wrong]), initial=0.0))
    with np.errstate(all="ignore"):
        unknown = ~np.isfinite(model)
        predicted = np.abs(model - n)
        contradicted = (predicted > FIT_RTOL * np.maximum(np.abs(a), np.abs(model))) & (
            predicted > floor
        )
        explained = agree_mask(a, model, reference=n)
    good = (wrong & (explained | unknown)) | (passing & (~contradicted | unknown))
    return float(good.sum() / usable.sum())


def weigh_by_consistency(case: Case, found: list, model_of: Callable) -> list:
    """Scale each confidence by its consistency with the checked entries, relative to the best.

    ``model_of(kind, case, evidence)`` is the analytic gradient a hypothesis predicts (None:
    it predicts none). A sign that fits the wrong entries but contradicts the passing ones
    ranks below a transpose that explains them all; a lone hypothesis keeps its confidence.
    """
    fractions = []
    for d in found:
        model = model_of(d.kind, case, d.evidence)
        fractions.append(1.0 if model is None else consistency(case, model))
    best = max(fractions, default=1.0) or 1.0  # no hypothesis fits anything: keep them
    return [
        replace(d, confidence=d.confidence * f / best, evidence={**d.evidence, "consistent": f})
        for d, f in zip(found, fractions, strict=True)
    ]
