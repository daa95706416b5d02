"""Issue 14: a single NaN at step 7,777 of a 12,000-step run was found but left the report.

The monitor found it (a `nan` finding at step 7777), but the gradient norm it stores is
NaN-safe, so no stored value was non-finite; the report thinned the 12,000 steps to about
1,000 by stride, and step 7777 fell between two kept steps. One rule now thins the stored
series, the report and the plots (`gradcheck._thin.thin_indices`), and it always keeps the
non-finite rows and the first and last step of every finding.
"""

import numpy as np
import pytest

from gradcheck._thin import thin_indices
from gradcheck.monitor import Monitor
from gradcheck.report import RunReport
from tests.budget import slow_except

N_STEPS, BAD = 12_000, 7_777


def _run(where: str, bad: int = BAD) -> Monitor:
    rng = np.random.default_rng(0)
    w, x = rng.normal(size=(4, 3)), rng.normal(size=(8, 4))
    mon = Monitor()
    for step in range(N_STEPS):
        g, h, loss = np.full((4, 3), 0.01), np.maximum(x @ w, 0), 1.0 / (1 + step)
        if step == bad:
            g[0, 0] = np.nan if where == "gradient" else g[0, 0]
            h[0, 0] = np.nan if where == "activation" else h[0, 0]
            loss = float("nan") if where == "loss" else loss
        mon.observe(step, loss=loss, activations={"h": h}, gradients={"W": g}, params={"W": w})
    return mon


@pytest.mark.parametrize("where", slow_except(["gradient", "activation", "loss"], fast={"loss"}))
def test_a_single_nan_is_found_and_stays_in_the_report_series(where):
    mon = _run(where)
    nan = [f for f in mon.findings if f.code == "nan"]
    assert [(f.step, f.last_step) for f in nan] == [(BAD, BAD)]
    assert BAD in mon.to_dict()["series"]["step"]
    series = RunReport.from_objects(monitor=mon).to_dict()["monitor"]["series"]
    assert BAD in series["step"] and len(series["step"]) < 1100


def test_thin_indices_keeps_what_it_is_asked_to_keep_on_any_grid():
    rng = np.random.default_rng(14)
    for _ in range(200):
        n, k = int(rng.integers(0, 5000)), int(rng.integers(1, 600))
        keep = set(rng.integers(0, max(n, 1), size=5).tolist()) if n else set()
        kept = thin_indices(n, k, keep)
        assert kept == sorted(set(kept)) and keep <= set(kept)
        assert (not n) or (kept[0] == 0 and kept[-1] == n - 1)
        assert len(kept) <= k + len(keep) + 2


def test_storage_keeps_a_findings_steps_and_nonfinite_edges_past_its_capacity():
    mon = Monitor(max_points=20)  # rows thinned past 40 stored
    for step in range(600):
        loss = float("nan") if 300 <= step < 305 else 1.0 / (1 + step)
        grad = np.full(3, np.nan if step == 411 else 0.5)
        mon.observe(step, loss=loss, gradients={"w": grad})
    steps = mon.to_dict()["series"]["step"]
    assert {300, 304, 411} <= set(steps) and len(steps) < 60
    firsts = {(f.code, f.step) for f in mon.findings}
    assert ("nan", 300) in firsts and all(f.step in steps for f in mon.findings)
