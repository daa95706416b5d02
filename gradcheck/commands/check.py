"""``gradcheck check FILE.py:FACTORY``: check the gradient a factory function sets up.

``FACTORY()`` returns ``{"loss", "grad", "params"}`` (a function-style check) or
``{"layers", "x"}`` (a layer-by-layer check), optionally with ``"batch_size"``. Exit
status: 0 passed, 1 failed or inconclusive, 2 bad usage or input (missing file or
factory, wrong keys; the message says which), 3 the user's own code raised.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

from gradcheck.commands import check_external, check_parallel
from gradcheck.commands._failure import UserCodeFailure
from gradcheck.commands.check_jacobian import JACOBIAN_FACTORIES, check_jacobian, jacobian_keys
from gradcheck.errors import InvalidArgumentError
from gradcheck.numeric.stencils import STENCILS

HELP = "check a gradient or a layer stack set up by FILE.py:FACTORY"
DESCRIPTION = f"""{HELP}.

FACTORY is a function of FILE.py called with no arguments. It returns a dict, either
  {{"loss": loss, "grad": grad, "params": params}}   a function-style check, where
      loss(params) -> float and grad(params) -> the same tree as params
      (params: an array, or a dict/list/tuple nesting arrays), or
  {{"layers": [layer, ...], "x": x}}                  a layer-by-layer check, where each
      layer has .params (dict of arrays), .forward(x) and .backward(dout) setting .grads
      (wrap course-style functions with gradcheck.adapters.FunctionPairLayer).
Either may add "batch_size": n, so a factor equal to the batch size is recognised
(--batch-size overrides it).

example:  gradcheck check my_net.py:make_problem --rtol 1e-6 --json"""
EPILOG = (
    "exit status: 0 passed, 1 failed or inconclusive, 2 bad usage or input, 3 your own "
    "code raised (its traceback is printed), 4 internal error (a gradcheck bug)"
)

_FUNCTION_KEYS = ("loss", "grad", "params")
_LAYER_KEYS = ("layers", "x")
_FUNCTION_ONLY = {"eps": None, "method": None, "sample": None}  # name -> default


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
    parser.add_argument(
        "target", metavar="FILE.py:FACTORY", nargs="?", help="file and factory function"
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument(
        "--method",
        default=None,
        choices=tuple(STENCILS),
        help="FD method (default: central; richardson with --directions)",
    )
    parser.add_argument(
        "--sample", type=_sample, default=None, help="entries per parameter (int or fraction)"
    )
    parser.add_argument(
        "--directions", type=int, default=None, help="certify with K random directions"
    )
    parser.add_argument("--rtol", type=float, default=None, help="relative tolerance")
    parser.add_argument("--atol", type=float, default=None, help="absolute tolerance")
    parser.add_argument("--eps", type=float, default=None, help="finite-difference step")
    parser.add_argument(
        "--batch-size", type=int, default=None, help="batch size (recognises 1/N factors)"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed for sampling/directions")
    check_external.add_arguments(parser)  # --cmd "PROGRAM ARGS": any language (issue 15)
    check_parallel.add_arguments(parser)  # --workers N / --scheduler ADDRESS (issue 16)


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
    except Exception as exc:  # importing runs the user's code: its errors are theirs
        raise UserCodeFailure(exc) from exc
    factory = getattr(module, name, None)
    if not callable(factory):
        found = sorted(n for n, v in vars(module).items() if callable(v) and not n.startswith("_"))
        raise InvalidArgumentError(
            f"{str(path)!r} has no function `{name}`; callables found: {found}."
        )
    return factory


def _problem(factory: Any, name: str) -> dict:
    try:
        problem = factory()
    except Exception as exc:
        raise UserCodeFailure(exc) from exc
    keys = set(problem) if isinstance(problem, dict) else None
    if keys is not None and (keys >= set(_FUNCTION_KEYS) or keys >= set(_LAYER_KEYS)):
        return problem
    if jacobian_keys(problem) is not None:
        return problem
    got = sorted(map(str, keys)) if keys is not None else type(problem).__name__
    others = "".join(f" or {list(k)}" for k in JACOBIAN_FACTORIES)
    raise InvalidArgumentError(
        f"`{name}()` must return a dict with keys {list(_FUNCTION_KEYS)} or "
        f"{list(_LAYER_KEYS)}{others}; got {got}. See `gradcheck check --help`."
    )


def _common(problem: dict, args: argparse.Namespace) -> dict:
    batch_size = args.batch_size if args.batch_size is not None else problem.get("batch_size")
    common = {"rtol": args.rtol, "atol": args.atol, "seed": args.seed, "batch_size": batch_size}
    return {**common, "executor": getattr(args, "executor", None)}


def _check_layers(problem: dict, args: argparse.Namespace):
    given = [f"--{k}" for k, default in _FUNCTION_ONLY.items() if getattr(args, k) != default]
    if given:
        raise InvalidArgumentError(
            f"{', '.join(given)} apply to function-style checks ({list(_FUNCTION_KEYS)}); "
            "a layer check chooses its own steps: leave them out."
        )
    from gradcheck.checking.layers import check_layers

    mode = "directional" if args.directions else "full"
    extra = {"directions": args.directions} if args.directions else {}
    return check_layers(
        problem["layers"], problem["x"], mode=mode, **extra, **_common(problem, args)
    )


def _check_function(problem: dict, args: argparse.Namespace):
    from gradcheck.checking.gradient import check_gradient

    return check_gradient(
        problem["loss"],
        problem["grad"],
        problem["params"],
        method=args.method,
        eps=args.eps,
        sample=args.sample,
        directions=args.directions,
        **_common(problem, args),
    )


def _text(report: Any) -> str:
    """Return the report's table, then each failing layer's diagnoses in full."""
    lines = [str(report)]
    failing = [layer for layer in getattr(report, "layers", []) if not layer.passed]
    for layer in failing:
        lines.append(f"diagnoses of layer #{layer.index} ({layer.name}):")
        lines += [_diagnosis_line(d) for d in layer.diagnoses]
    return "\n".join(lines)


def _diagnosis_line(d: Any) -> str:
    return f"  [{d.kind} {d.path}, confidence {d.confidence:.2f}] {d.message}"


def _json(report: Any) -> str:
    from gradcheck.report._format import full_verdict

    data = report.to_dict()
    for layer in data.get("layers") or []:
        layer["verdict"] = full_verdict(layer)
    return json.dumps(data, indent=2)


def run(args: argparse.Namespace) -> int:
    """Run the check; print the report; return 0 (passed), 1 (failed) or 2 (bad input)."""
    with check_parallel.executor_of(args) as args.executor:
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    if (args.cmd is None) == (args.target is None):
        raise InvalidArgumentError(
            'give either FILE.py:FACTORY or --cmd "PROGRAM ARGS" (exactly one of them).'
        )
    if args.cmd is not None:
        return check_external.run(args)
    path, name = _split_target(args.target)
    problem = _problem(_load_factory(path, name), name)
    if jacobian_keys(problem) is not None:
        report = check_jacobian(problem, args)
    elif problem.keys() >= set(_FUNCTION_KEYS):
        report = _check_function(problem, args)
    else:
        report = _check_layers(problem, args)
    print(_json(report) if args.json else _text(report))
    sys.stdout.flush()
    return 0 if report.passed else 1
