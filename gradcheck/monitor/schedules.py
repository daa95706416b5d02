"""Schedules: ``step -> bool`` callables saying at which steps to observe.

Pass one as ``Monitor(schedule=...)`` to choose the steps with full statistics (every step
is still scanned for NaN / Inf and its loss judged; the detectors' windows are in steps).
"""

from __future__ import annotations

import math
from collections.abc import Callable

from gradcheck._validate import check_positive
from gradcheck.errors import InvalidArgumentError


def every(n: int) -> Callable[[int], bool]:
    """Observe every `n`-th step (0, n, 2n, ...).

    Examples
    --------
    >>> [s for s in range(10) if every(4)(s)]
    [0, 4, 8]
    """
    check_positive("n", n, allow_none=False)
    return lambda step: step % n == 0


def logarithmic(base: float = 2.0, *, dense: int = 10) -> Callable[[int], bool]:
    """Observe the first `dense` steps, then steps near powers of `base` (denser early).

    Examples
    --------
    >>> [s for s in range(100) if logarithmic(2.0, dense=4)(s)]
    [0, 1, 2, 3, 4, 8, 16, 32, 64]
    """
    check_positive("base", base, allow_none=False)
    if base <= 1:
        raise InvalidArgumentError(f"`base` must be > 1; got base={base!r}.")

    def schedule(step: int) -> bool:
        if step < dense:
            return True
        exponent = round(math.log(step, base))
        return step == round(base**exponent)

    return schedule
