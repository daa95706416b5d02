"""The check made at every step: every array read in full for NaN / Inf, cheaply.

One squared norm per array is both the array's exact norm and its NaN / Inf test: the sum
is finite exactly when every entry is (barring overflow of the sum itself, which the exact
path of `gradcheck.monitor.stats` then resolves). It is one BLAS dot product, the fastest
full read there is (about twice as fast as a summing pass): scipy's ``ddot`` for arrays up
to `SMALL` entries, numpy's dot for larger ones. Arguments are validated here, once: an
array given as None or as something non-numeric is refused with a named error.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from gradcheck.errors import InvalidTypeError
from gradcheck.monitor.stats import as_float_array, squared_norm

ARRAY_ARGS = ("activations", "preactivations", "gradients", "params")


def _refuse(kind: str, name: str, value: object, why: str) -> InvalidTypeError:
    return InvalidTypeError(
        f"`{kind}[{name!r}]` must be a numeric array; got {why}. Pass the layer's ndarray "
        f"(e.g. `{kind}={{{name!r}: a}}` with `a` a float array), or leave the name out."
    )


def as_array(kind: str, name: str, value: object) -> np.ndarray:
    """Return `value` as a real float array, or raise a named error (None, text, objects)."""
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        return value
    if value is None:
        raise _refuse(kind, name, value, "None")
    array = value if isinstance(value, np.ndarray) else None
    if array is None:
        try:
            array = np.asarray(value)
        except (TypeError, ValueError):
            raise _refuse(kind, name, value, type(value).__name__) from None
    if array.dtype.kind not in "fiucb":
        raise _refuse(kind, name, value, f"{type(value).__name__} of dtype {array.dtype}")
    return as_float_array(array)


_F64 = np.dtype(np.float64)


def _squared_norm(array: np.ndarray) -> float:
    """Squared norm of one array (call it under ``np.errstate``: numpy's dot may warn)."""
    if array.dtype is not _F64 or array.size > SMALL:
        return squared_norm(array.reshape(-1))
    if not array.size:  # BLAS wants one entry at least
        return 0.0
    flat = array.ravel()  # a view (a copy only of a non-contiguous array)
    return (_ddot or _load_ddot())(flat, flat)


# Arrays up to this size go to scipy's ``ddot`` (a cheap call, on the calling thread);
# larger ones to numpy's dot, on the BLAS threads of the training step itself: scipy
# ships its own OpenBLAS, whose threads would fight numpy's for the cores.
SMALL = 8192


def all_finite(mappings: dict[str, Mapping]) -> tuple[bool, float]:
    """Return whether every array is finite, and the squared norm of all the gradients.

    Each array is read in full, once (an array given under two names is read twice): its
    squared norm is one BLAS dot product, and the sum is finite exactly when every entry
    is (a sum that overflows is resolved by the exact path, `Scan`). None and non-numeric
    arrays are refused as by `Scan`.

    Small float64 arrays go straight to BLAS ``ddot`` (scipy's binding): a third of the
    cost of a numpy call, and it never raises numpy's floating-point warnings, so no
    ``np.errstate`` is needed around it; large arrays and other dtypes take numpy's dot,
    under one (see `SMALL`). This runs right after the training step, when every line of
    Python is slow: keep it short.
    """
    ddot = _ddot or _load_ddot()
    sums = []
    for kind in ARRAY_ARGS:
        total = 0.0
        for name, value in mappings[kind].items():
            if value.__class__ is np.ndarray and value.dtype is _F64 and 0 < value.size <= SMALL:
                flat = value.ravel()  # a view (a copy only of a non-contiguous array)
                total += ddot(flat, flat)
            else:  # large arrays and other dtypes (numpy's dot), empty ones, refusals
                with np.errstate(all="ignore"):
                    total += float(_squared_norm(as_array(kind, name, value)))
        sums.append(total)
    return math.isfinite(sum(sums)), sums[_GRADIENTS]


_ddot = None


def _load_ddot():
    """Import scipy's BLAS ``ddot`` on first use (scipy.linalg takes ~0.2 s to import)."""
    global _ddot
    from scipy.linalg.blas import ddot

    _ddot = ddot
    return ddot


_GRADIENTS = ARRAY_ARGS.index("gradients")


class Scan:
    """The arrays of one call to ``observe``, validated, with their squared norms.

    Attributes: ``index`` (kind -> {name: position}), ``arrays`` (distinct float arrays),
    ``sumsq`` (their squared norms), ``bad`` (some array is not finite), ``axis`` (the batch
    axis of the 2-D forward arrays, see `gradcheck.monitor.layout.batch_axis`).
    """

    __slots__ = ("arrays", "axis", "bad", "index", "sumsq")

    def __init__(self, mappings: dict[str, Mapping], *, loss_bad: bool = False) -> None:
        index: dict[str, dict[str, int]] = {}
        seen: dict[int, int] = {}
        arrays: list[np.ndarray] = []
        sumsq: list[float] = []
        for kind in ARRAY_ARGS:
            names = index[kind] = {}
            for name, value in mappings[kind].items():
                position = seen.get(id(value))
                if position is None:
                    position = seen[id(value)] = len(arrays)
                    array = as_array(kind, name, value)
                    arrays.append(array)
                    sumsq.append(_squared_norm(array))
                names[name] = position
        self.index, self.arrays, self.sumsq = index, arrays, sumsq
        self.bad = loss_bad or not math.isfinite(sum(sumsq))
        self.axis: int | None = 0

    def gradient_sumsq(self) -> float:
        """Return the squared norm of all the gradients."""
        return float(sum(self.sumsq[i] for i in self.index["gradients"].values()))

    def named(self, kind: str) -> dict[str, np.ndarray]:
        """Return name -> array for one kind of argument."""
        return {name: self.arrays[i] for name, i in self.index[kind].items()}

    def names(self) -> list[str]:
        """Every name given, in argument order."""
        return [name for names in self.index.values() for name in names]
