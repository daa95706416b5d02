"""The working precision of a check, measured from what the user's functions return.

A loss computed in float32 and returned as a Python float (``tensor.item()``,
``float(np.float32(...))``) looks like float64 but rounds like float32; so does a float32
gradient cast to float64. The error model must use the coarsest precision really at work,
or it takes float32 rounding for a wrong gradient (and float32 steps for kinks).

Evidence: values computed in float64 from float64 inputs are float32-representable with
probability ~2**-29 each, so a handful of *distinct* values (the loss at several steps
along a line; the gradient's entries) that are all exactly representable in float32 (or
float16) mean the computation ran in that precision. Too few distinct values is no
evidence (integers, constants), and then the declared dtype stands.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

#: Candidate working precisions, coarsest first.
CANDIDATES = (np.dtype(np.float16), np.dtype(np.float32))
#: Distinct values needed before representability counts as evidence.
MIN_DISTINCT = 4


class Precision(NamedTuple):
    """A working precision and why it was assumed."""

    dtype: np.dtype
    reason: str


def dtype_name(dtype: np.dtype) -> str:
    """Return the short name of a float dtype (``"float32"``, ``"longdouble"``...)."""
    return "longdouble" if dtype == np.longdouble and dtype != np.float64 else dtype.name


def representable_in(values: np.ndarray) -> np.dtype | None:
    """Return the coarsest float dtype that holds every value exactly (None: only float64).

    Examples
    --------
    >>> import numpy as np
    >>> representable_in(np.float32([0.1, 0.2, 0.3, 0.7]).astype(float))
    dtype('float32')
    >>> print(representable_in(np.array([0.1, 0.2, 0.3, 0.7])))
    None
    """
    finite = np.unique(np.asarray(values, dtype=np.float64)[np.isfinite(values)])
    finite = finite[finite != 0]
    if finite.size < MIN_DISTINCT:
        return None
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        for dtype in CANDIDATES:
            if np.array_equal(finite.astype(dtype).astype(np.float64), finite):
                return dtype
    return None


def coarsest(*precisions: Precision) -> Precision:
    """Return the precision with the largest epsilon (the first one on ties)."""
    return max(precisions, key=lambda p: float(np.finfo(p.dtype).eps))


def of_loss(declared: np.dtype, values: np.ndarray) -> Precision:
    """Return the loss's working precision from its declared dtype and values it returned."""
    found = representable_in(values)
    if found is not None and np.finfo(found).eps > np.finfo(declared).eps:
        name = dtype_name(found)
        return Precision(
            found, f"every value the loss returned is exactly a {name} (it computes in {name})"
        )
    return Precision(declared, f"the loss returns {dtype_name(declared)} values")


def of_gradient(declared: np.dtype, gradient: np.ndarray, params: np.ndarray) -> Precision:
    """Return the gradient's working precision from its dtype and its entries.

    Entries representable in float32 are evidence only when the parameters are not (a
    float64 gradient of float32-valued parameters, e.g. ``2 * x``, is representable too).
    """
    found = representable_in(gradient)
    inputs = representable_in(params)
    if found is not None and np.finfo(found).eps > np.finfo(declared).eps:
        if inputs is None or np.finfo(inputs).eps < np.finfo(found).eps:
            name = dtype_name(found)
            return Precision(
                found, f"every entry of the gradient is exactly a {name} (computed in {name})"
            )
    return Precision(declared, f"the gradient is {dtype_name(declared)}")


def _divisor(gaps: np.ndarray, ulp: float, most: int = 1024) -> float:
    """Return ``min(gaps) / m`` for the smallest ``m <= most`` making every gap a multiple.

    Gaps that are ``k_i q`` with coprime ``k_i`` have ratios ``k_i / k_min`` to the
    smallest one; ``m = k_min`` turns them all into whole numbers (0: no such ``m``).
    Each gap is off by up to ~2 ulps, so the ratios by ``2 ulp (1 + r) / min(gaps)``.
    The candidates ``m`` are tried a block at a time (one array operation per block,
    the same arithmetic per ``m`` as one at a time): most losses have no quantum, and
    then every ``m`` up to `most` is tried.
    """
    smallest = float(np.min(gaps))
    ratios = np.asarray(gaps, dtype=float) / smallest
    rounding = 4 * ulp * (1 + ratios) / smallest  # per unit of m
    for first in range(1, most + 1, _BLOCK):
        m = np.arange(first, min(first + _BLOCK, most + 1), dtype=float)[:, None]
        scaled = m * ratios
        whole = np.all(np.abs(scaled - np.round(scaled)) <= 1e-3 + m * rounding, axis=1)
        if whole.any():
            return smallest / (first + int(np.argmax(whole)))
    return 0.0


_BLOCK = 128  # candidates per array operation in `_divisor`


def _common_step(gaps: np.ndarray, q: float) -> float:
    """Refine `q` on ever larger gaps while each is a whole multiple of it (0: not)."""
    for gap in np.sort(gaps):
        multiple = round(float(gap) / q)
        if multiple < 1 or abs(gap / q - multiple) > 0.05:
            return 0.0
        q = float(gap) / multiple  # relative error ~ ulp / gap: finer for larger gaps
    return q


def quantum(values: np.ndarray, eps: float, *, few_levels: bool = True) -> float:
    """Return the spacing of a rounded (quantized) loss's values, 0 when it is not rounded.

    A loss rounded to multiples of ``q`` (``round(f, 4)``, fixed point, a histogram count)
    returns values whose differences are all integer multiples of ``q``, with ``q`` far
    above the float rounding of the values themselves. Its rounding noise is then about
    ``q``, whatever the float precision says. ``q`` is the smallest gap between distinct
    values divided by the smallest whole number that makes every gap a whole multiple
    of it (up to 1024), refined on ever larger gaps and accepted only if every gap is a
    whole multiple of it. With `few_levels`, a handful of levels over many values is
    evidence even with fewer than three gaps.

    Examples
    --------
    >>> import numpy as np
    >>> quantum(np.array([0.25, 0.5, 0.5, 1.5, 0.75, 2.25]), 2.2e-16)
    0.25
    >>> quantum(np.sqrt([2.0, 3.0, 5.0, 7.0, 11.0]), 2.2e-16)
    0.0
    """
    seen = np.asarray(values, dtype=np.float64)[np.isfinite(values)]
    finite = np.unique(seen)
    if finite.size < 2:
        return 0.0
    gaps = np.diff(finite)
    ulp = eps * float(np.max(np.abs(finite)))
    few = few_levels and seen.size >= 16 and finite.size <= 4  # many points, few levels
    if gaps.size < 3 and not few:
        return 0.0
    q = _divisor(gaps, ulp)  # the smallest gap may be one quantum or many
    if q > 1024 * ulp:
        q = _common_step(gaps, q)
        multiples = gaps / q if q else gaps
        if q and np.all(np.abs(multiples - np.round(multiples)) <= 1e-3 + 4 * ulp / q):
            return q
    return 0.0
