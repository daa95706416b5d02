"""The trainer: learns, calls the observer after backward and before the update, float32."""

import json

import numpy as np
import pytest

from gradcheck.errors import InvalidArgumentError, InvalidTypeError
from gradcheck.nn.data import make_blobs, make_regression, make_spirals
from gradcheck.nn.model import MLP
from gradcheck.nn.problem import mlp_problem
from gradcheck.nn.training import accuracy, train


class Recorder:
    """Copies everything it is shown, and remembers the live arrays of the first call."""

    def __init__(self):
        self.calls = []
        self.live = None

    def observe(self, step, *, loss, activations, preactivations, gradients, params):
        if self.live is None:
            self.live = params
        self.calls.append(
            {
                "step": step,
                "loss": loss,
                "activations": list(activations),
                "preactivations": list(preactivations),
                "gradients": {k: v.copy() for k, v in gradients.items()},
                "params": {k: v.copy() for k, v in params.items()},
            }
        )


def test_trainer_reaches_high_accuracy_on_blobs_quickly():
    data = make_blobs(300, 3, seed=1)
    history = train(MLP([2, 16, 3]), data, epochs=10, lr=0.01, progress=False)
    assert history.final["test_acc"] >= 0.95
    assert len(history.epochs) == 10 and history.steps == 10 * 4
    assert history.epochs[-1]["train_loss"] < history.epochs[0]["train_loss"]


def test_observer_gets_forward_order_and_is_called_before_the_update():
    data = make_spirals(64, 2, seed=0)
    model = MLP([2, 5, 4, 2], activation="tanh")
    recorder = Recorder()
    lr = 0.1
    train(
        model,
        data,
        optimizer="sgd",
        lr=lr,
        epochs=1,
        batch_size=16,
        observer=recorder,
        progress=False,
    )
    first, second = recorder.calls[:2]
    assert [c["step"] for c in recorder.calls] == list(range(len(recorder.calls)))
    assert first["activations"] == ["tanh1", "tanh2"]
    assert first["preactivations"] == ["dense1", "dense2", "dense3"]
    assert list(first["gradients"]) == list(first["params"]) == list(model.params)
    for path in first["params"]:  # params at step 1 == params at step 0 minus lr * grad 0
        expected = first["params"][path] - lr * first["gradients"][path]
        np.testing.assert_allclose(second["params"][path], expected, rtol=1e-12, atol=1e-15)
    assert recorder.live["dense1.W"] is model.params["dense1.W"]  # live references


def test_observer_sees_output_layer_and_l2_in_loss_and_gradient():
    data = make_blobs(40, 2, seed=0)
    model = MLP([2, 3, 2], output_activation="softmax")
    recorder = Recorder()
    train(
        model, data, loss="mse", l2=0.5, epochs=1, batch_size=40, observer=recorder, progress=False
    )
    first = recorder.calls[0]
    assert first["activations"] == ["relu1", "output"]
    assert first["preactivations"] == ["dense1", "dense2"]
    # One full batch: the observed loss and gradient are those of the L2-regularized problem.
    batch = (data.x_train, data.y_train)
    problem = mlp_problem(MLP([2, 3, 2], output_activation="softmax"), *batch, "mse", l2=0.5)
    assert first["loss"] == pytest.approx(problem["loss"](first["params"]), rel=1e-12)
    expected = problem["grad"](first["params"])
    for path, g in first["gradients"].items():
        np.testing.assert_allclose(g, expected[path], rtol=1e-10, atol=1e-14)


def test_float32_training_works_and_keeps_dtype():
    data = make_blobs(300, 3, seed=2)
    model = MLP([2, 16, 3], dtype=np.float32)
    recorder = Recorder()
    history = train(model, data, epochs=8, lr=0.01, observer=recorder, progress=False)
    assert history.final["test_acc"] >= 0.9
    assert all(p.dtype == np.float32 for p in model.params.values())
    assert all(g.dtype == np.float32 for g in recorder.calls[-1]["gradients"].values())


def test_regression_history_reports_test_loss():
    data = make_regression(300, 5)
    model = MLP([5, 32, 1], activation="tanh")
    history = train(model, data, loss="mse", epochs=60, lr=0.01, batch_size=32, progress=False)
    assert history.task == "regression" and history.final["test_acc"] is None
    assert history.final["test_loss"] < 0.5 * history.epochs[0]["test_loss"]
    assert "test loss" in str(history) and "acc" not in str(history)


def test_history_table_and_json():
    data = make_blobs(60, 2)
    history = train(MLP([2, 4, 2]), data, epochs=2, progress=False)
    text = str(history)
    assert text.splitlines()[0].split() == [
        "epoch",
        "train",
        "loss",
        "train",
        "acc",
        "test",
        "acc",
        "seconds",
    ]
    assert len(text.splitlines()) == 3
    d = json.loads(json.dumps(history.to_dict(), allow_nan=False))
    assert d["kind"] == "history" and len(d["epochs"]) == 2 and d["steps"] == history.steps


def test_shuffling_is_seeded():
    data = make_blobs(60, 2)
    runs = [train(MLP([2, 4, 2]), data, epochs=2, seed=s, progress=False) for s in (3, 3, 4)]
    losses = [[e["train_loss"] for e in h.epochs] for h in runs]
    assert losses[0] == losses[1] != losses[2]


def test_accuracy_single_output():
    assert accuracy(np.array([[0.3], [-0.2]]), np.array([1, 1]), "binary_cross_entropy") == 0.5
    assert accuracy(np.array([[0.3], [0.7]]), np.array([0, 1]), "mse") == 1.0


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"epochs": 0}, InvalidArgumentError, "`epochs` must be finite and > 0"),
        ({"batch_size": 2.5}, InvalidTypeError, "`batch_size` must be a positive integer"),
        ({"l2": -1.0}, InvalidArgumentError, "`l2` must be finite and >= 0"),
        ({"observer": object()}, InvalidTypeError, "`observer` must have an `observe"),
        ({"loss": "hinge"}, InvalidArgumentError, "'mse', 'cross_entropy'"),
        ({"optimizer": "lbfgs"}, InvalidArgumentError, "'sgd', 'momentum'"),
    ],
    ids=["epochs", "batch-size", "l2", "observer", "loss", "optimizer"],
)
def test_input_validation(kwargs, error, match):
    with pytest.raises(error, match=match):
        train(MLP([2, 3, 2]), make_blobs(20, 2), progress=False, **kwargs)


def test_width_mismatch_names_the_fix():
    with pytest.raises(InvalidArgumentError, match=r"build it as MLP\(\[2, \.\.\.\]\)"):
        train(MLP([3, 3, 2]), make_blobs(20, 2), progress=False)


@pytest.mark.parametrize(
    ("model", "data", "kwargs", "match"),
    [
        (
            MLP([2, 4, 2]),
            make_blobs(40, 3),
            {},
            r"class labels up to 2 \(3 classes\) but the model has 2 outputs: "
            r"build it as MLP\(\[\.\.\., 3\]\)",
        ),
        (
            MLP([5, 4, 3]),
            make_regression(40, 5),
            {"loss": "mse"},
            r"targets of shape \(30, 1\) but the model has 3 outputs \(expected targets of "
            r"shape \(n, 3\)\): build it as MLP\(\[\.\.\., 1\]\)",
        ),
    ],
    ids=["too-few-classes", "regression-width"],
)
def test_output_width_mismatch_is_caught_before_training(model, data, kwargs, match):
    recorder = Recorder()
    with pytest.raises(InvalidArgumentError, match=match):
        train(model, data, epochs=1, observer=recorder, progress=False, **kwargs)
    assert recorder.calls == []  # raised up front, not at the first batch holding label 2
