"""A diagnosis kind is one row of `gradcheck.diagnose.kinds.KIND_TABLE`.

A toy kind, "offset" (the analytic gradient is the numeric one plus a constant), is
registered as a row: explanation, model, the test built on it, tree-level evidence key.
`diagnose` then names it, weighs it by its model, merges it across parameters, and stays
silent on a healthy gradient.
"""

import numpy as np
import pytest

from gradcheck.diagnose.arrays import diagnose
from gradcheck.diagnose.fits import ACCEPT, agreement, support
from gradcheck.diagnose.kinds import KIND_TABLE, Fit, Kind, where


def _offset(case):
    a, n, _ = case.fit
    offset = float(np.median(a - n))
    frac = agreement(a, n + offset, reference=n)
    if frac < ACCEPT or abs(offset) < 1e-12:
        return None
    message = f"{where(case)}: the analytic gradient is the numeric one plus {offset:.3g}."
    return Fit(frac * support(a.size), message, {"offset": offset})


OFFSET = Kind(
    "The analytic gradient is the numeric one plus a constant.",
    model=lambda n, p, e: n + e["offset"],
    test=_offset,
    tree_key="offset",
)


@pytest.fixture(autouse=True)
def offset_row(monkeypatch):
    monkeypatch.setitem(KIND_TABLE, "offset", OFFSET)


def tree(seed=0):
    rng = np.random.default_rng(seed)
    numeric = {"W1": rng.normal(size=(4, 3)), "b1": rng.normal(size=3)}
    params = {"W1": rng.normal(size=(4, 3)), "b1": rng.normal(size=3)}
    return numeric, params


def test_the_registered_kind_fires_on_its_model():
    numeric, params = tree()
    analytic = {**numeric, "W1": numeric["W1"] + 1.0}
    top = diagnose(analytic, numeric, params)[0]
    assert (top.kind, top.path) == ("offset", "W1")
    assert top.evidence["offset"] == pytest.approx(1.0)
    assert top.confidence > 0.9
    assert "plus 1" in top.message


def test_the_registered_kind_is_merged_across_parameters_by_its_key():
    numeric, params = tree(1)
    analytic = {path: value + 0.5 for path, value in numeric.items()}
    found = diagnose(analytic, numeric, params)
    assert [(d.kind, d.path) for d in found][:1] == [("offset", None)]


def test_the_registered_kind_is_silent_on_a_healthy_gradient():
    numeric, params = tree(2)
    assert diagnose(numeric, numeric, params) == []


def test_other_kinds_still_win_where_their_model_fits():
    numeric, params = tree(3)
    analytic = {**numeric, "W1": -numeric["W1"]}
    assert diagnose(analytic, numeric, params)[0].kind == "sign"
