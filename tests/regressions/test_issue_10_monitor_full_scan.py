"""Issue 10, item 10: the monitor sampled arrays above 65,536 entries and missed a NaN there
while the loss stayed finite; and it reported an array given as None as "NaN first
appeared". Every array is now read in full at every step, and None or non-numeric arrays
are refused with an error that names them."""

import numpy as np
import pytest

from gradcheck.errors import GradcheckError
from gradcheck.monitor import Monitor


@pytest.mark.parametrize("step_of_nan", [3, 17])  # a detailed step and a scan-only step
def test_one_nan_in_a_large_array_is_found(step_of_nan):
    mon = Monitor()
    w = np.ones((400, 400))
    for step in range(20):
        g = np.full((400, 400), 1e-3)
        if step == step_of_nan:
            g[399, 398] = np.nan
        mon.observe(step, loss=1.0, gradients={"W": g}, params={"W": w})
    nan = [(f.name, f.step, f.evidence["n_nan"]) for f in mon.findings if f.code == "nan"]
    assert nan == [("W", step_of_nan, 1)]


def test_none_is_refused_by_name_not_reported_as_nan():
    with pytest.raises(GradcheckError, match=r"`params\['b'\]` must be a numeric array; got None"):
        Monitor().observe(0, loss=1.0, params={"b": None})
