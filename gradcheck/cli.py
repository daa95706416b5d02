"""The ``gradcheck`` command line: a dispatcher over the subcommand modules.

Each subcommand lives in ``gradcheck/commands/<name>.py`` and defines ``HELP`` (one line),
``add_arguments(parser)`` and ``run(args) -> int`` (the exit status). Heavy imports
happen inside ``run``, so ``gradcheck --help`` stays fast.

Exit statuses: 0 success / check passed, 1 check failed, 2 bad input.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from gradcheck.errors import GradcheckError

COMMANDS = ("demo", "train", "check", "report", "protocol-test")


def _load(name: str):
    return importlib.import_module(f"gradcheck.commands.{name.replace('-', '_')}")


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser with one subparser per available subcommand."""
    parser = argparse.ArgumentParser(
        prog="gradcheck",
        description="Find what is wrong with your backprop, and with your training.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = _load(name)
        except ModuleNotFoundError as exc:
            if exc.name != f"gradcheck.commands.{name.replace('-', '_')}":
                raise
            continue
        command = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(command)
        command.set_defaults(run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "run", None) is None:
        parser.print_help()
        return 2
    try:
        return int(args.run(args))
    except GradcheckError as exc:
        print(f"gradcheck {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `gradcheck ... | head`: the reader left; say nothing more
        sys.stdout = None
        return 141


if __name__ == "__main__":
    raise SystemExit(main())
