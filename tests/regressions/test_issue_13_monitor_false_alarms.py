"""Issue 13: the monitor cried wolf on healthy runs and named consequences before causes.

Three of the false claims it made on healthy hand-written nets, each a class:

- "exp(z) overflows" on large pre-activations whose outputs were finite (a ReLU layer, a
  max-shifted softmax): now only an output holding NaN/Inf makes an exp overflow;
- biases stored as ``(1, n)`` taken for weight matrices: their tiny gradients made the
  first-to-last ratio a false `vanishing_gradient`;
- `vanishing_gradient` raised before its own cause, `dead_relu`, and every array after a
  NaN given a finding of its own.
"""

import numpy as np

from gradcheck.monitor import Monitor


def test_large_finite_preactivations_are_no_exp_overflow():
    rng = np.random.default_rng(0)
    mon = Monitor()
    for step in range(20):
        z = rng.standard_normal((16, 8)) * 2000.0  # |z| far above log(max) = 709
        probs = np.exp(z - z.max(axis=1, keepdims=True))
        probs /= probs.sum(axis=1, keepdims=True)  # max-shifted: finite, rows sum to 1
        h = np.maximum(z, 0)
        mon.observe(
            step,
            loss=2.0 - 0.01 * step,
            activations={"h": h, "probs": probs},
            preactivations={"z": z, "logits": z},
        )
    assert [f for f in mon.findings if f.code == "overflow"] == []


def test_row_biases_are_not_weights_for_the_gradient_rules():
    mon = Monitor()
    for step in range(30):
        grads = {
            "W1": np.full((8, 8), 1e-2),
            "b1": np.full((1, 8), 1e-12),
            "W2": np.full((8, 4), 1e-2),
            "b2": np.full((1, 4), 1e-12),
        }
        params = {
            k: np.ones(g.shape) if k[0] == "W" else np.zeros(g.shape) for k, g in grads.items()
        }
        mon.observe(step, loss=2.0 - 0.01 * step, gradients=grads, params=params)
    assert [f.code for f in mon.findings] == []


def test_after_a_nan_later_arrays_are_consequences_not_findings_of_their_own():
    mon = Monitor()
    for step in range(12):
        bad = step >= 4
        a = np.full((8, 4), np.nan if bad else 0.5)
        g = np.full((4, 4), np.nan if bad else 0.1)
        mon.observe(
            step,
            loss=float("nan") if bad else 1.0,
            activations={"h": a},
            gradients={"W": g},
            params={"W": np.ones((4, 4))},
        )
    serious = [(f.code, f.name) for f in mon.findings if f.severity != "info"]
    assert serious == [("nan", "h")]
    assert all(f.consequence_of == "nan:h" for f in mon.findings if f.code != "nan")
