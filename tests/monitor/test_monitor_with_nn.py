"""The monitor as the reference trainer's observer (gradcheck.nn): healthy runs stay silent,
and user story (a) — a sigmoid MLP with 1000 hidden units on raw 0..255 pixels — shows its
saturation and underflow at step 0 in the hidden layer."""

import pytest

from gradcheck.monitor import Monitor
from tests.budget import slow_except

nn_train = pytest.importorskip("gradcheck.nn.training")
nn_model = pytest.importorskip("gradcheck.nn.model")
nn_data = pytest.importorskip("gradcheck.nn.data")
pytest.importorskip("sklearn")

HEALTHY = {
    "relu-he-sgd": (dict(activation="relu", init="he"), "sgd", 0.1),
    "relu-he-momentum": (dict(activation="relu", init="he"), "momentum", 0.05),
    "relu-he-adam": (dict(activation="relu", init="he"), "adam", 0.003),
    "tanh-glorot-sgd": (dict(activation="tanh", init="glorot"), "sgd", 0.1),
    "tanh-glorot-adam": (dict(activation="tanh", init="glorot"), "adam", 0.003),
}


def train(sizes, model_kw, optimizer, lr, epochs, **data_kw):
    data = nn_data.load_digits(seed=0, **data_kw)
    model = nn_model.MLP(sizes, seed=0, **model_kw)
    monitor = Monitor()
    nn_train.train(
        model, data, optimizer=optimizer, lr=lr, epochs=epochs, batch_size=64, seed=0,
        observer=monitor, progress=False,
    )  # fmt: skip
    return monitor


@pytest.mark.parametrize("case", slow_except(HEALTHY.values(), {"relu-he-sgd"}, HEALTHY.keys()))
def test_healthy_reference_training_has_no_warning_or_error(case):
    model_kw, optimizer, lr = case
    monitor = train([64, 64, 32, 10], model_kw, optimizer, lr, epochs=4)
    assert [(f.code, f.name) for f in monitor.findings if f.severity != "info"] == []
    assert len(monitor.to_dict()["series"]["step"]) == 4 * 23


@pytest.mark.slow  # 1000 units; test_monitor_detectors tells the same story at 300
def test_story_a_sigmoid_mlp_on_raw_pixels():
    kw = dict(activation="sigmoid", init="glorot")
    monitor = train([64, 1000, 10], kw, "sgd", 0.1, epochs=1, pixel_range=255.0)
    by_code = {f.code: f for f in monitor.findings}
    assert (by_code["saturation"].name, by_code["saturation"].step) == ("sigmoid1", 0)
    assert by_code["underflow"].name == "sigmoid1"
