"""Spread a check's per-entry evaluations over an executor; the report stays the serial one.

:func:`parallel_session` wraps the loss for the length of one check. The wrapped loss
offers the differencing engine a batch evaluator (the hook of
:mod:`gradcheck.numeric.differences`): small calls (noise lines, step trials, refinements,
directional probes) run here as in a serial check; an ``entry_values`` call big enough is
split into chunks of rows, sized from the measured cost of one evaluation so that the
per-task overhead stays under :data:`OVERHEAD_SHARE`. The parameters and the pickled loss
reach each worker once per evaluator (:mod:`gradcheck.checking.executors`), every chunk
is evaluated by the serial loop (:mod:`gradcheck.checking.parallel_worker`) and its values
are written back by row: same values, same order, same report.

A chunk whose worker died is retried once; a second loss, or no chunk finishing for
:data:`STALL_SECONDS`, stops the check with :class:`WorkerLostError`. Ctrl-C cancels the
outstanding tasks. BLAS runs on one thread per process during the check, here too, so
that every value is computed as the workers compute it (restored afterwards).
"""

from __future__ import annotations

import contextlib
import math
import time
import uuid
from collections.abc import Iterator
from typing import Any

import numpy as np

from gradcheck.checking.executors import backend
from gradcheck.checking.parallel_send import UnpicklableLossError, payload_bytes
from gradcheck.checking.parallel_worker import run_chunk
from gradcheck.errors import GradcheckError, InvalidArgumentError, at_path
from gradcheck.numeric.differences import entry_values, support_values

__all__ = [
    "PARALLEL_ERRORS",
    "UnpicklableLossError",
    "WorkerLostError",
    "check_executor",
    "parallel_session",
]

#: Largest share of a chunk's time its task overhead may take.
OVERHEAD_SHARE = 0.05
#: Chunks per worker when a call is large (later chunks balance uneven workers).
CHUNKS_PER_WORKER = 4
#: Calls with fewer evaluations than this run here without being timed or shipped.
LOCAL_EVALUATIONS = 64
#: Seconds of evaluations, run here, that measure the cost of one evaluation.
CALIBRATE_SECONDS = 0.02
#: Seconds without any finished chunk after which the workers count as lost (at least;
#: also at least STALL_FACTOR times the expected time of one chunk).
STALL_SECONDS = 120.0
STALL_FACTOR = 50.0


class WorkerLostError(GradcheckError, RuntimeError):
    """A worker died (twice for the same chunk) or stopped answering during a check."""


#: Failures of the parallel machinery: a layer check lets them through (not the layer's).
PARALLEL_ERRORS = (WorkerLostError, UnpicklableLossError)


def check_executor(executor: Any) -> Any:
    """Return `executor` if a check can run on it (None too); else raise a named error."""
    if executor is not None:
        backend(executor)
    return executor


@contextlib.contextmanager
def parallel_session(executor: Any, loss: Any) -> Iterator[Any]:
    """Yield `loss` wrapped to spread its evaluations over `executor` (`loss` itself if None).

    Examples
    --------
    >>> from concurrent.futures import ThreadPoolExecutor
    >>> with ThreadPoolExecutor(2) as pool, parallel_session(pool, abs) as wrapped:
    ...     wrapped(-2.0)
    2.0
    """
    if executor is None or not callable(loss):  # a bad loss is the validation's to name
        yield loss
        return
    spread = ParallelLoss(loss, backend(executor))
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - the extra is installed with the executor
        raise InvalidArgumentError(
            "`executor=` needs threadpoolctl and cloudpickle: pip install 'gradcheck[dask]'."
        ) from None
    with threadpool_limits(limits=1):
        try:
            yield spread
        finally:
            spread.close()


class ParallelLoss:
    """The user's loss, plus the batch evaluator that ships big calls to the executor."""

    def __init__(self, loss: Any, spread: Any) -> None:
        self.loss = loss
        self.backend = spread
        self.batches: list[ParallelBatch] = []

    def __call__(self, params: Any) -> Any:
        return self.loss(params)

    def batch_evaluator(self, evaluator: Any) -> ParallelBatch:
        """Return the batch evaluator of `evaluator` (see the module docstring)."""
        batch = ParallelBatch(self, evaluator)
        self.batches.append(batch)
        return batch

    def close(self) -> None:
        """Release what was shipped to the workers."""
        for batch in self.batches:
            if batch.key is not None:
                self.backend.release(batch.key)


class _Local:
    """Evaluate here: the evaluator, with the loss's own batch evaluator if it has one."""

    __slots__ = ("evaluator", "batch")

    def __init__(self, evaluator: Any, batch: Any) -> None:
        self.evaluator = evaluator
        self.batch = batch

    def __call__(self) -> float:
        return self.evaluator()


class ParallelBatch:
    """Evaluate the engine's calls: small ones here, large ones in chunks on the workers."""

    def __init__(self, owner: ParallelLoss, evaluator: Any) -> None:
        self.owner = owner
        self.evaluator = evaluator
        inner = getattr(owner.loss, "batch_evaluator", None)
        self.local = _Local(evaluator, inner(evaluator) if inner is not None else None)
        self.cost: float | None = None  # seconds per evaluation, measured here
        self.key: str | None = None
        self.payload: Any = None

    def support_values(self, leaf, support, perturbed) -> list[float]:
        """Evaluate a directional probe here (a few evaluations: not worth a task)."""
        return support_values(self.local, leaf, support, perturbed)

    def entry_values(self, leaf, indices, perturbed, columns, out, on_entry=None) -> np.ndarray:
        """Fill `out` like :func:`gradcheck.numeric.differences.entry_values`, spread."""
        indices = np.asarray(indices, dtype=np.intp)
        columns = list(columns)
        path = self._path(leaf)
        if path is None or len(indices) * len(columns) < LOCAL_EVALUATIONS:
            return entry_values(self.local, leaf, indices, perturbed, columns, out, on_entry)
        start = self._calibrate(leaf, indices, perturbed, columns, out, on_entry)
        rows = self._chunk_rows(len(indices) - start, len(columns))
        rest = slice(start, None)
        if rows is None:
            entry_values(
                self.local, leaf, indices[rest], perturbed[rest], columns, out[rest], on_entry
            )
            return out
        chunks = _Chunks(self, path, indices[rest], perturbed[rest][:, columns], rows)
        values = chunks.run(on_entry)
        out[start:, columns] = values
        return out

    def _path(self, leaf: np.ndarray) -> str | None:
        for path, candidate in self.evaluator.copy.leaves.items():
            if candidate is leaf:
                return path
        return None

    def _calibrate(self, leaf, indices, perturbed, columns, out, on_entry) -> int:
        """Evaluate rows here until the cost of one evaluation is measured; return how many."""
        if self.cost is not None:
            return 0
        count, start, row = self.evaluator.count, time.perf_counter(), 0
        while row < len(indices) and time.perf_counter() - start < CALIBRATE_SECONDS:
            part = slice(row, row + 1)
            entry_values(
                self.local, leaf, indices[part], perturbed[part], columns, out[part], on_entry
            )
            row += 1
        evaluations = max(self.evaluator.count - count, 1)
        self.cost = max((time.perf_counter() - start) / evaluations, 1e-9)
        return row

    def _chunk_rows(self, n: int, per_row: int) -> int | None:
        """Rows per chunk, or None when the call is too small to pay for two tasks."""
        spread = self.owner.backend
        least = math.ceil(spread.overhead / (OVERHEAD_SHARE * self.cost * per_row))
        if n < 2 * least:
            return None
        return max(least, math.ceil(n / (CHUNKS_PER_WORKER * spread.workers)))

    def shipped(self) -> Any:
        """Ship the loss and the unperturbed parameters (once per evaluator)."""
        if self.key is None:
            blob = payload_bytes(self.owner.loss, self.evaluator.copy.tree)
            key = uuid.uuid4().hex
            self.payload = self.owner.backend.ship(key, blob)
            self.key = key
        return self.payload


class _Chunks:
    """The chunks of one ``entry_values`` call: submit, collect by row, retry a lost one."""

    def __init__(self, batch: ParallelBatch, path: str, indices, perturbed, rows: int) -> None:
        self.batch = batch
        self.backend = batch.owner.backend
        self.path = path
        self.indices = indices
        self.perturbed = np.ascontiguousarray(perturbed)
        self.spans = [(s, min(s + rows, len(indices))) for s in range(0, len(indices), rows)]
        self.tries = dict.fromkeys(self.spans, 0)
        self.pending: dict = {}
        expected = rows * self.perturbed.shape[1] * batch.cost
        self.stall = max(STALL_SECONDS, STALL_FACTOR * expected)

    def _submit(self, span: tuple[int, int]) -> None:
        s, e = span
        self.tries[span] += 1
        payload = self.batch.shipped()
        finite_only = self.batch.evaluator.finite_only
        future = self.backend.submit(
            run_chunk, payload, self.path, self.indices[s:e], self.perturbed[s:e], finite_only
        )
        self.pending[future] = span

    def run(self, on_entry) -> np.ndarray:
        """Return the values of every row, in order (progress counted as chunks finish)."""
        values = np.empty(self.perturbed.shape, dtype=np.float64)
        try:
            for span in self.spans:
                self._submit(span)
            while self.pending:
                done = self.backend.wait_any(set(self.pending), self.stall)
                if not done:
                    raise self._lost(None, "no chunk finished", None)
                for future in done:
                    self._collect(future, values, on_entry)
        except BaseException:  # Ctrl-C, a lost worker, an error of the loss
            self.backend.cancel(list(self.pending))
            self.pending.clear()
            raise
        return values

    def _collect(self, future, values: np.ndarray, on_entry) -> None:
        span = self.pending.pop(future)
        try:
            chunk, count = future.result()
        except Exception as exc:
            if not self.backend.worker_lost(exc):
                raise  # the loss raised on the worker: as in a serial check
            if self.tries[span] >= 2:
                raise self._lost(span, "its worker died twice", exc) from exc
            try:
                self._submit(span)  # once more, elsewhere
            except Exception as again:
                raise self._lost(span, "its worker died", again) from again
            return
        s, e = span
        values[s:e] = chunk
        self.batch.evaluator.count += count
        for _ in range(e - s if on_entry is not None else 0):
            on_entry()

    def _lost(self, span, what: str, exc: BaseException | None) -> WorkerLostError:
        where = (
            f"entries {self.indices[span[0]]}..{self.indices[span[1] - 1]} of {at_path(self.path)}"
            if span is not None
            else f"{at_path(self.path)} (within {self.stall:.0f} s)"
        )
        cause = f" ({type(exc).__name__}: {exc})" if exc is not None else ""
        return WorkerLostError(
            f"the parallel check stopped: {what} while evaluating {where}{cause}. A worker "
            "that exits (a crash, os._exit, out of memory) or hangs in the loss cannot finish "
            "its chunk; run the loss serially (without `executor=`) to see its error, or give "
            "the workers more memory."
        )
