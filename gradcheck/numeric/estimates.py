"""The error model: how far a correct gradient may sit from its finite-difference estimate.

Notes
-----
A finite-difference estimate ``D(h)`` of a derivative ``g`` carries two errors:

* **truncation**, ``C h**p`` for a method of order ``p``. It is *measured*, not guessed:
  from the same formula at ``h`` and ``h/2``, ``D(h) - D(h/2) = C h**p (1 - 2**-p)``, so
  ``|D(h) - D(h/2)| / (1 - 2**-p)`` estimates the truncation error of ``D(h)``
  (Richardson's idea; Press et al., *Numerical Recipes*, 3rd ed., section 5.7).
* **rounding** of the loss: each evaluation is off by a noise ``sigma`` (a few ulps of
  the loss, or more when the loss sums many terms). A difference formula
  ``sum(c_k f_k)`` carries ``sigma * sqrt(sum c_k**2)``; we allow ``NOISE_SIGMAS`` of
  those so that the largest of millions of entries stays inside.

The rounding of an evaluation follows the *terms* that make up the loss, ``eps_f * S``,
not the loss itself: terms that cancel leave ``|f|`` far below ``S`` while their
rounding stays (Press et al., section 5.7: the rounding error of a difference is
``~ eps_f S / h``). ``S`` is not observable, so ``sigma`` is the largest of three
cheap lower estimates of ``eps_f S`` (:func:`loss_noise`, :func:`step_noise`):

* ``eps_f * |f|`` at every point evaluated;
* the noise *measured* along a short line (:func:`measure_noise`), which sees the
  rounding of cancelled terms directly;
* ``eps_f * |h| * G``, with ``G`` the largest ``|analytic|`` of the parameter: the change
  ``h * df/dx_i`` is itself computed from terms of the size of the parameter's
  gradient scale, even when they cancel to a tiny ``df/dx_i`` (or ``f = 0``).

The analytic gradient has its own rounding: an entry computed as a sum that mostly
cancels carries the rounding of its terms, not of its result. We allow
``ANALYTIC_ULPS`` ulps (of the analytic's dtype) of the parameter's gradient scale ``G``
(:func:`analytic_rounding`), not of the entry's own size.
An entry *fails* when ``|analytic - numeric| > SAFETY * (truncation + rounding)``; the
ratio of the two sides is reported. Only the discrepancies that rounding alone cannot
explain pay for the second step size.

A **kink** (ReLU, abs, max at a corner) shows as one-sided derivatives that disagree by
more than smooth curvature predicts: for a smooth function the gap
``s(h) = D+(h) - D-(h) = h f'' + O(h**3)`` halves when ``h`` halves; at a corner inside
``[x - h/2, x + h/2]`` it does not.
"""

from __future__ import annotations

import numpy as np

#: Safety factor between the estimated error and the allowed error.
SAFETY = 2.0
#: How many noise standard deviations a rounding bound allows (the max of ~1e9 normals).
NOISE_SIGMAS = 6.0
#: Rounding of the analytic gradient, in ulps of its magnitude.
ANALYTIC_ULPS = 8.0
#: A kink's one-sided gap must deviate from smooth halving by this fraction of the gap.
KINK_FRACTION = 0.02
#: One-sided differences that disagree by this fraction are re-examined for a kink.
KINK_SCREEN = 1e-3


def loss_noise(
    f_values: np.ndarray, eps: float, measured: float = 0.0, dtype: np.dtype | type = np.float64
) -> float:
    """Return the noise of one loss evaluation: ``max(eps * max|f|, measured, subnormal)``.

    The smallest subnormal of the loss's `dtype` is the floor: below it nothing is
    representable (a float32 loss cannot move by less than 1.4e-45).

    Examples
    --------
    >>> import numpy as np
    >>> loss_noise(np.array([2.0, -4.0]), 1e-16)
    4e-16
    """
    magnitude = float(np.max(np.abs(f_values))) if np.size(f_values) else 0.0
    return max(eps * magnitude, float(measured), float(np.finfo(dtype).smallest_subnormal))


_NORMAL_TRIMMED_RMS = 0.607  # RMS of the smallest three quarters of |N(0, 1)|


def measure_noise(f_values: np.ndarray, offsets: np.ndarray | None = None) -> float:
    """Return the noise of a loss sampled at tiny offsets along a line.

    Third divided differences remove a quadratic (the real curvature); what remains is
    rounding, ``sigma * ||c||`` per difference for independent noise (``c`` its four
    coefficients, ``sqrt(20) / 6`` for unit spacing). The root mean square of the smallest
    three quarters of them (normalized for a normal distribution) makes the estimate
    robust to kinks crossed by the line: each spoils only three differences.

    Parameters
    ----------
    f_values : ndarray
        The loss at `offsets` (sorted).
    offsets : ndarray, optional
        Positions along the line, equally spaced by default. Irregular spacing is better:
        see Notes.

    Notes
    -----
    Rounding is quantized and, along a line, correlated: when the loss is a sum of large
    terms that cancel, the rounding of a linear function sampled at equal steps repeats
    with a long period (a moire), and most third differences are exactly zero. A quantile
    (the lower quartile, say) is then 0 while the real noise is not. Irregular offsets
    break the pattern, and the trimmed root mean square keeps every nonzero difference
    below the trimmed quarter.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.linspace(-1, 1, 13)
    >>> measure_noise(1 + t + t**2) < 1e-15
    True
    """
    values = np.asarray(f_values, dtype=float)
    t = np.arange(values.size, dtype=float) if offsets is None else np.asarray(offsets, float)
    if values.size < 4:
        return 0.0
    unit = float(np.max(np.abs(values))) or 1.0  # differences of 1e300 would overflow
    values = values / unit
    windows = np.lib.stride_tricks.sliding_window_view(t, 4)
    gaps = windows[:, :, None] - windows[:, None, :]
    np.einsum("kjj->kj", gaps)[...] = 1.0
    coeffs = 1.0 / np.prod(gaps, axis=2)
    third = np.sum(coeffs * np.lib.stride_tricks.sliding_window_view(values, 4), axis=1)
    scaled = np.sort(np.abs(third) / np.linalg.norm(coeffs, axis=1))
    kept = scaled[: max(1, (3 * scaled.size) // 4)]
    return float(np.sqrt(np.mean(kept**2)) / _NORMAL_TRIMMED_RMS) * unit


def resolves_rounding(f_values: np.ndarray) -> bool:
    """Return whether a line's values change between most neighbours (noise is visible).

    Examples
    --------
    >>> import numpy as np
    >>> resolves_rounding(np.array([1.0, 1.0, 1.0, 2.0])), resolves_rounding(np.arange(4.0))
    (False, True)
    """
    changed = np.count_nonzero(np.diff(np.asarray(f_values, dtype=float)))
    return bool(2 * changed >= np.size(f_values) - 1)


def rounding_bound(sigma: float, coeff_norm: np.ndarray | float) -> np.ndarray:
    """Return the rounding allowance of ``sum(c_k f_k)`` given ``sqrt(sum c_k**2)``."""
    return NOISE_SIGMAS * sigma * np.asarray(coeff_norm, dtype=float)


def step_noise(h: np.ndarray | float, scale: float, eps: float) -> np.ndarray:
    """Return the floor of the loss noise at a step `h`: ``eps * |h| * scale``.

    `scale` is the parameter's gradient scale (largest ``|analytic|``): moving an entry by
    ``h`` changes terms of the loss by about ``h * scale`` even when they cancel, and
    their rounding stays. See the module Notes.

    Examples
    --------
    >>> float(step_noise(0.5, 2.0, 1e-16))
    1e-16
    """
    return eps * np.abs(np.asarray(h, dtype=float)) * float(scale)


def analytic_rounding(
    analytic: np.ndarray, eps: float, scale: float | None = None, tiny: float = 0.0
) -> np.ndarray:
    """Return the rounding allowance of analytic gradient entries.

    ``ANALYTIC_ULPS * (eps * max(|analytic|, scale) + tiny)``: `scale` is the gradient
    scale of the parameter (its largest ``|analytic|``; by default that of the entries
    given), because an entry that is a cancelling sum rounds like its terms, not like
    its result; `tiny` is the smallest subnormal of the analytic's dtype, the absolute
    rounding of results that underflow (relative error is unbounded there).

    Examples
    --------
    >>> import numpy as np
    >>> analytic_rounding(np.array([1e-3, 2.0]), 1e-16).tolist()
    [1.6e-15, 1.6e-15]
    """
    magnitude = np.abs(np.asarray(analytic, dtype=float))
    if scale is None:
        scale = float(np.max(magnitude, initial=0.0))
    return ANALYTIC_ULPS * (eps * np.maximum(magnitude, scale) + tiny)


def truncation(err_coarse: np.ndarray, err_fine: np.ndarray, order: int) -> np.ndarray:
    """Estimate the truncation error at the coarse step from two step sizes (h, h/2).

    Examples
    --------
    >>> import numpy as np
    >>> float(truncation(np.array([4e-6]), np.array([1e-6]), 2)[0])
    4e-06
    """
    return np.abs(np.asarray(err_coarse) - np.asarray(err_fine)) / (1.0 - 2.0**-order)


def allowed_error(*terms: np.ndarray | float) -> np.ndarray:
    """Return ``SAFETY * sum(terms)``: the discrepancy a correct gradient may show."""
    return SAFETY * np.sum(np.broadcast_arrays(*[np.asarray(t, float) for t in terms]), axis=0)


def romberg(estimates: list[np.ndarray], order: int = 2) -> tuple[np.ndarray, np.ndarray, list]:
    """Combine estimates at h, h/2, h/4, ... (error series in h**order, h**(order+2), ...).

    Returns the extrapolated value, an estimate of its own error (its distance to the
    best extrapolation one order lower) and the weight of each level in the result.

    Examples
    --------
    >>> import numpy as np
    >>> f = lambda h: 1.0 + h**2 + h**4       # D(h) of a method with g = 1
    >>> value, error, _ = romberg([np.array([f(h)]) for h in (0.01, 0.005, 0.0025)])
    >>> abs(float(value[0]) - 1.0) < 1e-12, float(error[0]) < 1e-6
    (True, True)
    """
    row = [np.asarray(e, dtype=float) for e in estimates]
    weights = [np.eye(len(row))[k] for k in range(len(row))]
    previous, power = row[-1], order
    for _ in range(len(row) - 1):
        factor = 2.0**power
        previous = row[-1]
        row = [
            (factor * fine - coarse) / (factor - 1)
            for coarse, fine in zip(row[:-1], row[1:], strict=True)
        ]
        weights = [
            (factor * wf - wc) / (factor - 1)
            for wc, wf in zip(weights[:-1], weights[1:], strict=True)
        ]
        power += 2
    return row[0], np.abs(row[0] - previous), list(weights[0])


def asymptotic(coarse: np.ndarray, fine: np.ndarray, noise: np.ndarray) -> np.ndarray:
    """Return where successive differences of central estimates shrink 4x (smooth regime).

    `coarse` is ``D(h) - D(h/2)``, `fine` is ``D(h/2) - D(h/4)``; for a smooth function
    ``coarse ~ 4 fine``. A kink between the steps breaks that, and so does any regime
    where Romberg's error estimate cannot be trusted. `noise` bounds their rounding.
    """
    coarse, fine = np.asarray(coarse), np.asarray(fine)
    return np.abs(coarse - 4 * fine) <= 0.25 * np.abs(coarse) + SAFETY * np.asarray(noise)


def kink_mask(gap_coarse: np.ndarray, gap_fine: np.ndarray, noise: np.ndarray) -> np.ndarray:
    """Return where one-sided gaps at h and h/2 fail to halve: a corner, not curvature.

    Parameters
    ----------
    gap_coarse, gap_fine : ndarray
        ``D+ - D-`` (forward minus backward difference) at steps h and h/2.
    noise : ndarray
        Rounding allowance of ``gap_fine - gap_coarse / 2``.
    """
    deviation = np.abs(np.asarray(gap_fine) - 0.5 * np.asarray(gap_coarse))
    return (deviation > SAFETY * noise) & (deviation > KINK_FRACTION * np.abs(gap_coarse))
