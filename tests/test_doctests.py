"""Every docstring example in the package runs and shows what it claims."""

import doctest
import importlib
import pkgutil

import pytest

import gradcheck
from tests.budget import slow_except

MODULES = sorted(
    info.name
    for info in pkgutil.walk_packages(gradcheck.__path__, prefix="gradcheck.")
    if info.name != "gradcheck.__main__"
)


# the strategies' examples shrink with `find` (seconds): CI runs them, a local run does not
SLOW = {"gradcheck.testing.strategies"}


@pytest.mark.parametrize(
    "name", slow_except(["gradcheck", *MODULES], fast={"gradcheck", *MODULES} - SLOW)
)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"


def test_the_public_api_has_examples():
    documented = [n for n in MODULES if doctest.DocTestFinder().find(importlib.import_module(n))]
    assert len(documented) > 40, documented
