"""Hints across parameters: where no array pattern fits, what the set of wrong parameters says.

A function-style check sees the whole network at once. When an activation's derivative is
wrong (a leaky ReLU's slope, ``sigmoid_prime(a)`` on the output), every parameter *before*
that activation gets a gradient with no simple relation to the numeric one, and every
parameter after it is right. :func:`layer_prefix_hint` recognises that shape and points to
:func:`gradcheck.check_layers`, which names the layer and the derivative.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # diagnose.py calls this module: import Diagnosis where it is built
    from gradcheck.diagnose import Diagnosis

HINT_CONFIDENCE = 0.8  # ranks above every weak fit (< WEAK_FIT), below every clean one
WEAK_FIT = 0.8  # array diagnoses below this confidence count as "no pattern fits"

_NUMBER = re.compile(r"(\d+)")


def layer_order(paths: Sequence[str]) -> list[int] | None:
    """Return a layer number per path: the last integer in it ("W2" -> 2, "layers.0.W" -> 0).

    None when some path carries no number: then the layers are unknown (tree order is no
    evidence: `weight` before `bias` says nothing about depth).
    """
    numbers = [_NUMBER.findall(path) for path in paths]
    return [int(found[-1]) for found in numbers] if all(numbers) else None


def _no_pattern_fits(found: Sequence[Diagnosis], failing: set[str]) -> bool:
    strong = [d for d in found if d.kind != "other" and d.confidence >= WEAK_FIT]
    return bool(failing) and not strong


def layer_prefix_hint(
    paths: Sequence[str], failing: Sequence[str], found: Sequence[Diagnosis]
) -> Diagnosis | None:
    """Return an ``activation_derivative`` hint when only the first layers' parameters are wrong.

    Parameters
    ----------
    paths : sequence of str
        Every checked parameter, in the order of the tree.
    failing : sequence of str
        The parameters with wrong entries.
    found : sequence of Diagnosis
        The array diagnoses of the failing parameters.

    Returns
    -------
    Diagnosis or None
        Kind ``activation_derivative``, ``path=None``, evidence ``failing``, ``passing``
        and ``suggested_call``; None unless every failing parameter sits in an earlier
        layer than every passing one and no array pattern fits with confidence.

    Examples
    --------
    >>> hint = layer_prefix_hint(["W1", "b1", "W2", "b2"], ["W1", "b1"], [])
    >>> hint.kind, hint.evidence["passing"]
    ('activation_derivative', ['W2', 'b2'])
    """
    wrong = set(failing)
    if not _no_pattern_fits(found, wrong):
        return None
    numbers = layer_order(paths)
    if numbers is None:
        return None
    order = dict(zip(paths, numbers, strict=True))
    passing = [path for path in paths if path not in wrong]
    if not passing or max(order[p] for p in wrong) >= min(order[p] for p in passing):
        return None
    bad = [path for path in paths if path in wrong]
    call = "gradcheck.check_layers(layers, x)"
    message = (
        f"Only the first layers' parameters are wrong ({_names(bad)}); the later ones "
        f"({_names(passing)}) are right and no simple relation fits. The error enters "
        "backward between them: most often an activation's derivative (taken at the output "
        "instead of the input, as in `sigmoid_prime(a)`, or with the wrong slope, as a leaky "
        "ReLU's 0.01). A whole-network check cannot say which; check the layers one by one "
        f"to name the layer and the derivative: `{call}` (wrap course-style functions with "
        "`FunctionPairLayer`)."
    )
    evidence = {"failing": bad, "passing": passing, "suggested_call": call}
    from gradcheck.diagnose import Diagnosis

    return Diagnosis("activation_derivative", None, HINT_CONFIDENCE, message, evidence)


def _names(paths: Sequence[str]) -> str:
    return ", ".join(f"`{path}`" for path in paths)
