"""Issue 11: non-differentiable arguments (conv_param, bn_param...) could not be passed.

Users wrote closures and had to make ``bn_param`` fresh per call, because course code
writes running means into it. Putting ``conv_param`` into the params dict was accepted
and then failed confusingly; params were never checked to be arrays. Now ``args=`` and
``kwargs=`` are passed as given, deep-copied per call, and params are validated with a
message pointing to ``args=``.
"""

import numpy as np
import pytest

from gradcheck.adapters import FunctionPairLayer, LossFunctionLayer
from gradcheck.errors import InvalidTypeError
from gradcheck.layers import check_layers


def scale_forward(x, w, setting, *, power=1):
    setting["calls"] = setting.get("calls", 0) + 1  # writes into its settings, like bn_param
    return x * w**power, (x, w, power)


def scale_backward(dout, cache):
    x, w, power = cache
    return dout * w**power, np.sum(dout * x * power * w ** (power - 1), axis=0)


def test_args_and_kwargs_are_passed_and_deep_copied_per_call():
    setting = {}
    layer = FunctionPairLayer(
        scale_forward,
        scale_backward,
        {"w": np.full(3, 1.5)},
        args=(setting,),
        kwargs={"power": 2},
        name="scale",
    )
    result = check_layers([layer], np.random.default_rng(0).normal(size=(4, 3)))
    assert result.passed, str(result)
    assert setting == {}  # every call saw its own copy


@pytest.mark.parametrize(
    "value, words",
    [
        ({"stride": 1, "pad": 1}, "is a dict"),
        (np.arange(3), "is an ndarray of dtype int64"),
        (2.0, "is a float"),
    ],
    ids=["conv_param", "integer_array", "python_float"],
)
def test_params_must_be_float_arrays_and_the_message_points_to_args(value, words):
    with pytest.raises(
        InvalidTypeError, match=rf"`params\['p'\]` of `scale_forward` {words}.*args="
    ):
        FunctionPairLayer(scale_forward, scale_backward, {"w": np.ones(3), "p": value})


def test_a_loss_function_is_called_once_per_evaluation():
    calls = []

    def l2_loss(x, y):
        calls.append(1)
        return 0.5 * np.sum((x - y) ** 2), x - y

    x = np.random.default_rng(1).normal(size=(3, 4))
    layer = LossFunctionLayer(l2_loss, args=(np.zeros((3, 4)),))
    layer.forward(x)
    layer.backward(np.array(1.0))
    assert len(calls) == 1  # the backward reuses the dx of the same call
    assert check_layers([layer], x).passed
