"""`gradcheck train` and `gradcheck demo` through gradcheck.cli.main."""

import json

import pytest

from gradcheck.cli import main


def test_train_on_blobs_prints_the_table(capsys):
    status = main(
        ["train", "--dataset", "blobs", "--epochs", "3", "--hidden", "8", "--no-progress"]
    )
    out = capsys.readouterr().out
    assert status == 0
    assert "epoch  train loss  train acc  test acc  seconds" in out
    assert out.count("\n") >= 6 and "test accuracy" in out.splitlines()[-1]


def test_train_regression_defaults_to_mse(capsys):
    status = main(["train", "--dataset", "regression", "--epochs", "2", "--dtype", "float32"])
    out = capsys.readouterr().out
    assert status == 0 and "loss=mse" in out and "test loss" in out.splitlines()[-1]


def test_train_binary_cross_entropy_uses_one_sigmoid_output_per_class(capsys):
    argv = ["train", "--dataset", "blobs", "--epochs", "1", "--loss", "binary_cross_entropy"]
    assert main(argv) == 0
    assert "MLP([2, 100, 50, 3]" in capsys.readouterr().out  # 3 blobs -> 3 sigmoid outputs


@pytest.mark.parametrize(
    ("flags", "fragments"),
    [
        (["--activation", "swish"], ["`--activation`='swish'", "'relu'", "'softmax'"]),
        (["--loss", "hinge"], ["`--loss`='hinge'", "'cross_entropy'"]),
        (["--optimizer", "lbfgs"], ["`--optimizer`='lbfgs'", "'adam'"]),
        (["--dataset", "cifar"], ["`--dataset`='cifar'", "'digits'", "'blobs'"]),
        (["--dataset", "mnist"], ["mnist:DIR"]),
        (["--dataset", "mnist:/no/such/dir"], ["/no/such/dir", "does not exist"]),
        (["--hidden", "100,x"], ["`--hidden`='100,x'"]),
        (["--epochs", "0"], ["`--epochs`"]),
        (["--lr", "-1"], ["`--lr`"]),
        (["--dtype", "float16"], ["`--dtype`", "'float32'"]),
        (["--alpha", "0.1"], ["`--alpha` applies only to `--activation leaky_relu`"]),
    ],
    ids=[
        "activation",
        "loss",
        "optimizer",
        "dataset",
        "mnist-no-path",
        "mnist-missing",
        "hidden",
        "epochs",
        "lr",
        "dtype",
        "alpha",
    ],
)
def test_bad_flags_exit_2_and_name_the_flag(capsys, flags, fragments):
    assert main(["train", "--epochs", "1", *flags]) == 2
    err = capsys.readouterr().err
    for fragment in fragments:
        assert fragment in err


def test_demo_smoke_loads_the_digits_and_trains(tmp_path, capsys, monkeypatch):
    """The demo's first phases through the command line, 1 epoch (the whole demo: below)."""
    from gradcheck.commands import demo

    monkeypatch.setattr(demo, "EPOCHS", 1)
    monkeypatch.setattr(demo, "PHASES", demo.PHASES[:2])  # data, train (checks: seconds)
    out = tmp_path / "report"
    assert main(["demo", "--out", str(out), "--no-progress"]) == 0
    summary = capsys.readouterr().out.splitlines()[-1]
    assert summary.startswith("gradcheck demo: trained digits to ") and str(out) in summary
    assert len(json.loads((out / "training.json").read_text())["epochs"]) == 1


@pytest.mark.slow  # the whole demo: a third of the suite's time
def test_demo_trains_on_digits_and_writes_the_folder(tmp_path, capsys):
    out = tmp_path / "report" / "nested"
    assert main(["demo", "--out", str(out), "--no-progress"]) == 0
    text = capsys.readouterr().out
    assert "test acc" in text and text.splitlines()[-1].startswith("gradcheck demo: trained digits")
    history = json.loads((out / "training.json").read_text())
    assert history["epochs"][-1]["test_acc"] >= 0.95
    summary = text.splitlines()[-1]
    assert "layer check passed" in summary and "gradient check of 12,060 entries passed" in summary
    assert "broken copies caught: activation_derivative, scale" in summary
    assert "user's sigmoid net:" in summary and "saturation" in summary
    for stem in ("report", "sigmoid-story"):
        for suffix in (".html", ".md", ".json"):
            assert (out / f"{stem}{suffix}").stat().st_size > 0
    report = json.loads((out / "report.json").read_text())
    assert [c["passed"] for c in report["checks"]] == [True, True, False, False]
    assert not [f for f in report["monitor"]["findings"] if f["severity"] != "info"]


def test_train_on_a_tiny_mnist_npz(tmp_path, capsys):
    import numpy as np

    rng = np.random.default_rng(0)
    arrays = {
        "x_train": rng.integers(0, 256, size=(20, 28, 28), dtype=np.uint8),
        "y_train": np.arange(20) % 10,
        "x_test": rng.integers(0, 256, size=(10, 28, 28), dtype=np.uint8),
        "y_test": np.arange(10),
    }
    np.savez(tmp_path / "mnist.npz", **arrays)
    argv = [
        "train",
        "--dataset",
        f"mnist:{tmp_path / 'mnist.npz'}",
        "--epochs",
        "1",
        "--hidden",
        "8",
    ]
    assert main(argv) == 0
    assert "MLP([784, 8, 10]" in capsys.readouterr().out
