"""The words gradcheck's reports, options and markers share (foundation: imports nothing).

Examples
--------
>>> SEVERITIES[-1], WORST_FIRST[0], CHECK_STATUSES[-1]
('error', 'error', 'inconclusive')
"""

from __future__ import annotations

SEVERITIES = ("info", "warning", "error")  # a finding's severity, mildest first
WORST_FIRST = tuple(reversed(SEVERITIES))  # the order reports list them in
CHECK_MODES = ("full", "sample", "directional")  # which entries a gradient check perturbs
LAYER_MODES = ("full", "directional")  # the modes a layer-by-layer check accepts
#: The three outcomes of a check (an entry, a parameter, a layer, a whole check): certified,
#: wrong, or the numbers cannot decide.
CHECK_STATUSES = ("passed", "failed", "inconclusive")
