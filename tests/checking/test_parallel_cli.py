"""`gradcheck check --workers N` / `--scheduler ADDRESS`: the serial output, from more processes."""

from __future__ import annotations

import json

import numpy as np
import pytest

from gradcheck.checking import parallel_worker as pw
from gradcheck.checking.parallel_send import payload_bytes
from gradcheck.cli import main
from tests.checking.parallel_problems import ship_everything  # noqa: F401  (a fixture)
from tests.checking.protocol_helpers import REFERENCE

TARGET = """
import numpy as np

W = np.linspace(1.0, 2.0, 40)

def problem():
    return {"loss": lambda p: float(np.sum(W * np.sin(p["w"]))),
            "grad": lambda p: {"w": W * np.cos(p["w"])},
            "params": {"w": np.linspace(-1.0, 1.0, 40)}}
"""


def _json(capsys, argv):
    status = main(argv)
    return status, json.loads(capsys.readouterr().out)


@pytest.mark.slow
@pytest.mark.usefixtures("ship_everything")
def test_workers_give_the_serial_report_for_a_file_and_for_a_program(tmp_path, capsys):
    path = tmp_path / "target.py"
    path.write_text(TARGET)
    for target in ([f"{path}:problem"], ["--cmd", " ".join(REFERENCE)]):
        serial = _json(capsys, ["check", *target, "--json"])
        assert _json(capsys, ["check", *target, "--json", "--workers", "2"]) == serial
        assert serial[0] == 0
    layers = ["check", "--cmd", " ".join(REFERENCE), "--layers", "--json"]
    assert _json(capsys, [*layers, "--workers", "2"]) == _json(capsys, layers)


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--workers", "0"], "at least 1 worker"),
        (["--workers", "2", "--scheduler", "127.0.0.1:1"], "not both"),
    ],
)
def test_bad_parallel_flags_are_named(tmp_path, capsys, flags, message):
    path = tmp_path / "target.py"
    path.write_text(TARGET)
    assert main(["check", f"{path}:problem", *flags]) == 2
    assert message in capsys.readouterr().err


def test_a_worker_keeps_the_copies_of_the_last_two_checks_only():
    for key in ("first", "second", "third"):
        pw._state(pw.Payload(key, blob=payload_bytes(abs, {"w": np.ones(3)})))
    assert [key for key, _ in pw._STATES] == ["second", "third"]
    assert pw.forget("second") == 1 and pw.forget("third") == 1 and not pw._STATES
