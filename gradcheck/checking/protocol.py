"""The wire of ``gradcheck-protocol 1``: numbers as text, and the child process behind it.

:class:`Child` starts the user's program (an argv list, never a shell), writes request
lines to its stdin and reads answer lines from its stdout, each answer within a timeout.
Its stderr is passed through to ours as it arrives, and its last lines are kept for error
messages. Any fault (the program exited, hung, answered junk or the wrong count of
numbers, wrote a partial line) terminates and reaps the child, then raises a
:class:`ProtocolError` that names the request, what was expected, what came back and the
tail of the program's stderr. See ``docs/protocol.md``.
"""

from __future__ import annotations

import os
import select
import shlex
import signal
import subprocess
import sys
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Iterator, Sequence

import numpy as np

from gradcheck.errors import GradcheckError

#: Lines of the program's stderr quoted in error messages.
STDERR_TAIL = 12
#: Seconds a program gets to exit after `quit` (then SIGTERM, then SIGKILL).
QUIT_GRACE = 2.0
#: Pacing of the reads (see Child.pipeline): answers kept in reserve for the program,
#: the answer time above which reads are paced, and the longest pause.
PACE_RESERVE, PACE_SLOW, PACE_MAX = 8, 50e-6, 0.05
#: Sleep for this share of the queue's estimated time: the estimate (time per answer so far)
#: includes any wait of ours, so sleeping all of it would feed back into ever longer waits
#: while the program runs dry; half keeps it busy and still batches the wake-ups.
PACE_SHARE = 0.5
_CHUNK = 1 << 16
_SHOWN = 160  # characters of a request or an answer quoted in a message


class ProtocolError(GradcheckError, RuntimeError):
    """An external program broke ``gradcheck-protocol 1`` (base of the errors below)."""


class ProgramStartError(ProtocolError):
    """The program could not be started (no such file, not executable)."""


class ProgramExitedError(ProtocolError):
    """The program exited (or closed its stdout) before answering a request."""


class ProgramTimeoutError(ProtocolError):
    """The program did not answer a request within the timeout."""


class MalformedAnswerError(ProtocolError, ValueError):
    """An answer was not what the request calls for (junk, wrong count, bad declaration)."""


class ProgramReportedError(ProtocolError):
    """The program answered a request with ``error MESSAGE``."""


def format_numbers(values: object) -> str:
    """Return an array's numbers (C order) as round-trip text separated by single spaces.

    Examples
    --------
    >>> format_numbers([[1.0, 0.5], [float("nan"), 2e-300]])
    '1.0 0.5 nan 2e-300'
    """
    flat = np.asarray(values, dtype=np.float64).ravel().tolist()
    return " ".join(map(repr, flat))  # repr of a Python float: round-trip decimal text


def parse_number(token: str) -> float:
    """Parse one number written in any C ``strtod`` format (decimal, hex, nan, inf, infinity).

    Examples
    --------
    >>> parse_number("1e-3"), parse_number("0x1.8p1"), parse_number("-Infinity")
    (0.001, 3.0, -inf)
    """
    if "_" in token:  # Python's float() accepts 1_000; strtod does not
        raise ValueError(token)
    try:
        return float(token)
    except ValueError:
        lower = token.lower()
        if "0x" in lower:
            return float.fromhex(token)
        if lower.lstrip("+-").startswith("nan("):  # strtod's nan(chars)
            return float("nan")
        raise


def numbers(count: int, what: str) -> Callable[[list[str]], np.ndarray]:
    """Return a parser of exactly `count` numbers (`what` names them in messages)."""

    def parse(tokens: list[str]) -> np.ndarray:
        if len(tokens) != count:
            raise ValueError(f"{what}: {count} number(s), got {len(tokens)} token(s)")
        try:  # numpy reads decimal, nan and inf at C speed; the loop below the rest
            return np.array(tokens, dtype=np.float64)
        except ValueError:
            pass
        values = np.empty(count)
        for k, token in enumerate(tokens):
            try:
                values[k] = parse_number(token)
            except ValueError:
                raise ValueError(f"{what}; token {k + 1} ({token!r}) is not a number") from None
        return values

    return parse


def ok(tokens: list[str]) -> None:
    """Parse the answer `ok` (to ``params``)."""
    if tokens != ["ok"]:
        raise ValueError("`ok`")


def shown(text: str) -> str:
    """Quote a request or an answer for a message, shortened to a readable length."""
    if len(text) <= _SHOWN:
        return repr(text)
    return repr(text[:_SHOWN]) + f" ... ({len(text)} characters)"


def command_words(cmd: str | Sequence[str]) -> list[str]:
    """Return the argv of `cmd`: a string is split like a shell would (shlex), never run by one."""
    words = shlex.split(cmd) if isinstance(cmd, str) else [str(w) for w in cmd]
    if not words:
        raise ProgramStartError(f"the program's command is empty ({cmd!r}): give PROGRAM ARGS.")
    return words


def _status(code: int | None) -> str:
    if code is None:
        return "is still running but closed its stdout"
    if code < 0:
        try:
            return f"was killed by signal {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with status {code}"


def _close_quietly(stream) -> None:
    try:
        if stream is not None:
            stream.close()
    except OSError:
        pass  # a broken pipe on close: the program is gone, which is what we want


def _reap(proc: subprocess.Popen, grace: float) -> None:
    """Close its stdin (EOF), then SIGTERM, then SIGKILL, waiting for it: no zombie left."""
    _close_quietly(proc.stdin)
    for stop in (None, proc.terminate, proc.kill):
        if proc.poll() is not None:
            break
        if stop is not None:
            stop()
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            continue
    _close_quietly(proc.stdout)


def _pass_stderr(stream, tail: deque, echo: bool) -> None:
    """Copy the program's stderr to ours line by line (if `echo`), keeping its last lines."""
    for raw in iter(stream.readline, b""):
        line = raw.decode("utf-8", "replace")
        tail.append(line.rstrip("\n"))
        if echo and sys.stderr is not None:
            sys.stderr.write(line)
            sys.stderr.flush()
    stream.close()


class Child:
    """A running program spoken to line by line (see the module docstring).

    Parameters
    ----------
    argv : sequence of str
        The program and its arguments.
    timeout : float
        Seconds each answer may take.
    echo_stderr : bool
        Pass the program's stderr through to ours (its tail is kept either way).
    """

    def __init__(self, argv: Sequence[str], *, timeout: float, echo_stderr: bool = True) -> None:
        self.argv = list(argv)
        self.timeout = float(timeout)
        self.name = shlex.join(self.argv)
        try:
            self.proc = subprocess.Popen(
                self.argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                bufsize=0,
            )
        except OSError as exc:
            raise ProgramStartError(
                f"cannot start the program `{self.name}`: {exc.strerror or exc}. Check the "
                "path and that it is executable (a script needs its interpreter, e.g. "
                "`python3 net.py`)."
            ) from exc
        self._in, self._out = self.proc.stdin.fileno(), self.proc.stdout.fileno()
        os.set_blocking(self._in, False)
        self._pending = b""
        self._lines: deque[bytes] = deque()
        self.tail: deque[str] = deque(maxlen=STDERR_TAIL)
        self._stderr = threading.Thread(
            target=_pass_stderr, args=(self.proc.stderr, self.tail, echo_stderr), daemon=True
        )
        self._stderr.start()
        self._finalizer = weakref.finalize(self, _reap, self.proc, QUIT_GRACE)

    @property
    def alive(self) -> bool:
        """True while the process runs and has not been closed."""
        return self._finalizer.alive and self.proc.poll() is None

    def fail(self, error: type[ProtocolError], message: str) -> ProtocolError:
        """Stop the program, then return `error` with `message` and the tail of its stderr."""
        if self.proc.poll() is None:
            self.proc.terminate()  # it broke the protocol: no grace period
        self.close(quit_first=False)
        self._stderr.join(timeout=1.0)
        tail = "\n".join(f"  | {line}" for line in self.tail)
        where = f"\nThe program's stderr ended with:\n{tail}" if tail else ""
        return error(f"{message}{where}")

    def write(self, text: str, request: str) -> None:
        """Write `text` (whole request lines), waiting at most the timeout for room."""
        data = memoryview(text.encode())
        while data:
            _, ready, _ = select.select([], [self._in], [], self.timeout)
            if not ready:
                raise self.fail(ProgramTimeoutError, self._late(request, "reading"))
            try:
                data = data[os.write(self._in, data) :]
            except BlockingIOError:
                continue  # less room than select promised: wait for more
            except BrokenPipeError:
                raise self.fail(ProgramExitedError, self._gone(request)) from None

    def read_line(self, request: str) -> str:
        """Return the next answer line (without its newline), or raise naming `request`."""
        while not self._lines:
            ready, _, _ = select.select([self._out], [], [], self.timeout)
            if not ready:
                raise self.fail(ProgramTimeoutError, self._late(request, "answering"))
            chunk = os.read(self._out, _CHUNK)
            if not chunk:
                raise self.fail(ProgramExitedError, self._gone(request))
            *complete, self._pending = (self._pending + chunk).split(b"\n")
            self._lines.extend(complete)
        return self._lines.popleft().decode("utf-8", "replace").rstrip("\r")

    def _late(self, request: str, doing: str) -> str:
        partial = f"; it had written the partial line {shown(self._pending.decode())}"
        return (
            f"the program `{self.name}` did not finish {doing} request {shown(request)} "
            f"within {self.timeout:g} s{partial if self._pending else ''}. It hangs, or "
            "waits for more input, or does not flush stdout after each answer (call "
            "fflush(stdout) / hFlush stdout); raise `timeout` if it is only slow."
        )

    def _gone(self, request: str) -> str:
        try:
            self.proc.wait(timeout=QUIT_GRACE)
        except subprocess.TimeoutExpired:
            pass
        partial = f" after the partial line {shown(self._pending.decode())}"
        return (
            f"the program `{self.name}` {_status(self.proc.poll())} before answering "
            f"request {shown(request)}{partial if self._pending else ''}."
        )

    def exchange(self, request: str) -> str:
        """Send one request line; return its answer line (lockstep)."""
        self.write(request + "\n", request)
        return self.read_line(request)

    def pipeline(self, requests: Sequence[str], window: int) -> Iterator[str]:
        """Yield the answers to `requests` in order, keeping up to `window` in flight.

        Answers come one per request, in order; sending ahead only saves the wait for the
        program to wake up between requests (see docs/protocol.md, "Pipelining"). When
        the program is slow (over PACE_SLOW seconds an answer) and has plenty queued, the
        answers are left to pile up before they are read: one wake-up per batch instead
        of per answer, while the program never runs out of requests.
        """
        sent, n, start = 0, len(requests), time.perf_counter()
        for i in range(n):
            if sent < n and sent - i <= window // 2:
                upto = min(n, i + window)
                self.write("".join(r + "\n" for r in requests[sent:upto]), requests[sent])
                sent = upto
            queued = sent - i - PACE_RESERVE
            if i and queued > 0 and not self._lines:
                per_answer = (time.perf_counter() - start) / i
                if per_answer > PACE_SLOW:
                    time.sleep(min(per_answer * queued * PACE_SHARE, PACE_MAX))
            yield self.read_line(requests[i])

    def close(self, *, quit_first: bool = True) -> int | None:
        """Ask the program to quit (unless told not to), stop and reap it; return its status."""
        if not self._finalizer.alive:
            return self.proc.returncode
        if quit_first and self.proc.poll() is None:
            try:
                os.write(self._in, b"quit\n")  # non-blocking: a program that stopped
            except OSError:  # reading, or is gone, is stopped by the reaping below
                pass
        self._finalizer()
        return self.proc.returncode


def checked(child: Child, request: str, answer: str, parse: Callable[[list[str]], object]):
    """Return ``parse(tokens)`` of `answer`, or raise the named error for `request`.

    ``error MESSAGE`` raises :class:`ProgramReportedError` quoting it; a `parse` that
    raises ``ValueError(expected)`` raises :class:`MalformedAnswerError` saying what was
    expected and what came back. Both stop the program.
    """
    tokens = answer.split(" ")
    if tokens[0] == "error":
        raise child.fail(
            ProgramReportedError,
            f"the program `{child.name}` answered request {shown(request)} with an error: "
            f"{answer[6:]}",
        )
    try:
        return parse(tokens)
    except ValueError as exc:
        raise child.fail(
            MalformedAnswerError,
            f"the program `{child.name}` answered request {shown(request)} with "
            f"{shown(answer)}; expected {exc}. It must print only answers on stdout "
            "(diagnostics go to stderr), numbers separated by single spaces.",
        ) from None
