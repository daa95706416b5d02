"""Per-entry finite differences with error estimates: the driver over the engine.

:func:`probe_entries` differentiates chosen entries of one leaf with the requested
method, derives each entry's allowed error from :mod:`gradcheck.numeric.estimates`, and
re-examines only the entries whose discrepancy rounding alone cannot explain: those get
central differences at a second, halved step (a measured truncation error) and the
one-sided kink test.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from gradcheck.numeric import estimates as est
from gradcheck.numeric.adaptive import step_factor
from gradcheck.numeric.differences import entry_values
from gradcheck.numeric.levels import Context, Level, evaluate_level, level_noise, with_scale
from gradcheck.numeric.stencils import FALLBACK_METHOD, STENCILS, level_offsets
from gradcheck.numeric.steps import base_step, capped, entry_steps

__all__ = ["Context", "EntryEstimate", "complex_steps", "probe_entries", "with_scale"]

_CENTRAL = STENCILS[FALLBACK_METHOD]


class EntryEstimate(NamedTuple):
    """Numeric derivatives, allowed errors and kink flags of a set of entries."""

    numeric: np.ndarray
    allowed: np.ndarray
    kink: np.ndarray
    undecided: np.ndarray | None = None  # every step left the loss's domain
    gap: np.ndarray | None = None  # |D+ - D-| where a kink was seen (its slope jump)


def probe_entries(
    ctx: Context, leaf: np.ndarray, indices: np.ndarray, analytic: np.ndarray, method: str
) -> EntryEstimate:
    """Differentiate the entries `indices` (flat) of `leaf` and estimate the allowed errors.

    Parameters
    ----------
    ctx : Context
        Evaluator, loss at the unperturbed point and its noise.
    leaf : ndarray
        A leaf of the private copy (perturbed in place, restored exactly).
    indices : ndarray of int
        Flat indices to check.
    analytic : ndarray
        The analytic derivatives of those entries.
    method : str
        A key of :data:`gradcheck.numeric.stencils.STENCILS`.

    Returns
    -------
    EntryEstimate
        ``numeric``, ``allowed`` (the error a correct gradient may show) and ``kink``.

    Notes
    -----
    The rounding of a difference is ``~ eps_f S / h`` (Press et al., section 5.7) where
    ``S`` is the size of the *terms* of the loss, which can cancel to a tiny ``|f|``. Per
    entry the loss noise is ``max(measured, eps_f max|f|, eps_f |h| G)`` with ``G`` =
    ``ctx.param_scale``, the parameter's largest ``|analytic|`` (at least that of
    `analytic`), and the analytic rounding is ``ANALYTIC_ULPS eps_a max(|analytic|, G)``:
    an entry that is a cancelling sum rounds like its terms. See
    :mod:`gradcheck.numeric.estimates`.
    """
    indices = np.asarray(indices, dtype=np.intp)
    analytic = np.asarray(analytic, dtype=float)
    ctx = with_scale(ctx, analytic)
    stencil = STENCILS[method]
    if stencil.complex_step:
        return _complex_entries(ctx, leaf, indices, analytic)
    if stencil.kink_screen:
        ctx = ctx._replace(step_factor=step_factor(ctx, leaf, indices, analytic))
    x = leaf.reshape(-1)[indices]
    h = capped(ctx.step_factor * entry_steps(x, stencil.order, ctx.eps, ctx.step_dtype), x)
    levels = [
        evaluate_level(ctx, leaf, indices, h, level_offsets(stencil, lv), stencil.weights)
        for lv in range(stencil.levels)
    ]
    a_rnd = est.analytic_rounding(analytic, ctx.eps_analytic, ctx.param_scale, ctx.tiny_analytic)
    sigma = level_noise(ctx, *levels)
    trusted = None
    if stencil.levels == 1:
        numeric, error, norm = levels[0].numeric, 0.0, levels[0].coeff_norm
    else:
        numeric, error, w = est.romberg([lv.numeric for lv in levels], stencil.romberg_order)
        norm = np.sqrt(sum((wl * lv.coeff_norm) ** 2 for wl, lv in zip(w, levels, strict=True)))
        trusted = _trusted(sigma, levels)
    allowed = est.allowed_error(error, est.rounding_bound(sigma, norm), a_rnd)
    n = len(indices)
    result = EntryEstimate(
        numeric, allowed, np.zeros(n, dtype=bool), np.zeros(n, dtype=bool), np.zeros(n)
    )
    outside = ~np.isfinite(numeric)
    suspicious = (np.abs(numeric - analytic) > allowed) & ~outside
    if stencil.kink_screen:  # wider stencils would flag mere curvature
        suspicious |= _kink_candidates(ctx, levels[0]) & ~outside
    suspicious = np.flatnonzero(suspicious)
    if suspicious.size:
        first = levels[0] if stencil.kink_screen else None
        outside[suspicious] |= _refine(
            ctx, leaf, indices, analytic, suspicious, first, result, trusted
        )
    _near_edge(ctx, leaf, indices, analytic, np.flatnonzero(outside), result)
    if ctx.eps is None:
        _adapt(ctx, leaf, indices, analytic, result)
    return result


#: An entry whose allowed error exceeds this fraction of its size (at least a tenth of the
#: parameter's scale) is re-differenced at other steps (see :func:`_adapt`): the 1% that a
#: check must see in every entry (the parameter's own step serves the rest).
ADAPT_TARGET = 1e-2
#: Step factors tried by :func:`_adapt`, in turn: longer steps first (rounding-dominated
#: errors shrink as 1/h), then shorter ones (truncation-dominated errors shrink as h**2).
ADAPT_FACTORS = ((8.0, 64.0, 512.0), (0.125, 0.125**2, 0.125**3))


def _poor(ctx: Context, analytic, result) -> np.ndarray:
    """Rows whose allowed error exceeds ADAPT_TARGET of their size (a tenth of the scale)."""
    scale = max(ctx.param_scale, float(np.max(np.abs(np.nan_to_num(result.numeric)), initial=0)))
    size = np.maximum(
        np.maximum(np.abs(analytic), np.abs(np.nan_to_num(result.numeric))), 0.1 * scale
    )
    poor = result.allowed > ADAPT_TARGET * size
    return np.flatnonzero(poor & ~result.undecided & (size > 0))


def _adapt(ctx, leaf, indices, analytic, result) -> None:
    """Choose a better step for entries whose error bound is poor (Press et al. §5.7).

    The default step balances truncation and rounding for a typical function; when the
    loss's terms cancel, the parameter enters multiplied by a large factor, or the loss
    works in float32, the balance lies elsewhere. Each poor entry is re-differenced
    (central at h and h/2: measured truncation, kink test) at longer, then shorter steps
    (a kink just beyond a shorter step no longer spoils it); a step is kept only where
    its allowed error is smaller and its estimate agrees with the previous one within
    that one's allowed error.
    """
    for factors in ADAPT_FACTORS:
        for factor in factors:  # a step that did not help may precede one that does
            rows = _poor(ctx, analytic, result)
            if not rows.size:
                break
            _shorter(ctx, leaf, indices, analytic, rows, result, factor)
    _resolve_kinks(ctx, leaf, indices, analytic, result)


#: Step reductions tried for an entry that looks like a kink: a corner *near* the entry
#: (not at it) is outside a short enough step, and the entry is then judged as smooth.
KINK_SHRINK = 0.125 ** np.arange(1, 7)


def _resolve_kinks(ctx, leaf, indices, analytic, result) -> None:
    """Re-difference kinks at shorter steps; keep an estimate two shorter steps agree on.

    A ReLU whose corner lies within a step of the entry looks like a kink, and any value
    between its one-sided slopes would be accepted there; at steps shorter than the
    distance to the corner it is an ordinary entry again. A shorter step counts only
    where the kink test could still see the slope jump (the allowed error is below a
    quarter of it: an exact corner never passes for smooth), and two successive steps
    must agree (a corner still inside moves the estimate as the step shrinks).
    """
    rows = np.flatnonzero(result.kink)
    jump = result.gap[rows]
    previous = np.full(rows.size, np.nan), np.full(rows.size, np.inf)
    for shrink in KINK_SHRINK:
        if not rows.size:
            return
        before = EntryEstimate(*(np.copy(part) for part in result))
        outside = _refine(ctx, leaf, indices, analytic, rows, None, result, None, shrink)
        numeric, allowed = result.numeric[rows], result.allowed[rows]
        smooth = ~outside & ~result.kink[rows] & (allowed < 0.25 * jump)
        agree = smooth & (np.abs(numeric - previous[0]) <= allowed + previous[1])
        for part, old in zip(result, before, strict=True):
            part[rows[~agree]] = old[rows[~agree]]
        previous = (
            np.where(smooth, numeric, np.nan)[~agree],
            np.where(smooth, allowed, np.inf)[~agree],
        )
        rows, jump = rows[~agree], jump[~agree]


#: Step reductions tried, in turn, for an entry whose differences left the loss's domain.
EDGE_SHRINK = 16.0 ** -np.arange(1, 7)


def _near_edge(ctx, leaf, indices, analytic, rows, result) -> None:
    """Re-difference entries whose steps left the domain with shorter and shorter steps.

    Central differences at h and h/2 (measured truncation) with h shrunk 16x at a time
    until every evaluation is finite, then further while the allowed error shrinks and
    the new estimate agrees with the previous one within its error (the derivative
    changes fast near an edge); an entry for which no step stays inside is undecided.
    """
    result.undecided[rows] = True
    settled = rows[:0]
    for shrink in EDGE_SHRINK:
        if not (rows.size or settled.size):
            return
        if settled.size:
            settled = _shorter(ctx, leaf, indices, analytic, settled, result, shrink)
        if rows.size:
            outside = _refine(ctx, leaf, indices, analytic, rows, None, result, None, shrink)
            result.undecided[rows[~outside]] = False
            settled = np.union1d(settled, rows[~outside]).astype(np.intp)
            rows = rows[outside]


def _shorter(ctx, leaf, indices, analytic, rows, result, shrink) -> np.ndarray:
    """Try `rows` at a shorter step; keep it where it is better; return rows to go on with."""
    before = EntryEstimate(*(np.copy(part) for part in result))
    outside = _refine(ctx, leaf, indices, analytic, rows, None, result, None, shrink)
    better = (
        ~outside
        & (result.allowed[rows] < before.allowed[rows])
        & (np.abs(result.numeric[rows] - before.numeric[rows]) <= before.allowed[rows])
    )
    for part, old in zip(result, before, strict=True):
        part[rows[~better]] = old[rows[~better]]
    return rows[better]


def _trusted(sigma: np.ndarray, levels: list[Level]) -> np.ndarray:
    """Entries whose Richardson levels behave asymptotically: its own error estimate holds."""
    d = [lv.numeric for lv in levels]
    rnd = [est.rounding_bound(sigma, lv.coeff_norm) for lv in levels]
    return est.asymptotic(d[0] - d[1], d[1] - d[2], 4 * (rnd[0] + 2 * rnd[1] + rnd[2]))


def _refine(ctx, leaf, indices, analytic, rows, first, result, trusted=None, shrink=1.0):
    """Central differences at h and h/2 on `rows`: measured truncation and the kink test.

    The verdict of these entries then rests on the central estimate and its measured
    truncation error (a Richardson or one-sided stencil that straddles a nearby kink
    cannot certify an entry; the short central one can), except where a `trusted`
    Richardson estimate agrees with it: then Richardson's own, tighter, error stands.
    Returns where an evaluation was not finite (the step left the loss's domain); those
    rows are left as they were.
    """
    sub = indices[rows]
    x = leaf.reshape(-1)[sub]
    h = capped(shrink * ctx.step_factor * entry_steps(x, 2, ctx.eps, ctx.step_dtype), x)
    if first is None:
        coarse = evaluate_level(ctx, leaf, sub, h, _CENTRAL.offsets, _CENTRAL.weights)
    else:
        coarse = first.take(rows)
    fine = evaluate_level(ctx, leaf, sub, h, level_offsets(_CENTRAL, 1), _CENTRAL.weights)
    outside = ~(np.isfinite(coarse.numeric) & np.isfinite(fine.numeric))
    if outside.any():
        inside = ~outside
        if inside.any():
            _settle(
                ctx,
                analytic,
                rows[inside],
                coarse.take(inside),
                fine.take(inside),
                result,
                trusted,
            )
        return outside
    _settle(ctx, analytic, rows, coarse, fine, result, trusted)
    return outside


def _settle(ctx, analytic, rows, coarse: Level, fine: Level, result, trusted) -> None:
    """Verdict inputs of `rows` from central differences at h and h/2 (see _refine).

    A kink is never a failure, but it certifies the entry only when the analytic
    derivative lies between the one-sided ones (a subgradient, as ReLU'(0) = 0 is);
    otherwise the entry is undecided (a rounded loss also looks like kinks everywhere).
    """
    result.kink[rows] = _kinks(ctx, coarse, fine)
    result.undecided[rows] = result.kink[rows] & ~_brackets(ctx, coarse, fine, analytic[rows])
    result.gap[rows] = np.abs(_one_sided_gap(ctx, fine)[0])
    a = analytic[rows]
    trunc = est.truncation(coarse.numeric, fine.numeric, 2)  # the analytic cancels
    rounding = est.rounding_bound(
        level_noise(ctx, coarse, fine), coarse.coeff_norm + fine.coeff_norm
    )
    a_rnd = est.analytic_rounding(a, ctx.eps_analytic, ctx.param_scale, ctx.tiny_analytic)
    allowed = est.allowed_error(trunc, rounding, a_rnd)
    # keep the primary estimate where the short central one vouches for it; the allowed
    # error grows by their distance (no verdict stricter than the central one), unless a
    # trusted Richardson estimate keeps its own error estimate
    primary = result.numeric[rows]
    distance = np.abs(primary - coarse.numeric)
    keep = distance <= allowed  # False where the primary estimate is not finite
    own = keep & (trusted[rows] if trusted is not None else False)
    result.numeric[rows] = np.where(keep, primary, coarse.numeric)
    result.allowed[rows] = np.where(
        own, result.allowed[rows], np.where(keep, allowed + distance, allowed)
    )


def _one_sided_gap(ctx: Context, level: Level) -> tuple[np.ndarray, np.ndarray]:
    minus, plus = level.taken[:, 0], level.taken[:, 1]
    forward = (level.values[:, 1] - ctx.f0) / plus
    backward = (ctx.f0 - level.values[:, 0]) / -minus
    noise = np.sqrt(1 / plus**2 + (1 / plus - 1 / minus) ** 2 + 1 / minus**2)
    return forward - backward, noise


def _one_sided(ctx: Context, level: Level) -> tuple[np.ndarray, np.ndarray]:
    minus, plus = level.taken[:, 0], level.taken[:, 1]
    return (ctx.f0 - level.values[:, 0]) / -minus, (level.values[:, 1] - ctx.f0) / plus


def _brackets(ctx: Context, coarse: Level, fine: Level, analytic: np.ndarray) -> np.ndarray:
    """Where `analytic` lies between the one-sided derivatives (within their errors)."""
    (bc, fc), (bf, ff) = _one_sided(ctx, coarse), _one_sided(ctx, fine)
    h = np.minimum(np.abs(fine.taken[:, 0]), np.abs(fine.taken[:, 1]))
    rounding = est.rounding_bound(level_noise(ctx, coarse, fine), 2 * np.sqrt(2) / h)
    tol = est.allowed_error(np.abs(bc - bf) + np.abs(fc - ff), rounding)
    low, high = np.minimum(bf, ff) - tol, np.maximum(bf, ff) + tol
    return (analytic >= low) & (analytic <= high)


def _kink_candidates(ctx: Context, level: Level) -> np.ndarray:
    """Entries whose one-sided differences disagree beyond rounding and mild curvature."""
    gap, noise = _one_sided_gap(ctx, level)
    minus, plus = level.taken[:, 0], level.taken[:, 1]
    one_sided = (
        np.abs(level.values[:, 1] - ctx.f0) / plus + np.abs(ctx.f0 - level.values[:, 0]) / -minus
    )
    return (np.abs(gap) > est.allowed_error(est.rounding_bound(level_noise(ctx, level), noise))) & (
        np.abs(gap) > est.KINK_SCREEN * one_sided
    )


def _kinks(ctx: Context, coarse: Level, fine: Level) -> np.ndarray:
    gap_coarse, noise_coarse = _one_sided_gap(ctx, coarse)
    gap_fine, noise_fine = _one_sided_gap(ctx, fine)
    noise = np.sqrt(noise_fine**2 + (0.5 * noise_coarse) ** 2)
    noise = est.rounding_bound(level_noise(ctx, coarse, fine), noise)
    return est.kink_mask(gap_coarse, gap_fine, noise)


def complex_steps(x: np.ndarray, eps: float | None) -> np.ndarray:
    """Return complex-step sizes: tiny (no cancellation), ``eps`` scaled if given."""
    base = eps if eps is not None else base_step(np.float64, 2) ** 4
    return base * np.maximum(1.0, np.abs(x.real))


def _complex_entries(ctx: Context, leaf, indices, analytic) -> EntryEstimate:
    x = leaf.reshape(-1)[indices]
    h = complex_steps(x, ctx.eps).astype(x.real.dtype)
    perturbed = (x + 1j * h)[:, None].astype(leaf.dtype)
    values = np.zeros((len(indices), 1))
    entry_values(ctx.imag, leaf, indices, perturbed, [0], values, ctx.on_entry)
    numeric = values[:, 0] / h
    scale = np.abs(numeric) + np.abs(analytic) + ctx.gradient_scale
    allowed = est.allowed_error(
        est.rounding_bound(ctx.eps_eval, scale),
        est.analytic_rounding(analytic, ctx.eps_analytic, ctx.param_scale, ctx.tiny_analytic),
    )
    return EntryEstimate(numeric, allowed, np.zeros(len(indices), dtype=bool))
