"""The ``gradcheck`` command line: a dispatcher over the subcommand modules.

Each subcommand lives in ``gradcheck/commands/<name>.py`` and defines ``HELP`` (one line),
``add_arguments(parser)`` and ``run(args) -> int`` (the exit status). Heavy imports
happen inside ``run``, so ``gradcheck --help`` stays fast.

Exit statuses (contract): 0 success / check passed, 1 check failed or inconclusive,
2 bad usage or input, 3 the user's own code raised (their traceback is printed),
4 an internal error of gradcheck (a bug: the message says so).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from gradcheck import __version__
from gradcheck.errors import GradcheckError

COMMANDS = ("demo", "train", "check", "report", "protocol-test")

EXIT_STATUSES = (
    "exit status: 0 success (check passed), 1 check failed or inconclusive, 2 bad usage or "
    "input, 3 your own code raised (its traceback is printed), 4 internal error (a gradcheck "
    "bug)"
)


def _load(name: str):
    return importlib.import_module(f"gradcheck.commands.{name.replace('-', '_')}")


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser with one subparser per available subcommand."""
    parser = argparse.ArgumentParser(
        prog="gradcheck",
        description="Find what is wrong with your backprop, and with your training.",
        epilog=EXIT_STATUSES,
    )
    parser.add_argument("--version", action="version", version=f"gradcheck {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = _load(name)
        except ModuleNotFoundError as exc:
            if exc.name != f"gradcheck.commands.{name.replace('-', '_')}":
                raise
            continue
        command = sub.add_parser(
            name,
            help=module.HELP,
            description=getattr(module, "DESCRIPTION", module.HELP),
            epilog=getattr(module, "EPILOG", EXIT_STATUSES),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        module.add_arguments(command)
        command.set_defaults(run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "run", None) is None:
        parser.print_help()  # `gradcheck` alone asks what it can do: that is no error
        return 0
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
    except Exception as exc:
        return _crash(args.command, exc)


def _crash(command: str, exc: Exception) -> int:
    from gradcheck.commands import _failure

    if _failure.is_user_code(exc):
        return _failure.report_user_error(command, exc)
    return _failure.report_internal_error(command, exc)


if __name__ == "__main__":
    raise SystemExit(main())
