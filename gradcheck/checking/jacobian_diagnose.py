"""Diagnoses of a wrong Jacobian: which entries, and the likely mistake in the user's code.

:func:`diagnose_jacobian` compares the analytic Jacobian ``A`` (rows from ``vjp`` of the
output basis, or columns from ``jvp`` of the input basis) with the numeric one ``N`` as
the checker measured it, entry ``(output k, input i)`` by entry, and tests them against
the models of the ``JACOBIAN_TESTS`` table. Kinds (the contract vocabulary of
:data:`gradcheck.diagnose.arrays.KINDS`, plus those of :data:`JACOBIAN_KINDS`):

- ``sign``: ``A = -N`` on the wrong entries; evidence ``factor`` (-1.0).
- ``scale``: ``A = c N``; evidence ``factor`` and ``matched`` ("2", "1/2" or None).
- ``zero``: ``A = 0`` where ``N`` is not.
- ``transpose``: ``A = N^T`` (a VJP returning ``J g`` where ``J^T g`` is needed, or a
  JVP returning ``J^T v``).
- ``missing_cross_terms``: ``A`` equals ``N`` on the diagonal (evidence ``structure``
  "diagonal") or on the blocks of each leaf with itself ("blocks") and is zero elsewhere,
  where ``N`` is not: an elementwise derivative used where the full Jacobian is needed.
- ``asymmetric`` (Hessians, :mod:`gradcheck.checking.second_order`): ``H != H^T``.
- ``other``: none of these; the wrong entries are listed.

Every diagnosis has evidence ``n_failed``, ``n_checked`` and up to five ``entries``
(``{"output": "y[0]", "input": "W[1,2]"}``); ``path`` is the input leaf when all wrong
entries are in one, else None.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from gradcheck.checking.vectors import Layout
from gradcheck.diagnose.arrays import Diagnosis
from gradcheck.diagnose.fits import (
    ACCEPT,
    SCALE_ADVICE,
    agreement,
    fitted,
    robust_slope,
    support,
)

#: Diagnosis kinds that only Jacobians and Hessians have (added to the contract vocabulary).
JACOBIAN_KINDS: dict[str, str] = {
    "missing_cross_terms": "Only the diagonal (or each parameter's own block) of the "
    "Jacobian is there: an elementwise derivative where the full Jacobian is needed.",
    "asymmetric": "The Hessian is not symmetric: H[i, j] != H[j, i].",
}
MAX_ENTRIES = 5
#: A structural model (transpose) must explain this fraction of all entries.
STRUCTURE_FIT = 0.95


class Case(NamedTuple):
    """A wrong Jacobian: analytic, numeric, the failed mask and how entries are named."""

    analytic: np.ndarray
    numeric: np.ndarray
    failed: np.ndarray
    inputs: Layout
    outputs: Layout
    what: str  # "vjp", "jvp", "hvp" or "hessian"

    @property
    def fit(self) -> tuple[np.ndarray, np.ndarray]:
        """The analytic and numeric values of the failed entries."""
        return self.analytic[self.failed], self.numeric[self.failed]


def _entries(case: Case) -> list[dict]:
    rows, cols = np.nonzero(case.failed)
    return [
        {"output": case.outputs.name(int(k)), "input": case.inputs.name(int(i))}
        for k, i in zip(rows[:MAX_ENTRIES], cols[:MAX_ENTRIES], strict=True)
    ]


def _path(case: Case) -> str | None:
    leaves = {case.inputs.leaf_of(int(i)) for i in np.nonzero(case.failed)[1]}
    return case.inputs.paths[leaves.pop()] if len(leaves) == 1 else None


def _where(case: Case) -> str:
    entries = _entries(case)
    named = ", ".join(f"{e['output']} <- {e['input']}" for e in entries)
    n_failed = int(case.failed.sum())
    more = f" (and {n_failed - len(entries)} more)" if n_failed > len(entries) else ""
    return f"{n_failed} of {case.failed.size} derivatives (output <- input: {named}{more})"


def _make(kind: str, case: Case, confidence: float, message: str, **evidence: Any) -> Diagnosis:
    evidence.update(
        n_failed=int(case.failed.sum()), n_checked=int(case.failed.size), entries=_entries(case)
    )
    return Diagnosis(kind, _path(case), float(np.clip(confidence, 0.0, 1.0)), message, evidence)


def _informative(a: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Return the entries that carry the pattern: not ~0 next to the largest wrong entry.

    As :func:`gradcheck.diagnose.fits.robust_slope` fits its slope: a wrong entry at
    1e-246 beside one at 0.07 is resolved only to a few percent and must not outvote it.
    """
    size = np.maximum(np.abs(a), np.abs(n))
    return size > 1e-3 * np.max(size, initial=0.0)


def _sign(case: Case) -> Diagnosis | None:
    a, n = case.fit
    keep = _informative(a, n)
    frac = agreement(a[keep], -n[keep], reference=n[keep])
    if frac < ACCEPT:
        return None
    message = (
        f"{_where(case)}: the `{case.what}` has the sign flipped. Look for a minus sign "
        "in its formula, or a difference taken the other way round."
    )
    return _make("sign", case, frac * support(a.size), message, factor=-1.0)


def _scale(case: Case) -> Diagnosis | None:
    a, n = case.fit
    c, frac = robust_slope(n, a, reference=n)
    if c is None or frac < ACCEPT or abs(c - 1) < 1e-9 or abs(c + 1) < 0.01 or abs(c) < 1e-6:
        return None
    matched = next((key for key, v in {"2": 2.0, "1/2": 0.5}.items() if fitted(c, v)), None)
    message = (
        f"{_where(case)}: the `{case.what}` is {c:.4g}x the numeric derivative: "
        f"{SCALE_ADVICE[matched]}."
    )
    confidence = frac * support(a.size) * (1.0 if matched else 0.95)
    return _make("scale", case, confidence, message, factor=c, matched=matched)


def _zero_fraction(case: Case) -> float:
    a, n = case.fit
    return agreement(a, np.zeros_like(a), reference=n, scale=np.abs(n), rtol=1e-6)


def _zero(case: Case) -> Diagnosis | None:
    frac = _zero_fraction(case)
    if frac < ACCEPT:
        return None
    message = (
        f"{_where(case)}: the `{case.what}` is zero where the derivative is not: a term "
        "that depends on these inputs is missing."
    )
    return _make("zero", case, 0.9 * frac * support(int(case.failed.sum())), message)


def _transpose(case: Case) -> Diagnosis | None:
    a, n = case.analytic, case.numeric
    if a.shape[0] != a.shape[1] or np.allclose(n, n.T, rtol=0.01, atol=0.0):
        return None
    scale = np.max(np.abs(n), initial=0.0)
    frac = agreement(a.ravel(), n.T.ravel(), scale=0.01 * scale)
    if frac < STRUCTURE_FIT:
        return None
    fix = "J^T g" if case.what == "vjp" else "J v"
    got = "J g" if case.what == "vjp" else "J^T v"
    message = (
        f"{_where(case)}: the `{case.what}` computes {got} where {fix} is needed: the "
        "analytic Jacobian is the transpose of the numeric one. Transpose the matrix in "
        f"the `{case.what}` (e.g. `W.T @ g` instead of `W @ g`)."
    )
    return _make("transpose", case, frac, message)


def structure_masks(inputs: Layout, outputs: Layout) -> dict[str, np.ndarray]:
    """Return the "diagonal" and "blocks" masks that make sense for these layouts."""
    masks = {}
    if inputs.size == outputs.size:
        masks["diagonal"] = np.eye(inputs.size, dtype=bool)
    if inputs.paths == outputs.paths and inputs.shapes == outputs.shapes and len(inputs.paths) > 1:
        in_leaf = np.repeat(np.arange(len(inputs.paths)), np.diff(inputs.starts))
        masks["blocks"] = in_leaf[:, None] == in_leaf[None, :]
    return masks


class _Structure(NamedTuple):
    name: str  # "diagonal" or "blocks"
    share: float  # the fraction of the wrong entries that are missing cross terms
    kept_wrong: bool  # whether entries of the kept structure are wrong as well


def _cross_structure(case: Case) -> _Structure | None:
    tiny = 1e-12 * np.max(np.abs(case.numeric), initial=0.0)
    significant = np.abs(case.numeric) > tiny  # a cross term that is ~0 is not missing
    for name, mask in sorted(structure_masks(case.inputs, case.outputs).items()):
        cross_failed = case.failed & ~mask & significant
        absent = (np.abs(case.analytic[~mask]) <= tiny).all()
        if absent and cross_failed.any() and (case.analytic[mask] != 0).any():
            share = float(cross_failed.sum() / case.failed.sum())
            return _Structure(name, share, bool(case.failed[mask].any()))
    return None


def _missing_cross_terms(case: Case) -> Diagnosis | None:
    structure = _cross_structure(case)
    if structure is None or structure.share < 0.5:
        return None
    kept = "diagonal" if structure.name == "diagonal" else "block of each parameter with itself"
    also = f" (and the {kept} is wrong as well)" if structure.kept_wrong else ""
    message = (
        f"{_where(case)}: the `{case.what}` keeps only the {kept} of the Jacobian{also}; "
        "the cross terms are zero where the numeric derivative is not. An elementwise (or "
        "per-parameter) derivative is used where the full Jacobian is needed, e.g. "
        "`s * (1 - s) * g` for a softmax instead of `s * (g - sum(s * g))`."
    )
    confidence = structure.share * (0.9 if structure.kept_wrong else 1.0)
    return _make(
        "missing_cross_terms",
        case,
        confidence,
        message,
        structure=structure.name,
        kept_wrong=structure.kept_wrong,
    )


def _other(case: Case) -> Diagnosis:
    a, n = case.fit
    with np.errstate(all="ignore"):
        ratio = float(np.median(a / n)) if np.any(n != 0) else float("nan")
    message = (
        f"{_where(case)}: the `{case.what}` differs from the numeric derivative with no "
        f"simple relation (median ratio analytic/numeric {ratio:.3g})."
    )
    return _make("other", case, 0.3, message, ratio=ratio)


#: kind -> test; the first tests are tried on the failed entries, transpose on all.
JACOBIAN_TESTS: dict[str, Callable[[Case], Diagnosis | None]] = {
    "transpose": _transpose,
    "missing_cross_terms": _missing_cross_terms,
    "sign": _sign,
    "scale": _scale,
    "zero": _zero,
}


def diagnose_jacobian(case: Case) -> list[Diagnosis]:
    """Return the diagnoses of a Jacobian with failed entries, best first ([] if none failed).

    Examples
    --------
    >>> import numpy as np
    >>> x = Layout(np.zeros(2))
    >>> n = np.array([[1.0, 2.0], [3.0, 4.0]])
    >>> found = diagnose_jacobian(Case(-n, n, np.ones((2, 2), bool), x, x, "vjp"))
    >>> found[0].kind, found[0].evidence["entries"][0]
    ('sign', {'output': '[0]', 'input': '[0]'})
    """
    if not case.failed.any():
        return []
    found = [d for test in JACOBIAN_TESTS.values() if (d := test(case)) is not None]
    if any(d.kind == "missing_cross_terms" for d in found):
        found = [d for d in found if d.kind != "zero"]
    found.sort(key=lambda d: -d.confidence)
    return found or [_other(case)]
