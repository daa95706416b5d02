"""Finite-difference methods as data: one :class:`Stencil` row per method.

A stencil evaluates the loss at ``x + offset * h`` and combines the values with
``weights``; the derivative is ``sum(w * f) / sum(w * delta)`` where ``delta`` is the
step really taken at each offset (so a linear function is differentiated exactly).
An offset of 0 reuses the loss at the unperturbed point and costs no evaluation.
A method with several ``levels`` repeats its stencil at h, h/2, h/4, ... and combines the
levels by Romberg's scheme; the complex step ``Im f(x + i h) / h`` has no real offsets.

=============  ===============  =============  =====  ======  ==========  ====  ==========
method         offsets          weights        order  levels  evaluations  dirs  kink screen
=============  ===============  =============  =====  ======  ==========  ====  ==========
central        (-1, +1)         (-1, +1)       2      1       2           yes   yes
forward        (0, +1)          (-1, +1)       1      1       1           no    no
backward       (-1, 0)          (-1, +1)       1      1       1           no    no
richardson     (-1, +1)         (-1, +1)       6      3       6           yes   no
complex        Im f(x + i h) / h (needs a complex-safe loss)  2      1       1           no    no
=============  ===============  =============  =====  ======  ==========  ====  ==========

Adding a method is one row of :data:`STENCILS` (and its tests); nothing else names methods.

Examples
--------
>>> STENCILS["richardson"].evaluations, STENCILS["richardson"].order
(6, 6)
>>> [name for name, row in STENCILS.items() if row.directions]
['central', 'richardson']
"""

from __future__ import annotations

from typing import NamedTuple


class Stencil(NamedTuple):
    """One difference method: what it evaluates, what it costs, where it may be used.

    Attributes
    ----------
    offsets, weights : tuple of float
        Offsets (in units of the step) and the weights that combine the loss values.
    order : int
        Truncation order of the method as a whole (what the step size is tuned for).
    evaluations : int
        Loss evaluations per entry (or per direction), for the progress bar.
    levels : int
        Step levels combined by Romberg's scheme (1: the stencil at h only).
    level_order : int or None
        Truncation order of one level (``None``: the same as `order`).
    directions : bool
        Whether the method may certify along random directions (``directions=``). A
        method with several levels needs three or more there: the probe tests that the
        differences between its first three levels shrink before it extrapolates.
    kink_screen : bool
        Whether the method gets the kink screen: a per-parameter step factor and a test of
        every entry for a kink between the steps (wider stencils would flag mere curvature).
    complex_step : bool
        Whether the method is the complex step (``Im f(x + i h) / h``) instead of offsets.
    """

    offsets: tuple[float, ...]
    weights: tuple[float, ...]
    order: int
    evaluations: int
    levels: int = 1
    level_order: int | None = None
    directions: bool = False
    kink_screen: bool = False
    complex_step: bool = False

    @property
    def romberg_order(self) -> int:
        """The truncation order of one level (what Romberg's scheme removes first)."""
        return self.order if self.level_order is None else self.level_order


STENCILS: dict[str, Stencil] = {
    "central": Stencil(
        offsets=(-1.0, 1.0),
        weights=(-1.0, 1.0),
        order=2,
        evaluations=2,
        directions=True,
        kink_screen=True,
    ),
    "forward": Stencil(offsets=(0.0, 1.0), weights=(-1.0, 1.0), order=1, evaluations=1),
    "backward": Stencil(offsets=(-1.0, 0.0), weights=(-1.0, 1.0), order=1, evaluations=1),
    "richardson": Stencil(
        offsets=(-1.0, 1.0),
        weights=(-1.0, 1.0),
        order=6,
        evaluations=6,
        levels=3,
        level_order=2,
        directions=True,
    ),
    "complex": Stencil(offsets=(), weights=(), order=2, evaluations=1, complex_step=True),
}

#: The method used when `method` is not given, per mode (directional checks need
#: Richardson's small error to see one wrong entry among many).
DEFAULT_METHOD: dict[str, str] = {
    "full": "central",
    "sample": "central",
    "directional": "richardson",
}
#: The method the others fall back on where only short steps can judge (a kink within the
#: wide steps, the entries a directional check localized).
FALLBACK_METHOD = "central"


def methods(*, directions: bool = False) -> tuple[str, ...]:
    """Return the method names, in table order (only those that support directions, if asked).

    Examples
    --------
    >>> methods(directions=True)
    ('central', 'richardson')
    """
    return tuple(name for name, row in STENCILS.items() if row.directions or not directions)


def level_offsets(stencil: Stencil, level: int) -> tuple[float, ...]:
    """Return the offsets of step level `level` (level 0 is the full step, then halves)."""
    return tuple(offset / 2.0**level for offset in stencil.offsets)
