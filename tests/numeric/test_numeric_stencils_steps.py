"""Stencils (method table) and step sizes."""

import numpy as np
import pytest

from gradcheck.numeric.stencils import STENCILS, level_offsets, methods
from gradcheck.numeric.steps import base_step, dtype_eps, entry_steps


def stencil_derivative(f, x, h, name):
    s = STENCILS[name]
    deltas = np.array([(x + o * h) - x for o in s.offsets])  # the steps really taken
    values = np.array([f(x + d) for d in deltas])
    w = np.asarray(s.weights)
    return values @ w / (deltas @ w)


def test_methods_table():
    assert tuple(STENCILS) == ("central", "forward", "backward", "richardson", "complex")
    assert methods(directions=True) == ("central", "richardson")
    assert [name for name, row in STENCILS.items() if row.complex_step] == ["complex"]
    assert [name for name, row in STENCILS.items() if row.kink_screen] == ["central"]


def test_extrapolated_direction_methods_have_the_three_levels_the_kink_test_needs():
    rows = [row for row in STENCILS.values() if row.directions and row.levels > 1]
    assert rows and all(row.levels >= 3 for row in rows)


@pytest.mark.parametrize("name", [n for n, row in STENCILS.items() if not row.complex_step])
def test_evaluations_count_the_offsets_that_move(name):
    row = STENCILS[name]
    assert row.evaluations == sum(offset != 0 for offset in row.offsets) * row.levels


@pytest.mark.parametrize("name", ["central", "forward", "backward"])
def test_stencils_differentiate_linear_functions_exactly(name):
    assert stencil_derivative(lambda x: 3.0 * x - 1.0, 0.7, 1e-3, name) == pytest.approx(
        3.0, abs=1e-12
    )


@pytest.mark.parametrize("name", ["central", "forward", "backward"])
def test_stencil_error_shrinks_with_its_order(name):
    errors = [abs(stencil_derivative(np.exp, 0.3, h, name) - np.exp(0.3)) for h in (1e-2, 5e-3)]
    assert errors[0] / errors[1] == pytest.approx(2.0 ** STENCILS[name].order, rel=0.05)


def test_level_offsets_halve():
    assert level_offsets(STENCILS["central"], 2) == (-0.25, 0.25)


def test_base_step_follows_eps_power():
    assert base_step(np.float64, 2) == pytest.approx(np.finfo(float).eps ** (1 / 3))
    assert base_step(np.float64, 1) == pytest.approx(np.finfo(float).eps ** 0.5)
    assert base_step(np.float32, 2) == pytest.approx(np.finfo(np.float32).eps ** (1 / 3))
    assert base_step(np.float64, 2, eps=1e-4) == 1e-4
    assert dtype_eps(np.complex128) == np.finfo(float).eps


def test_entry_steps_scale_with_magnitude():
    h = entry_steps(np.array([0.0, -0.5, 10.0, -1e6]), 2)
    base = base_step(np.float64, 2)
    assert np.allclose(h, base * np.array([1.0, 1.0, 10.0, 1e6]))
