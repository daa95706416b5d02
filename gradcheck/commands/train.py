"""``gradcheck train``: train the reference MLP and print a per-epoch table."""

from __future__ import annotations

import argparse

from gradcheck._validate import check_choice, check_seed
from gradcheck.errors import InvalidArgumentError

HELP = "train the reference MLP on digits, MNIST or a synthetic set; print loss and accuracy"

DATASETS = ("digits", "mnist:PATH", "blobs", "spirals", "regression")
DEFAULTS = {  # reaches >= 95% test accuracy on digits in a few seconds
    "hidden": "100,50",
    "activation": "relu",
    "optimizer": "adam",
    "lr": 1e-3,
    "epochs": 30,
    "batch_size": 64,
    "seed": 0,
    "dataset": "digits",
    "dtype": "float64",
    "init": "he",
    "l2": 0.0,
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the training flags to `parser`."""
    d = DEFAULTS
    add = parser.add_argument
    add(
        "--hidden",
        default=d["hidden"],
        help="hidden widths, comma-separated, or none (default %(default)s)",
    )
    add(
        "--activation",
        default=d["activation"],
        help="hidden activation: identity | sigmoid | tanh | relu | leaky_relu | softplus | "
        "softmax (default %(default)s)",
    )
    add("--alpha", type=float, default=None, help="leaky_relu slope for z < 0 (default 0.01)")
    add(
        "--loss",
        default=None,
        help="cross_entropy | mse | binary_cross_entropy "
        "(default: cross_entropy, or mse for regression)",
    )
    add(
        "--optimizer",
        default=d["optimizer"],
        help="sgd | momentum | rmsprop | adam (default %(default)s)",
    )
    add("--lr", type=float, default=d["lr"], help="learning rate (default %(default)s)")
    add(
        "--epochs", type=int, default=d["epochs"], help="passes over the data (default %(default)s)"
    )
    add(
        "--batch-size",
        type=int,
        default=d["batch_size"],
        help="samples per step (default %(default)s)",
    )
    add(
        "--seed",
        type=int,
        default=d["seed"],
        help="seed of init, split and shuffling (default %(default)s)",
    )
    add("--dataset", default=d["dataset"], help=f"{' | '.join(DATASETS)} (default %(default)s)")
    add("--dtype", default=d["dtype"], help="float64 | float32 (default %(default)s)")
    add(
        "--init",
        default=d["init"],
        help="weight initializer: glorot | xavier | he | normal | uniform (default %(default)s)",
    )
    add("--l2", type=float, default=d["l2"], help="L2 strength on weights (default %(default)s)")
    add("--no-progress", action="store_true", help="hide the progress bar")
    add(
        "--monitor",
        action="store_true",
        help="watch training: print stability findings as they happen and a summary at the end",
    )
    add(
        "--report",
        default=None,
        metavar="PATH",
        help="with --monitor: also write the stability report (.html, .md or .json)",
    )


def parse_hidden(text: str) -> list[int]:
    """Return ``"100,50"`` as ``[100, 50]``; ``"none"`` (said explicitly) means no hidden layer."""
    if text.strip().lower() == "none":
        return []
    try:
        widths = [int(part) for part in text.split(",")]
    except ValueError:
        widths = [0]
    if not widths or any(w <= 0 for w in widths):
        raise InvalidArgumentError(
            f"`--hidden`={text!r} must be positive integers separated by commas, e.g. 100,50 "
            "(or `none` for a model without a hidden layer)."
        )
    return widths


def load_dataset(spec: str, seed: int):
    """Return the Dataset named by a ``--dataset`` value."""
    from gradcheck.nn import data

    if spec.startswith("mnist:"):
        return data.load_mnist(spec.split(":", 1)[1])
    makers = {
        "digits": lambda: data.load_digits(seed=seed),
        "blobs": lambda: data.make_blobs(seed=seed),
        "spirals": lambda: data.make_spirals(seed=seed),
        "regression": lambda: data.make_regression(seed=seed),
    }
    if spec == "mnist":
        raise InvalidArgumentError("`--dataset` mnist needs a path: mnist:DIR or mnist:FILE.npz.")
    return makers[check_choice("--dataset", spec, makers)]()


def _validate(args: argparse.Namespace) -> dict:
    """Check every flag; return the normalized settings."""
    from gradcheck.nn import ACTIVATIONS, INIT, LOSSES, OPTIMIZERS

    check_choice("--activation", args.activation, ACTIVATIONS)
    check_choice("--optimizer", args.optimizer, OPTIMIZERS)
    check_choice("--init", args.init, INIT)
    check_choice("--dtype", args.dtype, ("float64", "float32"))
    if args.alpha is not None and args.activation != "leaky_relu":
        raise InvalidArgumentError(
            f"`--alpha` applies only to `--activation leaky_relu`; got {args.activation!r}."
        )
    if args.loss is not None:
        check_choice("--loss", args.loss, LOSSES)
    for flag, value in (("--epochs", args.epochs), ("--batch-size", args.batch_size)):
        if value < 1:
            raise InvalidArgumentError(f"`{flag}` must be a positive integer; got {value}.")
    if not (args.lr > 0 and args.lr < float("inf")):
        raise InvalidArgumentError(f"`--lr` must be a positive finite number; got {args.lr}.")
    if not args.l2 >= 0:
        raise InvalidArgumentError(f"`--l2` must be >= 0; got {args.l2}.")
    check_seed("--seed", args.seed)
    if args.report:  # before training: a bad path must not cost a whole run
        from gradcheck.report.save import output_path

        output_path(args.report, "--report")
    return {"hidden": parse_hidden(args.hidden)}


def output_width(dataset, loss: str) -> int:
    """Return the number of network outputs the task and loss need."""
    if not dataset.n_classes:
        return int(dataset.y_train.shape[1])
    return 1 if loss == "binary_cross_entropy" and dataset.n_classes == 2 else dataset.n_classes


def build(args: argparse.Namespace):
    """Return ``(dataset, model, loss name)`` from the parsed flags."""
    import numpy as np

    from gradcheck.nn.model import MLP

    hidden = _validate(args)["hidden"]
    dataset = load_dataset(args.dataset, args.seed)
    loss = args.loss or ("cross_entropy" if dataset.n_classes else "mse")
    sizes = [dataset.n_features, *hidden, output_width(dataset, loss)]
    model = MLP(
        sizes,
        activation=args.activation,
        init=args.init,
        seed=args.seed,
        alpha=args.alpha,
        dtype=np.dtype(args.dtype),
    )
    return dataset, model, loss


def summary(dataset, model, history) -> str:
    """Return the one-line result."""
    final = history.final
    result = (
        f"test accuracy {final['test_acc']:.2%}"
        if final.get("test_acc") is not None
        else f"test loss {final['test_loss']:.4g}"
    )
    return (
        f"{dataset.name}: {model!r} -> {result} after {len(history.epochs)} epochs "
        f"({history.steps} steps, {history.seconds:.1f} s)"
    )


def run(args: argparse.Namespace) -> int:
    """Train and print the table; return 0."""
    from gradcheck.nn.training import train

    dataset, model, loss = build(args)
    print(f"{dataset!r}\n{model!r}, loss={loss}, optimizer={args.optimizer}, lr={args.lr}")
    printer = _console_observer(args)
    history = train(
        model,
        dataset,
        loss=loss,
        optimizer=args.optimizer,
        lr=args.lr,
        epochs=args.epochs,
        batch_size=args.batch_size,
        seed=args.seed,
        l2=args.l2,
        observer=printer,
        progress=not args.no_progress,
    )
    print(history)
    print(summary(dataset, model, history))
    if printer is not None:
        printer.print_summary()
        if args.report:
            print(f"report: {printer.monitor.report(args.report)}")
    return 0


def _console_observer(args: argparse.Namespace):
    """Return the monitor's console printer for ``--monitor``, else None."""
    if args.report and not args.monitor:
        raise InvalidArgumentError("`--report` needs `--monitor`: add --monitor to record one.")
    if not args.monitor:
        return None
    from gradcheck.monitor import Monitor
    from gradcheck.monitor.console import ConsoleObserver

    return ConsoleObserver(Monitor())
