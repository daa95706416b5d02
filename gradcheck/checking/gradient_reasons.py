"""Why a parameter cannot be certified, and what to change: one table of reasons.

Every :class:`~gradcheck.checking.gradient_results.Inconclusive` item of a gradient check
is worded here, from the numbers the check measured (:class:`Facts`). Entries too coarse to certify
have three different causes, told apart by those numbers and worded differently:

- ``noisy``: the loss's rounding, measured along a line, is far above what its working
  precision gives a value of its size (rounded or quantized values, or large terms that
  cancel): return it unrounded;
- ``low_precision``: the loss computes in float32 (or float16), whose rounding is too
  large for any step, while float64 would resolve the derivatives;
- ``tiny``: nothing is rounded, but the derivatives are far below what differences of a
  loss of that size can resolve at all: they are ~0 relative to the loss.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from gradcheck.checking.gradient_results import REL_FLOOR, Inconclusive

#: An entry that cannot be checked to this relative error is *coarse* (float64 checks see
#: ~1e-8 of an entry, float32 losses ~1e-3 to 1e-2).
CERTIFY_LIMIT = 0.01
#: A parameter is inconclusive when more than this fraction of its entries are coarse
#: (a few, e.g. next to a ReLU corner closer than any step, are like kinks: the detection
#: floor shows what they allow).
COARSE_MAJORITY = 0.5
#: A measured rounding more than this many times the working precision's rounding of the
#: loss's value is noise of the loss's own making (rounding, quantization, cancellation).
NOISY = 64.0
#: Precisions in which a loss is as exact as numpy computes.
FULL_PRECISIONS = ("float64", "longdouble")

_LOW_ADVICE = (
    "The loss is computed in {precision}: compute it in float64 (cast the parameters and "
    "the arrays it uses to float64 before the arithmetic), or pass `rtol` to accept a "
    "coarser check"
)
_NOISY_ADVICE = (
    "Return the loss unrounded, in float64 (no rounding, quantization or cancelling large "
    "terms), or pass `rtol`/`atol` to accept a coarser check"
)
_KINK_ADVICE = (
    "If the loss is rounded or quantized, return it unrounded, in float64, or pass "
    "`rtol`/`atol` to accept a coarser check"
)
_COARSE = (
    "{coarse} of {decided} entries cannot be checked to {limit:.0%}: the smallest entry "
    "error this check sees is {floor_pct:.3g}%"
)

#: kind -> (reason, advice), formatted with the fields of :class:`Facts` and :func:`_fields`.
REASONS = {
    "domain": (
        "{out_text} probe(s) left the loss's domain at every step (the loss was not finite "
        "at perturbed points)",
        "Check at a point farther from the edge of the loss's domain (e.g. log near 0) or "
        "pass a smaller `eps`",
    ),
    "kink": (
        "at {off} of {kinks} entries that look non-differentiable the analytic derivative "
        "is not between the one-sided ones; a rounded or low-precision loss looks like this "
        "too",
        "{kink_advice}; or check at a point away from the corners",
    ),
    "noisy": (
        _COARSE + ": {noise_text}",
        _NOISY_ADVICE,
    ),
    "low_precision": (
        _COARSE + ": the loss's rounding in {precision} (~{sigma:.3g} on a value of "
        "{f0:.3g}) is too large for any step next to derivatives of {scale:.3g}",
        _LOW_ADVICE,
    ),
    "tiny": (
        _COARSE + ": nothing is rounded, but the derivatives (at most {scale:.3g}) are far "
        "below the ~{resolution:.3g} that differences of a loss of size {f0:.3g} can "
        "resolve",
        "These derivatives are ~0 relative to the loss: check a loss in which they matter "
        "(e.g. the term they belong to, unscaled), or pass `atol` (e.g. atol={atol:.0e}) "
        "to accept an absolute bound",
    ),
}


class Facts(NamedTuple):
    """What a parameter's check measured, for the wording of its reasons."""

    out: int  # probes that left the domain at every step
    out_of_domain: bool
    kinks: int
    off: int  # kinks whose analytic derivative is not between the one-sided ones
    coarse: int  # decided entries the loss cannot resolve to CERTIFY_LIMIT
    decided: int
    floor: float  # detection floor (relative)
    model: bool  # the error model decides (no rtol/atol)
    precision: str
    sigma: float  # the loss's noise per evaluation
    eps_eval: float  # epsilon of the working precision
    f0: float  # the loss at the checked point
    scale: float  # the parameter's G
    resolution: float  # the smallest absolute error the check sees in an entry


def coarse_kind(facts: Facts) -> str:
    """Return why entries are coarse: ``"noisy"``, ``"low_precision"`` or ``"tiny"``.

    Examples
    --------
    >>> facts = Facts(0, False, 0, 0, 1, 1, 1e180, True, "float64", 1e-16, 2.2e-16, 0.76,
    ...               3e-194, 2e-11)
    >>> coarse_kind(facts), coarse_kind(facts._replace(sigma=5e-4))
    ('tiny', 'noisy')
    """
    if facts.sigma > NOISY * facts.eps_eval * abs(facts.f0):
        return "noisy"
    in_float64 = facts.resolution * float(np.finfo(np.float64).eps) / facts.eps_eval
    low = facts.precision not in FULL_PRECISIONS
    if low and in_float64 <= CERTIFY_LIMIT * REL_FLOOR * facts.scale:
        return "low_precision"
    return "tiny"


def _noise_text(facts: Facts, rounding: float) -> str:
    if not np.isfinite(facts.sigma):
        return (
            "the loss's value never changed along probes that should have moved it (its "
            "values are rounded or quantized)"
        )
    ratio = f"{facts.sigma / rounding:.3g} times" if rounding else "far above"
    return (
        f"the loss's rounding, measured at {facts.sigma:.3g}, is {ratio} what "
        f"{facts.precision} rounding of its value {facts.f0:.3g} gives (rounded or quantized "
        "values, or large terms that cancel)"
    )


def _fields(facts: Facts) -> dict:
    rounding = facts.eps_eval * abs(facts.f0)
    low = facts.precision not in FULL_PRECISIONS
    return {
        **facts._asdict(),
        "limit": CERTIFY_LIMIT,
        "floor_pct": 100 * facts.floor,
        "out_text": facts.out or "the",
        "noise_text": _noise_text(facts, rounding),
        "atol": max(facts.resolution, 1e-300),
        "kink_advice": _LOW_ADVICE.format(precision=facts.precision) if low else _KINK_ADVICE,
    }


def _item(kind: str, path: str, facts: Facts, entries: int) -> Inconclusive:
    reason, advice = REASONS[kind]
    fields = _fields(facts)
    return Inconclusive(path, reason.format(**fields), advice.format(**fields), entries)


def inconclusive_items(path: str, facts: Facts) -> list[Inconclusive]:
    """Return why `path` cannot be certified (empty when it can)."""
    items = []
    if facts.out or facts.out_of_domain:
        items.append(_item("domain", path, facts, facts.out))
    if facts.off:
        items.append(_item("kink", path, facts, facts.off))
    if facts.model and not items and facts.coarse > COARSE_MAJORITY * facts.decided:
        items.append(_item(coarse_kind(facts), path, facts, facts.coarse))
    return items
