"""The finding codes: one row each (severity, wording, detector, how it is kept).

Adding a finding code is one `FindingCode` row in `ROWS` (plus its ``detect_<code>``
function, which returns `gradcheck.monitor.observation.Hit` s, and its tests). Everything
else is derived from the rows: `FINDINGS` (the wording table), `DETECTORS` (the order they
run in), which run at every step, which findings are one per run, and `CAUSES` (see
`gradcheck.monitor.causes`). `register` adds a row at run time (a plug-in, or a test's toy
code); `unregister` removes it.

Examples
--------
>>> ROWS[0].code, ROWS[0].severity, ROWS[0].detector.__name__
('nan', 'error', 'detect_nan')
>>> [d.__name__ for d in DETECTORS[:3]]
['detect_ascent', 'detect_exploding_gradient', 'detect_overflow']
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from gradcheck._vocab import SEVERITIES
from gradcheck.errors import InvalidArgumentError
from gradcheck.monitor.detectors import (
    detect_dead_relu,
    detect_inf,
    detect_nan,
    detect_overflow,
    detect_saturation,
    detect_underflow,
    detect_vanishing_gradient,
)
from gradcheck.monitor.explosion import detect_exploding_gradient
from gradcheck.monitor.loss_rules import detect_ascent, detect_loss_divergence, detect_loss_plateau

# Detection phases, lower first: in one step a cause (a step uphill, an explosion, an
# overflowing exp) is found before the NaN / Inf it makes.
LAST_PHASE = 3


class FindingCode(NamedTuple):
    """One finding code: its wording, its detector and how its findings are kept.

    ``template`` and ``suggestion`` are filled with ``name``, ``step`` and the evidence.
    """

    code: str
    severity: str  # the default severity: "info", "warning" or "error"
    template: str  # the message
    suggestion: str  # what to do
    detector: Callable  # (Observation, DetectorMemory, thresholds) -> list[Hit]
    every_step: bool = False  # runs at every observation, not only at detailed ones
    one_per_run: bool = False  # one finding per run, not one per (code, name)
    first_evidence: bool = False  # keep the evidence of the origin, not of the spread
    phase: int = LAST_PHASE  # detection order: lower phases run first (causes first)
    caused_by: tuple[str, ...] = ()  # codes that can cause it (see `causes`)


ROWS: list[FindingCode] = [
    FindingCode(
        code="nan",
        severity="error",
        template=("NaN first appeared in `{name}` at step {step} ({n_nan} of {size} entries)."),
        suggestion=(
            "Look at the operation that produces `{name}`: subtract the max before exp "
            "(softmax), clip log's argument (log(p + eps)), check for 0/0 and inf - inf, and "
            "lower the learning rate if values were growing before."
        ),
        detector=detect_nan,
        one_per_run=True,
        first_evidence=True,
        caused_by=("inf", "overflow", "ascent", "exploding_gradient"),
    ),
    FindingCode(
        code="inf",
        severity="error",
        template=("Inf first appeared in `{name}` at step {step} ({n_inf} of {size} entries)."),
        suggestion=(
            "An exp or a product overflowed: subtract the max before exp, clip log's argument, "
            "lower the learning rate, and normalise the inputs."
        ),
        detector=detect_inf,
        one_per_run=True,
        first_evidence=True,
        caused_by=("overflow", "ascent", "exploding_gradient"),
    ),
    FindingCode(
        code="overflow",
        severity="warning",
        template=("`{name}` has magnitudes up to {max_abs:.3g}, beyond {limit:.3g} ({reason})."),
        suggestion=(
            "Values are close to overflowing: normalise the inputs, use glorot/he "
            "initialisation, lower the learning rate, and subtract the max before exp."
        ),
        detector=detect_overflow,
        phase=2,
        caused_by=("ascent", "exploding_gradient"),
    ),
    FindingCode(
        code="underflow",
        severity="warning",
        template=(
            "{fraction:.0%} of the nonzero entries of the {array} `{name}` are below "
            "{threshold:.3g} in magnitude (smallest {min_abs:.3g})."
        ),
        suggestion=(
            "Such values underflow to 0 in products: the units feeding them are saturated or "
            "the signal vanishes. Normalise the inputs, use glorot/he initialisation, compute "
            "in log space (log-sum-exp), or use a wider dtype (float32 -> float64)."
        ),
        detector=detect_underflow,
        caused_by=("saturation", "dead_relu", "ascent", "exploding_gradient"),
    ),
    FindingCode(
        code="dead_relu",
        severity="warning",
        template=(
            "{fraction:.0%} of the units of `{name}` ({n_dead} of {n_units}) output exactly 0 "
            "on every sample seen for {window} steps: they get no gradient."
        ),
        suggestion=(
            "Lower the learning rate, use he initialisation with a zero or small positive bias, "
            "normalise the inputs, or use leaky ReLU."
        ),
        detector=detect_dead_relu,
        caused_by=("ascent", "exploding_gradient", "loss_divergence"),
    ),
    FindingCode(
        code="saturation",
        severity="warning",
        template=(
            "{fraction:.0%} of the entries of `{name}` are within {eps:.0e} of a bound of a "
            "squashing function ({bounds}), where its derivative is almost 0."
        ),
        suggestion=(
            "Normalise the inputs (e.g. pixels to [0, 1] then standardise), use glorot "
            "initialisation, or switch hidden units to ReLU / leaky ReLU."
        ),
        detector=detect_saturation,
        caused_by=("ascent", "exploding_gradient", "loss_divergence"),
    ),
    FindingCode(
        code="vanishing_gradient",
        severity="warning",
        template=(
            "The gradient of `{name}` is {relative_gradient:.3g} times its parameters' size "
            "({reason}): the first layer barely learns."
        ),
        suggestion=(
            "Avoid saturating activations (use ReLU / leaky ReLU), use glorot/he initialisation, "
            "normalise the inputs, and check the activation derivative (evaluated at z, not a)."
        ),
        detector=detect_vanishing_gradient,
        one_per_run=True,
        caused_by=("dead_relu", "saturation"),
    ),
    FindingCode(
        code="exploding_gradient",
        severity="warning",
        template=("The gradient explodes at `{name}`: {reason}."),
        suggestion=(
            "Lower the learning rate, use a mean instead of a sum over the batch, normalise the "
            "inputs, use glorot/he initialisation, or clip gradients."
        ),
        detector=detect_exploding_gradient,
        every_step=True,
        one_per_run=True,
        phase=1,
        caused_by=("ascent",),
    ),
    FindingCode(
        code="loss_divergence",
        severity="error",
        template=("The loss diverged at step {step}: {loss:.4g}, {reason}."),
        suggestion=(
            "Lower the learning rate; use a mean instead of a sum over the batch (a sum makes "
            "the gradient grow with the data size); normalise the inputs; check the update's "
            "sign (params -= lr * grad)."
        ),
        detector=detect_loss_divergence,
        every_step=True,
        caused_by=("ascent", "exploding_gradient"),
    ),
    FindingCode(
        code="loss_plateau",
        severity="warning",
        template=(
            "The loss has not improved by {rtol:.0%} over {window} steps (it is {loss:.4g}, "
            "{relative:.0%} of its reference {initial:.4g}, the median of its first values)."
        ),
        suggestion=(
            "If the loss is still high: raise or lower the learning rate, check that the "
            "gradient is not zero or vanishing, normalise the inputs, and check that "
            "zero_grad is called once per step."
        ),
        detector=detect_loss_plateau,
        every_step=True,
        caused_by=("dead_relu", "saturation", "vanishing_gradient", "loss_divergence"),
    ),
    FindingCode(
        code="ascent",
        severity="error",
        template=(
            "The update moved `{name}` uphill (along +gradient) in {fraction:.0%} of the last "
            "{window} steps (mean cosine {cosine:.2f}); parameters going uphill: {params}."
        ),
        suggestion=(
            "Check the update's sign: params -= lr * grad (a negative learning rate, or "
            "`+=`, climbs the loss)."
        ),
        detector=detect_ascent,
        one_per_run=True,
        phase=0,
    ),
]

FINDINGS: dict[str, tuple[str, str, str]] = {}  # code -> (severity, template, suggestion)
CODES: dict[str, FindingCode] = {}
CAUSES: dict[str, tuple[str, ...]] = {}  # code -> the codes that can cause it
DETECTORS: tuple[Callable, ...] = ()
LEVELS: dict[str, tuple[Callable, ...]] = {}  # observation level -> the detectors it runs


def _derive() -> None:
    """Rebuild the tables derived from `ROWS` (in place: importers keep their references)."""
    global DETECTORS
    for table in (FINDINGS, CODES, CAUSES, LEVELS):
        table.clear()
    for row in ROWS:
        CODES[row.code] = row
        FINDINGS[row.code] = (row.severity, row.template, row.suggestion)
        if row.caused_by:
            CAUSES[row.code] = row.caused_by
    DETECTORS = tuple(row.detector for row in sorted(ROWS, key=lambda r: r.phase))
    LEVELS["detail"] = DETECTORS
    LEVELS["loss"] = tuple(d for d in DETECTORS if CODES[_code(d)].every_step)


def _code(detector: Callable) -> str:
    return detector.__name__.removeprefix("detect_")


def register(row: FindingCode) -> None:
    """Add a finding code (its detector must be named ``detect_<code>``).

    Examples
    --------
    >>> def detect_toy(obs, hist, th):
    ...     return []
    >>> register(FindingCode("toy", "info", "Toy in `{name}`.", "None.", detect_toy))
    >>> "toy" in FINDINGS
    True
    >>> unregister("toy")
    """
    if row.severity not in SEVERITIES or _code(row.detector) != row.code:
        raise InvalidArgumentError(
            f"A finding code needs a severity among {SEVERITIES} and a detector named "
            f"`detect_{row.code}`; got severity {row.severity!r} and `{row.detector.__name__}`."
        )
    if row.code in CODES:
        raise InvalidArgumentError(f"The finding code {row.code!r} exists; pick another name.")
    ROWS.append(row)
    _derive()


def unregister(code: str) -> None:
    """Remove a finding code added with `register`."""
    ROWS[:] = [row for row in ROWS if row.code != code]
    _derive()


_derive()
