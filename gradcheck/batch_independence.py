"""Batch independence: sample i's output and gradient must depend on no other sample.

A per-sample layer (dense, elementwise, softmax over features) never mixes the samples of
a batch. :func:`batch_mixing` perturbs one sample's input and watches the other samples'
outputs, then sends an upstream gradient on one sample only and watches the other samples'
input gradients. Layers that mix samples on purpose (batch norm) declare
``mixes_samples = True`` and :func:`gradcheck.layers.check_layers` skips them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gradcheck.diagnose import Diagnosis


def batch_mixing(
    name: str, layer: Any, x: np.ndarray, g: np.ndarray, rng: np.random.Generator
) -> Diagnosis | None:
    """Check that sample i's output and gradient depend on no other sample.

    For a few samples i: perturbing sample i's input must change no other sample's output,
    and an upstream gradient nonzero on sample i only must give an input gradient that is
    zero on every other sample. Returns a ``batch_mixing`` diagnosis or None.
    """
    n = x.shape[0] if np.ndim(x) >= 1 else 0
    if n < 2:
        return None
    eps = np.sqrt(np.finfo(np.result_type(x, g, np.float32)).eps)
    y = np.array(layer.forward(x.copy()))  # a copy: a layer may reuse its output buffer
    for i in sorted({0, n - 1, int(rng.integers(n))}):
        others = np.arange(n) != i
        mixed = _mixed_forward(layer, x, y, i, others, eps, rng)
        how = "forward"
        if mixed is None:
            mixed, how = _mixed_backward(layer, x, g, i, others, eps), "backward"
        if mixed is not None:
            return _mixing_diagnosis(name, how, i, mixed)
    return None


def _mixed_forward(layer, x, y, i, others, eps, rng) -> list[int] | None:
    bumped = np.array(x)
    bumped[i] += 1e-2 * (np.abs(bumped[i]) + 1) * rng.standard_normal(bumped[i].shape)
    change = np.abs(np.asarray(layer.forward(bumped), dtype=np.float64) - y)
    per_sample = change.reshape(len(x), -1).max(axis=1)
    own = max(per_sample[i], 1e3 * np.finfo(np.float64).eps * (np.max(np.abs(y)) + 1))
    moved = np.flatnonzero(others & (per_sample > eps * own))
    return moved.tolist() or None


def _mixed_backward(layer, x, g, i, others, eps) -> list[int] | None:
    only_i = np.zeros_like(g)
    only_i[i] = g[i]
    layer.forward(x.copy())
    dx = np.asarray(layer.backward(only_i), dtype=np.float64)
    if dx.shape[:1] != (len(x),):
        return None
    per_sample = np.abs(dx).reshape(len(x), -1).max(axis=1)
    own = max(per_sample[i], np.max(np.abs(g[i])), 1e-300)
    moved = np.flatnonzero(others & ~(per_sample <= eps * own))
    return moved.tolist() or None


def _mixing_diagnosis(name: str, how: str, i: int, mixed: list[int]) -> Diagnosis:
    shown = ", ".join(map(str, mixed[:5])) + (", ..." if len(mixed) > 5 else "")
    if how == "forward":
        what = f"changing sample {i}'s input changes the output of sample(s) {shown}"
    else:
        what = (
            f"an upstream gradient on sample {i} only gives a nonzero input gradient on "
            f"sample(s) {shown}"
        )
    message = (
        f"`{name}` mixes samples in its {how} pass: {what}. Look for a reshape where a "
        "transpose was meant, a sum/mean over the batch axis, or a broadcast across rows; "
        "if the layer mixes samples on purpose (batch norm), set `mixes_samples = True`."
    )
    evidence = {"sample": i, "mixed": mixed[:20], "where": how}
    return Diagnosis("batch_mixing", name, 0.95, message, evidence)
