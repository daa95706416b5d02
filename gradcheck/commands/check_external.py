"""``gradcheck check --cmd "PROGRAM ARGS"``: check a program in any language over the protocol.

The program is started (split with shlex, never run by a shell), speaks
``gradcheck-protocol 1`` (``docs/protocol.md``) and is checked like a Python problem: the
same flags, ``--layers`` for the layer-by-layer check, ``--json``. Exit status: 0 passed,
1 failed or inconclusive, 2 bad usage or a program that broke the protocol (exited,
hung, answered malformed lines); the program is always stopped and reaped.
"""

from __future__ import annotations

import argparse
import json
import sys

from gradcheck.errors import InvalidArgumentError

#: Options only a program check has, and those it shares with the Python check (each is
#: added here only if the Python check does not define it already).
_OWN = {
    "--cmd": {"metavar": '"PROGRAM ARGS"', "help": "check a program over the line protocol"},
    "--timeout": {"type": float, "default": 30.0, "help": "seconds per answer (--cmd)"},
    "--layers": {"action": "store_true", "help": "check layer by layer"},
    "--rtol": {"type": float, "default": None, "help": "relative tolerance override"},
    "--atol": {"type": float, "default": None, "help": "absolute tolerance override"},
    "--eps": {"type": float, "default": None, "help": "finite-difference step override"},
    "--batch-size": {"type": int, "default": None, "help": "batch size (scale diagnoses)"},
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--cmd``, ``--timeout`` and the shared flags the Python check lacks."""
    for flag, options in _OWN.items():
        try:
            parser.add_argument(flag, **options)
        except argparse.ArgumentError:
            continue  # the Python check already defines this flag: share it


def _options(args: argparse.Namespace) -> dict:
    names = ("rtol", "atol", "seed", "batch_size", "executor")
    return {name: getattr(args, name, None) for name in names}


def _check(program, args: argparse.Namespace):
    options = _options(args)
    if args.layers:
        from gradcheck.checking.layers import check_layers

        if not program.layers:
            raise InvalidArgumentError(
                f"`--layers`: the program `{program.child.name}` declares no layer; declare "
                "each as `layer NAME PARAM1 ...` before `end`, or drop `--layers`."
            )
        mode = "directional" if args.directions else "full"
        extra = {"directions": args.directions} if args.directions else {}
        return check_layers(program.layers, program.input(), mode=mode, **options, **extra)
    from gradcheck.checking.gradient import check_gradient

    return check_gradient(
        program.loss,
        program.grad,
        program.params,
        method=args.method,
        sample=args.sample,
        directions=args.directions,
        eps=getattr(args, "eps", None),
        **options,
    )


def run(args: argparse.Namespace) -> int:
    """Check the program; print the report; return 0 (passed) or 1 (failed/inconclusive)."""
    from gradcheck.checking.external import Program

    with Program(args.cmd, timeout=args.timeout, seed=args.seed) as program:
        report = _check(program, args)
    print(json.dumps(report.to_dict(), indent=2) if args.json else report)
    sys.stdout.flush()
    return 0 if report.passed else 1
