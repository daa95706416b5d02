"""`gradcheck check FILE.py:FACTORY` with Jacobian factories: exit 0 pass, 1 fail."""

import json

import pytest

from gradcheck.cli import main

TARGET = """
import numpy as np

W = np.array([[1.0, 2.0], [-3.0, 0.5]])

def vjp_good():
    return {"f": lambda x: W @ x, "vjp": lambda x, g: W.T @ g, "x": np.array([0.1, 0.2])}

def vjp_transposed():
    return {"f": lambda x: W @ x, "vjp": lambda x, g: W @ g, "x": np.array([0.1, 0.2])}

def jvp_good():
    return {"f": np.sin, "jvp": lambda x, v: np.cos(x) * v, "x": np.array([0.1, 0.2])}

def hvp_sign():
    return {"grad": np.sin, "hvp": lambda p, v: -np.cos(p) * v, "params": np.ones(2)}

def hessian_good():
    return {"grad": np.sin, "hessian": lambda p: np.diag(np.cos(p)), "params": np.ones(2)}
"""


@pytest.fixture
def target(tmp_path):
    path = tmp_path / "jacobians.py"
    path.write_text(TARGET)
    return path


@pytest.mark.parametrize("factory", ["vjp_good", "jvp_good", "hessian_good"])
def test_healthy_factories_exit_0(target, capsys, factory):
    assert main(["check", f"{target}:{factory}"]) == 0
    assert "PASSED" in capsys.readouterr().out


@pytest.mark.parametrize("factory, kind", [("vjp_transposed", "transpose"), ("hvp_sign", "sign")])
def test_planted_bugs_exit_1_with_the_diagnosis(target, capsys, factory, kind):
    assert main(["check", f"{target}:{factory}", "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["passed"] is False and data["diagnoses"][0]["kind"] == kind
