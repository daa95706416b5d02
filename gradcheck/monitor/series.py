"""The time series of a monitored run: the loss at every step, metrics at detailed steps."""

from __future__ import annotations

from gradcheck._jsonsafe import json_float

METRICS = (
    "grad_norm",
    "param_norm",
    "update_ratio",
    "dead_fraction",
    "saturated_fraction",
    "activation_rms",
    "underflow_fraction",
)


class _Thinned:
    """Rows appended in order, thinned to stay below `capacity`.

    Past `capacity` rows every other one is dropped and from then on only every
    `stride`-th is stored (the latest one is always kept aside).
    """

    def __init__(self, capacity: int) -> None:
        self.capacity, self.stride, self.seen = max(int(capacity), 2), 1, 0
        self.rows: list[tuple] = []
        self.latest: tuple | None = None

    def append(self, row: tuple) -> None:
        self.seen += 1
        self.latest = row
        if (self.seen - 1) % self.stride:
            return
        self.rows.append(row)
        if len(self.rows) >= self.capacity:
            self.stride *= 2
            self.rows = self.rows[::2]

    def all(self) -> list[tuple]:
        rows = list(self.rows)
        if self.latest is not None and (not rows or rows[-1] is not self.latest):
            rows.append(self.latest)
        return rows


def _even(n: int, k: int) -> set[int]:
    """About `k` evenly spaced indices of `n`, the last one included."""
    if n <= k:
        return set(range(n))
    stride = -(-n // max(k, 1))
    return set(range(0, n, stride)) | {n - 1}


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
        self._losses.append((step, loss))
        if metrics is not None:
            self._details.append((step, loss, metrics))

    def to_dict(self, max_points: int) -> dict:
        """JSON-safe aligned columns of at most about `max_points` rows (last kept)."""
        losses, details = self._losses.all(), self._details.all()
        half = max(max_points // 2, 1) if details else max_points
        rows = {losses[i][0]: (losses[i][1], None) for i in _even(len(losses), half)}
        for i in _even(len(details), max(max_points - half, 1)) if details else ():
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
