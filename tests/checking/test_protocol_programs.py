"""The example programs: the C MLP's planted bugs, the Haskell net, conformance of all three.

Acceptance of issue 15: with each planted bug `gradcheck check --cmd` exits 1 naming the
parameter and the diagnosis kind, `--layers` names the first wrong layer, the fixed build
exits 0; `gradcheck protocol-test` passes on the reference programs and names each
deliberate violation of a broken variant.
"""

import json
import shutil
import subprocess

import pytest

from gradcheck.checking.conformance import CHECKS, protocol_test
from gradcheck.cli import main
from tests.budget import slow_except
from tests.checking.protocol_helpers import BROKEN, EXAMPLES, REFERENCE


@pytest.fixture(scope="module")
def mlp(tmp_path_factory):
    compiler = shutil.which("cc")
    if compiler is None:
        pytest.skip("no C compiler `cc` on PATH: the C example cannot be built")
    exe = tmp_path_factory.mktemp("c") / "mlp"
    flags = ["-O2", "-std=c11", "-D_POSIX_C_SOURCE=200809L"]
    subprocess.run([compiler, *flags, "-o", str(exe), str(EXAMPLES / "mlp.c"), "-lm"], check=True)
    return str(exe)


@pytest.fixture(scope="module")
def sigmoid_net(tmp_path_factory):
    ghc = shutil.which("ghc")
    if ghc is None:
        pytest.skip("no Haskell compiler `ghc` on PATH: the Haskell example cannot be built")
    out = tmp_path_factory.mktemp("hs")
    exe = out / "sigmoid-net"
    source = str(EXAMPLES / "SigmoidNet.hs")
    command = [ghc, "-O1", "-outputdir", str(out), "-o", str(exe), source]
    subprocess.run(command, check=True, capture_output=True)
    return str(exe)


# planted bug -> ((path of the top diagnosis, its kind, a failing parameter),
#                 (first wrong layer and its kind)); a derivative bug has no single
#                 parameter: the function check's hint (path None) points to check_layers
PLANTED = {
    "sign": (("W3", "sign", "W3"), (4, "dense3", "sign")),
    "scale": (("W1", "scale", "W1"), (0, "dense1", "scale")),
    "transpose": (("W2", "transpose", "W2"), (2, "dense2", "transpose")),
    "derivative-at-output": (
        (None, "activation_derivative", "W1"),
        (1, "tanh1", "activation_derivative"),
    ),
}


@pytest.mark.parametrize("bug", slow_except(PLANTED, fast={"sign", "transpose"}))
def test_c_planted_bug_is_named_by_the_function_check(bug, mlp, capsys):
    (path, kind, failing), _ = PLANTED[bug]
    assert main(["check", "--cmd", f"{mlp} --bug {bug}", "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    top = data["diagnoses"][0]
    assert (top["path"], top["kind"]) == (path, kind)
    assert failing in {f["path"] for f in data["failures"]}


@pytest.mark.parametrize("bug", slow_except(PLANTED, fast={"derivative-at-output"}))
def test_c_planted_bug_first_wrong_layer(bug, mlp, capsys):
    _, (index, name, kind) = PLANTED[bug]
    assert main(["check", "--cmd", f"{mlp} --bug {bug}", "--layers"]) == 1
    out = capsys.readouterr().out
    assert f"first wrong layer is #{index}" in out
    assert f"{kind} at {name}" in out


def test_c_fixed_build_passes_both_checks(mlp, capsys):
    assert main(["check", "--cmd", mlp]) == 0
    assert main(["check", "--cmd", mlp, "--layers"]) == 0
    assert main(["check", "--cmd", mlp, "--directions", "2", "--json"]) == 0
    assert "PASSED" in capsys.readouterr().out


def test_c_bug_found_in_directional_mode(mlp, capsys):
    assert main(["check", "--cmd", f"{mlp} --bug sign", "--directions", "2", "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["diagnoses"][0]["kind"] == "sign" and data["diagnoses"][0]["path"] == "W3"


@pytest.mark.slow
def test_haskell_planted_bug_and_fixed_twin(sigmoid_net, capsys):
    assert main(["check", "--cmd", sigmoid_net, "--layers"]) == 1
    out = capsys.readouterr().out
    assert "first wrong layer is #1" in out and "activation_derivative at sig1" in out
    assert main(["check", "--cmd", sigmoid_net]) == 1
    assert main(["check", "--cmd", f"{sigmoid_net} --fixed", "--layers"]) == 0
    assert main(["check", "--cmd", f"{sigmoid_net} --fixed"]) == 0


def _failed(report) -> set[str]:
    return {o.name for o in report.outcomes if not o.passed}


def test_conformance_passes_on_the_python_reference():
    report = protocol_test(REFERENCE)
    assert report.passed, str(report)
    assert [o.name for o in report.outcomes] == ["declaration", *(name for name, _ in CHECKS)]


def test_conformance_passes_on_the_c_example(mlp):
    report = protocol_test([mlp, "--bug", "sign"])  # a wrong gradient, a correct protocol
    assert report.passed, str(report)


@pytest.mark.slow
def test_conformance_passes_on_the_haskell_example(sigmoid_net):
    assert protocol_test([sigmoid_net]).passed


# violation -> the checks that must fail (exactly), and words of the explanation
VIOLATIONS = {
    "header": ({"declaration"}, "expected the line 'gradcheck-protocol 1'"),
    "digits": ({"loss_at I 0", "loss_at", "loss_along", "round trip"}, "too few digits"),
    "base": ({"loss_at"}, "before `loss_at"),
    "zero": ({"loss_at I 0", "loss_at", "error answers"}, "`loss_at 0 0.0` answered"),
    "along": ({"loss_along"}, "`params` there gives"),
    "count": ({"grad"}, "43 number(s), got 42 token(s)"),
    "shape": ({"layers"}, "6*5 numbers after `6 5`: 30 number(s), got 29 token(s)"),
    "crash": ({"error answers"}, "exited with status 3 before answering request 'loss_at 43"),
    "float32": ({"loss_at", "loss_along"}, "parse with strtod into a double"),
    "float32-steps": ({"loss_at"}, "`params` there gives"),
    "quit": ({"quit"}, "ended with status 1 (expected 0)"),
}


@pytest.mark.parametrize("violation", slow_except(VIOLATIONS, fast={"header"}))
def test_conformance_names_each_violation(violation):
    expected, words = VIOLATIONS[violation]
    report = protocol_test([*BROKEN, "--violate", violation])
    assert not report.passed
    assert _failed(report) == expected, str(report)
    assert words in str(report)


def test_protocol_test_command_exit_status(capsys):
    ok = " ".join(REFERENCE)
    assert main(["protocol-test", "--cmd", ok]) == 0
    assert "PASSED" in capsys.readouterr().out
    assert main(["protocol-test", "--cmd", " ".join([*BROKEN, "--violate", "quit"]), "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["passed"] is False and data["checks"][-1]["name"] == "quit"


def test_readme_shows_the_real_layer_check_output(mlp, capsys):
    readme = (EXAMPLES.parents[1] / "README.md").read_text()
    section = readme.split("## Check a program in any language", 1)[1]
    shown = section.split("```text\n", 1)[1].split("```", 1)[0]
    assert main(["check", "--cmd", f"{mlp} --bug transpose", "--layers"]) == 1
    assert capsys.readouterr().out == shown
