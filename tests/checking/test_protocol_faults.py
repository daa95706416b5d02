"""A program that exits, is killed, hangs or answers malformed lines: a named error, exit 2.

Every fault strikes in the middle of a check (after the start-up requests, while the
per-entry `loss_at` requests stream), and afterwards no child is left running or
unreaped (`gone`: `kill(pid, 0)` fails, which it does not for a zombie).
"""

import pytest

from gradcheck.checking.external import Program
from gradcheck.checking.gradient import check_gradient
from gradcheck.checking.protocol import (
    MalformedAnswerError,
    ProgramExitedError,
    ProgramReportedError,
    ProgramTimeoutError,
    ProtocolError,
)
from gradcheck.cli import main
from tests.budget import slow_except
from tests.checking.protocol_helpers import BROKEN, gone

AFTER = 80  # requests answered before the fault: past start-up, inside the entry sweep

FAULTS = {
    "exit": (ProgramExitedError, r"exited with status 3 before answering request 'loss_at"),
    "kill": (ProgramExitedError, r"was killed by signal SIGKILL before answering request"),
    "hang": (ProgramTimeoutError, r"did not finish answering request 'loss_at .* within 1 s"),
    "partial": (ProgramTimeoutError, r"it had written the partial line '0.12'"),
    "junk": (MalformedAnswerError, r"with 'hello there'; expected one number \(the loss\)"),
    "count": (MalformedAnswerError, r"with '1.0 2.0'; expected one number .* got 2 token"),
    "error": (ProgramReportedError, r"answered request 'loss_at .* with an error: the net blew"),
}


def _command(kind, tmp_path):
    pidfile = tmp_path / "pid"
    argv = [*BROKEN, "--fault", kind, "--after", str(AFTER), "--pidfile", str(pidfile)]
    return argv, pidfile


@pytest.mark.parametrize("kind", slow_except(FAULTS, fast={"kill", "error"}))
def test_a_fault_mid_check_is_a_named_error_and_no_child_is_left(kind, tmp_path):
    error, message = FAULTS[kind]
    argv, pidfile = _command(kind, tmp_path)
    with pytest.raises(error, match=message) as info:
        with Program(argv, timeout=1.0, echo_stderr=False) as program:
            check_gradient(program.loss, program.grad, program.params, progress=False)
    assert isinstance(info.value, ProtocolError)
    assert f"broken: about to {kind}" in str(info.value)  # the tail of its stderr
    assert gone(int(pidfile.read_text()))


@pytest.mark.parametrize("kind", slow_except(["kill", "hang", "junk"], fast={"junk"}))
def test_the_command_line_exits_2_and_leaves_no_child(kind, tmp_path, capsys):
    argv, pidfile = _command(kind, tmp_path)
    cmd = " ".join(argv)
    assert main(["check", "--cmd", cmd, "--timeout", "1"]) == 2
    err = capsys.readouterr().err
    assert "gradcheck check: error: the program" in err and "request" in err
    assert err.startswith(f"broken: about to {kind}\n")  # its stderr, passed through
    assert gone(int(pidfile.read_text()))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pid"]  # no leftover file


def test_a_fault_in_a_layer_check_is_named_too(tmp_path):
    argv, pidfile = _command("junk", tmp_path)
    assert main(["check", "--cmd", " ".join(argv), "--layers", "--timeout", "1"]) == 2
    assert gone(int(pidfile.read_text()))


@pytest.mark.slow  # two grace periods: after EOF, after SIGTERM
def test_a_program_that_ignores_quit_and_eof_is_still_reaped(tmp_path):
    import sys

    pidfile = tmp_path / "pid"
    script = (
        "import os, signal, sys, time\n"
        f"open({str(pidfile)!r}, 'w').write(str(os.getpid()))\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "print('gradcheck-protocol 1\\nparam w 2\\nend', flush=True)\n"
        "sys.stdin.readline(); print('ok', flush=True)\n"
        "time.sleep(3600)\n"
    )
    program = Program([sys.executable, "-c", script], timeout=5.0)
    program.close()
    assert gone(int(pidfile.read_text()))


def test_a_forgotten_program_is_reaped_when_collected():
    import gc

    from tests.checking.protocol_helpers import REFERENCE

    program = Program(REFERENCE)
    pid = program.child.proc.pid
    del program
    gc.collect()
    assert gone(pid)
