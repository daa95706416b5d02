"""Assertions for a CI suite: ``assert_gradient``, ``assert_layers``, ``assert_stable``.

Imports neither pytest nor hypothesis. The names load lazily, so importing
``gradcheck.testing.plugin`` (which pytest does at every start) stays cheap. The pytest
plugin lives in :mod:`gradcheck.testing.plugin`, the hypothesis strategies in
:mod:`gradcheck.testing.strategies`.
"""

from __future__ import annotations

import importlib
from typing import Any

# public name -> module defining it; ``assert_gradient`` is the checker's own function.
_EXPORTS = {
    "assert_gradient": "gradcheck.checking.gradient",
    "assert_layers": "gradcheck.testing.assertions",
    "assert_stable": "gradcheck.testing.assertions",
    "GradientMismatch": "gradcheck.errors",
    "StabilityAssertion": "gradcheck.errors",
}

__all__ = list(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'gradcheck.testing' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
