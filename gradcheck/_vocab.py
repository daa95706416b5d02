"""The words gradcheck's reports, options and markers share (foundation: imports nothing).

Examples
--------
>>> SEVERITIES[-1], WORST_FIRST[0], CHECK_STATUSES[-1]
('error', 'error', 'inconclusive')
"""

from __future__ import annotations

from collections.abc import Iterable

SEVERITIES = ("info", "warning", "error")  # a finding's severity, mildest first
WORST_FIRST = tuple(reversed(SEVERITIES))  # the order reports list them in
CHECK_MODES = ("full", "sample", "directional")  # which entries a gradient check perturbs
LAYER_MODES = ("full", "directional")  # the modes a layer-by-layer check accepts
#: The three outcomes of a check (an entry, a parameter, a layer, a whole check): certified,
#: wrong, or the numbers cannot decide.
CHECK_STATUSES = ("passed", "failed", "inconclusive")
STATUS_SEVERITY = ("passed", "inconclusive", "failed")  # the same, mildest first


def worst_status(statuses: Iterable[str]) -> str:
    """Return the outcome of several checks: the worst of theirs ("passed" for none).

    Examples
    --------
    >>> worst_status(["passed", "inconclusive"]), worst_status(["inconclusive", "failed"])
    ('inconclusive', 'failed')
    """
    return max(statuses, key=STATUS_SEVERITY.index, default="passed")


# The settings a ``@pytest.mark.gradcheck(...)`` marker or a fixture ``check(...)`` call may
# override: name -> (accepted types, what is expected). The plugin reads the names while
# pytest configures, the fixture validates values with the rest.
CHECK_SETTINGS = {
    "rtol": ((int, float), "a real number >= 0"),
    "atol": ((int, float), "a real number >= 0"),
    "mode": ((str,), "one of " + ", ".join(repr(m) for m in CHECK_MODES)),
    "seed": ((int,), "an int"),
    "eps": ((int, float), "a real number > 0"),
    "method": ((str,), "a method name such as 'central'"),
    "sample": ((int, float), "a number of entries per parameter"),
    "directions": ((int,), "a number of directions per parameter"),
}
MARKER_KEYWORDS = tuple(CHECK_SETTINGS)
