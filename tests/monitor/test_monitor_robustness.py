"""The monitor never raises or warns on broken runs, copies what it keeps, accepts any float
dtype and empty input, validates its arguments, and serializes to strict JSON."""

import itertools
import json
import warnings

import numpy as np
import pytest
from _monitor_nets import run
from hypothesis import given, settings
from hypothesis import strategies as st

from gradcheck.errors import InvalidArgumentError, InvalidTypeError
from gradcheck.monitor import THRESHOLDS, Monitor, every
from gradcheck.monitor.series import METRICS
from tests.budget import examples


def broken_arrays(step, dtype):
    big = np.finfo(dtype).max
    return dict(
        loss=[1.0, np.nan, np.inf][step % 3],
        activations={
            "h1": np.array([[np.nan, np.inf, -np.inf], [big, 0.0, 1e-300]]).astype(dtype),
            "zero": np.zeros((4, 5), dtype=dtype),
            "empty": np.zeros((0, 3), dtype=dtype),
            "scalar": np.array(3.0, dtype=dtype),
        },
        preactivations={"h1": np.full((2, 3), big, dtype=dtype)},
        gradients={"w": np.array([[np.nan, 1.0]], dtype=dtype), "n": np.arange(4)},
        params={"w": np.array([[big, -big]], dtype=dtype), "n": np.arange(4.0)},
    )


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_broken_run_is_observed_without_errors_or_numpy_warnings(dtype):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # The one warning these shapes deserve: no batch dimension shared by the activations.
        warnings.filterwarnings("ignore", message="The activations of one step share neither")
        mon = Monitor(window=2, plateau_window=2)
        for step in range(8):
            mon.observe(step, **broken_arrays(step, dtype))
        data = mon.to_dict()
    json.dumps(data, allow_nan=False)
    codes = {f.code for f in mon.findings}
    assert {"nan", "inf", "overflow", "loss_divergence"} <= codes


def test_diverging_training_run_under_warnings_as_errors():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mon = run(Monitor(), steps=60, reduction="sum", lr=0.5)
    json.dumps(mon.to_dict(), allow_nan=False)
    assert "loss_divergence" in {f.code for f in mon.findings}


@pytest.mark.parametrize("dtype", [np.float16, np.float32])
def test_overflow_limit_follows_the_dtype(dtype):
    limit = float(np.finfo(dtype).max) ** 0.5
    mon = Monitor()
    mon.observe(0, activations={"h": np.full((4, 4), 2 * limit, dtype=dtype)})
    assert [(f.code, f.name) for f in mon.findings] == [("overflow", "h")]
    mon64 = Monitor()
    mon64.observe(0, activations={"h": np.full((4, 4), 2 * limit, dtype=np.float64)})
    assert not mon64.findings


def test_float32_training_run_nan_found():
    def hook(step, loss, acts, pres, grads, params):
        if step == 3:
            acts["dense2"][:] = np.nan
        return loss

    mon = run(Monitor(), steps=5, dtype=np.float32, hook=hook)
    assert [(f.name, f.step) for f in mon.findings if f.code == "nan"] == [("dense2", 3)]


def test_empty_and_missing_dicts():
    mon = Monitor()
    mon.observe(0)
    mon.observe(1, activations={}, preactivations=None, gradients={}, params={})
    mon.observe(2, loss=1.0)
    data = mon.to_dict()
    assert data["series"]["step"] == [0, 1, 2]
    assert data["series"]["loss"] == [None, None, 1.0]
    assert set(METRICS) <= set(data["series"]["metrics"])
    assert mon.findings == []


def test_arrays_mutated_after_observe_do_not_change_what_was_stored():
    rng = np.random.default_rng(0)
    arrays = [
        {"activations": {"h": rng.random((8, 5))}, "gradients": {"w": rng.random((5, 3))}}
        for _ in range(3)
    ]
    copied, mutated = Monitor(), Monitor()
    for step, a in enumerate(arrays):
        copied.observe(
            step, loss=1.0, **{k: {n: v.copy() for n, v in d.items()} for k, d in a.items()}
        )
        mutated.observe(step, loss=1.0, **a)
        for d in a.values():
            for v in d.values():
                v[...] = np.nan  # the caller reuses its buffers
    assert mutated.to_dict() == copied.to_dict()
    assert mutated.findings == []


def test_series_metrics_and_histograms():
    mon = run(Monitor(), steps=12)
    series = mon.to_dict()["series"]
    assert series["step"] == list(range(12)) and len(series["loss"]) == 12
    metrics = series["metrics"]
    assert set(metrics["grad_norm"]) == {"dense1.W", "dense1.b", "dense2.W", "dense2.b"}
    assert set(metrics["dead_fraction"]) == {"relu1"}  # ReLU-like layers only
    assert metrics["update_ratio"]["dense1.W"][0] is None
    assert 1e-4 < metrics["update_ratio"]["dense1.W"][1] < 1
    grad = np.sqrt(sum(g**2 for g in [metrics["grad_norm"]["dense1.W"][0]]))
    assert grad > 0
    hist = series["histograms"]
    assert hist["first"]["step"] == 0 and hist["last"]["step"] == 10  # last detailed step
    relu = hist["first"]["activations"]["relu1"]
    assert len(relu["edges"]) == THRESHOLDS["histogram_bins"] + 1
    assert sum(relu["counts"]) == 64 * 32
    assert set(hist["last"]["gradients"]) == set(metrics["grad_norm"])


def test_long_runs_are_downsampled_keeping_the_last_step():
    mon = Monitor(max_points=10)
    for step in range(95):
        mon.observe(step, loss=1.0 / (step + 1))
    steps = mon.to_dict()["series"]["step"]
    assert len(steps) <= 11 and steps[0] == 0 and steps[-1] == 94


def test_schedule_selects_the_detailed_steps_and_every_step_is_scanned():
    mon = Monitor(schedule=every(3))
    for step in range(10):
        g = np.full(4, np.nan if step == 7 else 1.0)
        mon.observe(step, loss=1.0, gradients={"w": g})
    series = mon.to_dict()["series"]
    assert series["step"] == list(range(10)) and series["loss"] == [1.0] * 10
    norms = series["metrics"]["grad_norm"]["w"]
    assert [s for s, v in zip(series["step"], norms, strict=True) if v is not None] == [
        0,
        3,
        6,
        7,
        9,
    ]
    assert [(f.code, f.name, f.step) for f in mon.findings] == [("nan", "w", 7)]


@settings(max_examples=examples(40), deadline=None)
@given(
    chosen=st.sets(st.integers(0, 60), max_size=20),
    gaps=st.lists(st.integers(1, 3), min_size=5, max_size=40),
)
def test_the_detailed_steps_are_those_the_schedule_selects(chosen, gaps):
    # the monitor plans the next step's level one step ahead: gaps in the step numbers
    # and any schedule must still detail exactly the steps it selects
    mon = Monitor(schedule=lambda step: step in chosen)
    steps = list(itertools.accumulate(gaps, initial=0))
    for step in steps:
        mon.observe(step, loss=1.0, gradients={"w": np.ones(3)})
    series = mon.to_dict()["series"]
    norms = series["metrics"]["grad_norm"]["w"] if chosen & set(steps) else []
    detailed = [s for s, v in zip(series["step"], norms, strict=False) if v is not None]
    assert detailed == [s for s in steps if s in chosen]


def test_thresholds_are_overridable_and_reported():
    mon = Monitor(window=2, divergence_factor=3)
    assert mon.to_dict()["thresholds"]["divergence_factor"] == 3.0
    for step, loss in enumerate([1.0, 1.0, 4.0, 4.0]):
        mon.observe(step, loss=loss)
    assert [(f.code, f.step) for f in mon.findings] == [("loss_divergence", 2)]


VALIDATION = {
    "unknown-threshold": (
        lambda: Monitor(windw=3),
        InvalidArgumentError,
        "windw.*valid names: window",
    ),
    "negative-threshold": (lambda: Monitor(window=-1), InvalidArgumentError, "`window`.*> 0"),
    "fractional-window": (
        lambda: Monitor(window=2.5),
        InvalidArgumentError,
        "`window`.*whole.*window=2",
    ),
    "bool-threshold": (lambda: Monitor(window=True), InvalidArgumentError, "`window`"),
    "step-type": (lambda: Monitor().observe("1"), InvalidTypeError, "`step` must be an int"),
    "loss-array": (lambda: Monitor().observe(0, loss=np.ones(3)), InvalidArgumentError, "`loss`"),
    "loss-text": (lambda: Monitor().observe(0, loss="abc"), InvalidTypeError, "`loss`.*number"),
    "array-not-numeric": (
        lambda: Monitor().observe(0, gradients={"dense1.W": {"x": 1}}),
        InvalidTypeError,
        r"`gradients\['dense1.W'\]` must be a numeric array; got dict",
    ),
    "schedule-not-callable": (lambda: Monitor(schedule=5), InvalidTypeError, "`schedule`"),
    "max-points-zero": (lambda: Monitor(max_points=0), InvalidArgumentError, "`max_points`"),
    "seed-text": (lambda: Monitor(seed="a"), InvalidTypeError, "`seed` must be an int"),
    "dict-type": (
        lambda: Monitor().observe(0, activations=[np.ones(3)]),
        InvalidTypeError,
        "`activations` must be a dict",
    ),
}


@pytest.mark.parametrize("case", VALIDATION.values(), ids=VALIDATION.keys())
def test_input_validation(case):
    call, error, match = case
    with pytest.raises(error, match=match):
        call()


def test_report_delegates_to_the_reporting_layer(tmp_path):
    pytest.importorskip("gradcheck.report")
    mon = run(Monitor(), steps=15, lr=-0.1)
    path = tmp_path / "monitor.json"
    mon.report(str(path))
    data = json.loads(path.read_text())
    assert data["kind"] == "run"
    assert [f["code"] for f in data["monitor"]["findings"]] == [f.code for f in mon.findings]
    assert "ascent" in {f["code"] for f in data["monitor"]["findings"]}


def test_memory_stays_bounded_on_long_runs():
    mon = Monitor(max_points=50)
    for step in range(3000):
        mon.observe(step, loss=1.0 / (step + 1), gradients={"w": np.full(3, 1.0 / (step + 1))})
    assert len(mon._series.step) <= 100 and len(mon._history.losses) <= 2 * 101
    series = mon.to_dict()["series"]
    assert len(series["step"]) <= 51 and series["step"][-1] == 2999
    assert len(series["metrics"]["grad_norm"]["w"]) == len(series["step"])


LAYOUT_WARNING = "The activations of one step share neither their first nor their second"


def test_any_float_arrays_never_raise():
    hypothesis = pytest.importorskip("hypothesis")
    hnp = pytest.importorskip("hypothesis.extra.numpy")
    st = hypothesis.strategies

    arrays = hnp.arrays(
        st.sampled_from([np.float16, np.float32, np.float64]),
        hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=5),
        elements=st.floats(allow_nan=True, allow_infinity=True, width=16),
    )

    @hypothesis.settings(max_examples=examples(60), deadline=None)
    @hypothesis.given(st.lists(arrays, min_size=1, max_size=4), st.floats(allow_nan=True))
    def check(values, loss):
        mon = Monitor(window=1, sample_size=4)  # exercise the sampled path
        named = {f"a{i}": v for i, v in enumerate(values)}
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            # the one documented warning: arrays sharing no batch dimension (see Monitor)
            warnings.filterwarnings("ignore", LAYOUT_WARNING, UserWarning)
            for step in range(3):
                mon.observe(step, loss=loss, activations=named, gradients=named, params=named)
            json.dumps(mon.to_dict(), allow_nan=False)

    check()
