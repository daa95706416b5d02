"""The differencing engine: exact restore, evaluation counts, per-evaluation overhead."""

import time

import numpy as np
import pytest

from gradcheck.errors import LossValueError
from gradcheck.numeric.differences import Evaluator, entry_values, support_values
from gradcheck.tree import PrivateCopy


def test_evaluator_counts_and_converts():
    copy = PrivateCopy({"w": np.arange(3.0)})
    ev = Evaluator(lambda p: np.float32(p["w"].sum()), copy)
    assert ev() == 3.0 and isinstance(ev(), float) and ev.count == 2
    assert ev.last_type is np.float32


@pytest.mark.parametrize(
    ("value", "pattern"),
    [(float("nan"), "returned nan"), (np.ones(2), "shape"), ("x", "a number")],
    ids=["nan", "array", "string"],
)
def test_evaluator_rejects_bad_values(value, pattern):
    ev = Evaluator(lambda p: value, PrivateCopy(np.ones(2)))
    with pytest.raises(LossValueError, match=pattern):
        ev()


def test_evaluator_complex_value_and_number_leaves():
    copy = PrivateCopy({"a": 1.0, "b": np.ones(2)}, dtype=complex)
    ev = Evaluator(lambda p: p["a"] * 2 + p["b"].sum(), copy)
    assert ev.complex_value() == 4.0 and ev.imag() == 0.0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_entry_values_restore_exact_bits_and_count(dtype):
    rng = np.random.default_rng(0)
    w = rng.standard_normal((3, 4)).astype(dtype)
    copy = PrivateCopy({"w": w})
    leaf = copy.leaves["w"]
    before = leaf.copy()
    seen = []
    ev = Evaluator(lambda p: seen.append(p["w"].copy()) or float(p["w"].sum()), copy)
    indices = np.array([0, 5, 11])
    x = leaf.reshape(-1)[indices]
    perturbed = np.stack([x - dtype(0.5), x + dtype(0.5)], axis=1)
    out = np.full((3, 2), np.nan)
    entry_values(ev, leaf, indices, perturbed, [0, 1], out)
    assert ev.count == 6 and np.array_equal(leaf, before)
    assert out[1, 1] == pytest.approx(float(before.sum()) + 0.5, rel=1e-6)
    assert all(np.count_nonzero(s != before) == 1 for s in seen)


def test_entry_values_skip_columns():
    copy = PrivateCopy(np.zeros(2))
    ev = Evaluator(lambda p: float(p.sum()), copy)
    out = np.full((2, 2), 7.0)
    entry_values(ev, copy.leaves[""], np.array([0, 1]), np.ones((2, 2)), [1], out)
    assert ev.count == 2 and np.array_equal(out[:, 0], [7.0, 7.0])


def test_support_values_restore_even_when_loss_raises():
    copy = PrivateCopy(np.arange(4.0))
    leaf = copy.leaves[""]

    def loss(p):
        if p[0] > 5:
            raise RuntimeError("boom")
        return float(p.sum())

    ev = Evaluator(loss, copy)
    assert support_values(ev, leaf, np.array([0, 2]), [np.array([1.0, 1.0])]) == [1 + 1 + 1 + 3]
    with pytest.raises(RuntimeError):
        support_values(ev, leaf, np.array([0]), [np.array([9.0])])
    assert np.array_equal(leaf, np.arange(4.0))


def test_overhead_per_evaluation_does_not_grow_with_the_parameter_count():
    """A copy of the whole vector per evaluation would cost ~50 us at 1e6 entries."""
    copy = PrivateCopy({"w": np.zeros(1_000_000)})
    ev = Evaluator(lambda p: 1.0, copy)
    leaf = copy.leaves["w"]
    indices = np.arange(0, 1_000_000, 250)
    perturbed = np.full((len(indices), 2), 1e-3)
    out = np.empty((len(indices), 2))
    best = float("inf")
    for _ in range(3):
        t = time.perf_counter()
        entry_values(ev, leaf, indices, perturbed, [0, 1], out)
        best = min(best, (time.perf_counter() - t) / (2 * len(indices)))
    assert best < 10e-6, f"{best * 1e6:.1f} us per evaluation"
