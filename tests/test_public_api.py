"""The names DESIGN.md marks as contract resolve from the top-level package."""

import pytest

import gradcheck

CONTRACT = [
    "check_gradient",
    "assert_gradient",
    "GradientMismatch",
    "GradcheckError",
    "check_layers",
    "Monitor",
    "watch",
]


@pytest.mark.parametrize("name", CONTRACT)
def test_contract_name_is_exported(name):
    assert name in gradcheck.__all__
    assert getattr(gradcheck, name) is not None


def test_every_exported_name_resolves():
    for name in gradcheck.__all__:
        getattr(gradcheck, name)


def test_gradient_mismatch_is_an_assertion_error():
    assert issubclass(gradcheck.GradientMismatch, AssertionError)
    assert issubclass(gradcheck.GradientMismatch, gradcheck.GradcheckError)


def test_unknown_name_says_so():
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        gradcheck.nope  # noqa: B018


PIPED_SCRIPT = """
import sys
import gradcheck.commands.train as command

def run(args):  # 400 kB: far more than a pipe buffer, so writes outlive the reader
    for _ in range(20000):
        print("x" * 19)
    return 0

command.run = run
from gradcheck.cli import main
sys.exit(main(["train"]))
"""


def test_output_piped_into_a_closed_reader_ends_quietly(tmp_path):
    import subprocess
    import sys

    script = tmp_path / "piped.py"
    script.write_text(PIPED_SCRIPT)
    proc = subprocess.run(
        f'"{sys.executable}" "{script}" | head -c 10', shell=True, capture_output=True, text=True
    )
    assert proc.stdout == "x" * 10
    assert "Traceback" not in proc.stderr and "Exception ignored" not in proc.stderr, proc.stderr
