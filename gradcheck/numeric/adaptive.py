"""A step per parameter, chosen from measured truncation and rounding (Press et al. §5.7).

The default central step ``EPS**(1/3) max(1, |x|)`` balances truncation and rounding for
a function whose third derivative is about its value. When the loss's terms cancel (its
rounding is large next to its size), when a parameter enters multiplied by a large
factor (its third derivative is huge) or when the function is nearly quadratic, the
balance lies elsewhere and a fixed step makes the tolerance either too loose (bugs pass)
or pointlessly wide next to the real error.

:func:`step_factor` differences a few trial entries of the parameter at two steps ``h``
and ``h/2`` (four evaluations each): ``D(h) - D(h/2) = 3/4 C h**2`` measures the
truncation coefficient ``C``, the error model gives the rounding ``R(h) = r / h``. The
step that makes the truncation a fraction ``KAPPA`` of the rounding allowance,
``h* = (KAPPA r / C)**(1/3)``, keeps the error the first pass cannot see (truncation)
small next to what it allows (rounding), and the tolerance within a small factor of the
real error. Entries whose discrepancy rounding cannot explain are still re-differenced
at two steps with their truncation measured (:mod:`gradcheck.numeric.entries`).
"""

from __future__ import annotations

import numpy as np

from gradcheck.numeric import estimates as est
from gradcheck.numeric.levels import Context, evaluate_level, level_noise
from gradcheck.numeric.stencils import FALLBACK_METHOD, STENCILS, level_offsets
from gradcheck.numeric.steps import capped, entry_steps

#: Truncation allowed at the chosen step, as a fraction of the rounding allowance.
KAPPA = 1.0
#: The trial steps, relative to the default rule, tried in turn until truncation shows.
TRIALS_STEPS = (16.0, 256.0)
#: The chosen factor stays within this range of the default rule (longer steps would cross
#: the corners of piecewise-linear losses, whose truncation looks like zero, too often).
FACTOR_RANGE = (1.0 / 64.0, 64.0)
#: Entries of a parameter used as trials (the largest |analytic| one and evenly spread
#: others): one per ``ENTRIES_PER_TRIAL`` checked entries, at most ``TRIALS``.
TRIALS = 3
ENTRIES_PER_TRIAL = 16

_CENTRAL = STENCILS[FALLBACK_METHOD]


def trial_entries(analytic: np.ndarray, n: int = TRIALS) -> np.ndarray:
    """Return up to `n` flat indices: the largest ``|analytic|`` and evenly spread others.

    Examples
    --------
    >>> import numpy as np
    >>> trial_entries(np.array([0.1, -3.0, 0.2, 0.0, 1.0])).tolist()
    [0, 1, 2]
    """
    flat = np.abs(np.nan_to_num(np.asarray(analytic, dtype=float).reshape(-1)))
    spread = np.linspace(0, flat.size - 1, n).round().astype(np.intp)
    return np.unique(np.concatenate([[int(np.argmax(flat))], spread]))[:n]


def step_factor(ctx: Context, leaf: np.ndarray, indices: np.ndarray, analytic: np.ndarray) -> float:
    """Return the factor on the default central step for this parameter's entries.

    Parameters
    ----------
    ctx : Context
        Evaluator and noise model (with the parameter's scale).
    leaf : ndarray
        The leaf of the private copy.
    indices : ndarray of int
        The flat indices to be checked (trials are drawn from them).
    analytic : ndarray
        Their analytic derivatives (only used to pick the trials).

    Returns
    -------
    float
        ``h* / h`` (the smallest over the trials: the most curved one rules), 1 when no
        trial can tell (all left the domain), within ``FACTOR_RANGE``.
    """
    if ctx.eps is not None or not len(indices):
        return 1.0
    n = int(np.clip(len(indices) // ENTRIES_PER_TRIAL, 1, TRIALS))
    rows = np.asarray(indices)[trial_entries(analytic, n)]
    best = np.zeros(0)
    for trial in TRIALS_STEPS:
        best, resolved = _trial(ctx, leaf, rows, trial)
        if resolved:
            break
    best = best[np.isfinite(best) & (best > 0)]
    if not best.size:
        return 1.0
    return float(np.clip(np.min(best), *FACTOR_RANGE))


def _trial(ctx: Context, leaf: np.ndarray, rows: np.ndarray, trial: float):
    """Return each trial entry's best factor, and whether its truncation was resolved.

    ``C`` is bounded from above by ``|D(h) - D(h/2)| + rounding``: where rounding hides
    the truncation the bound is loose and the step shorter than it could be (never
    longer), so a longer trial is worth it.
    """
    x = leaf.reshape(-1)[rows]
    h = capped(trial * entry_steps(x, 2, None, ctx.step_dtype), x)
    coarse = evaluate_level(ctx, leaf, rows, h, _CENTRAL.offsets, _CENTRAL.weights)
    fine = evaluate_level(ctx, leaf, rows, h, level_offsets(_CENTRAL, 1), _CENTRAL.weights)
    sigma = level_noise(ctx, coarse, fine)
    rounding = est.rounding_bound(sigma, coarse.coeff_norm * h)  # r, with R(h) = r / h
    delta = np.abs(coarse.numeric - fine.numeric)
    blur = est.rounding_bound(sigma, coarse.coeff_norm + fine.coeff_norm)
    curvature = (delta + blur) / (0.75 * h**2)  # C, from above: never a step too long
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        best = np.cbrt(KAPPA * rounding / curvature) / entry_steps(x, 2, None, ctx.step_dtype)
    finite = np.isfinite(coarse.numeric) & np.isfinite(fine.numeric)
    resolved = bool(np.all(delta[finite] > 2 * blur[finite])) if finite.any() else False
    return np.where(finite, best, np.nan), resolved
