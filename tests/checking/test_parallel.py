"""check_gradient / check_layers with `executor=`: the report is the serial one, bit for bit."""

from __future__ import annotations

import concurrent.futures as cf
import threading

import numpy as np
import pytest

import gradcheck
from gradcheck.checking import executors
from gradcheck.checking import gradient as gradient_module
from gradcheck.checking import parallel as par
from gradcheck.checking.external import Program
from gradcheck.checking.parallel_send import UnpicklableLossError
from gradcheck.errors import InvalidTypeError
from tests.budget import slow_except
from tests.checking.parallel_problems import (
    layer_stack,
    reference_mlp,
    same_report,
    ship_everything,  # noqa: F401  (a fixture)
)
from tests.checking.protocol_helpers import REFERENCE

pytestmark = pytest.mark.usefixtures("ship_everything")


@pytest.fixture(scope="module")
def pool():
    with cf.ProcessPoolExecutor(2) as executor:
        yield executor


@pytest.fixture
def shipped(monkeypatch):
    """Record the number of evaluations every shipped call spread over chunks."""
    spread = []
    original = par._Chunks.run

    def run(self, on_entry):
        spread.append((self.perturbed.size, len(self.spans)))
        return original(self, on_entry)

    monkeypatch.setattr(par._Chunks, "run", run)
    return spread


def _check(problem, **kwargs):
    return gradcheck.check_gradient(problem["loss"], problem["grad"], problem["params"], **kwargs)


@pytest.mark.parametrize("planted", slow_except([None, 1e-4], fast={None}))
def test_reference_mlp_report_is_identical_on_a_process_pool(pool, shipped, planted):
    problem = reference_mlp(planted=planted)
    serial = _check(problem)
    spread = _check(problem, executor=pool)
    same_report(serial, spread)
    assert shipped and all(chunks >= 2 for _, chunks in shipped)
    assert serial.passed is (planted is None)


@pytest.mark.parametrize("method", slow_except(["richardson", "forward", "complex"], {"complex"}))
def test_other_methods_and_modes_are_identical(method):
    problem = reference_mlp()
    if method == "complex":  # complex steps need a complex-safe loss
        w = np.random.default_rng(0).standard_normal(40)
        problem = {
            "loss": lambda p: np.sum(np.sin(p) * w),
            "grad": lambda p: np.cos(p) * w,
            "params": np.linspace(-1, 1, 40),
        }
    with cf.ThreadPoolExecutor(2) as threads:
        same_report(
            _check(problem, method=method), _check(problem, method=method, executor=threads)
        )
        same_report(_check(problem, directions=3), _check(problem, directions=3, executor=threads))
        same_report(_check(problem, sample=5), _check(problem, sample=5, executor=threads))


def test_layer_stack_report_is_identical(pool, shipped):
    layers, x = layer_stack()
    serial = gradcheck.check_layers(layers, x)
    spread = gradcheck.check_layers(layers, x, executor=pool)
    same_report(serial, spread)
    assert shipped and serial.passed


def test_lambdas_and_closures_reach_the_workers(pool):
    scale = np.arange(1.0, 31.0)
    report = gradcheck.check_gradient(
        lambda p: float(np.sum(scale * p**3)),
        lambda p: 3 * scale * p**2,
        np.linspace(-1, 1, 30),
        executor=pool,
    )
    assert report.passed


def test_an_unpicklable_loss_names_what_could_not_be_sent(pool):
    lock = threading.Lock()

    def loss(p):
        with lock:
            return float(np.sum(p**2))

    with pytest.raises(UnpicklableLossError) as info:
        gradcheck.check_gradient(loss, lambda p: 2 * p, np.ones(40), executor=pool)
    message = str(info.value)
    assert "closure variable `lock`" in message and "module-level function" in message
    assert isinstance(info.value, gradcheck.GradcheckError | TypeError)


def test_an_unpicklable_layer_is_not_blamed_on_the_layer(pool):
    layers, x = layer_stack()
    layers[0].lock = threading.Lock()
    with pytest.raises(UnpicklableLossError):
        gradcheck.check_layers(layers, x, executor=pool)


@pytest.mark.parametrize("bad", [object(), 2, "processes"])
def test_an_executor_of_the_wrong_type_is_named(bad):
    problem = reference_mlp()
    with pytest.raises(InvalidTypeError, match="concurrent.futures.Executor"):
        _check(problem, executor=bad)
    with pytest.raises(InvalidTypeError, match="dask.distributed.Client"):
        gradcheck.check_layers(*layer_stack(), executor=bad)


def test_an_error_of_the_loss_on_a_worker_is_the_serial_error():
    def loss(p):
        if p[7] != 0.5:
            raise RuntimeError("broken loss")
        return float(np.sum(p**2))

    with cf.ThreadPoolExecutor(2) as threads, pytest.raises(RuntimeError, match="broken loss"):
        gradcheck.check_gradient(loss, lambda p: 2 * p, np.full(40, 0.5), executor=threads)


def test_progress_counts_every_evaluation_across_workers(monkeypatch):
    counts = []
    original = gradient_module.Progress.update

    def update(self, n=1, note=""):
        counts.append(n)
        return original(self, n, note)

    monkeypatch.setattr(gradient_module.Progress, "update", update)
    problem = reference_mlp()
    with cf.ThreadPoolExecutor(2) as threads:
        spread = _check(problem, executor=threads)
    spread_total = sum(counts)
    counts.clear()
    _check(problem)
    assert spread_total == sum(counts)  # every entry evaluated, whichever process did it
    assert spread_total >= 2 * sum(v.size for v in problem["params"].values())
    assert spread.n_evaluations > spread_total


def test_blas_is_pinned_to_one_thread_during_the_check_and_restored():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    before = [p["num_threads"] for p in threadpoolctl.threadpool_info()]
    seen = []

    def loss(p):
        seen.append({pool["num_threads"] for pool in threadpoolctl.threadpool_info()})
        return float(np.sum(p**2))

    with cf.ThreadPoolExecutor(2) as threads:
        gradcheck.check_gradient(loss, lambda p: 2 * p, np.ones(40), executor=threads)
    assert seen and all(s <= {1} for s in seen)
    assert [p["num_threads"] for p in threadpoolctl.threadpool_info()] == before


def test_ctrl_c_cancels_the_outstanding_chunks(monkeypatch):
    cancelled = []

    def interrupted(self, pending, timeout):
        raise KeyboardInterrupt

    def cancel(self, futures):
        cancelled.extend(futures)
        original(self, futures)

    original = executors.Pool.cancel
    monkeypatch.setattr(executors.Pool, "wait_any", interrupted)
    monkeypatch.setattr(executors.Pool, "cancel", cancel)
    problem = reference_mlp()
    with cf.ThreadPoolExecutor(2) as threads, pytest.raises(KeyboardInterrupt):
        _check(problem, executor=threads)
    assert cancelled and all(f.cancelled() or f.done() for f in cancelled)


@pytest.mark.slow
def test_a_program_over_the_protocol_starts_one_copy_per_worker(pool):
    with Program(REFERENCE) as program:
        serial = gradcheck.check_gradient(program.loss, program.grad, program.params)
        spread = gradcheck.check_gradient(program.loss, program.grad, program.params, executor=pool)
        same_report(serial, spread)
        layers = gradcheck.check_layers(program.layers, program.input())
        same_report(layers, gradcheck.check_layers(program.layers, program.input(), executor=pool))
    assert serial.passed and layers.passed


def test_the_report_is_the_serial_one_at_one_blas_thread():
    """Multi-threaded BLAS may round a long dot product differently than one thread does;
    a parallel check runs every evaluation on one thread, so it equals the serial check
    run on one thread (docs/parallel.md), bit for bit, for such a loss too."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    rng = np.random.default_rng(3)
    u, v = rng.standard_normal(200_000), rng.standard_normal(200_000)

    def loss(p):
        return float((u * p[0] + v * p[1:].sum()) @ (v + p[2])) + float(np.sum(p**3))

    def grad(p):
        g = 3 * p**2
        g[0] += u @ (v + p[2])
        g[1:] += v @ (v + p[2])
        g[2] += np.sum(u * p[0] + v * p[1:].sum())
        return g

    params = np.linspace(-0.5, 0.5, 12)
    with threadpoolctl.threadpool_limits(limits=1):
        serial = gradcheck.check_gradient(loss, grad, params)
    with cf.ThreadPoolExecutor(2) as threads:
        same_report(serial, gradcheck.check_gradient(loss, grad, params, executor=threads))
