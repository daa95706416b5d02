"""Every example runs; its printed diagnosis names the planted bug; its fixed twin passes."""

import subprocess
import sys
from pathlib import Path

import pytest

from tests.budget import slow_except

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

# example -> what its buggy run must print (kind and path of the planted bug)
EXPECTED = {
    "story_sigmoid_mnist.py": [
        "first wrong layer is #1",
        "diagnosis: activation_derivative at sigmoid1",
        "OUTPUT f'(a) instead of its input",
        "diagnosis: activation_derivative at sigmoid_out",
        "derivative is missing",
        "diagnosis: regularization at",
        "Wl1",
    ],
    "story_relu_cost_sum.py": ["diagnosis: scale at", "'matched': 'batch_size'", "W1"],
    "story_scanr_batch.py": ["diagnosis: batch_mixing at layer1", "sample 0"],
    "story_accumulating_grad.py": ["diagnosis: accumulation at fc1.W", "zero_grad"],
}


# each example is a subprocess (~0.6 s, the MNIST one a few seconds): a local run keeps one,
# CI and --runslow run all of them (see tests/conftest.py)
NAMES = slow_except(sorted(EXPECTED), fast={"story_relu_cost_sum.py"})


def run(name, *args):
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / name), *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=EXAMPLES.parent,
    )
    return done.returncode, done.stdout + done.stderr


def test_every_example_is_listed():
    assert sorted(p.name for p in EXAMPLES.glob("story_*.py")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", NAMES)
def test_example_names_its_planted_bug(name):
    status, out = run(name)
    assert status == 1, out
    for text in EXPECTED[name]:
        assert text in out, f"{text!r} not in the output of {name}:\n{out}"
    assert "verdict: FAILED" in out


@pytest.mark.parametrize("name", NAMES)
def test_example_fixed_twin_passes(name):
    status, out = run(name, "--fixed")
    assert status == 0, out
    assert "verdict: PASSED" in out
    assert "diagnosis:" not in out
