"""The one differencing engine: evaluate the loss at perturbed copies of the parameters.

Every finite difference in gradcheck (per entry, directional, bisection, layer checks)
goes through :class:`Evaluator` and the two loops below. They write perturbed values
into a *private* copy of the parameters (:class:`gradcheck.tree.PrivateCopy`), call the
loss, and restore the exact original bits: no copy of the parameter vector per
evaluation, so the overhead beyond the loss itself is about a microsecond.

A loss object may offer ``batch_evaluator(evaluator)``, returning an object with
``entry_values`` and ``support_values`` of the signatures below (minus `evaluate`): the
two loops then hand it whole batches instead of calling the loss point by point. An
external program (:mod:`gradcheck.checking.external`) uses it to keep many requests in
flight; every other loss takes the loops as written.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from gradcheck._validate import check_scalar_loss
from gradcheck.errors import GradcheckError, InternalError
from gradcheck.tree import PrivateCopy

_FAST_TYPES = (float, np.float64)
#: What a loss raises outside its domain (``math.log(-1)``, ``1 / 0``, overflow): at a
#: perturbed point that is a NaN for the numerics to judge, not a crash.
DOMAIN_ERRORS = (ValueError, ArithmeticError)


class Evaluator:
    """Call ``loss(tree)`` on a private copy, check the value, count the calls.

    Parameters
    ----------
    loss : callable
        The user's loss, ``loss(params) -> float``.
    copy : PrivateCopy
        The private copy whose leaves the engine perturbs in place.

    Examples
    --------
    >>> import numpy as np
    >>> from gradcheck.tree import PrivateCopy
    >>> ev = Evaluator(lambda p: float(np.sum(p["w"] ** 2)), PrivateCopy({"w": np.ones(3)}))
    >>> ev(), ev.count
    (3.0, 1)
    """

    __slots__ = ("loss", "copy", "count", "_tree", "last_type", "batch", "finite_only")

    def __init__(self, loss: Callable[[Any], Any], copy: PrivateCopy) -> None:
        self.loss = loss
        self.copy = copy
        self.count = 0
        self._tree = None if copy._has_numbers else copy.tree
        self.last_type: type | None = None
        make_batch = getattr(loss, "batch_evaluator", None)  # see the module docstring
        self.batch = make_batch(self) if make_batch is not None else None
        #: Raise on a non-finite loss (at the checked point); False: return NaN (a perturbed
        #: point outside the loss's domain, judged by the numerics).
        self.finite_only = True

    def _call(self) -> Any:
        self.count += 1
        tree = self._tree if self._tree is not None else self.copy.tree
        if self.finite_only:
            return self.loss(tree)
        try:
            return self.loss(tree)
        except GradcheckError:
            raise
        except DOMAIN_ERRORS:
            return float("nan")

    def __call__(self) -> float:
        """Evaluate the loss at the current state of the copy; return it as a float."""
        value = self._call()
        if type(value) in _FAST_TYPES and value - value == 0.0:
            return float(value)
        self.last_type = type(value)
        if not self.finite_only and _non_finite_number(value):
            return float("nan")
        return check_scalar_loss(value)

    def complex_value(self) -> complex:
        """Evaluate the loss at a complex point; return the complex value (for complex step)."""
        value = self._call()
        array = np.asarray(value)
        if array.size != 1 or not np.isfinite(array).all():
            if not self.finite_only and _non_finite_number(value):
                return complex(float("nan"), float("nan"))
            check_scalar_loss(value)
        return complex(array.reshape(()).item())

    def imag(self) -> float:
        """Return the imaginary part of the loss at the current (complex) point."""
        return self.complex_value().imag


def _non_finite_number(value: Any) -> bool:
    array = np.asarray(value)
    return (
        array.size == 1 and np.issubdtype(array.dtype, np.number) and not np.isfinite(array).all()
    )


def entry_values(
    evaluate: Callable[[], float],
    leaf: np.ndarray,
    indices: Sequence[int],
    perturbed: np.ndarray,
    columns: Sequence[int],
    out: np.ndarray,
    on_entry: Callable[[], None] | None = None,
) -> np.ndarray:
    """Fill ``out[row, k]`` with the loss where entry ``indices[row]`` is ``perturbed[row, k]``.

    Only the columns in `columns` are evaluated (the others, e.g. the unperturbed point,
    are left as the caller filled them). The entry is restored to its exact original value.

    Parameters
    ----------
    evaluate : callable
        ``evaluate() -> float``, typically an :class:`Evaluator` or its ``imag`` method.
    leaf : ndarray
        A C-contiguous leaf of the private copy (perturbed in place).
    indices : sequence of int
        Flat indices of the entries to perturb, one row each.
    perturbed : ndarray, shape (len(indices), K)
        The perturbed values, already rounded to the leaf's dtype.
    columns : sequence of int
        Which of the K columns to evaluate.
    out : ndarray, shape (len(indices), K)
        Where the values go.
    on_entry : callable, optional
        Called after each entry (progress reporting).

    Returns
    -------
    ndarray
        `out`.
    """
    if not leaf.flags.c_contiguous:
        raise InternalError("the leaf must be C-contiguous to be perturbed in place")
    batch = getattr(evaluate, "batch", None)
    if batch is not None:
        return batch.entry_values(leaf, indices, perturbed, columns, out, on_entry)
    flat = leaf.reshape(-1)
    values = perturbed.tolist()
    for row, index in enumerate(np.asarray(indices).tolist()):
        original = flat[index]
        row_values = values[row]
        out_row = out[row]
        for k in columns:
            flat[index] = row_values[k]
            out_row[k] = evaluate()
        flat[index] = original
        if on_entry is not None:
            on_entry()
    return out


def support_values(
    evaluate: Callable[[], float],
    leaf: np.ndarray,
    support: np.ndarray,
    perturbed: Sequence[np.ndarray],
) -> list[float]:
    """Return the loss where the entries `support` of `leaf` take each row of `perturbed`.

    This is the directional difference: a whole set of entries moves at once (the rest
    of the leaf is untouched) and is restored exactly afterwards.
    """
    batch = getattr(evaluate, "batch", None)
    if batch is not None:
        return batch.support_values(leaf, support, perturbed)
    flat = leaf.reshape(-1)
    saved = flat[support]  # fancy indexing: already a copy
    results = []
    try:
        for values in perturbed:
            flat[support] = values
            results.append(evaluate())
    finally:
        flat[support] = saved
    return results
