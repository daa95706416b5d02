"""``gradcheck protocol-test``: check that a program speaks ``gradcheck-protocol 1``.

:func:`protocol_test` runs the program through a table of checks (:data:`CHECKS`), one
row per rule of ``docs/protocol.md``: the declaration, shapes of every answer, round trip
of floats, ``loss`` against ``loss_at I 0``, the base point unchanged after ``loss_at`` and
``loss_along``, both consistent with ``params``, layers, error answers and ``quit``. A
check that fails restarts the program, so one violation does not hide the others.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Sequence

import numpy as np

from gradcheck.checking.external import Program
from gradcheck.checking.protocol import ProtocolError, numbers, shown

#: Relative agreement demanded between two ways of evaluating the same point.
AGREE = 1e-12
#: Fewer significant digits than this in every loss printed: the program rounds its output.
MIN_DIGITS = 12
_DIGITS = " (are all the digits of every number read? parse with strtod into a double)"


class Violation(Exception):
    """A check found the program breaking a rule (the message says which and how)."""


@dataclasses.dataclass(frozen=True)
class Outcome:
    """One check: its ``name``, whether it ``passed``, and what was seen (``detail``)."""

    name: str
    passed: bool
    detail: str


@dataclasses.dataclass(frozen=True)
class ConformanceReport:
    """The result of :func:`protocol_test`: ``passed`` and one :class:`Outcome` per check."""

    command: str
    outcomes: tuple[Outcome, ...]

    @property
    def passed(self) -> bool:
        """True when every check passed."""
        return all(o.passed for o in self.outcomes)

    def __str__(self) -> str:
        verdict = "PASSED" if self.passed else "FAILED"
        lines = [f"protocol test of `{self.command}`: {verdict}"]
        for o in self.outcomes:
            lines.append(f"  {'ok  ' if o.passed else 'FAIL'} {o.name:<22} {o.detail}")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        """Return the report as a JSON-safe dict."""
        rows = [dataclasses.asdict(o) for o in self.outcomes]
        return {
            "kind": "protocol_test",
            "command": self.command,
            "passed": self.passed,
            "checks": rows,
        }


def _close(a: float, b: float) -> bool:
    return a == b or abs(a - b) <= AGREE * max(abs(a), abs(b)) or (np.isnan(a) and np.isnan(b))


def _loss(program: Program) -> float:
    return float(program.request("loss", numbers(1, "one number (the loss)"))[0])


def _entry(program: Program) -> tuple[int, float]:
    """Return an entry where the loss moves visibly (of a few tried), and its step."""
    picks = np.unique(np.linspace(0, program.size - 1, min(program.size, 16)).astype(int))
    steps = [1e-3 * max(1.0, abs(float(program.base[i]))) for i in picks]
    moved = program.loss_at(zip(picks.tolist(), steps, strict=True))
    best = int(np.argmax(np.abs(np.nan_to_num(np.array(moved) - _loss(program)))))
    return int(picks[best]), steps[best]


def check_loss(program: Program) -> str:
    """`loss` answers one number, the same twice."""
    first, second = _loss(program), _loss(program)
    if first != second:
        raise Violation(f"`loss` answered {first!r} and then {second!r} at the same point")
    return f"one number, the same twice ({float(first)!r})"


def check_grad(program: Program) -> str:
    """`grad` answers exactly P numbers."""
    program.grad(program.params)
    return f"{program.size} numbers"


def check_loss_at_zero(program: Program) -> str:
    """`loss_at I 0.0` equals `loss` (first, middle and last entry)."""
    f0 = _loss(program)
    picks = sorted({0, program.size // 2, program.size - 1})
    for i, value in zip(picks, program.loss_at([(i, 0.0) for i in picks]), strict=True):
        if not _close(value, f0):
            raise Violation(f"`loss_at {i} 0.0` answered {value!r} but `loss` {f0!r}")
    return f"`loss_at I 0.0` equals `loss` for I in {picks}"


def _agrees_with_params(program: Program, request: str, evaluate, point: np.ndarray) -> None:
    """`evaluate()` (the answer to `request`) leaves the base as it was and equals `params`."""
    f0 = _loss(program)
    moved = evaluate()
    after = _loss(program)
    if after != f0:
        raise Violation(f"`loss` was {f0!r} before {request} and {after!r} after")
    program.ensure_base(point)
    direct = _loss(program)
    if not _close(direct, moved):
        raise Violation(f"{request} answered {moved!r}; `params` there gives {direct!r}{_DIGITS}")


def check_loss_at(program: Program) -> str:
    """`loss_at` leaves the base unchanged and agrees with `params` at base + H e_I."""
    i, h = _entry(program)
    x = program.base.copy()
    x[i] += h
    request = f"`loss_at {i} {h!r}`"
    _agrees_with_params(program, request, lambda: program.loss_at([(i, h)])[0], x)
    return "base unchanged afterwards; agrees with `params` at base + H e_I"


def check_loss_along(program: Program) -> str:
    """`loss_along` leaves the base unchanged and agrees with `params` at base + T V."""
    v = np.random.default_rng(1).standard_normal(program.size) * 1e-3
    point = program.base + 1.0 * v
    _agrees_with_params(program, "`loss_along 1.0 V`", lambda: program.loss_along([v])[0], point)
    return "base unchanged afterwards; agrees with `params` at base + T V"


def _digits(token: str) -> int:
    mantissa = token.lower().lstrip("+-").split("e")[0].replace(".", "").lstrip("0")
    return len(mantissa.rstrip("0")) if mantissa.isdigit() else 17


def check_round_trip(program: Program) -> str:
    """Answers carry all digits, and a step of 2**-30 is read in full."""
    rng = np.random.default_rng(2)
    x0 = program.base.copy()
    printed = []
    for _ in range(3):
        program.ensure_base(x0 + 1e-2 * rng.standard_normal(program.size))
        printed.append(program.child.exchange("loss"))
    program.ensure_base(x0)
    if max(_digits(token) for token in printed) < MIN_DIGITS:
        raise Violation(
            f"losses printed with too few digits ({', '.join(map(shown, printed))}): print "
            "17 significant digits (%.17g) or the shortest round-trip form"
        )
    i, _ = _entry(program)
    f0 = _loss(program)
    h = 2.0**-30 * max(1.0, abs(float(x0[i])))
    if program.loss_at([(i, h)])[0] == f0:
        raise Violation(
            f"`loss_at {i} {h!r}` equals `loss` although the loss moves most along entry {i}: "
            "the program loses the digits of H (parse with strtod into a double)"
        )
    return "17-digit answers; small steps are read in full"


def check_layers(program: Program) -> str:
    """`input`, `forward K` and `backward K` answer with the declared shapes."""
    layers = program.layers
    if not layers:
        return "no layer declared (nothing to check)"
    a = program.input()
    for layer in layers:
        y = layer.forward(a)
        layer.backward(np.ones_like(y))
        a = y
    return f"`input`, then `forward`/`backward` of {len(layers)} layers, with the right shapes"


def check_error_answer(program: Program) -> str:
    """Check that a request the program cannot serve gets `error ...`, then it carries on."""
    f0 = _loss(program)
    request = f"loss_at {program.size} 0.0"
    answer = program.child.exchange(request)
    if not answer.startswith("error"):
        raise Violation(
            f"{shown(request)} (an index past the last entry) was answered {shown(answer)}; "
            "answer a request the program cannot serve with `error MESSAGE`"
        )
    if _loss(program) != f0:
        raise Violation("after an `error` answer, `loss` changed")
    return f"{shown(request)} -> {shown(answer)}; the program carries on"


def check_quit(program: Program) -> str:
    """`quit` ends the program with status 0."""
    status = program.close()
    if status != 0:
        raise Violation(f"after `quit` the program ended with status {status} (expected 0)")
    return "exits with status 0"


CHECKS: tuple[tuple[str, Callable[[Program], str]], ...] = (
    ("loss", check_loss),
    ("grad", check_grad),
    ("loss_at I 0", check_loss_at_zero),
    ("loss_at", check_loss_at),
    ("loss_along", check_loss_along),
    ("round trip", check_round_trip),
    ("layers", check_layers),
    ("error answers", check_error_answer),
    ("quit", check_quit),
)


def protocol_test(
    argv: str | Sequence[str], *, timeout: float = 10.0, echo_stderr: bool = False
) -> ConformanceReport:
    """Run every check of :data:`CHECKS` on the program `argv`; return the report.

    Examples
    --------
    >>> import sys
    >>> report = protocol_test([sys.executable, "examples/protocol/reference.py"])  # doctest: +SKIP
    >>> report.passed  # doctest: +SKIP
    True
    """
    outcomes: list[Outcome] = []
    start = functools.partial(Program, argv, timeout=timeout, echo_stderr=echo_stderr)
    try:
        program = start()
    except ProtocolError as exc:
        outcomes.append(Outcome("declaration", False, str(exc)))
        return ConformanceReport(_command(argv), tuple(outcomes))
    outcomes.append(Outcome("declaration", True, _declared(program)))
    for name, check in CHECKS:
        try:
            outcomes.append(Outcome(name, True, check(program)))
        except (Violation, ProtocolError) as exc:
            outcomes.append(Outcome(name, False, str(exc)))
            program.close()
            try:
                program = start()
            except ProtocolError as again:
                outcomes.append(Outcome("restart", False, str(again)))
                break
    program.close()
    return ConformanceReport(_command(argv), tuple(outcomes))


def _command(argv: str | Sequence[str]) -> str:
    return argv if isinstance(argv, str) else " ".join(map(str, argv))


def _declared(program: Program) -> str:
    params = ", ".join(f"{n}{list(s)}" for n, s in program.declaration.params.items())
    return f"{len(program.declaration.params)} params ({params}), {len(program.layers)} layers"
