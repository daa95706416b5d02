"""One thinning rule for long series: storage, the report and the plots all use it.

`thin_indices` keeps about `max_points` evenly spaced rows, the last row, and every row it
is asked to keep: the monitor, the report and the plots ask for the first and last row of
every run of non-finite values (`run_edges`) and the first and last step of every finding,
so a single NaN in a long run stays visible wherever the series goes.

Examples
--------
>>> thin_indices(10, 3)
[0, 4, 8, 9]
>>> thin_indices(10, 3, keep={7})
[0, 4, 7, 8, 9]
>>> sorted(run_edges([False, True, True, True, False, True]))
[1, 3, 5]
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence


def thin_indices(n: int, max_points: int, keep: Iterable[int] = ()) -> list[int]:
    """Return sorted indices of ``range(n)``: every k-th (about `max_points`), the last, `keep`.

    Parameters
    ----------
    n : int
        The number of rows.
    max_points : int
        About how many evenly spaced rows to keep (all of them when ``n <= max_points``).
    keep : iterable of int
        Rows kept whatever the spacing (indices outside ``range(n)`` are ignored).

    Examples
    --------
    >>> kept = thin_indices(5000, 1000, {4321})
    >>> len(kept), kept[863:866], kept[-1]
    (1002, [4315, 4320, 4321], 4999)
    """
    stride = max(1, math.ceil(n / max(1, max_points)))
    kept = set(range(0, n, stride)) | {i for i in keep if 0 <= i < n}
    if n:
        kept.add(n - 1)
    return sorted(kept)


def run_edges(flags: Sequence[bool]) -> set[int]:
    """Return the first and last index of every run of True in `flags`.

    Examples
    --------
    >>> sorted(run_edges([True, False, False, True]))
    [0, 3]
    """
    edges = set()
    for i, flag in enumerate(flags):
        if flag and (i == 0 or not flags[i - 1]):
            edges.add(i)
        if flag and (i == len(flags) - 1 or not flags[i + 1]):
            edges.add(i)
    return edges


def positions(steps: Sequence[int], wanted: Iterable[int]) -> set[int]:
    """Return the indices in `steps` (sorted) of the steps in `wanted` that it holds.

    Examples
    --------
    >>> sorted(positions([0, 10, 20, 30], [10, 25, 30]))
    [1, 3]
    """
    index = {step: i for i, step in enumerate(steps)}
    return {index[s] for s in wanted if s in index}
