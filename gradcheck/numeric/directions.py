"""Directional certification and localization of wrong entries by bisection.

A random signed direction ``v`` certifies a whole parameter with two evaluations: the
central difference of the loss along ``v`` against ``<analytic, v>``. When it fails, the
wrong entries are found by group testing: the same direction restricted to the left half
of the entries is measured (two evaluations), the right half's discrepancy follows by
subtraction (discrepancies are additive over disjoint sets), and the search recurses
into each half that is still wrong. One wrong entry among P is found with about
``2 log2(P)`` evaluations instead of the ``2P`` of a per-entry check.

Discrepancies are in derivative units along ``v * max(1, |x|)``, so they do not depend
on the step used for a subset (which grows as subsets shrink: better signal-to-noise).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from gradcheck.numeric import estimates as est
from gradcheck.numeric.differences import support_values
from gradcheck.numeric.entries import Context, with_scale
from gradcheck.numeric.stencils import FALLBACK_METHOD, STENCILS
from gradcheck.numeric.steps import base_step


class DirectionProbe(NamedTuple):
    """A directional check: discrepancy ``numeric - analytic`` and its allowed size."""

    numeric: float
    analytic: float
    discrepancy: float
    allowed: float

    @property
    def failed(self) -> bool:
        """True when the discrepancy is outside the allowed error (or not finite)."""
        return not abs(self.discrepancy) <= self.allowed


def random_signs(rng: np.random.Generator, n: int) -> np.ndarray:
    """Return `n` random signs (+1.0 / -1.0): a Rademacher direction.

    Examples
    --------
    >>> import numpy as np
    >>> sorted(set(random_signs(np.random.default_rng(0), 20).tolist()))
    [-1.0, 1.0]
    """
    return rng.choice(np.array([-1.0, 1.0]), size=n)


def direction_step(
    leaf: np.ndarray, n: int, eps: float | None, order: int = 2, dtype: np.dtype | None = None
) -> float:
    """Return the step along a signed direction over `n` entries (total length ~ one step)."""
    dtype = leaf.real.dtype if dtype is None else dtype
    return max(base_step(dtype, order, eps) / np.sqrt(n), float(np.sqrt(np.finfo(dtype).eps)))


def _at_step(ctx: Context, leaf, support, signs, analytic, t):
    x = leaf.reshape(-1)[support]
    d = (t * signs * np.maximum(1.0, np.abs(x))).astype(x.dtype)
    plus, minus = x + d, x - d
    f_plus, f_minus = support_values(ctx.evaluate, leaf, support, [plus, minus])
    taken = (plus - x).astype(float) - (minus - x).astype(float)
    numeric = (f_plus - f_minus) / (2 * t)
    terms = analytic * taken / (2 * t)
    analytic_dot = float(np.sum(terms))
    a_rnd = _dot_rounding(ctx, terms, taken / (2 * t))
    floor = float(est.step_noise(np.linalg.norm(taken) / 2, ctx.param_scale, ctx.eps_eval))
    sigma = max(ctx.sigma, ctx.eps_eval * max(abs(f_plus), abs(f_minus)), floor)
    return numeric, analytic_dot, est.rounding_bound(sigma, np.sqrt(2) / (2 * t)), a_rnd


def _dot_rounding(ctx: Context, terms: np.ndarray, weights: np.ndarray) -> float:
    """Return the rounding of ``<analytic, v>``: own ulps per entry, plus the scale's.

    Entries rounded relative to themselves add up in the worst case; the rounding of
    cancelled sums (``ANALYTIC_ULPS`` ulps of the parameter's largest ``|analytic|`` per
    entry) is independent from entry to entry and adds in quadrature.
    """
    own = float(np.sum(np.abs(terms)))
    cancelled = ctx.param_scale * float(np.linalg.norm(weights))
    tiny = ctx.tiny_analytic * float(np.sum(np.abs(weights)))  # underflowed entries
    return est.ANALYTIC_ULPS * (ctx.eps_analytic * (own + cancelled) + tiny)


def probe_direction(
    ctx: Context,
    leaf: np.ndarray,
    support: np.ndarray,
    signs: np.ndarray,
    analytic: np.ndarray,
    method: str = FALLBACK_METHOD,
) -> DirectionProbe:
    """Compare the directional difference along ``signs`` on `support` with the analytic dot.

    Parameters
    ----------
    ctx : Context
        Evaluator and noise model (see :mod:`gradcheck.numeric.entries`).
    leaf : ndarray
        The leaf of the private copy, perturbed on `support` only.
    support : ndarray of int
        Flat indices moved by the direction.
    signs : ndarray
        +1/-1 per entry of `support`.
    analytic : ndarray
        Analytic derivatives of the entries of `support`.
    method : {"central", "richardson"}
        "richardson" extrapolates three steps (6 evaluations): far smaller noise on
        large parameters, where one wrong entry is a small part of the dot product.

    Returns
    -------
    DirectionProbe
        Two evaluations, four when rounding alone cannot explain the discrepancy (then
        a halved step measures the truncation error).

    Notes
    -----
    The loss noise is ``max(measured, eps_f max|f|, eps_f ||d|| G)`` with ``d`` the
    displacement and ``G`` = ``ctx.param_scale`` (the parameter's largest ``|analytic|``):
    terms moved by ``d`` round like ``||d|| G`` even when they cancel (Press et al.,
    section 5.7; :mod:`gradcheck.numeric.estimates`). The analytic dot product allows
    each entry's own ulps plus ``ANALYTIC_ULPS`` ulps of ``G`` per entry in quadrature.
    """
    ctx = with_scale(ctx, analytic)
    stencil = STENCILS[method]
    if stencil.levels > 1:
        return _extrapolated_probe(ctx, leaf, support, signs, analytic, stencil)
    t = direction_step(leaf, len(support), ctx.eps, dtype=ctx.step_dtype)
    numeric, dot, rnd, a_rnd = _at_step(ctx, leaf, support, signs, analytic, t)
    allowed = float(est.allowed_error(rnd, a_rnd))
    if abs(numeric - dot) <= allowed:
        return DirectionProbe(numeric, dot, numeric - dot, allowed)
    numeric2, dot2, rnd2, _ = _at_step(ctx, leaf, support, signs, analytic, t / 2)
    trunc = float(est.truncation(numeric - dot, numeric2 - dot2, 2))
    allowed = float(est.allowed_error(trunc, rnd, rnd2, a_rnd))
    return DirectionProbe(numeric, dot, numeric - dot, allowed)


def _extrapolated_probe(ctx: Context, leaf, support, signs, analytic, stencil) -> DirectionProbe:
    t = direction_step(leaf, len(support), ctx.eps, order=stencil.order, dtype=ctx.step_dtype)
    levels = [
        _at_step(ctx, leaf, support, signs, analytic, t / 2**k) for k in range(stencil.levels)
    ]
    errs = [n - dot for n, dot, _, _ in levels]
    noise = 4 * (levels[0][2] + 2 * levels[1][2] + levels[2][2])
    if not est.asymptotic(errs[0] - errs[1], errs[1] - errs[2], noise):
        # a kink within the wide steps: only the short central steps can judge
        return probe_direction(ctx, leaf, support, signs, analytic, FALLBACK_METHOD)
    dot, a_rnd = levels[-1][1], levels[-1][3]
    value, error, weights = est.romberg(errs, stencil.romberg_order)
    rnd = np.sqrt(sum((w * lv[2]) ** 2 for w, lv in zip(weights, levels, strict=True)))
    allowed = float(est.allowed_error(error, rnd, a_rnd))
    return DirectionProbe(dot + float(value), dot, float(value), allowed)


class _Group(NamedTuple):
    support: np.ndarray
    discrepancy: float
    allowed: float


def _measure(ctx, leaf, support, signs_of, analytic_of) -> _Group:
    probe = probe_direction(ctx, leaf, support, signs_of[support], analytic_of[support])
    return _Group(support, probe.discrepancy, probe.allowed)


def _ratio(group: _Group) -> float:
    return abs(group.discrepancy) / max(group.allowed, 1e-300)


def _split(ctx, leaf, group: _Group, signs_of, analytic_of) -> list[_Group]:
    """Measure the left half; infer the right one; recurse where still wrong.

    When neither half is clearly wrong (a small error in a large set), the right half is
    measured too and the search follows the half with the larger discrepancy-to-noise
    ratio: conservative allowances stay far above the actual noise.
    """
    half = len(group.support) // 2
    left = _measure(ctx, leaf, group.support[:half], signs_of, analytic_of)
    right = _Group(
        group.support[half:], group.discrepancy - left.discrepancy, group.allowed + left.allowed
    )
    wrong = [g for g in (left, right) if not _ratio(g) <= 1.0]
    if wrong:
        return wrong
    right = _measure(ctx, leaf, right.support, signs_of, analytic_of)
    return [max(left, right, key=_ratio)]


def localize(
    ctx: Context,
    leaf: np.ndarray,
    signs: np.ndarray,
    analytic: np.ndarray,
    failed: DirectionProbe,
    *,
    max_entries: int = 10,
) -> list[int]:
    """Return flat indices of wrong entries of `leaf`, found by bisection.

    Parameters
    ----------
    ctx : Context
        Evaluator and noise model.
    leaf : ndarray
        The leaf whose full-support directional probe `failed`.
    signs, analytic : ndarray
        The failed direction's signs and the analytic gradient, both flat over the leaf.
    failed : DirectionProbe
        The failed probe of the whole leaf.
    max_entries : int
        Stop after this many suspects (a gradient wrong everywhere needs no bisection).

    Returns
    -------
    list of int
        Candidate entries, to be confirmed by a per-entry difference.
    """
    stack = [_Group(np.arange(leaf.size), failed.discrepancy, failed.allowed)]
    found: list[int] = []
    while stack and len(found) < max_entries:
        group = stack.pop()
        if len(group.support) == 1:
            found.append(int(group.support[0]))
            continue
        stack.extend(_split(ctx, leaf, group, signs, analytic))
    return found


def directional_difference(
    ctx: Context, leaf: np.ndarray, support: np.ndarray, signs: np.ndarray
) -> tuple[float, float]:
    """Return the directional central difference along `signs` and its allowed error.

    Uses two steps (4 evaluations) so that the allowed error includes the measured
    truncation error; no analytic gradient is involved (used to vet other estimates).
    Near a domain edge the step shrinks 16x at a time; NaN when every step left it.
    """
    t = direction_step(leaf, len(support), ctx.eps, dtype=ctx.step_dtype)
    zeros = np.zeros(len(support))
    for shrink in 16.0 ** -np.arange(6):
        coarse, _, rnd, _ = _at_step(ctx, leaf, support, signs, zeros, t * shrink)
        fine, _, rnd2, _ = _at_step(ctx, leaf, support, signs, zeros, t * shrink / 2)
        if np.isfinite(coarse) and np.isfinite(fine):
            return coarse, float(est.allowed_error(est.truncation(coarse, fine, 2), rnd, rnd2))
    return float("nan"), float("nan")
