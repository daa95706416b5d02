"""``gradcheck protocol-test --cmd "PROGRAM ARGS"``: test a program's protocol.

Runs the conformance checks of :mod:`gradcheck.checking.conformance` and prints one line
per rule. Exit status: 0 every check passed, 1 some rule is broken (the lines say which
and how), 2 bad usage.
"""

from __future__ import annotations

import argparse
import json

HELP = "test that a program speaks the gradcheck line protocol (exit 0 ok, 1 violations)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``gradcheck protocol-test``."""
    parser.add_argument("--cmd", required=True, metavar='"PROGRAM ARGS"', help="the program")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per answer")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")


def run(args: argparse.Namespace) -> int:
    """Run the conformance test; print its report; return 0 (conforms) or 1."""
    from gradcheck.checking.conformance import protocol_test

    report = protocol_test(args.cmd, timeout=args.timeout, echo_stderr=True)
    print(json.dumps(report.to_dict(), indent=2) if args.json else report)
    return 0 if report.passed else 1
