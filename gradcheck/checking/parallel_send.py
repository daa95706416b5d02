"""Serialize what a worker needs: the user's loss (cloudpickle) and the parameters.

cloudpickle sends lambdas and closures by value. A :class:`gradcheck.Program` travels as
its command line (each worker starts its own copy). When something cannot be sent, the
error names it: the closure variable, global or attribute of the loss that failed, and
suggests a module-level function.
"""

from __future__ import annotations

import functools
import io
from typing import Any

from gradcheck.checking.parallel_worker import ProgramSpec, worker_program
from gradcheck.errors import GradcheckError


class UnpicklableLossError(GradcheckError, TypeError):
    """The loss (or something it refers to) cannot be sent to the executor's workers."""


def _pickler(buffer: io.BytesIO):
    import cloudpickle

    from gradcheck.checking.external import Program

    class Pickler(cloudpickle.CloudPickler):
        def reducer_override(self, obj: Any) -> Any:
            if isinstance(obj, Program):
                child = obj.child
                spec = ProgramSpec(tuple(child.argv), child.timeout, obj.window, obj.params)
                return worker_program, (spec,)
            return super().reducer_override(obj)

    return Pickler(buffer)


def dumps(obj: Any) -> bytes:
    """Pickle `obj` with cloudpickle (programs by their command line)."""
    buffer = io.BytesIO()
    _pickler(buffer).dump(obj)
    return buffer.getvalue()


def payload_bytes(loss: Any, tree: Any) -> bytes:
    """Return the pickled ``(loss, tree)``; raise :class:`UnpicklableLossError` if it fails."""
    try:
        return dumps((loss, tree))
    except Exception as exc:
        raise UnpicklableLossError(
            f"`loss` could not be sent to the executor's workers: {_culprit(loss)} cannot be "
            f"pickled ({type(exc).__name__}: {exc}). Define the loss as a module-level "
            "function whose data (arrays, models) can be pickled, create the resource (file, "
            "lock, connection) inside the loss, or run without `executor=`."
        ) from exc


def _parts(obj: Any) -> list[tuple[str, Any]]:
    """Return the named things `obj` refers to: closure variables, globals, attributes."""
    code = getattr(obj, "__code__", None)
    parts: list[tuple[str, Any]] = []
    if code is not None:
        cells = obj.__closure__ or ()
        for name, cell in zip(code.co_freevars, cells, strict=True):
            parts.append((f"its closure variable `{name}`", cell.cell_contents))
        scope = getattr(obj, "__globals__", {})
        parts += [(f"the global `{n}`", scope[n]) for n in code.co_names if n in scope]
    if hasattr(obj, "__self__"):
        parts.append(("the object it is a method of", obj.__self__))
    if isinstance(obj, functools.partial):
        parts += [("its function", obj.func), ("its arguments", (obj.args, obj.keywords))]
    parts += [(f"its attribute `{n}`", value) for n, value in vars_of(obj).items()]
    return parts


def vars_of(obj: Any) -> dict:
    """``vars(obj)`` for objects that have one, else an empty dict."""
    try:
        return dict(vars(obj))
    except TypeError:
        return {}


def _describe(obj: Any) -> str:
    return f"{type(obj).__name__} {getattr(obj, '__qualname__', '')}".strip()


def _culprit(loss: Any) -> str:
    """Name the first part of `loss` that cannot be pickled (or the loss itself)."""
    name = getattr(loss, "__qualname__", type(loss).__name__)
    for label, value in _parts(loss):
        try:
            dumps(value)
        except Exception:
            return f"{label} of `{name}` (a {_describe(value)})"
    return f"`{name}` (a {_describe(loss)})"
