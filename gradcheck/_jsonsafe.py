"""JSON-safe numbers: every ``to_dict()`` encodes non-finite floats explicitly.

Strict JSON has no NaN or Infinity, so they are written as the strings ``"nan"``,
``"inf"`` and ``"-inf"``; :func:`parse_float` reads them back.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

_NONFINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


def json_float(value: Any) -> float | str | None:
    """Return `value` as a float, or as "nan"/"inf"/"-inf" when it is not finite."""
    if value is None:
        return None
    number = float(value)
    if math.isnan(number):
        return "nan"
    if math.isinf(number):
        return "inf" if number > 0 else "-inf"
    return number


def parse_float(value: Any) -> float | None:
    """Inverse of :func:`json_float`."""
    if value is None:
        return None
    if isinstance(value, str):
        return _NONFINITE[value]
    return float(value)


_PLAIN = {int, float}


def _plain_numbers(values: list | tuple) -> bool:
    """Return whether every item is a Python int or a finite Python float (exact types)."""
    if not set(map(type, values)) <= _PLAIN:
        return False
    try:
        return math.isfinite(sum(values, 0.0))  # a nan or an inf makes the sum non-finite
    except OverflowError:  # an int too large for a float
        return False


def to_jsonable(value: Any) -> Any:
    """Convert numpy scalars/arrays, tuples and non-finite floats to JSON-safe values."""
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        if _plain_numbers(value):  # a long series: already JSON-safe, item for item
            return list(value)
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return json_float(value)
    return value
