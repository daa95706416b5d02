"""The time series of a monitored run: the loss at every step, metrics at detailed steps."""

from __future__ import annotations

import math
from collections import Counter, deque

from gradcheck._jsonsafe import json_float
from gradcheck._thin import thin_indices

METRICS = (
    "grad_norm",
    "param_norm",
    "update_ratio",
    "dead_fraction",
    "saturated_fraction",
    "activation_rms",
    "underflow_fraction",
)


RECENT = 256  # rows a pin can still reach after the stride skipped them


class _Thinned:
    """Rows ``(step, ...)`` appended in order, thinned to stay below `capacity`.

    Past `capacity` rows every other one is dropped and from then on only every
    `stride`-th is stored (the latest one is always kept aside). Pinned rows are kept
    whatever the stride: the edges of every non-finite run, and the steps the monitor pins
    (the first and last step of every finding, when the row is among the last `RECENT`).
    """

    def __init__(self, capacity: int) -> None:
        self.capacity, self.stride, self.seen = max(int(capacity), 2), 1, 0
        self.rows: list[tuple] = []
        self.latest: tuple | None = None
        self.recent: deque[tuple] = deque(maxlen=RECENT)
        self.edges: dict[int, tuple] = {}  # id(row) -> row: edges of the non-finite runs
        self.held: dict[int, tuple] = {}  # id(row) -> row: pinned by a finding
        self.pins: Counter[int] = Counter()  # step -> how many findings pin it
        self.bad_previous = False

    def append(self, row: tuple, bad: bool = False) -> None:
        self.seen += 1
        if bad != self.bad_previous:  # a non-finite run starts here, or ended at the last row
            edge = row if bad else self.latest
            if edge is not None:
                self.edges[id(edge)] = edge
            if len(self.edges) > self.capacity:
                self.edges = dict(list(self.edges.items())[::2])
        self.bad_previous = bad
        self.latest = row
        self.recent.append(row)
        if (self.seen - 1) % self.stride:
            return
        self.rows.append(row)
        if len(self.rows) >= self.capacity:
            self.stride *= 2
            self.rows = self.rows[::2]

    def pin(self, step: int) -> None:
        """Keep the row of `step` (if it is recent enough to be found)."""
        self.pins[step] += 1
        for row in self.recent:
            if row[0] == step:
                self.held[id(row)] = row

    def unpin(self, step: int) -> None:
        """Release one pin of `step` (its row may still be kept by the stride or another pin)."""
        self.pins[step] -= 1
        if self.pins[step] <= 0:
            del self.pins[step]
            self.held = {key: row for key, row in self.held.items() if row[0] != step}

    def all(self) -> tuple[list[tuple], set[int]]:
        """Return (the stored rows in step order, the positions of the pinned ones)."""
        rows = list(self.rows)
        if self.latest is not None and (not rows or rows[-1] is not self.latest):
            rows.append(self.latest)
        pinned = {**self.edges, **self.held}
        stored = {id(row) for row in rows}
        rows += [row for key, row in pinned.items() if key not in stored]
        rows.sort(key=lambda row: row[0])
        return rows, {i for i, row in enumerate(rows) if id(row) in pinned}


class Series:
    """Columns ``step``, ``loss`` and ``metrics[metric][name]`` (None = not computed), aligned.

    The loss is kept at every observed step, the metrics at the detailed steps; memory stays
    bounded (each kind of row is thinned past `capacity`).
    """

    def __init__(self, capacity: int = 10_000) -> None:
        self._losses = _Thinned(capacity)
        self._details = _Thinned(capacity)

    def __len__(self) -> int:
        return self._losses.seen

    @property
    def step(self) -> list[int]:
        """The stored steps (loss rows)."""
        return [row[0] for row in self._losses.rows]

    def append(self, step: int, loss: float | None, metrics: dict | None = None) -> None:
        """Add one observation (`metrics` at the detailed steps only)."""
        bad = not _finite(loss)
        self._losses.append((step, loss), bad)
        if metrics is not None:
            bad = bad or not all(_finite(v) for values in metrics.values() for v in values.values())
            self._details.append((step, loss, metrics), bad)

    def pin(self, step: int) -> None:
        """Keep the rows of `step` whatever the thinning (a finding's first or last step)."""
        self._losses.pin(step)
        self._details.pin(step)

    def unpin(self, step: int) -> None:
        """Release a `pin` of `step`."""
        self._losses.unpin(step)
        self._details.unpin(step)

    def to_dict(self, max_points: int) -> dict:
        """JSON-safe aligned columns of about `max_points` rows (last and pinned rows kept)."""
        (losses, pinned), (details, pinned_details) = self._losses.all(), self._details.all()
        half = max(max_points // 2, 1) if details else max_points
        rows = {losses[i][0]: (losses[i][1], None) for i in thin_indices(len(losses), half, pinned)}
        kept = thin_indices(len(details), max(max_points - half, 1), pinned_details)
        for i in kept if details else ():
            step, loss, metrics = details[i]
            rows[step] = (loss, metrics)
        steps = sorted(rows)
        names: dict[str, dict[str, None]] = {m: {} for m in METRICS}
        for step in steps:
            for metric, values in (rows[step][1] or {}).items():
                if metric in names:
                    names[metric].update(dict.fromkeys(values))
        metrics = {
            metric: {
                name: [json_float((rows[s][1] or {}).get(metric, {}).get(name)) for s in steps]
                for name in cols
            }
            for metric, cols in names.items()
        }
        return {"step": steps, "loss": [json_float(rows[s][0]) for s in steps], "metrics": metrics}


def _finite(value: float | None) -> bool:
    return value is None or math.isfinite(value)
