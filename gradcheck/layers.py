"""Layer-by-layer checking at its documented address: `from gradcheck.layers import check_layers`.

The implementation lives in :mod:`gradcheck.checking.layers`; this module re-exports its public
names so that the path the README shows keeps working.

Examples
--------
>>> from gradcheck.layers import check_layers
>>> check_layers.__module__
'gradcheck.checking.layers'
"""

from gradcheck.checking.layers import (
    LayerCheckResult,
    LayerReport,
    check_layers,
    layer_name,
    layer_rng,
)

__all__ = ["LayerCheckResult", "LayerReport", "check_layers", "layer_name", "layer_rng"]
