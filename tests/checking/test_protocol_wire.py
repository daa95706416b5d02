"""The wire format: round-trip numbers, strtod formats, command words, the declaration."""

import math
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gradcheck.checking.declaration import read_declaration
from gradcheck.checking.protocol import (
    Child,
    MalformedAnswerError,
    ProgramStartError,
    command_words,
    format_numbers,
    numbers,
    parse_number,
)


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_every_float64_round_trips_bit_for_bit(x):
    back = parse_number(format_numbers([x]))
    assert (math.isnan(x) and math.isnan(back)) or np.float64(back).tobytes() == np.float64(
        x
    ).tobytes()


STRTOD = [
    ("1e-05", 1e-05),
    ("1e+16", 1e16),
    ("1.0e-2", 0.01),  # Haskell's show
    ("0x1.8p1", 3.0),  # C's %a
    ("-0X1P-2", -0.25),
    ("Infinity", math.inf),
    ("-inf", -math.inf),
    ("INF", math.inf),
    ("-0.0", -0.0),
    ("17", 17.0),
]


@pytest.mark.parametrize(("token", "value"), STRTOD, ids=[t for t, _ in STRTOD])
def test_strtod_formats_are_read(token, value):
    assert parse_number(token) == value


@pytest.mark.parametrize("token", ["nan", "NaN", "-nan", "nan(123)"])
def test_every_spelling_of_nan_is_read(token):
    assert math.isnan(parse_number(token))


@pytest.mark.parametrize("token", ["", "1_000", "one", "1.0.0", "0x", "1e"])
def test_junk_is_not_a_number(token):
    with pytest.raises(ValueError):
        parse_number(token)


def test_numbers_names_the_count_and_the_bad_token():
    parse = numbers(2, "two numbers")
    assert parse(["1", "2.5"]).tolist() == [1.0, 2.5]
    with pytest.raises(ValueError, match=r"2 number\(s\), got 3 token"):
        parse(["1", "2", "3"])
    with pytest.raises(ValueError, match=r"token 2 \('x'\) is not a number"):
        parse(["1", "x"])


def test_command_words_split_like_a_shell_but_never_run_one():
    assert command_words("./net --bug 'a b' $HOME") == ["./net", "--bug", "a b", "$HOME"]
    assert command_words(["a", 1]) == ["a", "1"]
    with pytest.raises(ProgramStartError, match="empty"):
        command_words("  ")


def test_a_missing_program_is_a_named_error():
    with pytest.raises(ProgramStartError, match="cannot start the program `/no/such/net`"):
        Child(["/no/such/net"], timeout=1.0)


def _declared(lines: list[str]):
    script = "import sys; print(" + repr("\n".join(lines)) + "); sys.stdin.read()"
    child = Child([sys.executable, "-c", script], timeout=5.0)
    try:
        return read_declaration(child)
    finally:
        child.close()


def test_a_declaration_is_read():
    d = _declared(
        ["gradcheck-protocol 1", "param W 2 3", "param s", "layer one W", "layer act", "end"]
    )
    assert d.params == {"W": (2, 3), "s": ()}
    assert d.layers == [("one", ("W",)), ("act", ())]


BAD_DECLARATIONS = {
    "header": (["gradcheck-protocol 2", "end"], "expected the line 'gradcheck-protocol 1'"),
    "dims": (["gradcheck-protocol 1", "param W 2 x", "end"], "line 2 .* positive integers"),
    "zero dim": (["gradcheck-protocol 1", "param W 0", "end"], "positive integers"),
    "twice": (["gradcheck-protocol 1", "param W 2", "param W 3", "end"], "declared twice"),
    "unknown param": (["gradcheck-protocol 1", "param W 2", "layer L V", "end"], "unknown"),
    "junk": (["gradcheck-protocol 1", "hello", "end"], "line 2 .* `param NAME"),
    "empty": (["gradcheck-protocol 1", "end"], "declared no parameter"),
}


@pytest.mark.parametrize("case", BAD_DECLARATIONS)
def test_a_bad_declaration_is_named(case):
    lines, message = BAD_DECLARATIONS[case]
    with pytest.raises(MalformedAnswerError, match=message):
        _declared(lines)


class _StubChild:
    """Stands in for a Child in `checked`: records that the program was stopped."""

    name = "./net"

    def __init__(self):
        self.stopped = False

    def fail(self, error, message):
        self.stopped = True
        return error(message)


@given(st.lists(st.floats(allow_nan=False), min_size=1, max_size=6))
def test_checked_returns_exactly_the_numbers_written(values):
    from gradcheck.checking.protocol import checked, format_numbers

    got = checked(_StubChild(), "grad", format_numbers(values), numbers(len(values), "g"))
    assert got.tolist() == values


@given(
    st.lists(st.floats(allow_nan=False), min_size=0, max_size=6),
    st.integers(min_value=1, max_value=6),
    st.sampled_from(["", "x", "1,5", "--", "ok"]),
)
def test_a_malformed_answer_names_the_request_and_what_came_back(values, count, junk):
    from gradcheck.checking.protocol import checked, format_numbers

    answer = " ".join(filter(None, [format_numbers(values), junk]))
    if junk == "" and len(values) == count:
        return  # a well-formed answer: the property above
    child = _StubChild()
    with pytest.raises(MalformedAnswerError) as info:
        checked(child, "loss_at 3 0.5", answer, numbers(count, "the numbers"))
    message = str(info.value)
    assert "request 'loss_at 3 0.5'" in message and "expected the numbers" in message
    assert child.stopped


def test_an_error_answer_is_quoted_with_its_request():
    from gradcheck.checking.protocol import ProgramReportedError, checked

    child = _StubChild()
    with pytest.raises(ProgramReportedError, match="request 'grad' with an error: out of mem"):
        checked(child, "grad", "error out of memory", numbers(3, "g"))
    assert child.stopped
