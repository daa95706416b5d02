"""Argument helpers of the hypothesis strategies: bounds checked when built, drawn values.

Every strategy takes values or strategies for its arguments; these helpers check the
values now (with messages such as "Cannot have min_width=5 > max_width=2") and draw the
strategies when the example is built.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from gradcheck._validate import check_choice, order_check
from gradcheck.errors import InvalidArgumentError

DTYPES = ("float64", "float32")  # the dtypes the strategies draw

# Strategies are @st.composite functions that draw plain values: they shrink far faster
# than chains of flatmap (seconds -> tenths of a second for a minimal tree).


def draw_value(draw: Any, value: Any) -> Any:
    return draw(value) if isinstance(value, SearchStrategy) else value


def check_int(name: str, value: Any, least: int) -> None:
    if not isinstance(value, SearchStrategy) and (
        not isinstance(value, int) or isinstance(value, bool) or value < least
    ):
        raise InvalidArgumentError(f"`{name}` must be an int >= {least}; got {name}={value!r}.")


def check_bounds(low: Any, high: Any, low_name: str, high_name: str, *, least: int) -> None:
    """Check a min_/max_ pair now where both are values (strategies are checked when drawn)."""
    check_int(low_name, low, least)
    check_int(high_name, high, least)
    if not isinstance(low, SearchStrategy) and not isinstance(high, SearchStrategy):
        order_check(low_name.removeprefix("min_"), low, high, low_name, high_name)


def draw_bounds(draw: Any, low: Any, high: Any, names: tuple[str, str], least: int) -> tuple:
    low, high = draw_value(draw, low), draw_value(draw, high)
    check_bounds(low, high, *names, least=least)
    return low, high


def choices_of(name: str, value: Any, valid: Sequence[str]) -> SearchStrategy[str]:
    """One name drawn from `value`: a name, a sequence of names, or a strategy of names."""
    if isinstance(value, SearchStrategy):
        return value
    names = [value] if isinstance(value, str) else list(value)
    if not names:
        raise InvalidArgumentError(f"`{name}` is empty; give at least one of {', '.join(valid)}.")
    for item in names:
        check_choice(name, item, valid)
    return st.sampled_from(names)


def check_positive_number(name: str, value: Any) -> None:
    if not isinstance(value, SearchStrategy) and not (
        isinstance(value, int | float) and np.isfinite(value) and value > 0
    ):
        raise InvalidArgumentError(f"`{name}` must be a finite number > 0; got {name}={value!r}.")


def check_shape(shape: Any) -> Any:
    if isinstance(shape, int):
        shape = (shape,)
    if not isinstance(shape, SearchStrategy | tuple):
        raise InvalidArgumentError(f"`shape` must be a tuple of ints or a strategy; got {shape!r}.")
    return shape


def finite_floats(max_abs: float, dtype: str) -> SearchStrategy[float]:
    width = 32 if np.dtype(dtype) == np.float32 else 64
    bound = float(np.float32(max_abs)) if width == 32 else float(max_abs)
    return st.floats(-bound, bound, allow_nan=False, allow_infinity=False, width=width)
