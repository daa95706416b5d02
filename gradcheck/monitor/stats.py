"""Compact per-step statistics of named arrays, computed in few vectorized passes.

Every array is read in full (one BLAS dot product gives its squared norm, which is also a
NaN / Inf test; see `gradcheck.monitor.scan`). Everything else (zero, underflow and
saturation fractions, histograms, update directions) uses a fixed, seeded sample of at most
``sample_size`` entries per array, so the cost of these statistics does not grow with the
layer's width. When an array is not finite, its NaN and Inf are counted exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np


@dataclass
class ArrayStats:
    """Statistics of one array at one step (`sample` is a private copy of some entries)."""

    size: int
    n_nan: int
    n_inf: int
    norm: float
    rms: float
    peak: float | None  # max |finite entry|, only when the norm exceeds the limit (else None)
    sample: np.ndarray
    zero_fraction: float = 0.0
    underflow_fraction: float = 0.0
    min_abs: float = math.inf  # smallest nonzero magnitude in the sample
    sample_sq: float | None = None  # float(np.dot(sample, sample)) when already computed


def as_float_array(value: object) -> np.ndarray:
    """Return `value` as a real floating array (ints become float64, complex its modulus)."""
    array = value if isinstance(value, np.ndarray) else np.asarray(value)
    kind = array.dtype.kind
    if kind == "f":
        return array
    return np.abs(array) if kind == "c" else array.astype(np.float64)


_BLOCK = 64  # entries per sampled run: 8 cache lines of float64, read by the prefetcher


@lru_cache(maxsize=256)
def sample_indices(size: int, k: int, seed: int) -> np.ndarray | None:
    """Sorted indices of `k` of `size` entries (None when the array is small).

    The sample is ``k // 64`` runs of 64 consecutive entries at random, non-overlapping
    places: after a training step the arrays are out of cache, and runs cost a tenth of
    the memory traffic of `k` scattered entries.
    """
    if size <= k:
        return None
    blocks = max(1, k // _BLOCK)
    width = k // blocks
    rng = np.random.default_rng([seed, size])
    starts = np.sort(rng.choice(size // width, size=blocks, replace=False)) * width
    return (starts[:, None] + np.arange(width)).reshape(-1)


def take_sample(flat: np.ndarray, idx: np.ndarray | None) -> np.ndarray:
    """Return a private float copy of the sampled entries of a flat array."""
    out = flat.copy() if idx is None else flat[idx]
    return out if out.dtype.itemsize >= 4 else out.astype(np.float32)


def squared_norm(flat: np.ndarray) -> float:
    """Sum of squares of a flat array (float32 at least; float64 for float64 input).

    One BLAS dot product: OpenBLAS runs those of more than 10000 entries on its threads,
    as it runs the training step's matrix products (`threadpoolctl` limits both).
    """
    work = flat if flat.dtype.itemsize >= 4 else flat.astype(np.float32)
    return float(np.dot(work, work))


def summarize(
    value: object,
    sumsq: float | None = None,
    *,
    limit: float,
    seed: int,
    k: int,
    tiny: float | None = None,
) -> ArrayStats:
    """Return the statistics of one array, read in full.

    Parameters
    ----------
    value : array_like
        The array (any float dtype; copied where kept).
    sumsq : float or None
        Its squared norm when already computed (`gradcheck.monitor.scan`); else computed.
    limit : float
        Magnitude above which the exact peak is computed (for the overflow detector).
    seed, k : int
        The sample: `k` entries chosen with `seed` (all entries when there are fewer).
    tiny : float or None
        Underflow threshold; None skips the sample statistics (parameters need none).

    Notes
    -----
    The norm, NaN and Inf counts and the peak are exact (every entry is read); the
    zero, underflow and saturation fractions come from the sample.

    Examples
    --------
    >>> s = summarize(np.array([3.0, 4.0, np.nan]), limit=1e300, seed=0, k=8)
    >>> s.norm, s.n_nan
    (5.0, 1)
    """
    flat = as_float_array(value).reshape(-1)
    size = int(flat.size)
    idx = sample_indices(size, k, seed)
    sample = take_sample(flat, idx)
    if size == 0:
        return ArrayStats(0, 0, 0, 0.0, 0.0, None, sample)
    sumsq = squared_norm(flat) if sumsq is None else sumsq
    if math.isfinite(sumsq) and flat.dtype != np.float64 and sumsq > 1e30:
        sumsq = squared_norm(flat.astype(np.float64))  # float32 sums lose digits near overflow
    if math.isfinite(sumsq):
        norm = math.sqrt(sumsq)
        stats = ArrayStats(size, 0, 0, norm, norm / math.sqrt(size), None, sample)
        stats.peak = _peak(flat) if norm > limit else None
        if idx is None and sample.dtype == np.float64:
            stats.sample_sq = sumsq
    else:
        stats = _full(flat, sample, limit)
    if tiny is not None:
        _sample_fractions(stats, tiny)
    return stats


def summarize_many(
    arrays: list[np.ndarray],
    sumsqs: list[float],
    limits: list[float],
    tinies: list[float | None],
    *,
    seed: int,
    k: int,
) -> list[ArrayStats]:
    """`summarize` each array, the small finite float64 ones together in one pass.

    Arrays of at most `k` entries are their own sample: they are copied into one buffer
    (the private samples are views of it) whose zero and underflow counts per array come
    from a few vectorized calls instead of a few per array.
    """
    out: list = [None] * len(arrays)
    batch = [
        i
        for i, a in enumerate(arrays)
        if a.dtype == np.float64 and 0 < a.size <= k and math.isfinite(sumsqs[i])
    ]
    if len(batch) > 1:
        _summarize_batch(arrays, sumsqs, limits, tinies, batch, out)
    for i, array in enumerate(arrays):
        if out[i] is None:
            out[i] = summarize(array, sumsqs[i], limit=limits[i], seed=seed, k=k, tiny=tinies[i])
    return out


def _summarize_batch(arrays, sumsqs, limits, tinies, batch, out) -> None:
    sizes = [arrays[i].size for i in batch]
    buffer = np.concatenate([arrays[i].reshape(-1) for i in batch])
    starts = np.cumsum([0, *sizes[:-1]])
    magnitude = np.abs(buffer)
    nonzero = np.add.reduceat(magnitude != 0, starts)
    tiny = min((tinies[i] for i in batch if tinies[i] is not None), default=0.0)
    small = np.add.reduceat((magnitude < tiny) & (magnitude != 0), starts) if tiny else None
    for j, i in enumerate(batch):
        lo, size = int(starts[j]), sizes[j]
        norm = math.sqrt(sumsqs[i])
        sample = buffer[lo : lo + size]
        stats = out[i] = ArrayStats(size, 0, 0, norm, norm / math.sqrt(size), None, sample)
        stats.sample_sq = sumsqs[i]
        if norm > limits[i]:
            stats.peak = float(magnitude[lo : lo + size].max())
        if tinies[i] is None:
            continue
        if tinies[i] != tiny:
            _sample_fractions(stats, tinies[i])
            continue
        n_nonzero, n_small = int(nonzero[j]), int(small[j])
        stats.zero_fraction = 1.0 - n_nonzero / size
        stats.underflow_fraction = n_small / n_nonzero if n_nonzero else 0.0
        if n_small:
            part = magnitude[lo : lo + size]
            stats.min_abs = float(part[part > 0].min())


def _peak(values: np.ndarray) -> float:
    finite = values[np.isfinite(values)]
    return float(np.max(np.abs(finite))) if finite.size else 0.0


def _full(flat: np.ndarray, sample: np.ndarray, limit: float) -> ArrayStats:
    size, finite = int(flat.size), None
    sumsq, n_nan, n_inf = squared_norm(flat), 0, 0
    if not math.isfinite(sumsq):
        finite = np.isfinite(flat)
        n_nan = int(np.count_nonzero(np.isnan(flat)))
        n_inf = size - int(np.count_nonzero(finite)) - n_nan
        sumsq = float(np.sum(np.square(flat[finite], dtype=np.float64)))
    norm = math.sqrt(sumsq)
    peak = _peak(flat if finite is None else flat[finite]) if norm > limit else None
    return ArrayStats(size, n_nan, n_inf, norm, norm / math.sqrt(size), peak, sample)


def _sample_fractions(stats: ArrayStats, tiny: float) -> None:
    values = stats.sample
    if stats.n_nan or stats.n_inf:
        values = values[np.isfinite(values)]
    if values.size == 0:
        return
    magnitude = np.abs(values)
    n_nonzero = int(np.count_nonzero(magnitude))
    n_small = int(np.count_nonzero(magnitude < tiny)) - (values.size - n_nonzero)
    stats.zero_fraction = 1.0 - n_nonzero / values.size
    if n_nonzero:
        stats.underflow_fraction = n_small / n_nonzero
    if n_small:  # the smallest nonzero magnitude, for the message
        stats.min_abs = float(magnitude[magnitude > 0].min())


def saturation(sample: np.ndarray, eps: float) -> tuple[float, str]:
    """Fraction of entries within `eps` of the bounds of a squashing function, and the bounds.

    A layer counts as squashing only when all its values lie in [-1, 1]: in [0, 1] the bounds
    are 0 and 1 (sigmoid-like; exact zeros are left to the dead-unit rule), otherwise -1 and 1
    (tanh-like). Unbounded outputs (ReLU, linear) are never saturated.
    """
    if sample.size == 0:
        return 0.0, ""
    values, low, high = sample, float(sample.min()), float(sample.max())
    if not (math.isfinite(low) and math.isfinite(high)):
        values = sample[np.isfinite(sample)]
        if values.size == 0:
            return 0.0, ""
        low, high = float(values.min()), float(values.max())
    if low < -1.0 - eps or high > 1.0 + eps:
        return 0.0, ""
    if low >= 0.0:
        near = (values > 1.0 - eps) | ((values > 0.0) & (values < eps))
        return float(np.count_nonzero(near)) / values.size, "0 and 1"
    return float(np.count_nonzero(np.abs(values) > 1.0 - eps)) / values.size, "-1 and 1"


def alive_units(
    value: object, max_size: float = math.inf, *, all_alive: bool = False
) -> np.ndarray | None:
    """Boolean per unit (columns; batch along axis 0): nonzero on at least one sample.

    Arrays above `max_size` entries are judged on their first rows only (at least one):
    over the window of observations a unit still meets many samples. `all_alive` skips the
    pass (the caller knows the array has no zeros to speak of).
    """
    array = np.asarray(value)
    if array.ndim < 2 or array.size == 0:
        return None
    table = array.reshape(array.shape[0], -1)
    if all_alive:
        return np.ones(table.shape[1], dtype=bool)
    rows = max(1, int(min(max_size, array.size) // table.shape[1]))
    return (table[:rows] != 0).any(axis=0)  # NaN counts as nonzero, -0.0 as zero


def histogram(sample: np.ndarray, bins: int) -> dict[str, list[float]]:
    """Histogram of the finite entries of a sample: ``{"edges": [...], "counts": [...]}``."""
    values = sample[np.isfinite(sample)].astype(np.float64)
    if values.size == 0:
        return {"edges": [], "counts": []}
    try:
        counts, edges = np.histogram(values, bins=bins)
    except ValueError:  # a range too narrow or too wide (near the dtype's limits) to split
        return {"edges": [float(values.min()), float(values.max())], "counts": [values.size]}
    return {"edges": edges.tolist(), "counts": counts.tolist()}


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    """Cosine of the angle between two vectors (nan when either is zero or non-finite)."""
    if a.dtype != np.float64 or b.dtype != np.float64:
        a, b = a.astype(np.float64), b.astype(np.float64)
    denominator = math.sqrt(float(np.dot(a, a)) * float(np.dot(b, b)))
    if not denominator > 0 or not math.isfinite(denominator):
        return math.nan
    return float(np.dot(a, b)) / denominator
