"""The names DESIGN.md marks as contract resolve from the top-level package."""

import pytest

import gradcheck

CONTRACT = [
    "check_gradient",
    "assert_gradient",
    "GradientMismatch",
    "GradcheckError",
    "check_layers",
    "Monitor",
    "watch",
]


@pytest.mark.parametrize("name", CONTRACT)
def test_contract_name_is_exported(name):
    assert name in gradcheck.__all__
    assert getattr(gradcheck, name) is not None


def test_every_exported_name_resolves():
    for name in gradcheck.__all__:
        getattr(gradcheck, name)


def test_gradient_mismatch_is_an_assertion_error():
    assert issubclass(gradcheck.GradientMismatch, AssertionError)
    assert issubclass(gradcheck.GradientMismatch, gradcheck.GradcheckError)


def test_unknown_name_says_so():
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        gradcheck.nope  # noqa: B018
