"""A lost worker costs one retried chunk or a named error, never a hang (no timed assertions:
the executor waits have their own timeouts)."""

from __future__ import annotations

import concurrent.futures as cf
import os

import numpy as np
import pytest

import gradcheck
from gradcheck.checking import parallel as par
from gradcheck.checking.parallel import WorkerLostError
from tests.checking.parallel_problems import (
    Counting,
    exit_on_worker,
    reference_mlp,
    same_report,
    ship_everything,  # noqa: F401  (a fixture)
)

pytestmark = pytest.mark.usefixtures("ship_everything")


def _check(problem, **kwargs):
    return gradcheck.check_gradient(problem["loss"], problem["grad"], problem["params"], **kwargs)


def test_a_worker_process_that_exits_ends_in_a_named_error():
    kill = exit_on_worker(os.getpid())

    def loss(p):
        kill()  # exits a worker process, never this one
        return float(np.sum(np.sin(p)))

    with cf.ProcessPoolExecutor(2) as pool, pytest.raises(WorkerLostError) as info:
        gradcheck.check_gradient(loss, np.cos, np.linspace(-1, 1, 60), executor=pool)
    message = str(info.value)
    assert "worker died" in message and "entries" in message and "os._exit" in message
    assert isinstance(info.value, gradcheck.GradcheckError)


def test_a_chunk_whose_worker_died_is_retried_once_and_the_report_is_unchanged():
    problem = reference_mlp()
    executor = Counting(lose={1})
    with executor:
        spread = _check(problem, executor=executor)
    same_report(_check(problem), spread)
    assert executor.submitted > 2


def test_a_chunk_lost_twice_stops_the_check_with_a_named_error():
    executor = Counting(lose=set(range(1, 10_000)))
    with executor, pytest.raises(WorkerLostError, match="died twice"):
        _check(reference_mlp(), executor=executor)


class Silent(cf.Executor):
    """An executor whose workers never answer."""

    _max_workers = 2

    def submit(self, fn, /, *args, **kwargs):
        return cf.Future()


def test_workers_that_never_answer_end_in_a_named_error(monkeypatch):
    monkeypatch.setattr(par, "STALL_SECONDS", 0.2)
    monkeypatch.setattr(par, "STALL_FACTOR", 0.0)
    with pytest.raises(WorkerLostError, match="no chunk finished"):
        _check(reference_mlp(), executor=Silent())


def test_dask_futures_cancelled_when_their_worker_died_count_as_lost_workers():
    # distributed.wait raises FuturesCancelledError (a CancelledError) for futures the
    # scheduler forgot after their worker died; they must come back to be retried, not
    # escape from the check as Dask's own error
    pytest.importorskip("distributed", reason="Dask's backend needs the dask extra")
    from gradcheck.checking.executors import Dask

    class Forgotten:
        def cancelled(self):
            return True

        def done(self):
            return True

        def result(self):
            raise cf.CancelledError("already forgotten")

    class Running(Forgotten):
        def cancelled(self):
            return False

        def done(self):
            return False

    class Distributed:
        @staticmethod
        def wait(futures, timeout, return_when):
            raise cf.CancelledError("5 Futures cancelled")

    backend = Dask.__new__(Dask)
    backend.distributed = Distributed
    forgotten, running = Forgotten(), Running()
    assert backend.wait_any({forgotten, running}, 1.0) == {forgotten}
    with pytest.raises(cf.CancelledError) as lost:
        forgotten.result()
    assert backend.worker_lost(lost.value)
