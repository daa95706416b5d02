"""Issue 13: at the steps without full statistics, the gradients' norm included the forward pass.

The scan of every step (`gradcheck.monitor.scan.all_finite`) summed the squared norms of
the activations and pre-activations into the gradients' total, so the total gradient norm
of an ordinary step was that of the activations. Compared with the true norm of the first
(detailed) steps, a healthy run on a plateau with O(1) activations and small gradients
"grew" a thousandfold at its first ordinary step and was reported as `exploding_gradient`.
"""

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from gradcheck.monitor import Monitor
from gradcheck.monitor.scan import ARRAY_ARGS, all_finite
from tests.budget import examples

shapes = st.lists(st.integers(1, 40), min_size=1, max_size=2).map(tuple)


@st.composite
def observed_arrays(draw):
    """Arrays of every kind, each kind on its own scale (float64 and float32)."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    mappings = {}
    for kind in ARRAY_ARGS:
        scale = 10.0 ** draw(st.integers(-6, 6))
        dtype = draw(st.sampled_from([np.float64, np.float32]))
        n = draw(st.integers(0, 3))
        mappings[kind] = {
            f"{kind}{i}": (rng.standard_normal(draw(shapes)) * scale).astype(dtype)
            for i in range(n)
        }
    return mappings


@settings(max_examples=examples(60), deadline=None)
@given(observed_arrays())
def test_the_scan_returns_the_norm_of_the_gradients_alone(mappings):
    finite, sumsq = all_finite(mappings)
    grads = list(mappings["gradients"].values())
    expected = sum(float(np.sum(g.astype(np.float64) ** 2)) for g in grads)
    # float32 arrays are summed in float32: n terms, each rounding at most 2**-24
    n32 = sum(g.size for g in grads if g.dtype == np.float32)
    assert finite
    assert math.isclose(sumsq, expected, rel_tol=1e-12 + n32 * 2.0**-24, abs_tol=1e-300)


@settings(max_examples=examples(60), deadline=None)
@given(observed_arrays(), st.data())
def test_one_nan_or_inf_anywhere_makes_the_scan_fail(mappings, data):
    arrays = [a for kind in ARRAY_ARGS for a in mappings[kind].values()]
    if not arrays:
        return
    bad = data.draw(st.sampled_from(arrays))
    bad.reshape(-1)[data.draw(st.integers(0, bad.size - 1))] = data.draw(
        st.sampled_from([np.nan, np.inf, -np.inf])
    )
    assert all_finite(mappings)[0] is False


def plateau_run(gradient_scale, steps=300, seed=0):
    """A run stuck on a plateau: O(30) activations, random gradients of the given scale."""
    rng = np.random.default_rng(seed)
    mon = Monitor()
    for t in range(steps):
        scale = gradient_scale(t)
        mon.observe(
            t,
            loss=2.3 + 1e-3 * rng.standard_normal(),
            activations={"h": rng.standard_normal((32, 256)) * 30},
            gradients={"W": rng.standard_normal((256, 10)) * scale},
            params={"W": np.ones((256, 10))},
        )
    return [f.code for f in mon.findings]


def test_small_gradients_beside_large_activations_are_no_explosion():
    assert "exploding_gradient" not in plateau_run(lambda t: 1e-4)


def test_gradients_that_do_grow_a_thousandfold_still_are():
    assert "exploding_gradient" in plateau_run(lambda t: 1e-4 * (1 if t < 50 else 1e4))
