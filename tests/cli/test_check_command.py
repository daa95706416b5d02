"""`gradcheck check FILE.py:FACTORY`: exit 0 pass / 1 fail / 2 bad input, text or JSON."""

import json

import pytest

from gradcheck.cli import main

TARGET = """
import numpy as np

def good():
    return {"loss": lambda p: float(np.sum(p["w"] ** 3)),
            "grad": lambda p: {"w": 3 * p["w"] ** 2},
            "params": {"w": np.linspace(0.5, 1.5, 6)}}

def bad():
    problem = good()
    problem["grad"] = lambda p: {"w": 6 * p["w"] ** 2}
    return problem

def wrong_keys():
    return {"loss": None, "params": None}

def not_a_dict():
    return 42

def layers():
    return {"layers": [], "x": np.ones((2, 3))}
"""


@pytest.fixture
def target(tmp_path):
    path = tmp_path / "problem.py"
    path.write_text(TARGET)
    return path


def test_passing_check_exits_0(target, capsys):
    assert main(["check", f"{target}:good"]) == 0
    assert "gradient check PASSED" in capsys.readouterr().out


def test_failing_check_exits_1_and_explains(target, capsys):
    assert main(["check", f"{target}:bad"]) == 1
    out = capsys.readouterr().out
    assert "FAILED" in out and "worst entries" in out and "diagnoses" in out


def test_json_output(target, capsys):
    assert main(["check", f"{target}:bad", "--json", "--method", "richardson"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["kind"] == "gradient_check" and data["method"] == "richardson"
    assert data["passed"] is False
    # every entry of w is off by the factor 2 planted in `bad`, and the diagnosis says so
    assert data["n_failures"] == 6 and data["params"][0]["failed"] == 6
    assert sorted(f["index"] for f in data["failures"]) == [[i] for i in range(6)]
    assert all(f["analytic"] == pytest.approx(2 * f["numeric"]) for f in data["failures"])
    assert data["diagnoses"][0]["kind"] == "scale"
    assert data["diagnoses"][0]["evidence"]["matched"] == "2"


@pytest.mark.parametrize(
    ("options", "mode"),
    [
        (["--sample", "3"], "sample"),
        (["--sample", "0.5"], "sample"),
        (["--directions", "2"], "directional"),
    ],
    ids=["sample-int", "sample-fraction", "directions"],
)
def test_modes(target, capsys, options, mode):
    assert main(["check", f"{target}:good", "--json", "--seed", "1", *options]) == 0
    assert json.loads(capsys.readouterr().out)["mode"] == mode


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("{target}", "`FILE.py:FACTORY` expected"),
        ("{missing}:good", "does not exist"),
        ("{target}:nope", "has no function `nope`; callables found: ['bad', 'good'"),
        ("{target}:wrong_keys", "must return a dict with keys ['loss', 'grad', 'params']"),
        ("{target}:not_a_dict", "got int"),
    ],
    ids=["no-factory", "missing-file", "missing-factory", "wrong-keys", "not-a-dict"],
)
def test_bad_input_exits_2_with_a_message(target, tmp_path, capsys, spec, message):
    spec = spec.format(target=target, missing=tmp_path / "missing.py")
    assert main(["check", spec]) == 2
    assert message in capsys.readouterr().err


def test_file_that_fails_to_import_exits_3_as_the_users_code(tmp_path, capsys):
    # importing FILE.py runs the user's code: its error is theirs (exit 3), not bad input
    path = tmp_path / "broken.py"
    path.write_text("import not_a_module_xyz\n")
    assert main(["check", f"{path}:f"]) == 3
    err = capsys.readouterr().err
    assert "your code raised ModuleNotFoundError" in err and "broken.py, line 1" in err


def test_file_that_is_not_python_exits_2(tmp_path, capsys):
    path = tmp_path / "problem.txt"
    path.write_text("def f():\n    return 1\n")
    assert main(["check", f"{path}:f"]) == 2
    assert "expected a Python file ending in .py" in capsys.readouterr().err


LAYER_TARGET = """
import numpy as np
from gradcheck.nn.layers import Activation, Dense

def stack():
    rng = np.random.default_rng(0)
    return {"layers": [Dense(3, 4, rng=rng), Activation("tanh"), Dense(4, 2, rng=rng)],
            "x": rng.standard_normal((5, 3))}

def stack_and_loss():
    # layer keys plus a stray `loss` (no `grad`): a layer check, not a KeyError
    return {**stack(), "loss": lambda p: 0.0}
"""


def test_layer_factory_runs_check_layers(tmp_path, capsys):
    pytest.importorskip("gradcheck.layers")
    pytest.importorskip("gradcheck.nn.layers")
    path = tmp_path / "stack.py"
    path.write_text(LAYER_TARGET)
    assert main(["check", f"{path}:stack", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["kind"] == "layer_check"


def test_layer_factory_with_a_stray_loss_key_runs_check_layers(tmp_path, capsys):
    pytest.importorskip("gradcheck.layers")
    pytest.importorskip("gradcheck.nn.layers")
    path = tmp_path / "stack.py"
    path.write_text(LAYER_TARGET)
    assert main(["check", f"{path}:stack_and_loss", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["kind"] == "layer_check"


def test_sample_that_is_not_a_number_names_what_is_expected(target, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["check", f"{target}:good", "--sample", "all"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "argument --sample: expected an int (entries per parameter) or a fraction" in err
    assert "'all'" in err
