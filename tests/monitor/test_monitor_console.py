"""Console output for `gradcheck train --monitor`: findings as they happen, then a table."""

import io

import pytest
from _monitor_nets import run

from gradcheck.errors import InvalidArgumentError
from gradcheck.monitor import Monitor
from gradcheck.monitor.console import ConsoleObserver, format_finding, format_summary
from gradcheck.monitor.findings import make_finding


def test_console_prints_each_finding_once_then_a_summary():
    out = io.StringIO()
    printer = ConsoleObserver(Monitor(), stream=out)
    run(printer, steps=20, lr=-0.1)
    text = out.getvalue()
    assert text.count("ascent in `dense1.W`") == 1
    assert "[x] step 1  ascent" in text and "try: Check the update's sign" in text
    printer.print_summary()
    table = out.getvalue()[len(text) :]
    assert table.startswith("monitor: 20 observations")
    assert "severity" in table and "ascent" in table and "dense1.W" in table


def test_min_severity_filters_printing():
    out = io.StringIO()
    printer = ConsoleObserver(stream=out, min_severity="error")
    for step in range(120):
        printer.observe(step, loss=2.0)  # a plateau: a warning, not printed
    assert out.getvalue() == ""
    assert [f.code for f in printer.monitor.findings] == ["loss_plateau"]


def test_min_severity_must_be_a_severity():
    with pytest.raises(InvalidArgumentError, match="`min_severity`='warn'.*'warning'"):
        ConsoleObserver(min_severity="warn")


def test_summary_of_healthy_run_and_from_dict():
    mon = run(Monitor(), steps=5)
    assert "no findings" in format_summary(mon)
    assert "no findings" in format_summary(mon.to_dict())


def test_format_finding_without_name():
    f = make_finding("exploding_gradient", None, 3, {"value": 1e9, "reason": "big"})
    assert format_finding(f).startswith("[!] step 3  exploding_gradient: ")
