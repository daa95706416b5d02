"""Checks on a real Dask cluster: a LocalCluster of 2 worker processes, loopback only, no
dashboard, started here for the session and closed at its end."""

from __future__ import annotations

import os

import numpy as np
import pytest

import gradcheck
from gradcheck.checking.external import Program
from gradcheck.checking.parallel import WorkerLostError
from tests.checking.parallel_problems import (
    layer_stack,
    reference_mlp,
    same_report,
    ship_everything,  # noqa: F401  (a fixture)
)
from tests.checking.protocol_helpers import REFERENCE

pytestmark = [pytest.mark.usefixtures("ship_everything"), pytest.mark.slow]


@pytest.fixture(scope="session")
def client():
    distributed = pytest.importorskip("distributed")  # here: a local run deselects this file
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
    )
    with cluster, distributed.Client(cluster) as dask_client:
        yield dask_client


def _check(problem, **kwargs):
    return gradcheck.check_gradient(problem["loss"], problem["grad"], problem["params"], **kwargs)


@pytest.mark.parametrize("planted", [None, 1e-4])
def test_reference_mlp_report_is_identical_on_dask(client, planted):
    problem = reference_mlp(planted=planted)
    serial = _check(problem)
    same_report(serial, _check(problem, executor=client))
    assert serial.passed is (planted is None)


def test_layer_stack_report_is_identical_on_dask(client):
    layers, x = layer_stack()
    same_report(
        gradcheck.check_layers(layers, x), gradcheck.check_layers(layers, x, executor=client)
    )


def test_the_workers_forget_a_check_when_it_ends(client):
    _check(reference_mlp(), executor=client)
    from gradcheck.checking import parallel_worker

    kept = client.run(lambda: len(parallel_worker._STATES))
    assert set(kept.values()) == {0}


def test_a_program_runs_as_one_copy_per_dask_worker(client):
    with Program(REFERENCE) as program:
        serial = gradcheck.check_gradient(program.loss, program.grad, program.params)
        spread = gradcheck.check_gradient(
            program.loss, program.grad, program.params, executor=client
        )
    same_report(serial, spread)


def test_a_worker_killed_mid_check_costs_a_rerun_or_a_named_error(client, tmp_path):
    marker = str(tmp_path / "killed-once")
    main = os.getpid()

    def loss(p):
        if os.getpid() != main and not os.path.exists(marker):
            open(marker, "w").close()
            os._exit(3)  # the first worker to evaluate dies, once
        return float(np.sum(np.sin(p)))

    params = np.linspace(-1, 1, 60)
    serial = gradcheck.check_gradient(loss, np.cos, params)
    try:
        spread = gradcheck.check_gradient(loss, np.cos, params, executor=client)
    except WorkerLostError as exc:  # allowed: a named error, not a hang
        assert "worker" in str(exc)
    else:
        same_report(serial, spread)
    assert os.path.exists(marker)
