"""The layer contract, enforced: every call into a user's layer, on private copies, validated.

:class:`LayerRunner` is how :func:`gradcheck.check_layers` talks to a layer. It hands
``forward`` and ``backward`` private copies (a layer that writes into its input or its
upstream gradient is checked all the same, with a note), validates what they return
(an array, of floats, finite; ``grads`` with the keys of ``params``) and turns anything
that breaks the contract -- None, a tuple where an array belongs, an exception raised
inside the user's code -- into :class:`LayerBroken`, which carries the diagnosis that
becomes the layer's FAILED verdict. Messages name the user's function (``relu_backward``),
never gradcheck's internals.
"""

from __future__ import annotations

import sysconfig
import traceback
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from gradcheck.diagnose.arrays import Diagnosis
from gradcheck.errors import GradcheckError, InvalidTypeError

_PACKAGE = str(Path(__file__).resolve().parent)
_REFERENCE = str(Path(_PACKAGE) / "nn")  # the reference layers are a user of the checker
_NUMPY = str(Path(np.__file__).resolve().parent)
_INSTALLED = tuple({sysconfig.get_paths()[key] for key in ("purelib", "platlib")})
_STDLIB = tuple({sysconfig.get_paths()[key] for key in ("stdlib", "platstdlib")})


class LayerContractError(InvalidTypeError):
    """An adapter's layer function returned something the contract does not allow."""


class LayerBroken(GradcheckError):
    """A layer broke the contract: raised inside a check, caught by :func:`check_layers`."""

    def __init__(self, diagnosis: Diagnosis) -> None:
        super().__init__(diagnosis.message)
        self.diagnosis = diagnosis


def function_label(layer: Any, name: str, role: str) -> str:
    """Return how messages name a layer's `role` ("forward"/"backward") function.

    A course-style adapter knows the user's function (`relu_backward`); any other layer
    is named by its method (`relu1.backward`).
    """
    names = getattr(layer, "function_names", None)
    if isinstance(names, Mapping) and names.get(role):
        return f"`{names[role]}` (the {role} of layer `{name}`)"
    return f"`{name}.{role}`"


def broken(path: str, message: str, kind: str = "other", **evidence: Any) -> LayerBroken:
    """Return the :class:`LayerBroken` of a contract violation at `path`."""
    return LayerBroken(Diagnosis(kind, path, 1.0, message, {"contract": True, **evidence}))


def _is_user_file(filename: str) -> bool:
    """Whether a traceback frame belongs to the user (not gradcheck's machinery or libraries)."""
    path = str(Path(filename).resolve()) if filename and filename[0] != "<" else filename
    if path.startswith(_PACKAGE):
        return path.startswith(_REFERENCE)
    if path.startswith(_NUMPY):
        return False
    return path.startswith(_INSTALLED) or not path.startswith(_STDLIB)


def user_frames(exc: BaseException) -> list:
    """Return the frames of `exc`'s traceback that are the user's code."""
    return [f for f in traceback.extract_tb(exc.__traceback__) if _is_user_file(f.filename)]


def user_frame(exc: BaseException) -> str:
    """Return where in the user's code `exc` was raised: "in `f` (file.py:12: `line`)"."""
    mine = user_frames(exc)
    if not mine:
        return ""
    frame = mine[-1]
    line = f": `{frame.line.strip()}`" if frame.line else ""
    return f" in `{frame.name}` ({Path(frame.filename).name}:{frame.lineno}{line})"


def is_the_layers_fault(exc: BaseException) -> bool:
    """Whether `exc` comes from the layer's own code or contract, not gradcheck's machinery.

    A protocol fault or a closed pipe raised by gradcheck's own layer wrappers (a program
    checked over stdin/stdout) is not a verdict on the layer: it propagates.
    """
    return isinstance(exc, LayerBroken | LayerContractError) or bool(user_frames(exc))


def raised(layer: Any, name: str, role: str, exc: Exception) -> LayerBroken:
    """Return the diagnosis of an exception raised inside the user's `role` function."""
    if isinstance(exc, LayerBroken):
        return exc
    label = function_label(layer, name, role)
    if isinstance(exc, LayerContractError):  # an adapter's message, naming the user's function
        return broken(f"{name}.{role}", f"`{name}`: {exc}")
    message = (
        f"{label} raised {type(exc).__name__}: {exc}{user_frame(exc)}. Fix the exception "
        "(run the layer on this input by hand) and check again."
    )
    return broken(f"{name}.{role}", message, raised=type(exc).__name__)


def describe_returned(value: Any) -> str:
    """Return "None", "an ndarray", "a tuple of 2"... for messages about returned values."""
    kind = type(value).__name__
    article = "an" if kind[0] in "aeiou" or kind == "ndarray" else "a"
    if isinstance(value, tuple | list):
        return f"{article} {kind} of {len(value)}"
    return "None" if value is None else f"{article} {kind}"


def as_float_array(value: Any, label: str, path: str, what: str, hint: str) -> np.ndarray:
    """Return `value` as a float array, or raise :class:`LayerBroken` naming what it was.

    `label` is the subject of the message, e.g. "`relu1.forward` returned".
    """
    if value is None or isinstance(value, tuple | list | Mapping):
        message = f"{label} {describe_returned(value)}; expected {what}. {hint}".rstrip()
        raise broken(path, message, returned=describe_returned(value))
    try:
        array = np.array(value)
    except Exception:  # noqa: BLE001 -- any unconvertible object is a contract break
        array = np.array(None, dtype=object)
    if array.dtype.kind not in "fiu" or array.dtype.kind == "b":
        message = (
            f"{label} {describe_returned(value)} with dtype {array.dtype}; expected {what} "
            "of floats. Is it right (a mask or a comparison instead of a value)?"
        )
        raise broken(path, message, dtype=str(array.dtype))
    return array.astype(np.result_type(array.dtype, np.float32), copy=False)


class LayerRunner:
    """Call one layer's forward and backward on private copies; validate; collect notes.

    Parameters
    ----------
    layer : object
        The user's layer (``params``, ``forward``, ``backward``, ``grads``).
    name : str
        Its name in reports.
    """

    def __init__(self, layer: Any, name: str) -> None:
        self.layer, self.name = layer, name
        self.notes: list[str] = []
        self.fault: Exception | None = None

    def label(self, role: str) -> str:
        """Return how messages name the layer's `role` function."""
        return function_label(self.layer, self.name, role)

    def note(self, text: str) -> None:
        """Record a hygiene note once."""
        if text not in self.notes:
            self.notes.append(text)

    def _call(self, role: str, argument: np.ndarray, what: str) -> Any:
        if self.fault is not None:  # the machinery failed before (a dead program): say so again
            raise self.fault
        given = np.array(argument)
        try:
            returned = getattr(self.layer, role)(given)
        except Exception as exc:  # the user's code: attributed, not re-raised
            if not is_the_layers_fault(exc):
                self.fault = exc  # sticky, even if a caller in between swallows it
                raise
            raise raised(self.layer, self.name, role, exc) from exc
        if given.shape != np.shape(argument) or not np.array_equal(given, argument, equal_nan=True):
            self.note(
                f"{self.label(role)} wrote into its {what} in place; checked on private "
                "copies, so the verdict holds, but a caller reusing that array sees it changed."
            )
        return returned

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Return ``layer.forward(copy of x)`` as a float array (a copy), validated."""
        out = self._call("forward", x, "input x")
        label = self.label("forward")
        hint = (
            "A forward that returns (out, cache) is course style: wrap it in "
            "gradcheck.adapters.FunctionPairLayer."
            if isinstance(out, tuple | list)
            else "Is the function finished (`return out`)?"
        )
        return as_float_array(out, f"{label} returned", f"{self.name}.forward", "an array", hint)

    def backward(self, g: np.ndarray, x_shape: tuple) -> np.ndarray | None:
        """Return ``layer.backward(copy of g)`` as a float array; None when it returned None."""
        dx = self._call("backward", g, "upstream gradient dout")
        if dx is None:
            return None
        hint = (
            "backward returns only dx; parameter gradients go into `grads` (or use "
            "gradcheck.adapters.FunctionPairLayer for the (dx, dW, db) style)."
            if isinstance(dx, tuple | list)
            else ""
        )
        what = f"the array dx of shape {tuple(x_shape)}"
        label = f"{self.label('backward')} returned"
        return as_float_array(dx, label, f"{self.name}.x", what, hint).copy()

    def grads(self) -> dict[str, Any]:
        """Return the layer's ``grads`` (values as arrays, or None where not arrays)."""
        grads = getattr(self.layer, "grads", None)
        params = self.layer.params
        if not params:
            return {}
        if not isinstance(grads, Mapping):
            got = "no `grads`" if grads is None else f"`grads` as a {type(grads).__name__}"
            message = (
                f"{self.label('backward')} set {got}; it must set `grads`, a dict with one "
                f"gradient per parameter (keys {list(params)})."
            )
            raise broken(f"{self.name}.grads", message, kind="zero")
        for key, value in grads.items():
            if key in params and value is not None:
                label = f"{self.label('backward')} set `grads['{key}']` to"
                as_float_array(value, label, f"{self.name}.{key}", "an array", "")
        return {key: None if value is None else np.array(value) for key, value in grads.items()}


def check_params(layer: Any, name: str) -> None:
    """Raise :class:`LayerBroken` unless every parameter is a writable float ndarray."""
    for key, value in layer.params.items():
        ok = isinstance(value, np.ndarray) and value.dtype.kind == "f"
        if not ok or not value.flags.writeable:
            what = describe_value(value)
            message = (
                f"`{name}.params['{key}']` is {what}; parameters must be writable float "
                "ndarrays (the checker perturbs them in place). Non-differentiable settings "
                "(conv_param, bn_param...) belong in `args=`."
            )
            raise broken(f"{name}.{key}", message)


def describe_value(value: Any) -> str:
    """Return "a dict", "an ndarray of dtype int64", ... for messages."""
    if isinstance(value, np.ndarray):
        flag = "" if value.flags.writeable else "read-only "
        return f"a {flag}ndarray of dtype {value.dtype}"
    return f"a {type(value).__name__}"
