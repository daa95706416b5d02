"""The training loop: minibatches, seeded shuffling, per-epoch evaluation, an observer hook.

The observer is any object with ``observe(step, *, loss, activations, preactivations,
gradients, params)``; ``nn/`` imports no monitor. It is called once per step AFTER
``backward`` and BEFORE the optimizer update, with dicts in forward order whose arrays are
live references (the observer copies what it keeps). Without an observer nothing is
copied or collected.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from gradcheck._jsonsafe import json_float
from gradcheck._progress import Progress
from gradcheck._table import padded_lines
from gradcheck._validate import check_positive, check_type
from gradcheck.errors import InvalidArgumentError, InvalidTypeError
from gradcheck.nn.data import Dataset
from gradcheck.nn.layers import Activation, Dense
from gradcheck.nn.losses import Loss, get_loss, is_weight, l2_penalty
from gradcheck.nn.model import MLP
from gradcheck.nn.optim import Optimizer, get_optimizer

COLUMNS = {  # key -> (header, format)
    "epoch": ("epoch", "{:>5d}"),
    "train_loss": ("train loss", "{:>10.4f}"),
    "train_acc": ("train acc", "{:>9.2%}"),
    "test_acc": ("test acc", "{:>8.2%}"),
    "test_loss": ("test loss", "{:>9.4f}"),
    "seconds": ("seconds", "{:>7.2f}"),
}
TABLES = {
    "classification": ("epoch", "train_loss", "train_acc", "test_acc", "seconds"),
    "regression": ("epoch", "train_loss", "test_loss", "seconds"),
}


@dataclass
class TrainingHistory:
    """Per-epoch results of :func:`train`.

    ``epochs`` is a list of dicts with ``epoch`` (1-based), ``train_loss`` (mean minibatch
    loss over the epoch, L2 term included), ``test_loss``, ``train_acc`` and ``test_acc``
    (classification only, else None) and ``seconds`` (wall time of the epoch, evaluation
    included).
    """

    task: str
    dataset: str = ""
    steps: int = 0
    epochs: list[dict] = field(default_factory=list)

    @property
    def final(self) -> dict:
        """The last epoch's record (empty before training)."""
        return self.epochs[-1] if self.epochs else {}

    @property
    def seconds(self) -> float:
        """Total wall time."""
        return float(sum(record["seconds"] for record in self.epochs))

    def __str__(self) -> str:
        keys = TABLES[self.task]
        rows = [[COLUMNS[key][0] for key in keys]]
        rows += [[_cell(key, record[key]) for key in keys] for record in self.epochs]
        return "\n".join(padded_lines(rows, right=True))

    def to_dict(self) -> dict:
        """Return a JSON-safe dict."""
        return {
            "kind": "history",
            "task": self.task,
            "dataset": self.dataset,
            "steps": self.steps,
            "seconds": json_float(self.seconds),
            "epochs": [{k: _json(v) for k, v in record.items()} for record in self.epochs],
        }


def _cell(key: str, value) -> str:
    return COLUMNS[key][1].format(value) if np.isfinite(value) else "nan"


def _json(value):
    return value if value is None or isinstance(value, int) else json_float(value)


def train(
    model: MLP,
    data: Dataset,
    *,
    loss: str | Loss = "cross_entropy",
    optimizer: str | Optimizer = "adam",
    lr: float | None = None,
    epochs: int = 10,
    batch_size: int = 64,
    seed: int = 0,
    l2: float = 0.0,
    observer=None,
    progress: bool = True,
) -> TrainingHistory:
    """Train `model` on `data` with minibatches; return the per-epoch :class:`TrainingHistory`.

    Parameters
    ----------
    model : MLP
        Trained in place; data are cast to ``model.dtype``.
    data : Dataset
        From ``gradcheck.nn.data``; ``n_classes == 0`` means regression.
    loss : str or Loss
        A name from ``LOSSES``.
    optimizer : str or Optimizer
        A name from ``OPTIMIZERS`` (a new one is made with `lr`) or an instance.
    lr : float or None
        Learning rate; None uses the optimizer's default.
    epochs, batch_size : int
        Passes over the training set, and samples per step (the last batch may be smaller).
    seed : int
        Seed of the per-epoch shuffling.
    l2 : float
        Strength of ``0.5 * l2 * sum(W**2)`` on the weights.
    observer : object or None
        Anything with ``observe(step, *, loss, activations, preactivations, gradients,
        params)``, called after backward and before the update (see the module notes).
    progress : bool
        Show a progress bar on a terminal.

    Returns
    -------
    TrainingHistory

    Examples
    --------
    >>> from gradcheck.nn.data import make_blobs
    >>> data = make_blobs(200, 3)
    >>> model = MLP([2, 16, 3])
    >>> history = train(model, data, epochs=5, lr=0.01, progress=False)
    >>> history.final["test_acc"] > 0.9
    True
    """
    loss, opt, arrays = _validate_train(
        model, data, loss, optimizer, lr, epochs, batch_size, l2, observer
    )
    x_train, y_train, x_test, y_test = arrays
    history = TrainingHistory("classification" if data.n_classes else "regression", data.name)
    rng = np.random.default_rng(seed)
    n_batches = -(-len(x_train) // batch_size)
    with Progress(epochs * n_batches, "training", enabled=None if progress else False) as bar:
        for epoch in range(1, epochs + 1):
            start = time.perf_counter()
            order = rng.permutation(len(x_train))
            total = 0.0
            for i in range(0, len(x_train), batch_size):
                idx = order[i : i + batch_size]
                total += _step(
                    model, loss, opt, x_train[idx], y_train[idx], l2, observer, history.steps
                )
                history.steps += 1
                bar.update(note=f"epoch {epoch}")
            record = {"epoch": epoch, "train_loss": total / n_batches}
            record.update(
                _evaluate(model, loss, (x_train, y_train), (x_test, y_test), data.n_classes)
            )
            record["seconds"] = time.perf_counter() - start
            history.epochs.append(record)
    return history


def _step(model: MLP, loss: Loss, opt: Optimizer, xb, yb, l2: float, observer, step: int) -> float:
    """One forward/backward/update; return the minibatch loss (L2 included)."""
    out = model.forward(xb)
    value, dout = loss.value_and_grad(out, yb)
    model.backward(dout, input_grad=False)
    params, grads = model.params, model.grads
    if l2:
        value += l2_penalty(params, l2)
        for path, g in grads.items():
            if is_weight(path):
                g += l2 * params[path]
    if observer is not None:
        activations, preactivations = _named_arrays(model, out)
        observer.observe(
            step,
            loss=value,
            activations=activations,
            preactivations=preactivations,
            gradients=grads,
            params=params,
        )
    opt.step(params, grads)
    return value


def _named_arrays(model: MLP, out: np.ndarray) -> tuple[dict, dict]:
    """Return (activation layer name -> a, dense name -> z) from the forward caches."""
    activations, preactivations = {}, {}
    layers = model.layers
    for i, layer in enumerate(layers):
        if isinstance(layer, Activation):
            activations[layer.name] = layer.a
        elif isinstance(layer, Dense):
            following = layers[i + 1] if i + 1 < len(layers) else None
            preactivations[layer.name] = following.z if isinstance(following, Activation) else out
    return activations, preactivations


def _evaluate(model: MLP, loss: Loss, train_set, test_set, n_classes: int) -> dict:
    out_train, out_test = model.predict(train_set[0]), model.predict(test_set[0])
    record = {"test_loss": loss.value(out_test, test_set[1])}
    if n_classes:
        record["train_acc"] = accuracy(out_train, train_set[1], loss)
        record["test_acc"] = accuracy(out_test, test_set[1], loss)
    else:
        record["train_acc"] = record["test_acc"] = None
    return record


def accuracy(out: np.ndarray, labels: np.ndarray, loss: Loss | str = "cross_entropy") -> float:
    """Return the share of rows of `out` whose predicted class equals `labels`.

    Several outputs: the argmax. One output: above 0 (logits), or above 0.5 for mse.
    NaN for an empty set.

    Examples
    --------
    >>> import numpy as np
    >>> accuracy(np.array([[2.0, 1.0], [0.0, 3.0]]), np.array([0, 0]))
    0.5
    """
    if out.ndim == 2 and out.shape[1] > 1:
        predicted = out.argmax(axis=1)
    else:
        threshold = 0.5 if get_loss(loss).name == "mse" else 0.0
        predicted = (out.reshape(len(out)) > threshold).astype(np.int64)
    return float(np.mean(predicted == np.asarray(labels).reshape(len(out)))) if len(out) else np.nan


def _validate_train(model, data, loss, optimizer, lr, epochs, batch_size, l2, observer):
    """Return (loss, optimizer, data arrays cast to the model dtype)."""
    check_type("model", model, MLP, "a gradcheck.nn.model.MLP")
    check_type("data", data, Dataset, "a gradcheck.nn.data.Dataset")
    for name, value in (("epochs", epochs), ("batch_size", batch_size)):
        check_type(name, value, (int, np.integer), "a positive integer")
        check_positive(name, value, allow_none=False)
    check_positive("l2", l2, allow_none=False, strict=False)
    if observer is not None and not callable(getattr(observer, "observe", None)):
        raise InvalidTypeError(
            "`observer` must have an `observe(step, **arrays)` method; "
            f"got {type(observer).__name__}."
        )
    if len(data.x_train) == 0:
        raise InvalidArgumentError(f"`data` {data!r} has no training samples.")
    if data.n_features != model.sizes[0]:
        raise InvalidArgumentError(
            f"`data` has {data.n_features} features but the model's input width is "
            f"{model.sizes[0]}: build it as MLP([{data.n_features}, ...])."
        )
    _check_output_width(model, data)
    dtype = model.dtype
    arrays = (
        np.asarray(data.x_train, dtype=dtype),
        data.y_train if data.n_classes else np.asarray(data.y_train, dtype=dtype),
        np.asarray(data.x_test, dtype=dtype),
        data.y_test if data.n_classes else np.asarray(data.y_test, dtype=dtype),
    )
    _check_finite_data(data, arrays)
    return get_loss(loss), get_optimizer(optimizer, lr), arrays


def _check_finite_data(data: Dataset, arrays: tuple) -> None:
    """Raise before training on NaN/Inf inputs or targets (the run would be NaN from step 1)."""
    names = ("x_train", "y_train", "x_test", "y_test")
    for name, array in zip(names, arrays, strict=True):
        if not np.issubdtype(array.dtype, np.inexact):
            continue
        bad = int(array.size - np.count_nonzero(np.isfinite(array)))
        if bad:
            raise InvalidArgumentError(
                f"`data.{name}` of {data!r} holds {bad} NaN or infinite values; training on "
                "them gives NaN. Clean the data (drop or fill those entries) first."
            )


def _check_output_width(model: MLP, data: Dataset) -> None:
    """Raise before training when the targets cannot fit the model's outputs."""
    width = model.sizes[-1]
    if not data.n_classes:
        shape = data.y_train.shape
        if shape[1:] != (width,):
            fix = f"build it as MLP([..., {shape[1]}])" if len(shape) == 2 else "reshape to (n, k)"
            raise InvalidArgumentError(
                f"`data` has regression targets of shape {shape} but the model has {width} "
                f"outputs (expected targets of shape (n, {width})): {fix}."
            )
        return
    top = max((int(y.max()) for y in (data.y_train, data.y_test) if len(y)), default=0)
    if width > 1 and top >= width:
        raise InvalidArgumentError(
            f"`data` has class labels up to {top} ({data.n_classes} classes) but the model "
            f"has {width} outputs: build it as MLP([..., {data.n_classes}])."
        )
