"""Hypothesis strategies for arrays: away from / near kinks, and smooth maps for Jacobians.

Re-exported by `gradcheck.testing.strategies`, the documented place to import them from.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from hypothesis.strategies import SearchStrategy

from gradcheck._validate import check_choice, order_check
from gradcheck.testing._strategy_args import (
    DTYPES,
    check_bounds,
    check_positive_number,
    check_shape,
    draw_bounds,
    draw_value,
    finite_floats,
)
from gradcheck.testing.spec import SmoothMap


def arrays_away_from_kinks(
    shape: Any, *, margin: float = 0.1, max_abs: float = 2.0, dtype: str = "float64"
) -> SearchStrategy[np.ndarray]:
    """Return a strategy for arrays whose entries keep `margin` away from the kink at 0.

    Use them as the input of a ReLU-like layer, where a central difference straddling 0
    would not measure the derivative.

    Parameters
    ----------
    shape : tuple of int or strategy
        The array shape.
    margin : float
        Every entry has ``|v| >= margin``.
    max_abs : float
        Every entry has ``|v| <= max_abs`` (``>= margin``).
    dtype : str
        ``"float64"`` or ``"float32"``.

    Returns
    -------
    SearchStrategy[ndarray]
        Shrinks toward entries equal to ``+margin``.

    Examples
    --------
    >>> from hypothesis import find
    >>> x = find(arrays_away_from_kinks((3,), margin=0.5), lambda x: (x < 0).any())
    >>> sorted(x.tolist())
    [-0.5, 0.5, 0.5]
    """
    check_positive_number("margin", margin)
    check_positive_number("max_abs", max_abs)
    order_check("arrays_away_from_kinks", margin, max_abs, "margin", "max_abs")
    check_choice("dtype", dtype, DTYPES)
    # margin + offset, not floats(margin, max_abs): the offset shrinks to 0, so entries
    # shrink to the margin itself (hypothesis would prefer the "simpler" 1.0).
    offset = st.floats(0.0, max_abs - margin, allow_nan=False)
    elements = st.tuples(st.booleans(), offset).map(lambda p: (-1) ** p[0] * (margin + p[1]))
    return _kink_arrays(check_shape(shape), elements, dtype, margin)


def arrays_near_kinks(
    shape: Any, *, distance: float = 1e-6, dtype: str = "float64"
) -> SearchStrategy[np.ndarray]:
    """Return a strategy for arrays whose entries lie within `distance` of the kink at 0.

    Parameters
    ----------
    shape : tuple of int or strategy
        The array shape.
    distance : float
        Every entry has ``|v| <= distance``.
    dtype : str
        ``"float64"`` or ``"float32"``.

    Returns
    -------
    SearchStrategy[ndarray]
        Shrinks toward zeros (exactly on the kink).

    Examples
    --------
    >>> from hypothesis import find
    >>> x = find(arrays_near_kinks((2,), distance=1e-3), lambda x: (x != 0).any())
    >>> bool(abs(x).max() <= 1e-3)
    True
    """
    check_positive_number("distance", distance)
    check_choice("dtype", dtype, DTYPES)
    elements = st.floats(-distance, distance, allow_nan=False)
    return _kink_arrays(check_shape(shape), elements, dtype, 0.0)


@st.composite
def _kink_arrays(draw: Any, shape: Any, elements: SearchStrategy, dtype: str, margin: float):
    x = draw(hnp.arrays(np.float64, draw_value(draw, shape), elements=elements)).astype(dtype)
    # Rounding to float32 may bring an entry under the margin: step it back outward.
    short = np.abs(x) < margin
    x[short] = np.nextafter(x[short], np.copysign(np.inf, x[short]))
    return x


# ---------------------------------------------------------------- Jacobians


def smooth_maps(
    *,
    min_inputs: Any = 1,
    max_inputs: Any = 4,
    min_outputs: Any = 1,
    max_outputs: Any = 4,
    max_abs: float = 2.0,
) -> SearchStrategy[SmoothMap]:
    """Return a strategy for :class:`SmoothMap` problems: Jacobians of any small shape.

    Parameters
    ----------
    min_inputs, max_inputs : int or strategy
        Bounds on the number of inputs ``n`` (``>= 1``).
    min_outputs, max_outputs : int or strategy
        Bounds on the number of outputs ``m`` (``>= 1``).
    max_abs : float
        Bound on the entries of ``A``, ``b`` and ``x``.

    Returns
    -------
    SearchStrategy[SmoothMap]
        Shrinks toward one input, one output and zeros.

    Examples
    --------
    >>> from hypothesis import find
    >>> m = find(smooth_maps(min_inputs=2), lambda m: m.A.shape[0] > 1)
    >>> m.A.shape
    (2, 2)
    """
    check_bounds(min_inputs, max_inputs, "min_inputs", "max_inputs", least=1)
    check_bounds(min_outputs, max_outputs, "min_outputs", "max_outputs", least=1)
    check_positive_number("max_abs", max_abs)
    return _smooth_maps((min_inputs, max_inputs), (min_outputs, max_outputs), max_abs)


@st.composite
def _smooth_maps(draw: Any, inputs: tuple, outputs: tuple, max_abs: float) -> SmoothMap:
    n = draw(st.integers(*draw_bounds(draw, *inputs, ("min_inputs", "max_inputs"), 1)))
    m = draw(st.integers(*draw_bounds(draw, *outputs, ("min_outputs", "max_outputs"), 1)))
    entries = finite_floats(max_abs, "float64")
    a = draw(hnp.arrays(np.float64, (m, n), elements=entries))
    b = draw(hnp.arrays(np.float64, (m,), elements=entries))
    return SmoothMap(a, b, draw(hnp.arrays(np.float64, (n,), elements=entries)))
