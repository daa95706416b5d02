"""The declaration a program prints on start: its parameters (names, shapes) and layers.

::

    gradcheck-protocol 1
    param W1 4 8
    param b1 8
    layer dense1 W1 b1
    end
"""

from __future__ import annotations

from typing import NamedTuple

from gradcheck.checking.protocol import Child, MalformedAnswerError, shown

HEADER = "gradcheck-protocol 1"
#: Lines a declaration may have before `end` (a guard against a program that never ends it).
MAX_LINES = 100_000


class Declaration(NamedTuple):
    """What a program declared: ``params`` name -> shape (in order), ``layers`` (name, params)."""

    params: dict[str, tuple[int, ...]]
    layers: list[tuple[str, tuple[str, ...]]]


def _dims(words: list[str]) -> tuple[int, ...]:
    dims = []
    for word in words:
        if not word.isdigit() or int(word) < 1:
            raise ValueError(f"dimensions as positive integers (got {word!r})")
        dims.append(int(word))
    return tuple(dims)


def _parse_line(line: str, params: dict, layers: list) -> None:
    kind, *words = line.split(" ")
    if kind == "param" and words:
        name = words[0]
        if name in params:
            raise ValueError(f"each parameter declared once (`{name}` is declared twice)")
        params[name] = _dims(words[1:])
    elif kind == "layer" and words:
        unknown = [w for w in words[1:] if w not in params]
        if unknown:
            raise ValueError(f"a layer naming parameters declared above it (unknown: {unknown})")
        layers.append((words[0], tuple(words[1:])))
    else:
        raise ValueError("`param NAME D1 D2 ...`, `layer NAME PARAM1 ...` or `end`")


def read_declaration(child: Child) -> Declaration:
    """Read and check the declaration; raise :class:`MalformedAnswerError` naming the bad line."""
    first = child.read_line("(start: the declaration)")
    if first != HEADER:
        raise child.fail(
            MalformedAnswerError,
            f"the program `{child.name}` began with {shown(first)}; expected the line "
            f"{HEADER!r}. Print the declaration first, and nothing else on stdout.",
        )
    params: dict[str, tuple[int, ...]] = {}
    layers: list[tuple[str, tuple[str, ...]]] = []
    for number in range(2, MAX_LINES):
        line = child.read_line(f"(start: line {number} of the declaration)")
        if line == "end":
            break
        try:
            _parse_line(line, params, layers)
        except ValueError as exc:
            raise child.fail(
                MalformedAnswerError,
                f"line {number} of the declaration of `{child.name}` is {shown(line)}; "
                f"expected {exc}.",
            ) from None
    if not params:
        raise child.fail(
            MalformedAnswerError,
            f"the program `{child.name}` declared no parameter: nothing to check. Declare "
            "each one as `param NAME D1 D2 ...` before `end`.",
        )
    return Declaration(params, layers)
