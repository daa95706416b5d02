"""Issue 4: a transposed 2x2 gradient with near-opposite off-diagonal entries read as `sign`.

For ``numeric = [[1, 1.25], [-1.25, 1]]`` and ``analytic = numeric.T`` only the two
off-diagonal entries fail, and both `sign` (``analytic = -numeric``) and `transpose` fit
them; both got confidence 0.8 and `sign` came first. But `sign` contradicts the two passing
diagonal entries (it predicts -1 where analytic == numeric == 1) while `transpose` explains
all four. Rival hypotheses are now weighed by their consistency with every checked entry.
"""

import numpy as np

from gradcheck.diagnose.arrays import diagnose


def test_issue_4_transpose_outranks_a_sign_that_contradicts_passing_entries():
    numeric = np.array([[1.0, 1.25], [-1.25, 1.0]])
    found = diagnose({"W": numeric.T}, {"W": numeric}, {"W": np.full((2, 2), 0.5)})
    assert [d.kind for d in found] == ["transpose", "sign"]
    transpose, sign = found
    assert transpose.confidence > sign.confidence
    assert transpose.evidence["consistent"] == 1.0 and sign.evidence["consistent"] == 0.5


def test_issue_4_a_lone_sign_keeps_its_confidence_when_small_entries_pass():
    numeric = np.array([[1.0, -2.0, 1e-12], [3.0, 0.5, -4.0]])
    failed = np.abs(numeric) > 1e-9  # the tiny entry passes: -1e-12 is within tolerance
    found = diagnose({"W": -numeric}, {"W": numeric}, {"W": numeric}, failed={"W": failed})
    assert (found[0].kind, found[0].evidence["consistent"]) == ("sign", 1.0)
    assert found[0].confidence > 0.9


def test_issue_4_a_sign_on_one_row_is_still_a_sign():
    numeric = np.array([[1.0, -2.0, 0.7], [3.0, 0.5, -4.0]])
    analytic = numeric.copy()
    analytic[1] *= -1
    found = diagnose({"W": analytic}, {"W": numeric}, {"W": np.full((2, 3), 0.5)})
    assert found[0].kind == "sign" and found[0].confidence > 0.9
