"""Adapters at their documented address: `from gradcheck.adapters import FunctionPairLayer`.

The implementation lives in :mod:`gradcheck.checking.adapters`; this module re-exports its public
names so that the path the README shows keeps working.

Examples
--------
>>> from gradcheck.adapters import FunctionPairLayer
>>> FunctionPairLayer.__module__
'gradcheck.checking.function_pair'
"""

from gradcheck.checking.adapters import (
    FlatVectorNetwork,
    FunctionPairLayer,
    LossFunctionLayer,
    MethodMappingLayer,
)

__all__ = ["FlatVectorNetwork", "FunctionPairLayer", "LossFunctionLayer", "MethodMappingLayer"]
