"""assert_gradient / assert_layers / assert_stable: what they raise and how it reads."""

import re

import numpy as np
import pytest

import gradcheck.checking.gradient
import gradcheck.testing as gt
from gradcheck.errors import (
    GradientMismatch,
    InvalidArgumentError,
    InvalidTypeError,
    StabilityAssertion,
)
from gradcheck.monitor import Monitor
from gradcheck.nn.model import MLP


def _broken_tanh_stack():
    model = MLP([3, 4, 2], activation="tanh", seed=0)
    act = model.layers[1]
    act.backward = lambda dout: dout  # the derivative is missing
    return model.layers


X = np.random.default_rng(1).normal(size=(5, 3))


def test_assert_gradient_is_the_checkers_own_function():
    assert gt.assert_gradient is gradcheck.checking.gradient.assert_gradient


def test_assert_gradient_message_has_the_table_and_the_diagnosis():
    with pytest.raises(GradientMismatch) as info:
        gt.assert_gradient(lambda p: float(np.sum(p**2)), lambda p: -2 * p, np.ones(3))
    message = str(info.value)
    assert "FAILED" in message and "sign" in message
    assert info.value.report.passed is False


def test_assert_layers_passes_a_healthy_stack():
    result = gt.assert_layers(MLP([3, 4, 2], activation="tanh", seed=0).layers, X)
    assert result.passed


def test_assert_layers_names_the_first_wrong_layer():
    with pytest.raises(GradientMismatch) as info:
        gt.assert_layers(_broken_tanh_stack(), X)
    message = str(info.value)
    assert message.startswith("layer check failed (first failure: layer 1 `tanh1`):")
    assert "activation_derivative" in message
    assert info.value.report.first_failure == 1


def _diverging_monitor():
    monitor = Monitor()
    for step in range(30):
        monitor.observe(step, loss=float(np.exp(step)))
    return monitor


def test_assert_stable_passes_a_quiet_monitor():
    monitor = Monitor()
    for step in range(5):
        monitor.observe(step, loss=1.0 / (step + 1))
    assert gt.assert_stable(monitor) == [f for f in monitor.findings if f.severity == "info"]


def test_assert_stable_lists_the_offending_findings_in_a_table():
    monitor = _diverging_monitor()
    with pytest.raises(StabilityAssertion) as info:
        gt.assert_stable(monitor)
    lines = str(info.value).splitlines()
    assert lines[0].startswith("training is not stable: ")
    assert re.match(r"code\s+severity\s+name\s+steps\s+count\s+message", lines[1])
    assert any(line.startswith("loss_divergence") for line in lines)
    assert "suggestions:" in lines
    assert isinstance(info.value, AssertionError)
    assert {f.code for f in info.value.findings} >= {"loss_divergence"}


def test_assert_stable_allows_severities_and_codes():
    monitor = _diverging_monitor()
    codes = tuple({f.code for f in monitor.findings})
    assert len(gt.assert_stable(monitor, allow=codes)) == len(monitor.findings)
    assert gt.assert_stable(monitor, allow=("info", "warning", "error"))


@pytest.mark.parametrize(
    "allow, message",
    [
        ("info", "`allow`='info' must be a collection of severities or codes, not one string"),
        (("info", "nans"), "`allow` has unknown entries ['nans']; use severities info, warning"),
    ],
    ids=["one-string", "unknown-code"],
)
def test_assert_stable_input_validation(allow, message):
    with pytest.raises(InvalidArgumentError, match=re.escape(message)):
        gt.assert_stable(Monitor(), allow=allow)


def test_assert_stable_of_a_monitor_dict_names_the_argument():
    with pytest.raises(InvalidTypeError, match=r"`monitor` must be a gradcheck.Monitor.*got dict"):
        gt.assert_stable(Monitor().to_dict())


def test_unknown_attribute_of_gradcheck_testing():
    with pytest.raises(AttributeError, match="has no attribute 'assert_gradients'"):
        gt.assert_gradients  # noqa: B018
