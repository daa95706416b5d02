"""Each finding code fires at the right step and name in a small realistic training loop,
and healthy runs stay free of warnings and errors."""

import numpy as np
import pytest
from _monitor_nets import run

from gradcheck.monitor import Monitor


def found(monitor, code):
    return [f for f in monitor.findings if f.code == code]


def the(monitor, code):
    hits = found(monitor, code)
    assert len(hits) == 1, [(f.code, f.name, f.step) for f in monitor.findings]
    return hits[0]


def serious(monitor):
    return [(f.code, f.name, f.step) for f in monitor.findings if f.severity != "info"]


# ---- nan / inf: the first array in scan order, at the step it appeared ------------------


def poison_from(step_at, where, value=np.nan):
    """At `step_at`, put `value` in `where` and everything computed after it."""

    def hook(step, loss, acts, pres, grads, params):
        if step < step_at:
            return loss
        names = list(acts)
        for name in names[names.index(where) :]:
            acts[name][0, :3] = value
        for g in grads.values():
            g[0] = value
        return float(value)

    return hook


def test_nan_names_the_first_array_in_forward_order_and_step():
    mon = run(Monitor(), steps=12, hook=poison_from(7, "relu1"))
    nan = the(mon, "nan")
    assert (nan.name, nan.step, nan.severity, nan.last_step) == ("relu1", 7, "error", 11)
    assert nan.count == 5 and nan.evidence["n_nan"] == 3
    assert "relu1" in nan.message and nan.suggestion


def test_nan_in_backward_pass_names_the_last_layer_gradient():
    def hook(step, loss, acts, pres, grads, params):
        if step == 3:
            grads["dense1.W"][0, 0] = grads["dense2.W"][0, 0] = np.nan
        return loss

    mon = run(Monitor(), steps=5, hook=hook)
    nan = the(mon, "nan")
    assert (nan.name, nan.step) == ("dense2.W", 3)  # backprop computes dense2.W first


def test_nan_in_loss_only_is_named_loss():
    mon = run(Monitor(), steps=6, hook=lambda s, loss, *a: np.nan if s == 4 else loss)
    assert (the(mon, "nan").name, the(mon, "nan").step) == ("loss", 4)
    assert (the(mon, "loss_divergence").name, the(mon, "loss_divergence").step) == ("loss", 4)


def test_inf_in_preactivation():
    mon = run(Monitor(), steps=8, hook=poison_from(4, "dense2", np.inf))
    inf = the(mon, "inf")
    assert (inf.name, inf.step) == ("dense2", 4)
    assert the(mon, "nan").step == 5  # the inf gradient made the parameters inf - inf


# ---- overflow / underflow / saturation (user story a: sigmoid on raw pixels) ------------


def test_large_relu_preactivations_with_finite_outputs_are_no_exp_overflow():
    """Issue 13: large pre-activations of a ReLU layer (or max-shifted logits) were called
    "exp(z) overflows" although every output was finite; the sum cost's real story is an
    explosion of the updates."""
    mon = run(Monitor(), steps=10, reduction="sum", lr=0.5, data_kind="raw")
    exp_claims = [f for f in found(mon, "overflow") if f.evidence.get("exp")]
    assert all(f.name == "dense2" for f in exp_claims)  # only the logits that fed a NaN/Inf
    assert mon.findings[0].code in ("exploding_gradient", "loss_divergence", "overflow")


def test_story_a_sigmoid_on_raw_pixels_saturates_and_underflows():
    mon = run(
        Monitor(), steps=15, act="sigmoid", scheme="glorot", data_kind="raw255", sizes=(64, 300, 10)
    )
    sat, under = the(mon, "saturation"), the(mon, "underflow")
    assert (sat.name, sat.step, sat.severity) == ("sigmoid1", 0, "warning")
    assert sat.evidence["fraction"] > 0.5 and sat.evidence["bounds"] == "0 and 1"
    assert under.name == "sigmoid1" and under.step <= 3
    assert under.evidence["min_abs"] < 1e-30
    assert "of the activation `sigmoid1`" in under.message
    gradient_underflows = [f for f in found(mon, "underflow") if f.name.endswith(".W")]
    assert all("of the gradient of `" in f.message for f in gradient_underflows)


def test_saturation_ignores_relu_and_the_output_layer():
    mon = run(Monitor(), steps=30, data_kind="raw255", lr=0.001)
    assert not found(mon, "saturation")


# ---- dead_relu ---------------------------------------------------------------------------


def test_dead_relu_with_negative_bias():
    mon = run(Monitor(), steps=60, bias=-3.0, scale=0.5)
    dead = the(mon, "dead_relu")
    assert dead.name == "relu1" and dead.step <= 20
    assert dead.evidence["fraction"] >= 0.5


def test_story_b_sum_cost_large_lr_kills_relus_and_diverges():
    mon = run(Monitor(), steps=40, reduction="sum", lr=0.5, data_kind="raw")
    assert the(mon, "dead_relu").name == "relu1"
    div, cause = the(mon, "loss_divergence"), the(mon, "exploding_gradient")
    # the summed cost makes the gradient (and the update) huge: the divergence follows
    # from it, and the error-level cause carries the advice
    assert (div.name, div.step) == ("loss", 1) and cause.step <= div.step
    assert div.consequence_of == f"exploding_gradient:{cause.name}" and div.severity == "info"
    assert cause.severity == "error" and "sum" in cause.suggestion


# ---- vanishing / exploding ---------------------------------------------------------------


def test_vanishing_gradient_in_deep_sigmoid_net():
    sizes = (64,) + (32,) * 8 + (10,)
    mon = run(Monitor(), steps=20, act="sigmoid", scheme="glorot", sizes=sizes, lr=0.5)
    van = the(mon, "vanishing_gradient")
    assert (van.name, van.step) == ("dense1.W", 0)
    assert van.evidence["ratio"] < 1e-3


def test_exploding_gradient_with_too_large_learning_rate():
    mon = run(Monitor(), steps=60, lr=3.0)
    exp = the(mon, "exploding_gradient")
    reason = exp.evidence["reason"]  # the loss rose after a large update, or the norm grew
    assert exp.step <= 40 and ("initial value" in reason or "then rose" in reason)


def test_story_d_missing_zero_grad_is_reported_as_accumulation():
    acc = {}

    def accumulate(step, loss, acts, pres, grads, params):
        for k in grads:
            if k in acc:
                grads[k] += acc[k]
            acc[k] = grads[k].copy()
        return loss

    mon = run(Monitor(), steps=30, lr=0.02, hook=accumulate)
    exp = the(mon, "exploding_gradient")
    assert exp.step <= 15 and "zero_grad" in exp.message


# ---- loss ----------------------------------------------------------------------------------


def test_loss_divergence_factor_over_window():
    mon = run(Monitor(), steps=30, reduction="sum", lr=0.05)
    div = the(mon, "loss_divergence")
    assert div.name == "loss" and 1 <= div.step <= 10


def test_loss_plateau_when_nothing_learns():
    mon = run(Monitor(), steps=120, lr=1e-12)
    plateau = the(mon, "loss_plateau")
    assert (plateau.name, plateau.severity) == ("loss", "warning")
    assert plateau.step <= 10


def test_constant_loss_is_a_plateau_from_step_0():
    mon = Monitor(plateau_window=10)
    for step in range(20):
        mon.observe(step, loss=2.3)
    plateau = the(mon, "loss_plateau")
    assert (plateau.step, plateau.last_step, plateau.severity) == (0, 19, "warning")


def test_converged_loss_is_not_a_plateau():
    mon = Monitor(plateau_window=10)
    for step in range(40):
        mon.observe(step, loss=max(2.3 * 0.5**step, 1e-4))
    assert not found(mon, "loss_plateau")


def test_low_plateau_is_only_info():
    mon = Monitor(plateau_window=10)
    for step in range(40):
        mon.observe(step, loss=max(2.3 * 0.7**step, 0.2))
    assert the(mon, "loss_plateau").severity == "info"


# ---- ascent --------------------------------------------------------------------------------


def test_ascent_with_learning_rate_of_wrong_sign():
    mon = run(Monitor(), steps=15, lr=-0.1)
    asc = the(mon, "ascent")
    assert (asc.name, asc.step, asc.severity) == ("dense1.W", 1, "error")
    assert asc.evidence["cosine"] > 0.99
    assert "params -= lr * grad" in asc.suggestion


def test_ascent_names_the_one_layer_updated_uphill():
    mon = run(Monitor(), steps=15, lr=0.05, flip=("dense2.W",))
    asc = the(mon, "ascent")
    assert asc.name == "dense2.W" and asc.evidence["params"] == "dense2.W"


# ---- healthy runs stay silent ----------------------------------------------------------------

HEALTHY = {
    "relu-he-sgd": dict(),
    "relu-he-momentum": dict(optimizer="momentum", lr=0.05),
    "relu-he-adam": dict(optimizer="adam", lr=0.003),
    "tanh-glorot-sgd": dict(act="tanh", scheme="glorot"),
    "tanh-glorot-momentum": dict(act="tanh", scheme="glorot", optimizer="momentum", lr=0.05),
    "tanh-glorot-adam": dict(act="tanh", scheme="glorot", optimizer="adam", lr=0.003),
    "relu-deep-sgd": dict(sizes=(64, 48, 48, 48, 10), lr=0.05),
    "relu-float32-sgd": dict(dtype=np.float32),
}


@pytest.mark.parametrize("config", HEALTHY.values(), ids=HEALTHY.keys())
def test_healthy_run_has_no_warning_or_error(config):
    mon = run(Monitor(), steps=150, **config)
    assert serious(mon) == []


def test_issue_5_updated_finding_quotes_the_step_of_its_numbers():
    """A divergence seen first as a spike (step 1) and worst as Inf (step 4) used to say
    "diverged at step 1: inf", contradicting the `inf` finding at step 4."""
    mon = Monitor()
    for step, loss in enumerate([3.5, 6.7e8, 1.1e34, 1.1e110, float("inf")]):
        mon.observe(step, loss=loss)
    div = the(mon, "loss_divergence")
    assert div.step == 1 and div.evidence["worst_step"] == 4
    assert div.message.startswith("The loss diverged at step 4: inf")
    assert div.message.endswith("First seen at step 1.")
    assert the(mon, "inf").step == 4
