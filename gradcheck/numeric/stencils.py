"""Finite-difference stencils as data: method -> offsets, weights, order.

A stencil evaluates the loss at ``x + offset * h`` and combines the values with
``weights``; the derivative is ``sum(w * f) / sum(w * delta)`` where ``delta`` is the
step really taken at each offset (so a linear function is differentiated exactly).
An offset of 0 reuses the loss at the unperturbed point and costs no evaluation.

=============  ===============  =============  =====
method         offsets          weights        order
=============  ===============  =============  =====
central        (-1, +1)         (-1, +1)       2
forward        (0, +1)          (-1, +1)       1
backward       (-1, 0)          (-1, +1)       1
richardson     central at h, h/2, h/4, combined by Romberg's scheme      6
complex        Im f(x + i h) / h (handled apart: needs a complex-safe loss)  2
=============  ===============  =============  =====
"""

from __future__ import annotations

from typing import NamedTuple


class Stencil(NamedTuple):
    """Offsets (in units of the step), weights, truncation order and step levels."""

    offsets: tuple[float, ...]
    weights: tuple[float, ...]
    order: int
    levels: int = 1


STENCILS: dict[str, Stencil] = {
    "central": Stencil((-1.0, 1.0), (-1.0, 1.0), 2),
    "forward": Stencil((0.0, 1.0), (-1.0, 1.0), 1),
    "backward": Stencil((-1.0, 0.0), (-1.0, 1.0), 1),
    "richardson": Stencil((-1.0, 1.0), (-1.0, 1.0), 2, levels=3),
}

#: Order of the method as a whole (what the step size is tuned for).
METHOD_ORDER: dict[str, int] = {
    "central": 2,
    "forward": 1,
    "backward": 1,
    "richardson": 6,
    "complex": 2,
}

METHODS: tuple[str, ...] = tuple(METHOD_ORDER)


def level_offsets(stencil: Stencil, level: int) -> tuple[float, ...]:
    """Return the offsets of step level `level` (level 0 is the full step, then halves)."""
    return tuple(offset / 2.0**level for offset in stencil.offsets)
