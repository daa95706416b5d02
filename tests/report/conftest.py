"""Hand-built report dicts following COMMON.md's to_dict() shapes exactly.

They let the reporting layer be tested without the checker, layer-check and monitor code.
"""

import math
import pickle

import numpy as np
import pytest

from gradcheck._jsonsafe import json_float, to_jsonable

PARAMS = {"dense1.W": (64, 32), "dense1.b": (32,), "dense2.W": (32, 10), "dense2.b": (10,)}
ACTIVATIONS = ("dense1", "relu1", "dense2")


def _param_rows(failed_path=None, n_failed=0):
    rows = []
    for path, shape in PARAMS.items():
        size = int(np.prod(shape))
        bad = path == failed_path
        rows.append(
            {
                "path": path,
                "shape": list(shape),
                "passed": not bad,
                "max_rel_error": 1.0 if bad else 3.1e-9,
                "checked": size,
                "failed": n_failed if bad else 0,
                "size": size,
            }
        )
    return rows


def _scatter(rng, factor=1.0, n=200):
    out = {}
    for path in PARAMS:
        numeric = rng.normal(size=n)
        analytic = numeric * (factor if path == "dense1.W" else 1.0)
        out[path] = {"analytic": to_jsonable(analytic), "numeric": to_jsonable(numeric)}
    return out


def make_gradient_check(passed=True, title=None, seed=0):
    rng = np.random.default_rng(seed)
    check = {
        "kind": "gradient_check",
        "title": title,
        "passed": passed,
        "max_rel_error": 3.1e-9 if passed else 1.0,
        "n_evaluations": 5152,
        "method": "central",
        "mode": "full",
        "dtype": "float64",
        "evaluated_dtype": "float64",
        "notes": [],
        "params": _param_rows(),
        "failures": [],
        "n_failures": 0,
        "kinks": [{"path": "dense1.W", "index": [3, 7]}],
        "diagnoses": [],
        "scatter": _scatter(rng),
    }
    if not passed:
        failures = [
            {
                "path": "dense1.W",
                "index": [i, j],
                "analytic": 2.0 * v,
                "numeric": v,
                "error": 1.0,
                "tolerance": 1e-6,
                "ratio": 1e6,
            }
            for i, j, v in [(0, 1, 0.25), (5, 2, -0.125), (9, 9, 0.5)]
        ]
        failures.append(
            {
                "path": "dense1.W",
                "index": [1, 1],
                "analytic": "nan",
                "numeric": 0.3,
                "error": "nan",
                "tolerance": 1e-6,
                "ratio": "inf",
            }
        )
        check.update(
            notes=["float32 parameters were checked in float64."],
            params=_param_rows("dense1.W", 2048),
            failures=failures,
            n_failures=2048,
            diagnoses=[
                {
                    "kind": "scale",
                    "path": "dense1.W",
                    "confidence": 0.97,
                    "message": "dense1.W is exactly 2x the true gradient: a missing 0.5 "
                    "in the loss, or a factor in the derivative.",
                    "evidence": {"factor": 2.0, "matched": "2"},
                }
            ],
            scatter=_scatter(rng, factor=2.0),
        )
    return check


REASON = "2 probe(s) left the loss's domain at every step"
ADVICE = "Check at a point farther from the edge of the loss's domain"


def make_inconclusive_check(title="Edge-of-domain check", seed=0):
    """A check whose `dense1.b` could not be certified (nothing failed), as to_dict writes it."""
    check = make_gradient_check(True, title=title, seed=seed)
    params = check["params"]
    for row in params:
        row["status"] = "passed"
    params[1].update(passed=False, status="inconclusive", failed=0)
    item = {"path": "dense1.b", "reason": REASON, "advice": ADVICE, "entries": 2}
    check.update(passed=False, status="inconclusive", inconclusive=[item])
    return check


def make_layer_check():
    ok, bad = make_gradient_check(True), make_gradient_check(False, seed=1)
    diag = {
        "kind": "activation_derivative",
        "path": None,
        "confidence": 0.9,
        "message": "The derivative is evaluated at the output instead of the input.",
        "evidence": {"slope": 0.5},
    }
    layers = [
        {
            "index": 0,
            "name": "dense1",
            "kind": "dense",
            "passed": True,
            "verdict": "ok",
            "max_rel_error": 2e-10,
            "n_params": 2080,
            "input_gradient": ok,
            "params": ok,
            "batch_independent": True,
            "diagnoses": [],
        },
        {
            "index": 1,
            "name": "relu1",
            "kind": "elementwise",
            "passed": False,
            "verdict": "input gradient wrong: derivative at the output",
            "max_rel_error": 1.0,
            "n_params": 0,
            "input_gradient": bad,
            "params": None,
            "batch_independent": True,
            "diagnoses": [diag],
        },
        {
            "index": 2,
            "name": "dense2",
            "kind": "dense",
            "passed": True,
            "verdict": "ok",
            "max_rel_error": "nan",
            "n_params": 330,
            "input_gradient": ok,
            "params": ok,
            "batch_independent": None,
            "diagnoses": [],
        },
    ]
    return {
        "kind": "layer_check",
        "title": "Layer by layer",
        "passed": False,
        "first_failure": 1,
        "n_evaluations": 9000,
        "layers": layers,
    }


FINDINGS = [
    (
        "nan",
        "dense2",
        2995,
        2999,
        5,
        "error",
        "NaN first appeared in dense2.",
        "Lower the learning rate.",
        {"first_step": 2995},
    ),
    (
        "exploding_gradient",
        "dense1.W",
        2900,
        2994,
        40,
        "error",
        "Gradient norm grew 1e6x.",
        "Clip gradients.",
        {"ratio": 1e6, "max": "inf"},
    ),
    (
        "dead_relu",
        "relu1",
        100,
        2999,
        290,
        "warning",
        "62% of relu1 units never fire.",
        "Use He init or leaky_relu.",
        {"fraction": 0.62},
    ),
    (
        "loss_plateau",
        "loss",
        1500,
        1800,
        1,
        "info",
        "The loss barely moved for 300 steps.",
        None,
        {},
    ),
]


def _histogram(rng, scale):
    counts, edges = np.histogram(rng.normal(scale=scale, size=500), bins=20)
    return {"edges": to_jsonable(edges), "counts": to_jsonable(counts)}


def make_monitor(n_steps=3000, seed=0):
    rng = np.random.default_rng(seed)
    steps = list(range(n_steps))
    loss = [json_float(2.3 * math.exp(-s / 800) + 0.05 * rng.random()) for s in steps]
    loss[-3:] = ["nan", "nan", "nan"]
    grad_norm = {
        p: [json_float(0.1 * math.exp(s / 600) * (1 + rng.random())) for s in steps] for p in PARAMS
    }
    grad_norm["dense1.W"][-6:] = ["inf", "inf", "inf", "nan", "nan", "nan"]
    per_param = {
        m: {p: [json_float(rng.random()) for _ in steps] for p in PARAMS}
        for m in ("param_norm", "update_ratio", "underflow_fraction")
    }
    per_layer = {
        m: {
            a: [json_float(min(1.0, s / n_steps + 0.1 * rng.random())) for s in steps]
            for a in ACTIVATIONS
        }
        for m in ("dead_fraction", "saturated_fraction", "activation_rms")
    }
    hist = {
        label: {
            "step": step,
            "activations": {a: _histogram(rng, 1 + i) for i, a in enumerate(ACTIVATIONS)},
            "gradients": {p: _histogram(rng, 0.1) for p in PARAMS},
        }
        for label, step in (("first", 0), ("last", n_steps - 1))
    }
    findings = [
        dict(
            zip(
                (
                    "code",
                    "name",
                    "step",
                    "last_step",
                    "count",
                    "severity",
                    "message",
                    "suggestion",
                    "evidence",
                ),
                row,
                strict=True,
            )
        )
        for row in FINDINGS
    ]
    return {
        "kind": "monitor",
        "findings": findings,
        "thresholds": {"dead_fraction": 0.5, "exploding_ratio": 1e3},
        "series": {
            "step": steps,
            "loss": loss,
            "metrics": {"grad_norm": grad_norm, **per_param, **per_layer},
            "histograms": hist,
        },
    }


@pytest.fixture
def passing_check():
    return make_gradient_check(True, title="MLP gradient check")


@pytest.fixture
def failing_check():
    return make_gradient_check(False, title="Broken MLP gradient check")


@pytest.fixture
def inconclusive_check():
    return make_inconclusive_check()


@pytest.fixture
def layer_check():
    return make_layer_check()


@pytest.fixture(scope="session")
def long_monitor_dict():
    """A 5000-step monitor dict (import-free access for tests: `conftest` names clash)."""
    return make_monitor(5000)


@pytest.fixture(scope="session")
def monitor_dict():
    return make_monitor()


@pytest.fixture(scope="session")
def shared_run_report(monitor_dict):
    """The fixture run, built once per session (tests get a deep copy: `run_report`)."""
    from gradcheck.report import RunReport

    passing = make_gradient_check(True, title="MLP gradient check")
    failing = make_gradient_check(False, title="Broken MLP gradient check")
    return RunReport.from_objects(
        checks=[passing, failing, make_layer_check()],
        monitor=monitor_dict,
        config={"sizes": [64, 32, 10], "lr": 0.1, "seed": 0, "dtype": "float64"},
        title="Digits MLP",
        notes=["fixture run"],
        max_points=5000,
    )


@pytest.fixture
def run_report(shared_run_report):
    """A deep copy of the shared run (a pickle round trip: ~10x faster than copy.deepcopy)."""
    return pickle.loads(pickle.dumps(shared_run_report))


@pytest.fixture
def run_dict(run_report):
    return run_report.to_dict()


@pytest.fixture(scope="session")
def no_matplotlib():
    """Return a context manager under which importing matplotlib fails."""
    import builtins
    import contextlib
    import sys

    @contextlib.contextmanager
    def blocked(monkeypatch):
        real_import = builtins.__import__

        def fake_import(name, *args, **kwargs):
            if name == "matplotlib" or name.startswith("matplotlib."):
                raise ImportError(f"No module named {name!r} (blocked by the test)")
            return real_import(name, *args, **kwargs)

        for mod in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
            monkeypatch.delitem(sys.modules, mod)
        monkeypatch.setattr(builtins, "__import__", fake_import)
        yield

    return blocked


@pytest.fixture(scope="session")
def small_run_dict():
    """A complete run with a short (120-step) series, for tests that copy it many times."""
    from gradcheck.report import RunReport

    return RunReport.from_objects(
        checks=[make_gradient_check(True), make_gradient_check(False), make_layer_check()],
        monitor=make_monitor(120),
        config={"seed": 0},
        title="small",
    ).to_dict()


@pytest.fixture(scope="session")
def drawn():
    """(plots, data) for the full 3000-step fixture run, drawn once per session."""
    from gradcheck.report import RunReport
    from gradcheck.report.plots import make_plots

    data = RunReport.from_objects(
        checks=[make_gradient_check(True), make_gradient_check(False), make_layer_check()],
        monitor=make_monitor(),
        title="Digits",
        config={"seed": 0},
    ).to_dict()
    return make_plots(data), data
