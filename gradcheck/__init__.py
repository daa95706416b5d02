"""gradcheck: find what is wrong with your backprop, and with your training.

The public names load lazily (PEP 562): ``import gradcheck`` itself costs almost
nothing, which matters because pytest imports the plugin at every start. Using any
name needs only numpy and scipy.

Examples
--------
>>> import numpy as np, gradcheck
>>> report = gradcheck.check_gradient(
...     lambda p: float(np.sum(p["w"] ** 2)), lambda p: {"w": 2 * p["w"]}, {"w": np.ones(3)}
... )
>>> report.passed
True
"""

from __future__ import annotations

import importlib
from typing import Any

from gradcheck.errors import (
    DataFileError,
    GradcheckError,
    GradientMismatch,
    InvalidArgumentError,
    InvalidTypeError,
    LossValueError,
    MutationError,
    NondeterministicError,
    StabilityAssertion,
    TreeMismatchError,
)

__version__ = "0.1.0"

# public name -> the module that defines it
_LAZY = {
    "check_gradient": "gradcheck.checking.gradient",
    "assert_gradient": "gradcheck.checking.gradient",
    "GradientReport": "gradcheck.checking.gradient_results",
    "Diagnosis": "gradcheck.diagnose.arrays",
    "check_vjp": "gradcheck.checking.jacobian",
    "check_jvp": "gradcheck.checking.jacobian",
    "assert_vjp": "gradcheck.checking.jacobian",
    "assert_jvp": "gradcheck.checking.jacobian",
    "check_hvp": "gradcheck.checking.second_order",
    "check_hessian": "gradcheck.checking.second_order",
    "assert_hvp": "gradcheck.checking.second_order",
    "assert_hessian": "gradcheck.checking.second_order",
    "check_layers": "gradcheck.checking.layers",
    "LayerCheckResult": "gradcheck.checking.layers",
    "FunctionPairLayer": "gradcheck.checking.adapters",
    "MethodMappingLayer": "gradcheck.checking.adapters",
    "FlatVectorNetwork": "gradcheck.checking.adapters",
    "Monitor": "gradcheck.monitor",
    "Finding": "gradcheck.monitor",
    "watch": "gradcheck.monitor",
    "assert_layers": "gradcheck.testing",
    "assert_stable": "gradcheck.testing",
    "Program": "gradcheck.checking.external",
}

__all__ = [
    *_LAZY,
    "DataFileError",
    "GradcheckError",
    "GradientMismatch",
    "InvalidArgumentError",
    "InvalidTypeError",
    "LossValueError",
    "MutationError",
    "NondeterministicError",
    "StabilityAssertion",
    "TreeMismatchError",
    "__version__",
]


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'gradcheck' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
