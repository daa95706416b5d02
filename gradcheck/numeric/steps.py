"""Step sizes: per entry, from the dtype's epsilon and the entry's magnitude.

Notes
-----
A difference formula of order ``p`` has a truncation error ``~ C h**p`` and a rounding
error ``~ eps |f| / h``; the sum is smallest near ``h = eps**(1 / (p + 1))`` (Press et al.,
*Numerical Recipes*, 3rd ed., section 5.7). For central differences (p = 2) in float64
that is ``eps**(1/3) ~ 6e-6``. The step scales with ``max(1, |x|)`` so that large entries
are perturbed by a representable relative amount. The step *really taken* is
``(x + h) - x``, which differs from ``h`` by the rounding of ``x + h``; the engine divides
by the step taken, never the nominal one.
"""

from __future__ import annotations

import numpy as np


def dtype_eps(dtype: np.dtype | type) -> float:
    """Return the machine epsilon of a float (or complex) dtype."""
    return float(np.finfo(np.dtype(dtype)).eps)


def base_step(dtype: np.dtype | type, order: int, eps: float | None = None) -> float:
    """Return the step for an entry of magnitude <= 1: ``eps`` if given, else EPS**(1/(order+1)).

    Examples
    --------
    >>> import numpy as np
    >>> round(base_step(np.float64, 2), 8)
    6.06e-06
    """
    if eps is not None:
        return float(eps)
    return dtype_eps(dtype) ** (1.0 / (order + 1))


def entry_steps(
    x: np.ndarray, order: int, eps: float | None = None, dtype: np.dtype | None = None
) -> np.ndarray:
    """Return the nominal step of every entry of `x`: ``base * max(1, |x|)``.

    `dtype` is the working precision (default: that of `x`); a loss computed in float32
    from float64 parameters needs float32's step.

    Examples
    --------
    >>> import numpy as np
    >>> entry_steps(np.array([0.5, -100.0]), 2, eps=1e-3)
    array([0.001, 0.1  ])
    """
    x = np.asarray(x)
    base = base_step(x.real.dtype if dtype is None else dtype, order, eps)
    return base * np.maximum(1.0, np.abs(x.real.astype(np.float64)))


#: No step is longer than this fraction of ``max(1, |x|)``: beyond it a difference
#: measures the function over a range as wide as the entry.
MAX_RELATIVE_STEP = 0.1


def capped(h: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Return the steps `h` shortened to at most ``MAX_RELATIVE_STEP * max(1, |x|)``.

    Examples
    --------
    >>> import numpy as np
    >>> capped(np.array([1e-3, 5.0]), np.array([0.0, 2.0])).tolist()
    [0.001, 0.2]
    """
    limit = MAX_RELATIVE_STEP * np.maximum(1.0, np.abs(np.real(x).astype(np.float64)))
    return np.minimum(np.asarray(h, dtype=np.float64), limit)
