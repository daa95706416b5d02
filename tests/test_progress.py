"""The progress bar: silent when disabled or off a terminal, a plain line per 10% in logs."""

import io
import itertools
import types

import pytest

import gradcheck._progress as progress_module
from gradcheck._progress import Progress


class Terminal(io.StringIO):
    def isatty(self):
        return True


@pytest.fixture
def slow_clock(monkeypatch):
    """Make each clock reading one second later than the last (no throttling, no delay)."""
    ticks = itertools.count()
    clock = types.SimpleNamespace(perf_counter=lambda: float(next(ticks)))
    monkeypatch.setattr(progress_module, "time", clock)


def run(bar, n):
    with bar:
        for _ in range(n):
            bar.update(note="epoch 1")


@pytest.mark.parametrize("stream", [io.StringIO(), Terminal()], ids=["log", "terminal"])
def test_disabled_bar_prints_nothing(slow_clock, stream):
    run(Progress(20, "training", enabled=False, delay=0, stream=stream), 20)
    assert stream.getvalue() == ""


def test_bar_off_a_terminal_is_silent_by_default(slow_clock):
    stream = io.StringIO()
    run(Progress(20, "training", delay=0, stream=stream), 20)
    assert stream.getvalue() == ""


def test_enabled_bar_in_a_log_prints_one_plain_line_per_tenth(slow_clock):
    stream = io.StringIO()
    run(Progress(20, "training", enabled=True, delay=0, stream=stream), 20)
    text = stream.getvalue()
    lines = text.splitlines()
    assert "\r" not in text and text.endswith("\n")
    # 1/20 opens decile 0, then 2/20, 4/20, ..., 20/20 each open the next one.
    done = [line.split("] ")[1].split()[0] for line in lines]
    assert done == ["1/20", *(f"{k}/20" for k in range(2, 21, 2))]
    assert all(line.startswith("training [") and line.endswith("epoch 1") for line in lines)
    assert lines[-1].startswith("training [####################] 20/20")


def test_terminal_bar_redraws_one_line_and_ends_it(slow_clock):
    stream = Terminal()
    run(Progress(4, "checking", delay=0, stream=stream), 4)
    text = stream.getvalue()
    assert text.count("\r") == 4 and text.endswith("\n") and text.count("\n") == 1
    assert "4/4" in text.rsplit("\r", 1)[1]


def test_quick_work_prints_nothing_before_the_delay():
    stream = Terminal()
    run(Progress(5, "checking", delay=60, stream=stream), 5)
    assert stream.getvalue() == ""
