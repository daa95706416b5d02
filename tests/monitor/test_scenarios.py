"""Issue 13: the monitor on training code as people write it.

Healthy runs that differ in optimizer, activation, dtype, batch size (1 included), bias
shape, layout and data order raise no warning or error; broken runs of every kind the
issue lists raise the right code at warning/error, name the right array first, and list the
cause before its consequences; every message reads as a sentence.
"""

import numpy as np
import pytest
from _scenario_net import train

from gradcheck.monitor import Monitor
from tests.budget import slow_except

SEVERE = ("warning", "error")


def serious(mon):
    return [(f.code, f.name, f.step) for f in mon.findings if f.severity in SEVERE]


def assert_readable(mon):
    for f in mon.findings:
        assert "{" not in f.message and "}" not in f.message, f.message
        assert f.message.endswith(".") and f.suggestion, f.message
        assert f.reported_step >= f.step


def assert_causes_first(mon):
    keys = [f.code if f.name is None else f"{f.code}:{f.name}" for f in mon.findings]
    for i, f in enumerate(mon.findings):
        if f.consequence_of is not None:
            assert f.severity == "info" and "follows from" in f.message
            assert f.consequence_of in keys[:i], keys


HEALTHY = {
    "sgd-relu-shuffled": dict(),
    "momentum-tanh": dict(optimizer="momentum", lr=0.02, act="tanh"),
    "adam-sigmoid": dict(optimizer="adam", lr=0.003, act="sigmoid"),
    "float32-leaky-relu": dict(dtype=np.float32, act="leaky"),
    "batch-1-relu": dict(batch=1, lr=0.01, steps=400),
    "row-bias-units-by-batch": dict(bias="row", layout="columns"),
    "column-bias-units-by-batch-tanh": dict(bias="column", layout="columns", act="tanh"),
    "sequential-data-order": dict(order="sequential", lr=0.05, steps=300),
    "batch-1-sequential-float32": dict(batch=1, order="sequential", dtype=np.float32, lr=0.01),
    "full-batch-gd": dict(batch=300, n_data=300, lr=0.5, steps=120),
    "logits-only-preactivation": dict(passed="logits"),
    "activations-only-deeper": dict(passed="activations", sizes=(64, 48, 48, 10), lr=0.05),
    "small-init-relu-adam": dict(scale=0.01, optimizer="adam", lr=0.003),
    "float32-naive-sigmoid": dict(dtype=np.float32, act="naive_sigmoid", lr=0.5),
}

# A local run trains seed 0 of these (CI: both seeds of every scenario)
FAST_HEALTHY = {
    "sgd-relu-shuffled",
    "momentum-tanh",
    "adam-sigmoid",
    "float32-leaky-relu",
    "batch-1-relu",
    "row-bias-units-by-batch",
    "logits-only-preactivation",
}


@pytest.mark.parametrize("seed", slow_except([0, 1], fast={0}))
@pytest.mark.parametrize("options", slow_except(HEALTHY.values(), FAST_HEALTHY, HEALTHY.keys()))
def test_healthy_run_has_no_warning_or_error(options, seed):
    mon = train(seed=seed, **options)
    assert serious(mon) == []
    assert_readable(mon)


def first_serious(mon):
    return next(f for f in mon.findings if f.severity in SEVERE)


# name -> (options, expected first code, expected first name or None for any parameter)
BROKEN = {
    "learning-rate-x100": (dict(lr=10.0), "exploding_gradient", None),
    "raw-0-255-inputs-sigmoid": (
        dict(data_kind="raw255", act="sigmoid", sizes=(64, 100, 10)),
        "saturation",
        "sigmoid1",
    ),
    "large-negative-relu-bias": (dict(bias_value=-3.0, scale=0.5), "dead_relu", "relu1"),
    "dead-relu-units-by-batch": (
        dict(bias_value=-3.0, scale=0.5, layout="columns", bias="column"),
        "dead_relu",
        "relu1",
    ),
    "cost-summed-not-averaged": (dict(reduction="sum", batch=64), "exploding_gradient", None),
    "learning-rate-of-wrong-sign": (dict(sign=-1.0), "ascent", "W1"),
    "naive-float32-softmax": (
        dict(dtype=np.float32, naive_softmax=True, data_kind="raw255", lr=0.01),
        "overflow",
        "z2",
    ),
    "naive-softmax-logits-only": (
        dict(dtype=np.float32, naive_softmax=True, data_kind="raw255", passed="logits"),
        "overflow",
        "logits",
    ),
    "missing-zero-grad": (dict(accumulate=True, lr=0.02), "exploding_gradient", None),
    "missing-zero-grad-full-batch": (
        dict(accumulate=True, lr=0.02, batch=300, n_data=300, steps=40),
        "exploding_gradient",
        None,
    ),
    "deep-sigmoid-vanishing": (
        dict(act="sigmoid", sizes=(64,) + (32,) * 8 + (10,), lr=0.5, steps=60),
        "vanishing_gradient",
        "W1",
    ),
}

# one scenario per first code locally (CI: every scenario, both seeds)
FAST_BROKEN = {
    "learning-rate-x100",
    "raw-0-255-inputs-sigmoid",
    "large-negative-relu-bias",
    "learning-rate-of-wrong-sign",
    "naive-float32-softmax",
    "deep-sigmoid-vanishing",
}


@pytest.mark.parametrize("seed", slow_except([0, 1], fast={0}))
@pytest.mark.parametrize("case", slow_except(BROKEN.values(), FAST_BROKEN, BROKEN.keys()))
def test_broken_run_names_the_cause_first(case, seed):
    options, code, name = case
    mon = train(seed=seed, **options)
    first = first_serious(mon)
    assert first.code == code, [(f.code, f.name, f.severity) for f in mon.findings]
    assert first.name == name if name is not None else first.name in mon._names
    assert_causes_first(mon)
    assert_readable(mon)


def test_missing_zero_grad_says_so():
    mon = train(accumulate=True, lr=0.02, steps=30)
    assert "zero_grad" in first_serious(mon).message


def test_dead_relu_comes_before_the_vanishing_gradient_it_causes():
    mon = train(bias_value=-3.0, scale=0.5, steps=80)
    codes = [f.code for f in mon.findings]
    assert codes.index("dead_relu") < codes.index("vanishing_gradient")
    vanishing = mon.findings[codes.index("vanishing_gradient")]
    assert vanishing.consequence_of == "dead_relu:relu1" and vanishing.severity == "info"
    dead = mon.findings[codes.index("dead_relu")]
    assert dead.reported_step > dead.step  # onset, then the step it was raised at


def test_nan_then_no_finding_of_its_own_for_each_later_array():
    def poison(step, arrays):
        if step >= 30:
            arrays["activations"]["relu1"][0, :4] = np.nan
            arrays["loss"] = float("nan")
            for g in arrays["gradients"].values():
                g.reshape(-1)[0] = np.nan

    mon = train(hook=poison, steps=60)
    assert serious(mon) == [("nan", "relu1", 30)]
    assert all(f.consequence_of == "nan:relu1" for f in mon.findings[1:])
    assert_readable(mon)


def test_nan_in_a_large_array_is_found_while_the_loss_stays_finite():
    """Issue 10 item 10: arrays above 65,536 entries were sampled, and a NaN was missed."""
    mon = Monitor()
    big = np.ones((300, 300))
    for step in range(3):
        if step == 2:
            big[123, 45] = np.nan
        mon.observe(step, loss=1.0, gradients={"W": big}, params={"W": np.ones((300, 300))})
    nan = [f for f in mon.findings if f.code == "nan"]
    assert [(f.name, f.step, f.evidence["n_nan"]) for f in nan] == [("W", 2, 1)]


@pytest.mark.parametrize("bad", [None, "text", object(), np.array(["a", "b"])])
def test_none_and_non_numeric_arrays_are_refused_by_name(bad):
    from gradcheck.errors import GradcheckError

    with pytest.raises(GradcheckError, match=r"`gradients\['W1'\]` must be a numeric array"):
        Monitor().observe(0, loss=1.0, gradients={"W1": bad})


# ---- loss trends, from loss values alone -------------------------------------------------


def losses_of(values, **thresholds):
    mon = Monitor(**thresholds)
    for step, loss in enumerate(values):
        mon.observe(step, loss=float(loss))
    return mon


def test_oscillation_far_above_the_start_is_divergence_not_a_plateau():
    rng = np.random.default_rng(0)
    values = 2.3 * np.concatenate([[1.0] * 5, rng.uniform(5, 20, 195)])
    mon = losses_of(values)
    assert serious(mon)[0][:2] == ("loss_divergence", "loss")
    assert all(f.code != "loss_plateau" or f.severity == "info" for f in mon.findings)


def test_a_jump_of_5x_over_the_recent_level_is_reported():
    rng = np.random.default_rng(1)
    level = np.concatenate([np.linspace(2.3, 0.3, 70), [0.3] * 30, [1.7] * 20])  # 5.7x
    mon = losses_of(level * rng.uniform(0.95, 1.05, 120))
    (code, name, step), *_ = serious(mon)
    assert (code, name) == ("loss_divergence", "loss") and step == 100
    assert "jumped" in mon.findings[0].message


def test_per_sample_noise_is_no_plateau():
    rng = np.random.default_rng(2)  # one sample per step: heavy-tailed, slowly falling
    values = rng.exponential(1.0, 600) * np.linspace(2.3, 1.2, 600)
    assert serious(losses_of(values)) == []


def test_an_outlier_first_loss_does_not_turn_a_stuck_run_into_info():
    rng = np.random.default_rng(3)
    values = np.concatenate([[40.0], 2.3 + 0.01 * rng.standard_normal(250)])
    plateau = [f for f in losses_of(values).findings if f.code == "loss_plateau"]
    assert [f.severity for f in plateau] == ["warning"]


def test_a_drop_then_flat_at_chance_level_is_a_plateau():
    rng = np.random.default_rng(4)
    values = np.concatenate([[9.0, 6.0, 4.0, 3.0], 2.303 + 0.005 * rng.standard_normal(200)])
    plateau = [f for f in losses_of(values).findings if f.code == "loss_plateau"]
    assert [(f.severity, f.name) for f in plateau] == [("warning", "loss")]


# ---- gradients, saturation and dead units, from arrays ---------------------------------------


def observe_gradients(grads_of_step, steps, *, params=None, losses=None):
    mon = Monitor()
    for step in range(steps):
        grads = grads_of_step(step)
        p = params or {k: np.ones_like(v) for k, v in grads.items()}
        loss = 2.0 if losses is None else losses[step]
        mon.observe(step, loss=loss, gradients=grads, params=p)
    return mon


def test_bursts_interrupted_by_zero_or_nan_steps_are_an_explosion():
    def grads(step):
        scale = 1.0 if step < 10 else [5e3, 0.0, 8e3, np.nan, 1e4, 0.0][step % 6]
        return {"W1": np.full((8, 8), scale), "W2": np.full((8, 4), scale)}

    mon = observe_gradients(grads, 60)
    assert "exploding_gradient" in [f.code for f in mon.findings]


def test_a_collapsing_last_layer_is_no_explosion_of_the_first():
    def grads(step):
        return {"W1": np.full((8, 8), 0.1), "W2": np.full((8, 4), 0.1 * 0.7**step)}

    mon = observe_gradients(grads, 40)
    assert "exploding_gradient" not in [f.code for f in mon.findings]


def test_biases_stored_as_rows_or_columns_are_not_weight_matrices():
    def grads(step):  # zero-init biases with small gradients, healthy weights
        return {
            "W1": np.full((8, 8), 0.01),
            "b1": np.full((1, 8), 1e-9),
            "W2": np.full((8, 4), 0.01),
            "b2": np.full((4, 1), 1e-9),
        }

    params = {"W1": np.ones((8, 8)), "b1": np.zeros((1, 8)), "W2": np.ones((8, 4))}
    params["b2"] = np.zeros((4, 1))
    mon = observe_gradients(grads, 30, params=params)
    assert serious(mon) == []


def test_a_nan_gradient_is_not_a_vanishing_one():
    def grads(step):
        w1 = np.full((8, 8), np.nan if step >= 5 else 0.01)
        return {"W1": w1, "W2": np.full((8, 4), 0.01)}

    mon = observe_gradients(grads, 30)
    assert [(f.code, f.severity) for f in mon.findings if f.code == "vanishing_gradient"] in (
        [],
        [("vanishing_gradient", "info")],
    )
    assert serious(mon) == [("nan", "W1", 5)]


@pytest.mark.slow
def test_full_batch_descent_leaving_a_plateau_is_no_accumulation():
    mon = train(batch=300, n_data=300, lr=0.5, scale=0.05, steps=150)
    assert "exploding_gradient" not in [f.code for f in mon.findings]


def test_softmax_outputs_underflowed_to_zero_are_not_dead_relus():
    rng = np.random.default_rng(5)
    mon = Monitor()
    for step in range(60):
        p = np.zeros((32, 10))
        p[np.arange(32), rng.integers(0, 3, 32)] = 1.0  # columns 3..9 exactly 0
        mon.observe(
            step, loss=2.3 * 0.99**step, activations={"h": rng.random((32, 16)), "probs": p}
        )
    assert [f.code for f in mon.findings if f.code == "dead_relu"] == []


def test_a_sigmoid_layer_pinned_at_62_percent_is_a_warning():
    rng = np.random.default_rng(6)
    mon = Monitor()
    for step in range(40):
        a = rng.uniform(0.2, 0.8, (32, 50))
        a[:, :31] = np.where(rng.random((32, 31)) < 0.5, 1e-5, 1 - 1e-5)  # 62% pinned
        mon.observe(step, loss=2.3 * 0.98**step, activations={"sigmoid1": a, "out": a[:, :10]})
    sat = [f for f in mon.findings if f.code == "saturation"]
    assert [(f.name, f.severity) for f in sat] == [("sigmoid1", "warning")]


def test_tiny_positive_relu_outputs_are_not_saturation():
    rng = np.random.default_rng(7)
    mon = Monitor()
    for step in range(40):
        a = np.maximum(rng.standard_normal((32, 50)), 0) * 1e-4
        mon.observe(step, loss=2.3 * 0.98**step, activations={"h1": a, "out": rng.random((32, 10))})
    assert serious(mon) == []


def test_units_by_batch_layout_is_detected_and_a_partly_dead_layer_seen():
    rng = np.random.default_rng(8)
    mon = Monitor()
    for step in range(60):
        a = np.maximum(rng.standard_normal((40, 16)), 0)  # (units, batch)
        a[:30] = 0.0  # 30 of 40 units dead
        mon.observe(step, loss=2.0, activations={"relu1": a, "out": rng.random((10, 16))})
    assert mon.batch_axis == 1
    dead = [f for f in mon.findings if f.code == "dead_relu"]
    assert [(f.name, f.evidence["n_dead"], f.evidence["n_units"]) for f in dead] == [
        ("relu1", 30, 40)
    ]


# ---- onset, report time and names ---------------------------------------------------------------


def test_findings_keep_onset_and_report_step_in_the_order_raised():
    mon = train(bias_value=-3.0, scale=0.5, steps=120)
    raised = [f.reported_step for f in mon.findings]
    assert raised == sorted(raised)
    data = mon.to_dict()["findings"]
    assert all({"step", "reported_step", "consequence_of"} <= set(d) for d in data)


def test_repr_names_the_arrays_and_the_findings():
    mon = train(sign=-1.0, steps=15)
    text = repr(mon)
    assert "W1" in text and "relu1" in text and "ascent(W1)" in text
