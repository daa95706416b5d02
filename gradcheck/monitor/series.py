"""The time series of a monitored run: steps, loss and per-name metrics, aligned."""

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


class Series:
    """Columns ``step``, ``loss`` and ``metrics[metric][name]`` (None = absent), aligned.

    Memory stays bounded: past `capacity` rows, every other row is dropped and from then on
    only every `stride`-th observation is stored (the latest one is always kept aside).
    """

    def __init__(self, capacity: int = 10_000) -> None:
        self.capacity = max(int(capacity), 2)
        self.stride, self._seen = 1, 0
        self.step: list[int] = []
        self.loss: list[float | None] = []
        self.metrics: dict[str, dict[str, list[float | None]]] = {m: {} for m in METRICS}
        self._latest: tuple | None = None

    def __len__(self) -> int:
        return self._seen

    def append(self, step: int, loss: float | None, metrics: dict[str, dict[str, float]]) -> None:
        """Add one observation (stored when it falls on the stride)."""
        self._seen += 1
        self._latest = (step, loss, metrics)
        if (self._seen - 1) % self.stride:
            return
        self._store(step, loss, metrics)
        if len(self.step) >= self.capacity:
            self.stride *= 2
            self.step, self.loss = self.step[::2], self.loss[::2]
            for columns in self.metrics.values():
                for name in columns:
                    columns[name] = columns[name][::2]

    def _store(self, step: int, loss: float | None, metrics: dict) -> None:
        row = len(self.step)
        self.step.append(step)
        self.loss.append(loss)
        for metric, columns in self.metrics.items():
            values = metrics.get(metric, {})
            for name, value in values.items():
                column = columns.get(name)
                if column is None:
                    column = columns[name] = [None] * row
                column.append(value)
            if len(values) < len(columns):  # names absent this step
                for column in columns.values():
                    if len(column) <= row:
                        column.append(None)

    def to_dict(self, max_points: int) -> dict:
        """JSON-safe columns, evenly downsampled to at most `max_points` rows (last kept)."""
        full = Series(capacity=self.capacity)
        full.step, full.loss = list(self.step), list(self.loss)
        full.metrics = {
            m: {n: list(c) for n, c in cols.items()} for m, cols in self.metrics.items()
        }
        if self._latest is not None and (not self.step or self.step[-1] != self._latest[0]):
            full._store(*self._latest)
        n = len(full.step)
        keep = range(n)
        if n > max_points:
            stride = -(-n // max_points)
            keep = sorted(set(range(0, n, stride)) | {n - 1})
        return {
            "step": [full.step[i] for i in keep],
            "loss": [json_float(full.loss[i]) for i in keep],
            "metrics": {
                metric: {name: [json_float(col[i]) for i in keep] for name, col in cols.items()}
                for metric, cols in full.metrics.items()
            },
        }
