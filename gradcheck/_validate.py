"""Tiny argument checkers shared by every public function's ``_validate_<fn>()``.

Each returns the normalized value or raises an error from :mod:`gradcheck.errors`
whose message names the argument, what was expected and what was received.
"""

from __future__ import annotations

import inspect
import os
import tempfile
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from gradcheck.errors import (
    InvalidArgumentError,
    InvalidTypeError,
    LossValueError,
    describe_shape,
    leaf_of,
)


def check_type(name: str, value: Any, types: type | tuple[type, ...], what: str) -> Any:
    """Return `value` if it is an instance of `types`; else raise naming `what` was expected."""
    if not isinstance(value, types) or isinstance(value, bool) and bool not in _as_tuple(types):
        raise InvalidTypeError(f"`{name}` must be {what}; got {value!r} ({type(value).__name__}).")
    return value


def _as_tuple(types: type | tuple[type, ...]) -> tuple[type, ...]:
    return types if isinstance(types, tuple) else (types,)


def check_callable(name: str, value: Any, call: str | None = None) -> Callable:
    """Return `value` if it is callable (and, given `call` such as "loss(params)", takes its args).

    The arguments are counted from `call`; a callable whose signature cannot be read
    (some builtins) is trusted.

    Examples
    --------
    >>> check_callable("loss", lambda params: 0.0, "loss(params)").__name__
    '<lambda>'
    """
    if not callable(value):
        raise InvalidTypeError(
            f"`{name}` must be a callable; got {type(value).__name__}. Pass the function itself, "
            f"not its result (e.g. `{name}=my_{name}`, not `{name}=my_{name}(params)`)."
        )
    if call is not None:
        _check_arity(name, value, call)
    return value


def _check_arity(name: str, value: Callable, call: str) -> None:
    inside = call[call.index("(") + 1 : call.rindex(")")]
    n_args = len([a for a in inside.split(",") if a.strip()])
    try:
        signature = inspect.signature(value)
    except (TypeError, ValueError):
        return
    try:
        signature.bind(*range(n_args))
    except TypeError:
        raise InvalidTypeError(
            f"`{name}` is called as `{call}`, with {n_args} positional argument"
            f"{'' if n_args == 1 else 's'}, but its signature is {name}{signature}. "
            f"Define it as `def {call}: ...` (wrap other arguments with a lambda or "
            "functools.partial)."
        ) from None


def check_choice(name: str, value: Any, choices: Iterable[str]) -> str:
    """Return `value` if it is one of `choices`; else list the valid ones."""
    choices = list(choices)
    if value not in choices:
        valid = ", ".join(repr(c) for c in choices)
        raise InvalidArgumentError(f"`{name}`={value!r} is not one of {valid}.")
    return value


def check_positive(name: str, value: Any, *, allow_none: bool = True, strict: bool = True) -> Any:
    """Return `value` if it is a positive (or non-negative, `strict=False`) real number."""
    if value is None and allow_none:
        return None
    check_type(name, value, (int, float, np.integer, np.floating), "a real number")
    try:
        number = float(value)
    except OverflowError:
        number = float("inf")  # an int beyond any float: refused below as not finite
    ok = number > 0 if strict else number >= 0
    if not ok or not np.isfinite(number):
        bound = "> 0" if strict else ">= 0"
        shown = repr(value) if len(repr(value)) <= 40 else f"an int of {len(str(value))} digits"
        raise InvalidArgumentError(f"`{name}` must be finite and {bound}; got {name}={shown}.")
    return value


def check_seed(name: str, value: Any) -> int:
    """Return `value` as an int seed >= 0 (what ``np.random.default_rng`` accepts).

    Examples
    --------
    >>> check_seed("seed", 3)
    3
    """
    check_type(name, value, (int, np.integer), "an int >= 0")
    if value < 0:
        raise InvalidArgumentError(
            f"`{name}` must be >= 0 (numpy seeds are non-negative); got {name}={value}. "
            f"Try {name}=0."
        )
    return int(value)


def order_check(name: str, low: float, high: float, low_name: str, high_name: str) -> None:
    """Raise unless ``low <= high`` (for min/max argument pairs)."""
    if low > high:
        raise InvalidArgumentError(
            f"Cannot have {low_name}={low!r} > {high_name}={high!r} for `{name}`: "
            f"pass {low_name} <= {high_name}."
        )


def check_float_leaves(name: str, leaves: Mapping[str, np.ndarray]) -> None:
    """Raise :class:`InvalidTypeError` for a leaf that is not floating point (or complex)."""
    for path, leaf in leaves.items():
        if not (np.issubdtype(leaf.dtype, np.floating) or np.iscomplexobj(leaf)):
            what = _NOT_FLOAT.get(leaf.dtype.kind, "values that are not real numbers")
            raise InvalidTypeError(
                f"{leaf_of(name, path)} has dtype {leaf.dtype}; expected a float dtype. "
                f"Finite differences cannot perturb {what}: convert it with "
                f"`.astype(np.float64)` (or leave it out of `{name}`)."
            )


# dtype.kind -> what a finite difference cannot perturb, for the message above
_NOT_FLOAT = {
    "i": "integers",
    "u": "integers",
    "b": "booleans (True/False)",
    "O": "Python objects (dtype=object: build the array from floats)",
    "U": "strings",
    "S": "strings",
    "M": "dates",
    "m": "time differences",
}


def check_batch(name: str, value: Any) -> np.ndarray:
    """Return `value` as a float array (batch, features...) with samples, all finite.

    Examples
    --------
    >>> check_batch("x", [[1.0, 2.0]]).shape
    (1, 2)
    """
    x = np.asarray(value)
    if not np.issubdtype(x.dtype, np.floating) or x.ndim < 2:
        raise InvalidTypeError(
            f"`{name}` must be a float array (batch, features...); got a {describe_shape(x)}. "
            "For one sample use x[None, :]."
        )
    if x.shape[0] == 0:
        raise InvalidArgumentError(
            f"`{name}` has shape {x.shape}: an empty batch (0 samples), so no layer sees any "
            "input. Pass at least one sample (a few make the batch-independence check useful)."
        )
    bad = int(x.size - np.count_nonzero(np.isfinite(x)))
    if bad:
        first = tuple(int(i) for i in np.argwhere(~np.isfinite(x))[0])
        raise InvalidArgumentError(
            f"`{name}` holds {bad} NaN or infinite entries (the first at index {first}); "
            "finite differences need a finite input. Clean the batch first."
        )
    return x


def check_scalar_loss(value: Any, where: str = "`loss(params)`") -> float:
    """Return the loss as a Python float, or raise :class:`LossValueError` saying why not."""
    array = np.asarray(value)
    if array.size != 1:
        raise LossValueError(
            f"{where} must return one number; got an array of shape {array.shape}. "
            "Reduce it with .sum() or .mean() (the gradient must match that choice)."
        )
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        raise LossValueError(f"{where} must return a number; got {type(value).__name__}.")
    number = array.reshape(()).item()
    if isinstance(number, complex):
        number = number.real
    if not np.isfinite(number):
        raise LossValueError(
            f"{where} returned {number}; the loss must be finite at the checked point. "
            "Check for log(0), exp overflow or a division by zero at these parameters."
        )
    return float(number)


MAX_NAME = 255  # bytes per path component on the usual file systems
MAX_PATH = 4096  # bytes per path (Linux PATH_MAX)


def _path_text(name: str, value: Any, fix: str) -> str:
    if isinstance(value, bytes | bytearray) or not isinstance(value, str | os.PathLike):
        raise InvalidTypeError(
            f"`{name}` must be a path (str or pathlib.Path); got {value!r} "
            f"({type(value).__name__}). {fix}"
        )
    text = os.fspath(value)
    if isinstance(text, bytes):
        raise InvalidTypeError(f"`{name}` must be a str path, not bytes; got {text!r}. {fix}")
    if not text.strip():
        raise InvalidArgumentError(f"`{name}` is empty ({text!r}). {fix}")
    if "\0" in text:
        raise InvalidArgumentError(f"`{name}`={text!r} contains a NUL character. {fix}")
    encoded = [len(os.fsencode(part)) for part in Path(text).parts]
    if len(os.fsencode(text)) > MAX_PATH or max(encoded, default=0) > MAX_NAME:
        raise InvalidArgumentError(
            f"`{name}` is too long ({len(text)} characters; a path holds at most {MAX_PATH} "
            f"bytes and each name {MAX_NAME}): pass a shorter path."
        )
    return text


def _writable_parent(name: str, path: Path, fix: str, folder: bool = False) -> None:
    ancestor = path if folder else path.parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise InvalidArgumentError(
            f"`{name}`={str(path)!r} lies under {str(ancestor)!r}, which is a file, not a "
            f"folder. {fix}"
        )
    try:  # a probe file, gone on close: permissions, read-only mounts, /proc...
        tempfile.TemporaryFile(dir=ancestor).close()
    except OSError as exc:
        raise InvalidArgumentError(
            f"`{name}`={str(path)!r}: cannot write in {str(ancestor)!r} "
            f"({exc.strerror or exc}). {fix}"
        ) from None


def check_output_path(
    name: str, value: Any, suffixes: Iterable[str], fix: str = "Pass e.g. 'report.html'."
) -> Path:
    """Return `value` as a Path one can write a file to, or raise before any work is done.

    Checks: a str/PathLike (not bytes or None), not empty, no NUL, not too long, not an
    existing folder, one of `suffixes` (case-insensitive), and a writable folder above it
    (probed with a temporary file; its missing folders will be created when writing).

    Examples
    --------
    >>> check_output_path("path", "out/report.md", (".md",)).name
    'report.md'
    """
    path = Path(_path_text(name, value, fix))
    valid = tuple(suffixes)
    if path.is_dir():
        raise InvalidArgumentError(
            f"`{name}`={str(path)!r} is a folder; pass a file name in it, e.g. "
            f"{str(path / ('report' + valid[0]))!r}."
        )
    if path.suffix.lower() not in valid:
        choices = ", ".join(repr(s) for s in valid)
        raise InvalidArgumentError(
            f"`{name}`={str(path)!r} has suffix {path.suffix!r}; expected one of {choices}."
        )
    if path.exists() and not os.access(path, os.W_OK):
        raise InvalidArgumentError(f"`{name}`={str(path)!r} exists and is read-only. {fix}")
    _writable_parent(name, path, fix)
    return path


def check_output_dir(name: str, value: Any, fix: str = "Pass e.g. 'gradcheck-demo'.") -> Path:
    """Return `value` as a Path to a folder that exists or can be created, else raise.

    Examples
    --------
    >>> check_output_dir("out", "results/run1").name
    'run1'
    """
    path = Path(_path_text(name, value, fix))
    if path.exists() and not path.is_dir():
        raise InvalidArgumentError(f"`{name}`={str(path)!r} is a file, not a folder. {fix}")
    _writable_parent(name, path, fix, folder=True)
    return path
