"""Every Python block of README.md runs, and a ```text block right after it is its output.

Discovery is generic (any number of blocks, in any section), so the test keeps working as
README sections are added. The conventions, for README authors:

- A ```python block runs in a fresh namespace, in the repository root. When a ```text
  block follows it (only blank lines between), that block is what the code prints. In
  the documented output a line ``...`` stands for any number of lines and ``...`` within
  a line for any text on that line (doctest's ELLIPSIS); trailing spaces are ignored;
  everything else must match exactly.
- To make a fragment runnable without showing boilerplate, put the missing setup in an
  HTML comment right before the block (invisible on GitHub)::

      <!-- readme-test: prelude
      steps = 3
      -->

- A block that cannot run (a pytest module using fixtures, pseudo-code) is marked right
  before it with ``<!-- readme-test: skip REASON -->``; the reason is required.
- ```bash / ```text blocks that do not follow a Python block are not run (installs and
  the demo take minutes; their outputs hold timings).
"""

import contextlib
import io
import re
from pathlib import Path
from typing import NamedTuple

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```\n", re.S | re.M)
MARKER = re.compile(r"<!-- readme-test: (skip|prelude)(.*?)-->\s*$", re.S)


class Block(NamedTuple):
    line: int  # where the block starts in README.md
    code: str
    expected: str | None  # the ```text block that follows, if any
    prelude: str
    skip: str | None  # the reason, for a block marked as not runnable


def _marker(before: str) -> tuple[str, str | None]:
    """Return (prelude, skip reason) from the HTML comment right before a block."""
    found = MARKER.search(before)
    if found is None:
        return "", None
    kind, body = found.group(1), found.group(2).strip()
    if kind == "skip":
        return "", body or "(no reason given)"
    return body, None


def python_blocks(text: str) -> list[Block]:
    """Return the Python blocks of `text`, each with its documented output and markers."""
    fences = list(FENCE.finditer(text))
    blocks = []
    for i, fence in enumerate(fences):
        if fence.group(1) != "python":
            continue
        after = fences[i + 1] if i + 1 < len(fences) else None
        adjacent = after is not None and not text[fence.end() : after.start()].strip()
        expected = after.group(2) if adjacent and after.group(1) == "text" else None
        previous_end = fences[i - 1].end() if i else 0
        prelude, skip = _marker(text[previous_end : fence.start()])
        line = text.count("\n", 0, fence.start()) + 1
        blocks.append(Block(line, fence.group(2), expected, prelude, skip))
    return blocks


def matches(expected: str, actual: str) -> bool:
    """Return True when `actual` has the lines of `expected`, ``...`` matching any text."""
    pattern = []
    for line in expected.rstrip("\n").splitlines():
        if line.strip() == "...":
            pattern.append(r"(?:.*\n)*?")
        else:
            text = re.escape(line.rstrip()).replace(re.escape("..."), r"[^\n]*?")
            pattern.append(text + r"[ \t]*\n")
    lines = "".join(line.rstrip() + "\n" for line in actual.rstrip("\n").splitlines())
    return re.fullmatch("".join(pattern), lines) is not None


BLOCKS = python_blocks(README.read_text(encoding="utf-8"))


def test_readme_has_runnable_blocks_with_documented_output():
    assert any(b.expected is not None and b.skip is None for b in BLOCKS)
    assert all(b.skip != "(no reason given)" for b in BLOCKS), "a skip marker needs a reason"


@pytest.mark.parametrize("block", BLOCKS, ids=[f"README.md:{b.line}" for b in BLOCKS])
def test_readme_block_runs_and_prints_what_is_documented(block, monkeypatch):
    if block.skip is not None:
        pytest.skip(f"marked not runnable: {block.skip}")
    monkeypatch.chdir(README.parent)
    out = io.StringIO()
    namespace = {"__name__": "__readme__"}
    code = compile(block.prelude + "\n" + block.code, f"README.md:{block.line}", "exec")
    with contextlib.redirect_stdout(out):
        exec(code, namespace)
    if block.expected is not None:
        assert matches(block.expected, out.getvalue()), (
            f"README.md:{block.line} printed:\n{out.getvalue()}\ndocumented:\n{block.expected}"
        )


@pytest.mark.parametrize(
    "expected, actual, ok",
    [
        ("a\nb\n", "a\nb\n", True),
        ("a\n...\nz\n", "a\nb\nc\nz\n", True),
        ("a\n...\nz\n", "a\nz\n", True),
        ("a  \nb\n", "a\nb   \n", True),
        ("a\nb\n", "a\nc\n", False),
        ("a\n", "a\nextra\n", False),
        ("the cross terms ...\n", "the cross terms are zero. An elementwise...\n", True),
        ("a ... z\n", "a b\nz\n", False),
    ],
    ids=[
        "same",
        "ellipsis-many",
        "ellipsis-none",
        "trailing-spaces",
        "differs",
        "extra-line",
        "ellipsis-in-line",
        "in-line-stays-on-its-line",
    ],
)
def test_output_matching_rules(expected, actual, ok):
    assert matches(expected, actual) is ok


def test_discovery_reads_markers_and_adjacent_output():
    text = (
        "<!-- readme-test: prelude\nx = 1\n-->\n```python\nprint(x)\n```\n\n```text\n1\n```\n"
        "<!-- readme-test: skip uses fixtures -->\n```python\ndef test(f): ...\n```\n"
        "prose\n```python\nprint(2)\n```\nprose between\n```text\n2\n```\n"
    )
    first, second, third = python_blocks(text)
    assert (first.prelude, first.expected, first.skip) == ("x = 1", "1\n", None)
    assert second.skip == "uses fixtures"
    assert third.expected is None  # prose between: not its output
