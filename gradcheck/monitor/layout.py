"""How the forward arrays of one step fit together: batch axis, pairs, kind of layer.

- **Batch axis.** The activations of one forward pass share their batch dimension. When
  the 2-D arrays share their first dimension, the batch is along axis 0 (``(batch,
  units)``); when they share only their second, the program stores ``(units, batch)`` and
  the per-unit statistics read the arrays transposed.
- **Pairs.** A pre-activation goes with the activation computed from it: same name, else
  the same number in the name (``z2`` / ``a2``, ``dense2`` / ``relu2``), else position from
  the end of the forward pass among arrays of the same shape (a program that passes only
  its logits pairs them with its last activation).
- **Kind.** What an activation layer is, decided from its values: ``relu`` (non-negative,
  exact zeros, unbounded or pairing with ``max(z, 0)``), ``squash`` (within [0, 1] or
  [-1, 1] with no exact zero block: sigmoid, tanh, softmax) or ``linear``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import numpy as np

_NUMBER = re.compile(r"(\d+)\D*$")
_HINTS = (("relu", "relu"), ("sigmoid", "squash"), ("tanh", "squash"), ("softmax", "squash"))


def batch_axis(shapes: list[tuple[int, ...]]) -> int | None:
    """Return the batch axis of the 2-D forward arrays of one step.

    1 when they share only their second dimension, 0 when they share the first (or there
    is nothing to compare), None when they share neither.

    Examples
    --------
    >>> batch_axis([(32, 64), (32, 10)]), batch_axis([(64, 32), (10, 32)])
    (0, 1)
    """
    two_d = [s for s in shapes if len(s) == 2 and 0 not in s]
    if len(two_d) < 2:
        return 0
    rows, cols = {s[0] for s in two_d}, {s[1] for s in two_d}
    if len(rows) == 1:
        return 0
    return 1 if len(cols) == 1 else None


def units_table(array: np.ndarray, axis: int | None) -> np.ndarray | None:
    """Return the array as (samples, units): 1-D is one sample; `axis` 1 is transposed."""
    if array.size == 0 or array.ndim == 0:
        return None
    if array.ndim == 1:
        return array.reshape(1, -1)
    if axis == 1 and array.ndim == 2:
        return array.T
    return array.reshape(array.shape[0], -1)


def _number(name: str) -> str | None:
    match = _NUMBER.search(name)
    return match.group(1) if match else None


def _by_number(acts: list[str], pres: list[str]) -> dict[str, str]:
    numbers = [_number(n) for n in acts]
    out = {}
    for pre in pres:
        number = _number(pre)
        if number is not None and numbers.count(number) == 1:
            out[acts[numbers.index(number)]] = pre
    return out


def pairs(activations: Mapping, preactivations: Mapping) -> dict[str, str]:
    """Return activation name -> the name of the pre-activation it is computed from.

    Examples
    --------
    >>> z, a = np.zeros((4, 3)), np.zeros((4, 2))
    >>> pairs({"h1": z, "out": a}, {"logits": a})
    {'out': 'logits'}
    """
    acts, pres = list(activations), list(preactivations)
    found = {name: name for name in pres if name in activations}
    rest = [p for p in pres if p not in found]
    free = [a for a in acts if a not in found]
    if rest:
        found.update({a: p for a, p in _by_number(free, rest).items() if a not in found})
    rest = [p for p in pres if p not in found.values()]
    free = [a for a in acts if a not in found]
    while rest and free:  # from the end of the forward pass, shapes agreeing
        pre, act = rest[-1], free[-1]
        if np.shape(preactivations[pre]) == np.shape(activations[act]):
            found[act] = pre
            rest.pop()
        free.pop()
    return {a: found[a] for a in acts if a in found}


def forward_order(activations: Mapping, preactivations: Mapping) -> list[tuple[str, str]]:
    """Merge the two forward dicts: each pre-activation just before its activation.

    A pre-activation that pairs with no activation keeps its position among the others.

    Examples
    --------
    >>> forward_order({"a1": 0, "a2": 0}, {"z1": 0, "z2": 0})
    [('preactivation', 'z1'), ('activation', 'a1'), ('preactivation', 'z2'), ('activation', 'a2')]
    """
    paired = pairs(activations, preactivations)
    pending = [p for p in preactivations if p not in paired.values()]
    unpaired = [a for a in activations if a not in paired]
    out = []
    for name in activations:
        pre = paired.get(name)
        if pre is None and pending and unpaired.index(name) < len(pending):
            pre = pending[unpaired.index(name)]
        out += [("preactivation", pre)] if pre is not None else []
        out.append(("activation", name))
    used = {n for k, n in out if k == "preactivation"}
    return out + [("preactivation", p) for p in preactivations if p not in used]


def _rows_sum_to_one(table: np.ndarray | None) -> bool:
    if table is None or table.shape[1] < 2:
        return False
    return bool(np.all(np.abs(table.sum(axis=1, dtype=np.float64) - 1.0) < 1e-3))


def kind(
    name: str, sample: np.ndarray, pre_sample: np.ndarray | None, table: np.ndarray | None = None
) -> str:
    """Return "relu", "squash" or "linear" for an activation layer (see the module notes)."""
    lowered = name.lower()
    for hint, result in _HINTS:
        if hint in lowered:
            return result
    values = sample[np.isfinite(sample)]
    if values.size == 0:
        return "linear"
    if pre_sample is not None and pre_sample.shape == sample.shape:
        if pre_sample is sample or np.array_equal(values, pre_sample[np.isfinite(sample)]):
            return "linear"
        if np.array_equal(np.maximum(pre_sample, 0), sample, equal_nan=True):
            return "relu"
    low, high = float(values.min()), float(values.max())
    if low < 0:
        return "squash" if low >= -1 and high <= 1 else "linear"
    has_zero = bool(np.count_nonzero(values == 0))
    if high > 1:
        return "relu"
    if has_zero and high < 1 - 1e-3:  # small ReLU outputs, unless rows are probabilities
        return "squash" if _rows_sum_to_one(table) else "relu"
    return "squash"
