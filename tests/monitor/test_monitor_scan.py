"""The scan of every step: one BLAS dot product per array, whatever its layout or dtype."""

import math
import warnings

import numpy as np
import pytest

from gradcheck.monitor.scan import Scan, all_finite

rng = np.random.default_rng(0)
LAYOUTS = {
    "contiguous": rng.standard_normal((6, 5)),
    "transposed": rng.standard_normal((5, 7)).T,
    "strided": rng.standard_normal((8, 9))[::2, 1::3],
    "fortran": np.asfortranarray(rng.standard_normal((4, 6))),
    "three-d": rng.standard_normal((3, 4, 5)).transpose(2, 0, 1),
    "zero-d": np.array(3.0),
    "empty": np.zeros((0, 4)),
    "float32": rng.standard_normal((5, 5)).astype(np.float32),
    "int": np.arange(-6, 6).reshape(3, 4),
    "bool": np.array([[True, False], [True, True]]),
    "complex": rng.standard_normal(4) + 1j * rng.standard_normal(4),
    "list": [[1.0, 2.0], [3.0, -4.0]],
}


def expected_sumsq(value):
    array = np.asarray(value)
    array = np.abs(array) if np.iscomplexobj(array) else array.astype(np.float64)
    return float(np.sum(array * array))


def mappings_with(value, kind="gradients"):
    mappings = {k: {} for k in ("activations", "preactivations", "gradients", "params")}
    mappings[kind]["x"] = value
    mappings["params"]["other"] = np.ones(3)
    return mappings


@pytest.mark.parametrize("value", LAYOUTS.values(), ids=LAYOUTS.keys())
def test_each_layout_and_dtype_gives_the_exact_squared_norm(value):
    finite, sumsq = all_finite(mappings_with(value))
    assert finite and math.isclose(sumsq, expected_sumsq(value), rel_tol=1e-6)
    scan = Scan(mappings_with(value))
    assert not scan.bad
    assert math.isclose(scan.gradient_sumsq(), expected_sumsq(value), rel_tol=1e-6)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("name", ["transposed", "strided", "three-d", "float32", "complex"])
def test_one_bad_entry_in_any_layout_fails_the_scan(name, bad):
    value = np.array(LAYOUTS[name], copy=True)  # keeps the layout
    value.flat[-1] = bad
    assert all_finite(mappings_with(value, "activations"))[0] is False
    assert Scan(mappings_with(value, "activations")).bad


@pytest.mark.filterwarnings("error")
def test_a_sum_of_squares_that_overflows_is_no_warning_and_no_error():
    # entries above 1e154 overflow their squares: the scan says "not finite" (the exact
    # path then looks), silently, whatever numpy's error settings
    huge, huge32 = np.full(4, 1e200), np.full(4, 1e30, dtype=np.float32)
    with np.errstate(all="raise"), warnings.catch_warnings():
        assert all_finite(mappings_with(huge))[0] is False
        assert all_finite(mappings_with(huge32))[0] is False
