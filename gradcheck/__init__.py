"""gradcheck: find what is wrong with your backprop, and with your training.

``import gradcheck`` needs only numpy and scipy.
"""

from gradcheck.errors import (
    GradcheckError,
    GradientMismatch,
    InvalidArgumentError,
    InvalidTypeError,
    LossValueError,
    MutationError,
    NondeterministicError,
    TreeMismatchError,
)

__version__ = "0.1.0"

__all__ = [
    "GradcheckError",
    "GradientMismatch",
    "InvalidArgumentError",
    "InvalidTypeError",
    "LossValueError",
    "MutationError",
    "NondeterministicError",
    "TreeMismatchError",
    "__version__",
]
