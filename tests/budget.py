"""What a local run spends: hypothesis example budgets and parameters left to CI.

``tests/conftest.py`` loads the hypothesis profile ``"ci"`` whenever the slow tests run
(``CI`` set, ``--runslow``, ``-m``, a node id) and ``"dev"`` otherwise. A property test
states its CI budget with ``examples(n)``: ``n`` examples in CI, at most the dev profile's
few locally. ``slow_except`` marks all but a few parameters of a family slow, so a local
run keeps one real case of each capability and CI runs all of them.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

import pytest
from hypothesis import settings


def examples(n: int) -> int:
    """Return ``n``; under the ``"dev"`` profile (a local run) at most that profile's budget."""
    if settings.get_current_profile_name() != "dev":
        return n
    return min(n, settings.default.max_examples)


def slow_except(values: Iterable, fast: Collection, ids: Iterable | None = None) -> list:
    """Return `values` as ``pytest.param``s, each marked slow unless its id or value is in `fast`.

    `ids` name the values (as in ``parametrize(..., ids=...)``); without them a value
    is its own id (a dict of cases parametrized by its keys).
    """
    values = list(values)
    names = list(values if ids is None else ids)
    unknown = set(fast) - set(names)
    assert not unknown, f"slow_except: no parameter named {sorted(unknown)} among {names}"
    return [
        pytest.param(value, id=None if ids is None else name, marks=_marks(name in fast))
        for value, name in zip(values, names, strict=True)
    ]


def _marks(fast: bool) -> tuple:
    return () if fast else (pytest.mark.slow,)
