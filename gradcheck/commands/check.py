"""``gradcheck check FILE.py:FACTORY``: check the gradient a factory function sets up.

``FACTORY()`` returns ``{"loss", "grad", "params"}`` (a function-style check) or
``{"layers", "x"}`` (a layer-by-layer check). Exit status: 0 passed, 1 failed, 2 bad
input (missing file or factory, wrong keys; the message says which).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

from gradcheck.errors import InvalidArgumentError
from gradcheck.numeric.stencils import METHODS

HELP = "check a gradient set up by FILE.py:FACTORY (exit 0 pass, 1 fail, 2 bad input)"

_FUNCTION_KEYS = ("loss", "grad", "params")
_LAYER_KEYS = ("layers", "x")


def _sample(text: str) -> int | float:
    for parse in (int, float):
        try:
            return parse(text)
        except ValueError:
            pass
    raise argparse.ArgumentTypeError(
        f"expected an int (entries per parameter) or a fraction in (0, 1]; got {text!r}"
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``gradcheck check``."""
    parser.add_argument("target", metavar="FILE.py:FACTORY", help="file and factory function")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument(
        "--method",
        default=None,
        choices=METHODS,
        help="FD method (default: central; richardson with --directions)",
    )
    parser.add_argument(
        "--sample", type=_sample, default=None, help="entries per parameter (int or fraction)"
    )
    parser.add_argument("--directions", type=int, default=None, help="random directions K")
    parser.add_argument("--seed", type=int, default=0, help="seed for sampling/directions")


def _split_target(target: str) -> tuple[Path, str]:
    path, sep, factory = target.rpartition(":")
    if not sep or not path or not factory:
        raise InvalidArgumentError(
            f"`FILE.py:FACTORY` expected, got {target!r}: name the file and the function, "
            "e.g. `gradcheck check mynet.py:make_problem`."
        )
    return Path(path), factory


def _load_factory(path: Path, name: str):
    if not path.is_file():
        raise InvalidArgumentError(f"file {str(path)!r} does not exist (from `{path}:{name}`).")
    spec = importlib.util.spec_from_file_location(f"_gradcheck_target_{path.stem}", path)
    if spec is None:
        raise InvalidArgumentError(
            f"cannot import {str(path)!r} (from `{path}:{name}`): expected a Python file "
            "ending in .py; rename it or point to the .py file that defines the factory."
        )
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        raise InvalidArgumentError(
            f"importing {str(path)!r} failed: {type(exc).__name__}: {exc}"
        ) from exc
    factory = getattr(module, name, None)
    if not callable(factory):
        found = sorted(n for n, v in vars(module).items() if callable(v) and not n.startswith("_"))
        raise InvalidArgumentError(
            f"{str(path)!r} has no function `{name}`; callables found: {found}."
        )
    return factory


def _problem(factory: Any, name: str) -> dict:
    problem = factory()
    keys = set(problem) if isinstance(problem, dict) else None
    if keys is not None and (keys >= set(_FUNCTION_KEYS) or keys >= set(_LAYER_KEYS)):
        return problem
    got = sorted(map(str, keys)) if keys is not None else type(problem).__name__
    raise InvalidArgumentError(
        f"`{name}()` must return a dict with keys {list(_FUNCTION_KEYS)} or "
        f"{list(_LAYER_KEYS)}; got {got}."
    )


def _check_layers(problem: dict, args: argparse.Namespace):
    try:
        from gradcheck.layers import check_layers
    except ImportError as exc:
        raise InvalidArgumentError(
            f"layer checks ({{'layers', 'x'}}) are not available in this build: {exc}"
        ) from exc
    mode = "directional" if args.directions else "full"
    extra = {"directions": args.directions} if args.directions else {}
    return check_layers(problem["layers"], problem["x"], seed=args.seed, mode=mode, **extra)


def _check_function(problem: dict, args: argparse.Namespace):
    from gradcheck.check import check_gradient

    return check_gradient(
        problem["loss"], problem["grad"], problem["params"], method=args.method,
        sample=args.sample, directions=args.directions, seed=args.seed,
    )  # fmt: skip


def run(args: argparse.Namespace) -> int:
    """Run the check; print the report; return 0 (passed), 1 (failed) or 2 (bad input)."""
    path, name = _split_target(args.target)
    problem = _problem(_load_factory(path, name), name)
    if problem.keys() >= set(_FUNCTION_KEYS):
        report = _check_function(problem, args)
    else:
        report = _check_layers(problem, args)
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        print(report)
    sys.stdout.flush()
    return 0 if report.passed else 1
