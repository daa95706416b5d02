"""_jsonsafe.to_jsonable: its fast path for series of plain numbers changes no value."""

import math

import numpy as np
import pytest

from gradcheck._jsonsafe import to_jsonable


def item_by_item(value):
    """`value`'s items converted one at a time (no item is a list: the scalar path)."""
    return [to_jsonable(v) for v in value]


def identical(a, b) -> bool:
    """Equal, of the same types, and the same sign of zero, all the way down."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(identical(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(identical(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float):
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    return a == b


NAN, INF = float("nan"), float("inf")
CASES = {
    "empty": [],
    "empty-tuple": (),
    "ints-and-floats": [1, 2.5, -0.0, 0.0],
    "tuple": (1.0, 2.0),
    "sum-overflows": [1e308, 1e308],
    "nan": [NAN, 1.0],
    "inf": [1.0, INF],
    "minus-inf": [-INF],
    "int-too-large-for-a-float": [10**400, 1.0],
    "bool": [True, 1.0],
    "numpy-float": [np.float64(1.0), 2.0],
    "numpy-int": [np.int64(3)],
    "none": [1.0, None],
    "text": ["x", 1.0],
    "series": np.random.default_rng(0).normal(size=500).tolist(),
    "steps": [*range(500)],
}


@pytest.mark.parametrize("value", CASES.values(), ids=CASES.keys())
def test_fast_path_gives_what_item_by_item_conversion_gives(value):
    assert identical(to_jsonable(value), item_by_item(value))


def test_nested_series_are_converted_at_every_level():
    value = {"a": [[1.0], [2, NAN]], 3: (INF, None)}
    assert identical(to_jsonable(value), {"a": [[1.0], [2, "nan"]], "3": ["inf", None]})


def test_the_result_is_a_new_list():
    series = [1.0, 2.0]
    out = to_jsonable(series)
    assert out == series and out is not series
