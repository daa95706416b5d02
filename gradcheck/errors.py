"""The error hierarchy: every error gradcheck raises derives from `GradcheckError`.

Bad input raises a subclass that is also a `ValueError` or `TypeError`, so callers that
already catch those keep working. Messages name the parameter path, what was expected,
what was received and what to do.
"""

from __future__ import annotations


class GradcheckError(Exception):
    """Base class of every error raised by gradcheck."""


class InvalidArgumentError(GradcheckError, ValueError):
    """An argument has an invalid value (a bad method name, a negative tolerance...)."""


class InvalidTypeError(GradcheckError, TypeError):
    """An argument has the wrong type (integer parameters, a non-callable loss...)."""


class TreeMismatchError(GradcheckError, ValueError):
    """Two parameter trees differ in structure, keys or leaf shapes."""


class LossValueError(GradcheckError, ValueError):
    """The loss returned something other than one finite real number."""


class MutationError(GradcheckError, ValueError):
    """A user function changed the arrays it was given."""


class NondeterministicError(GradcheckError, ValueError):
    """The loss returned different values for the same parameters."""


class DataFileError(GradcheckError, ValueError):
    """A data file is missing or malformed."""


class InternalError(GradcheckError, RuntimeError):
    """An invariant of gradcheck itself was broken: please report it as a bug."""


class GradientMismatch(GradcheckError, AssertionError):
    """Raised by the assertion helpers when a gradient check fails.

    The message holds the report table and the diagnoses; the full report is kept as
    ``.report``.
    """

    def __init__(self, message: str, report: object = None) -> None:
        super().__init__(message)
        self.report = report


def describe_shape(value: object) -> str:
    """Return a short human description of a value's type and shape, for messages."""
    shape = getattr(value, "shape", None)
    dtype = getattr(value, "dtype", None)
    if shape is not None:
        return f"{type(value).__name__} of shape {tuple(shape)} and dtype {dtype}"
    return f"{type(value).__name__}"


def at_path(path: str) -> str:
    """Format a parameter path for messages: `W1`, `layers.0.W`, or the bare parameter."""
    return f"`{path}`" if path else "the bare parameter"


def leaf_of(name: str, path: str) -> str:
    """Name one leaf of the tree argument `name`: "`params` leaf `W1`", or "`params`"."""
    return f"`{name}` leaf `{path}`" if path else f"`{name}`"


class StabilityAssertion(GradcheckError, AssertionError):
    """Raised by :func:`gradcheck.testing.assert_stable` when a monitor holds findings.

    The message holds the table of offending findings; they are kept as ``.findings``.
    """

    def __init__(self, message: str, findings: object = None) -> None:
        super().__init__(message)
        self.findings = findings
