"""Issue 12: a complete `gradcheck check` and command line.

Flags `--rtol --atol --eps --batch-size --directions`; a factory's `batch_size`; help that
spells out what FACTORY returns; exit statuses 0/1/2/3 (3: the user's own code raised, with
its traceback) and 4 (a gradcheck bug, said so); `--version`; `gradcheck` alone prints help
and exits 0; verdicts never cut; `gradcheck report` reads the demo's `training.json`.
"""

import json
import subprocess
import sys

import pytest

import gradcheck
from gradcheck.cli import main

TARGET = """
import numpy as np

def helper(p):
    return 1 / 0

def crashes():
    return {"loss": lambda p: helper(p), "grad": lambda p: {"w": 2 * p["w"]},
            "params": {"w": np.ones(3)}}

def factory_crashes():
    raise KeyError("my factory")

def summed():
    # the loss averages over a batch of 8, the gradient sums: a factor of 8
    x = np.random.default_rng(0).normal(size=(8, 3))
    return {"loss": lambda p: float(np.mean((x @ p["w"]) ** 2)),
            "grad": lambda p: {"w": 2 * x.T @ (x @ p["w"])},
            "params": {"w": np.linspace(0.5, 1.5, 3)}, "batch_size": 8}

def good():
    return {"loss": lambda p: float(np.sum(p["w"] ** 3)),
            "grad": lambda p: {"w": 3 * p["w"] ** 2},
            "params": {"w": np.linspace(0.5, 1.5, 6)}}

def sigmoid_layers():
    from gradcheck.adapters import FunctionPairLayer

    def affine_forward(x, w, b):
        return x @ w + b, (x, w)

    def affine_backward(dout, cache):
        x, w = cache
        return dout @ w.T, x.T @ dout, dout.sum(axis=0)

    def sigmoid_forward(z):
        a = 1 / (1 + np.exp(-z))
        return a, a

    def sigmoid_backward(da, a):
        s = 1 / (1 + np.exp(-a))
        return (da * s * (1 - s),)

    rng = np.random.default_rng(0)
    return {"layers": [
        FunctionPairLayer(affine_forward, affine_backward,
                          {"W1": rng.normal(size=(4, 5)), "b1": np.zeros(5)}, name="affine1"),
        FunctionPairLayer(sigmoid_forward, sigmoid_backward, name="sigmoid1"),
    ], "x": rng.normal(size=(6, 4))}
"""


@pytest.fixture
def target(tmp_path):
    path = tmp_path / "problem.py"
    path.write_text(TARGET)
    return path


def test_users_crash_exits_3_with_their_traceback(target, capsys):
    assert main(["check", f"{target}:crashes"]) == 3
    err = capsys.readouterr().err
    assert 'problem.py", line 5, in helper' in err and "ZeroDivisionError" in err
    assert "your code raised ZeroDivisionError" in err and "not a gradcheck bug" in err
    assert "gradcheck/check" not in err  # gradcheck's own frames are left out


def test_users_factory_crash_exits_3(target, capsys):
    assert main(["check", f"{target}:factory_crashes"]) == 3
    assert "your code raised KeyError" in capsys.readouterr().err


def test_internal_error_says_it_is_a_gradcheck_bug(target, capsys, monkeypatch):
    import gradcheck.checking.gradient
    import gradcheck.tree

    def broken(*args, **kwargs):  # the exception is raised inside gradcheck's own code
        return gradcheck.tree.unflatten(None, {})

    monkeypatch.setattr(gradcheck.checking.gradient, "check_gradient", broken)
    assert main(["check", f"{target}:good"]) == 4
    err = capsys.readouterr().err
    assert "internal error: AttributeError" in err and "gradcheck/tree.py" in err
    assert "This is a bug in gradcheck, not in your code" in err


def test_factory_batch_size_is_honoured_and_the_flag_overrides_it(target, capsys):
    assert main(["check", f"{target}:summed", "--json"]) == 1
    top = json.loads(capsys.readouterr().out)["diagnoses"][0]
    assert (top["kind"], top["evidence"]["matched"]) == ("scale", "batch_size")
    assert main(["check", f"{target}:summed", "--json", "--batch-size", "4"]) == 1
    top = json.loads(capsys.readouterr().out)["diagnoses"][0]
    assert top["evidence"]["matched"] is None


@pytest.mark.parametrize(
    "flags, key, value",
    [(["--rtol", "1e-4"], "rtol", 1e-4), (["--atol", "1e-9"], "atol", 1e-9)],
    ids=["rtol", "atol"],
)
def test_tolerance_flags_reach_the_check(target, capsys, monkeypatch, flags, key, value):
    import gradcheck.checking.gradient

    seen = {}
    real = gradcheck.checking.gradient.check_gradient

    def spy(*args, **kwargs):
        seen.update(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(gradcheck.checking.gradient, "check_gradient", spy)
    assert main(["check", f"{target}:good", *flags, "--eps", "1e-5"]) == 0
    assert seen[key] == value and seen["eps"] == 1e-5


def test_bad_flag_values_are_bad_input(target, capsys):
    assert main(["check", f"{target}:good", "--rtol", "-1"]) == 2
    assert "`rtol` must be finite and >= 0" in capsys.readouterr().err
    assert main(["check", f"{target}:sigmoid_layers", "--eps", "1e-4"]) == 2
    assert "--eps apply to function-style checks" in capsys.readouterr().err


def test_layer_verdicts_are_never_cut(target, capsys):
    assert main(["check", f"{target}:sigmoid_layers"]) == 1
    out = capsys.readouterr().out
    assert "diagnoses of layer #1 (sigmoid1):" in out
    assert "or write the derivative in terms of a (a * (1 - a))." in out
    assert main(["check", f"{target}:sigmoid_layers", "--json"]) == 1
    layers = json.loads(capsys.readouterr().out)["layers"]
    assert not layers[1]["verdict"].endswith("...")
    assert layers[1]["verdict"].endswith("(a * (1 - a)).")


def test_help_spells_out_the_factory(capsys):
    with pytest.raises(SystemExit) as info:
        main(["check", "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    for fragment in (
        '"loss": loss, "grad": grad, "params": params',
        '"layers": [layer, ...]',
        '"batch_size"',
        "loss(params) -> float",
        "3 your own code raised",
        "--batch-size",
        "--rtol",
        "--atol",
        "--eps",
        "--directions",
    ):
        assert fragment in out


def test_version(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"gradcheck {gradcheck.__version__}"


def test_python_m_gradcheck_alone_prints_help_and_exits_0():
    done = subprocess.run([sys.executable, "-m", "gradcheck"], capture_output=True, text=True)
    assert done.returncode == 0
    assert "usage: gradcheck" in done.stdout and "exit status: 0 success" in done.stdout


def test_command_help_lines_share_one_style():
    from gradcheck.cli import COMMANDS, _load

    for name in COMMANDS:
        text = _load(name).HELP
        assert text[0].islower() and not text.endswith("."), (name, text)


def test_report_renders_the_demos_training_json(tmp_path, capsys):
    history = {
        "kind": "history",
        "task": "classification",
        "dataset": "digits",
        "steps": 10,
        "seconds": 0.5,
        "epochs": [{"epoch": 1, "train_loss": 0.7, "test_acc": 0.9}],
    }
    (tmp_path / "training.json").write_text(json.dumps(history))
    assert main(["report", str(tmp_path / "training.json"), "-o", str(tmp_path / "t.md")]) == 0
    text = (tmp_path / "t.md").read_text()
    assert "training history" in text and "epoch 1, train loss 0.7, test acc 0.9" in text


def test_report_schema_is_printed(capsys):
    assert main(["report", "--schema"]) == 0
    assert json.loads(capsys.readouterr().out)["title"] == "gradcheck run report"


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["report", "{run}", "-o", "{tmp}"], "`-o/--output`="),
        (["train", "--monitor", "--report", "{tmp}/afile/x.html"], "which is a file"),
        (["demo", "--out", "{tmp}/afile"], "`--out`="),
        (["train", "--seed", "-1"], "`--seed` must be >= 0"),
        (["train", "--hidden", ""], "`--hidden`='' must be positive integers"),
    ],
    ids=["report-o-folder", "train-report-under-file", "demo-out-file", "seed", "hidden-empty"],
)
def test_bad_paths_and_flags_fail_before_any_work(tmp_path, capsys, argv, fragment):
    (tmp_path / "afile").write_text("x")
    (tmp_path / "run.json").write_text(json.dumps({"kind": "monitor", "findings": []}))
    argv = [a.format(tmp=tmp_path, run=tmp_path / "run.json") for a in argv]
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert fragment in captured.err
    assert "epoch" not in captured.out  # nothing trained


def test_hidden_none_trains_a_model_without_hidden_layer(capsys):
    assert (
        main(["train", "--dataset", "blobs", "--hidden", "none", "--epochs", "1", "--no-progress"])
        == 0
    )
    assert "MLP(" in capsys.readouterr().out


def test_full_diagnosis_text_in_markdown_keeps_arrows():
    from gradcheck.report.markdown import md_escape

    assert md_escape("W1 -> dW1") == "W1 -> dW1"
    assert md_escape("<script>") == "&lt;script>"


@pytest.mark.parametrize(
    "filename, owner",
    [
        ("/usr/lib/python3/site-packages/numpy/linalg/_linalg.py", "neutral"),
        ("/venv/lib/python3.11/dist-packages/matplotlib/pyplot.py", "neutral"),
        ("/venv/lib/python3.11/site-packages/mylayers/swish.py", "user"),
        ("/home/me/project/net.py", "user"),
        ("<frozen importlib._bootstrap>", "neutral"),
        (json.__file__, "neutral"),
        (gradcheck.__file__, "gradcheck"),
    ],
    ids=[
        "numpy",
        "matplotlib",
        "users-installed-package",
        "users-file",
        "frozen",
        "stdlib",
        "gradcheck",
    ],
)
def test_each_frame_has_an_owner(filename, owner):
    from gradcheck.commands._failure import _owner

    assert _owner(filename) == owner
