"""Problems and tools for the parallel-check tests: the reference MLP, a layer stack, executors."""

from __future__ import annotations

import concurrent.futures as cf
import os

import numpy as np
import pytest

from gradcheck.checking import parallel as par
from gradcheck.nn.model import MLP
from gradcheck.nn.problem import mlp_problem


def reference_mlp(hidden: int = 12, planted: float | None = None) -> dict:
    """The reference MLP problem (gradcheck.nn), optionally with one wrong W1 entry."""
    rng = np.random.default_rng(0)
    model = MLP([6, hidden, 3], activation="tanh")
    problem = mlp_problem(model, rng.standard_normal((5, 6)), rng.integers(0, 3, 5))
    if planted is not None:
        grad = problem["grad"]

        first = sorted(problem["params"])[0]

        def planted_grad(params):
            g = grad(params)
            g[first] = np.array(g[first], copy=True)
            g[first].reshape(-1)[3] *= 1 + planted
            return g

        problem["grad"] = planted_grad
    return problem


def layer_stack():
    """A 3-layer tanh MLP's layers and a batch."""
    model = MLP([5, 8, 8, 3], activation="tanh")
    return model.layers, np.random.default_rng(1).normal(size=(4, 5))


@pytest.fixture
def ship_everything(monkeypatch):
    """Make every call worth shipping (tests run tiny problems): small chunks, many tasks."""
    monkeypatch.setattr(par, "OVERHEAD_SHARE", 1e9)
    monkeypatch.setattr(par, "LOCAL_EVALUATIONS", 8)
    monkeypatch.setattr(par, "CALIBRATE_SECONDS", 0.0)


def same_report(a, b) -> None:
    """Assert two reports are identical: their dicts and their text."""
    assert a.to_dict() == b.to_dict()
    assert str(a) == str(b)


class Counting(cf.Executor):
    """A thread pool that counts submissions and can make chosen submissions 'lose' a worker."""

    def __init__(self, lose=()) -> None:
        self.pool = cf.ThreadPoolExecutor(2)
        self._max_workers = 2
        self.lose = set(lose)  # submission numbers whose future fails as a dead worker
        self.submitted = 0

    def submit(self, fn, /, *args, **kwargs):
        number = self.submitted
        self.submitted += 1
        if number in self.lose:
            future = cf.Future()
            future.set_exception(cf.BrokenExecutor("a worker died (simulated)"))
            return future
        return self.pool.submit(fn, *args, **kwargs)

    def shutdown(self, wait=True, **kwargs):
        self.pool.shutdown(wait=wait)


def exit_on_worker(main_pid: int):
    """A loss wrapper that kills the worker process it runs in (never the main process)."""

    def kill_if_worker():
        if os.getpid() != main_pid:
            os._exit(3)

    return kill_if_worker
