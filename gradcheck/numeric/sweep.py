"""Sweeps over the leaves of a parameter tree: full, sampled, or directional + bisection.

Each sweep returns, per path, the entries it differentiated (flat indices), their
analytic and numeric derivatives, allowed errors and kink flags: plain arrays from which
:mod:`gradcheck.checking.gradient` builds the verdict and the report.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import NamedTuple

import numpy as np

from gradcheck.numeric.directions import DirectionProbe, localize, probe_direction, random_signs
from gradcheck.numeric.entries import Context, probe_entries, with_scale
from gradcheck.numeric.stencils import FALLBACK_METHOD

#: Entries differentiated per entry when directional localization finds many wrong ones.
BROAD_SAMPLE = 64


class LeafResult(NamedTuple):
    """What a sweep learned about one leaf (all arrays aligned with ``indices``)."""

    indices: np.ndarray
    analytic: np.ndarray
    numeric: np.ndarray
    allowed: np.ndarray
    kink: np.ndarray
    probes: tuple = ()
    undecided: np.ndarray | None = None  # every step left the loss's domain
    out_of_domain: bool = False  # a directional probe left the domain at every step

    @property
    def directional_failed(self) -> bool:
        """True when a directional probe of this leaf failed."""
        return any(probe.failed for probe in self.probes)


#: A sample checks at least this many entries of each parameter (all of a smaller one):
#: fewer cannot tell a sign from a scale from a transpose, nor one bad entry from a pattern.
MIN_SAMPLE = 16


def sample_size(size: int, sample: int | float) -> int:
    """Return how many of `size` entries a `sample` (count or fraction) asks for.

    At least :data:`MIN_SAMPLE` (all entries of a parameter that small).

    Examples
    --------
    >>> sample_size(1000, 0.1), sample_size(1000, 0.01), sample_size(10, 0.1), sample_size(3, 50)
    (100, 16, 10, 3)
    """
    if isinstance(sample, float) and sample <= 1.0:
        wanted = math.ceil(sample * size)
    else:
        wanted = int(sample)
    return min(size, max(wanted, MIN_SAMPLE))


def mirrored(indices: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Return `indices` (flat) with their mirrors ``(j, i)`` added, for a square matrix.

    A transposed gradient shows as ``analytic[i, j] == numeric[j, i]``: after directional
    localization has found a few wrong entries, their mirrors are what lets the diagnosis
    tell a transpose from a sign or a scale. Other shapes: unchanged.

    Examples
    --------
    >>> import numpy as np
    >>> mirrored(np.array([1, 4]), (3, 3)).tolist(), mirrored(np.array([1]), (2, 3)).tolist()
    ([1, 3, 4], [1])
    """
    indices = np.asarray(indices, dtype=np.intp)
    if len(shape) != 2 or shape[0] != shape[1]:
        return indices
    rows, cols = np.unravel_index(indices, shape)
    return np.union1d(indices, np.ravel_multi_index((cols, rows), shape))


def select_entries(analytic: np.ndarray, sample, rng: np.random.Generator) -> np.ndarray:
    """Return sorted flat indices: the largest ``|analytic|`` entries plus a seeded random rest.

    A quarter of the sample (at least one entry) goes to the largest entries, where a
    wrong formula shows most; the rest is uniform over the remaining entries.
    """
    flat = np.abs(np.asarray(analytic, dtype=float).reshape(-1))
    n = sample_size(flat.size, sample)
    if n >= flat.size:
        return np.arange(flat.size)
    n_top = max(1, n // 4)
    top = np.argsort(-np.nan_to_num(flat, nan=np.inf), kind="stable")[:n_top]
    rest = np.setdiff1d(np.arange(flat.size), top)
    chosen = rng.choice(rest, size=n - n_top, replace=False)
    return np.sort(np.concatenate([top, chosen]))


def _entries(ctx: Context, leaf: np.ndarray, analytic: np.ndarray, indices, method: str):
    ctx = with_scale(ctx, analytic)  # the parameter's gradient scale, not the sample's
    a = analytic.reshape(-1)[indices].astype(float)
    estimate = probe_entries(ctx, leaf, indices, a, method)
    return LeafResult(
        indices,
        a,
        estimate.numeric,
        estimate.allowed,
        estimate.kink,
        undecided=estimate.undecided,
    )


def sweep_entries(
    ctx: Context,
    leaves: Mapping[str, np.ndarray],
    analytic: Mapping[str, np.ndarray],
    method: str,
    sample=None,
    rng: np.random.Generator | None = None,
) -> dict[str, LeafResult]:
    """Differentiate every entry (or a stratified `sample` of each leaf) with `method`."""
    rng = rng if rng is not None else np.random.default_rng(0)
    results = {}
    for path, leaf in leaves.items():
        if sample is None:
            indices = np.arange(leaf.size)
        else:
            indices = select_entries(analytic[path], sample, rng)
        results[path] = _entries(ctx, leaf, analytic[path], indices, method)
    return results


def _directional_leaf(ctx: Context, leaf, analytic, k: int, rng, method: str) -> LeafResult:
    a = analytic.reshape(-1).astype(float)
    ctx = with_scale(ctx, a)
    support = np.arange(leaf.size)
    probes: list[DirectionProbe] = []
    for _ in range(min(k, leaf.size)):  # more directions than entries certify no more
        signs = random_signs(rng, leaf.size)
        probe = probe_direction(ctx, leaf, support, signs, a, method)
        probes.append(probe)
        if probe.failed:
            return _localized(ctx, leaf, analytic, signs, probe, tuple(probes), rng)
    empty = np.zeros(0)
    return LeafResult(
        np.zeros(0, dtype=np.intp), empty, empty, empty, empty.astype(bool), tuple(probes)
    )


def _localized(ctx, leaf, analytic, signs, probe, probes, rng) -> LeafResult:
    a = analytic.reshape(-1).astype(float)
    found = localize(ctx, leaf, signs, a, probe)
    indices = mirrored(np.array(sorted(found), dtype=np.intp), np.shape(analytic))
    if len(found) >= 10:
        indices = np.union1d(indices, select_entries(analytic, BROAD_SAMPLE, rng))
    result = _entries(ctx, leaf, analytic, indices, FALLBACK_METHOD)
    return result._replace(probes=probes)


def sweep_directions(
    ctx: Context,
    leaves: Mapping[str, np.ndarray],
    analytic: Mapping[str, np.ndarray],
    k: int,
    rng: np.random.Generator,
    method: str = FALLBACK_METHOD,
) -> dict[str, LeafResult]:
    """Certify each leaf with `k` random signed directions; localize where one fails."""
    return {
        path: _directional_leaf(ctx, leaf, analytic[path], k, rng, method)
        for path, leaf in leaves.items()
    }
