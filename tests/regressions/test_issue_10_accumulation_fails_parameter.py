"""Issue 10, item 8: a gradient that accumulates between calls (a missing zero_grad) was
diagnosed, but `report.params[path].passed` stayed True and the table said "ok" under a
FAILED headline. The accumulating parameters now fail.
"""

import numpy as np

from gradcheck.checking.gradient import check_gradient


class Accumulating:
    def __init__(self):
        self.stored = {"w": np.zeros(3), "b": np.zeros(2)}

    def __call__(self, p):
        self.stored["w"] += 2 * p["w"]
        self.stored["b"] = 2 * p["b"]  # b is recomputed: healthy
        return {k: v.copy() for k, v in self.stored.items()}


def test_issue_10_accumulating_parameter_fails():
    params = {"w": np.ones(3), "b": np.ones(2)}
    report = check_gradient(
        lambda p: float(np.sum(p["w"] ** 2) + np.sum(p["b"] ** 2)), Accumulating(), params
    )
    assert not report.passed and report.status == "failed"
    assert report.params["w"].passed is False and report.params["w"].status == "failed"
    assert report.params["b"].passed is True
    row = next(line for line in str(report).splitlines() if line.strip().startswith("w "))
    assert row.rstrip().endswith("FAIL")
    assert report.diagnoses[0].kind == "accumulation"
