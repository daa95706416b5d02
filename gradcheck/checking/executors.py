"""One face for the executors a check can run on: a ``concurrent.futures`` pool or Dask.

:func:`backend` wraps what the user passed as ``executor=``. A backend ships a payload
once per check (:meth:`ship`), submits chunks, waits for the first of several to finish
with a timeout (never forever), cancels what is outstanding and tells a lost worker
(:meth:`worker_lost`) from an error raised by the loss. Dask and its friends are imported
only here, and only when a Dask client is given.
"""

from __future__ import annotations

import concurrent.futures as cf
import os
import tempfile
from typing import Any

from gradcheck.checking.parallel_worker import Payload, forget
from gradcheck.errors import InvalidTypeError

#: Assumed cost of one task beyond its evaluations (submit, pickle, schedule, return), in
#: seconds: chunks are sized so that this stays under ~5% (benchmarks/bench_parallel.py
#: measures it: ~1 ms on a process pool, a few ms on a local Dask cluster).
TASK_OVERHEAD = {"pool": 0.004, "threads": 0.001, "dask": 0.015}


def is_dask_client(executor: Any) -> bool:
    """Return True for a ``dask.distributed.Client`` (checked without importing Dask)."""
    return type(executor).__module__.startswith("distributed") and hasattr(executor, "scatter")


def backend(executor: Any) -> Pool | Dask:
    """Return the backend for `executor`, or raise a named error for anything else."""
    if is_dask_client(executor):
        return Dask(executor)
    if isinstance(executor, cf.Executor):
        return Pool(executor)
    raise InvalidTypeError(
        f"`executor` must be a concurrent.futures.Executor (e.g. ProcessPoolExecutor(4)) or a "
        f"dask.distributed.Client; got {type(executor).__name__}."
    )


class Pool:
    """A ``concurrent.futures`` executor: process pool, thread pool or any other."""

    def __init__(self, executor: cf.Executor) -> None:
        self.executor = executor
        self.kind = "threads" if isinstance(executor, cf.ThreadPoolExecutor) else "pool"
        self.overhead = TASK_OVERHEAD[self.kind]
        self.workers = int(getattr(executor, "_max_workers", None) or os.cpu_count() or 1)
        self._files: list[str] = []

    def ship(self, key: str, blob: bytes) -> Payload:
        """Return the payload to pass to tasks: a file for a process pool, else the bytes."""
        if not isinstance(self.executor, cf.ProcessPoolExecutor):
            return Payload(key, blob=blob)
        handle, path = tempfile.mkstemp(prefix="gradcheck-", suffix=".payload")
        with os.fdopen(handle, "wb") as out:
            out.write(blob)
        self._files.append(path)
        return Payload(key, path=path)

    def submit(self, fn, *args) -> cf.Future:
        """Submit one task."""
        return self.executor.submit(fn, *args)

    def wait_any(self, pending: set, timeout: float) -> set:
        """Return the futures done within `timeout` seconds (empty: none finished)."""
        done, _ = cf.wait(pending, timeout=timeout, return_when=cf.FIRST_COMPLETED)
        return done

    def cancel(self, futures) -> None:
        """Cancel the futures not yet started."""
        for future in futures:
            future.cancel()

    def worker_lost(self, exc: BaseException) -> bool:
        """Return True when `exc` says a worker died (not that the loss raised)."""
        return isinstance(exc, cf.BrokenExecutor | cf.CancelledError)

    def release(self, key: str) -> None:
        """Forget the payload `key`: remove its file (workers drop old copies on later checks)."""
        forget(key)
        for path in self._files:
            if os.path.exists(path):
                os.remove(path)
        self._files.clear()


class Dask:
    """A ``dask.distributed.Client``: the payload is scattered to every worker (broadcast)."""

    kind = "dask"

    def __init__(self, client: Any) -> None:
        import distributed

        self.client = client
        self.distributed = distributed
        self.overhead = TASK_OVERHEAD["dask"]
        self.workers = max(1, sum(client.nthreads().values()))
        self._scattered: list = []

    def ship(self, key: str, blob: bytes) -> Any:
        """Scatter the payload to every worker once; tasks refer to it by its future."""
        future = self.client.scatter(Payload(key, blob=blob), broadcast=True, hash=False)
        self._scattered.append(future)
        return future

    def submit(self, fn, *args) -> Any:
        """Submit one task (never cached by Dask: every chunk is evaluated)."""
        return self.client.submit(fn, *args, pure=False)

    def wait_any(self, pending: set, timeout: float) -> set:
        """Return the futures done within `timeout` seconds (empty: none finished)."""
        try:
            done, _ = self.distributed.wait(
                list(pending), timeout=timeout, return_when="FIRST_COMPLETED"
            )
        except TimeoutError:
            return set()
        except cf.CancelledError:
            # The scheduler cancelled futures whose worker died ("already forgotten"):
            # `wait` raises instead of returning them. Hand them back: their result()
            # raises a CancelledError, which `worker_lost` counts as a lost worker.
            return {future for future in pending if future.cancelled() or future.done()}
        return set(done)

    def cancel(self, futures) -> None:
        """Cancel the futures on the cluster."""
        if futures:
            self.client.cancel(list(futures))

    def worker_lost(self, exc: BaseException) -> bool:
        """Return True when `exc` says a worker died (not that the loss raised)."""
        from distributed.comm.core import CommClosedError
        from distributed.scheduler import KilledWorker

        return isinstance(exc, KilledWorker | CommClosedError | cf.CancelledError)

    def release(self, key: str) -> None:
        """Drop the scattered payloads and the workers' copies of `key`."""
        try:
            self.client.run(forget, key)
        except Exception:  # a worker that is gone has nothing to forget
            pass
        self.cancel(self._scattered)
        self._scattered.clear()
