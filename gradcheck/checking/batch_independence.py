"""Batch independence, measured: whether the forward mixes the samples, and the backward.

Whether a layer mixes the samples of a batch is a property of its forward pass, and it is
measured, not declared: :func:`forward_mixing` moves one sample's input by the checker's
step and watches the other samples' outputs. A forward that mixes (batch norm) is fine:
its backward is then checked with the full vector-Jacobian product, cross-sample terms
included. What is a bug is mixing the forward does not have: :func:`backward_mixing`
sends an upstream gradient on one sample only and watches the other samples' input
gradients, which a per-sample layer leaves exactly zero (up to rounding). Thresholds come
from :mod:`gradcheck.numeric.layer_probes` (the checker's rounding model).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from gradcheck.diagnose.arrays import Diagnosis
from gradcheck.numeric import layer_probes as lp


class Mixing(NamedTuple):
    """Sample `sample` reached samples `mixed` in the `where` ("forward"/"backward") pass."""

    where: str
    sample: int
    mixed: list


def probe_samples(n: int, rng: np.random.Generator) -> list[int]:
    """Return the samples to probe: the first, the last and one at random."""
    return sorted({0, n - 1, int(rng.integers(n))})


def forward_mixing(
    forward: Callable[[np.ndarray], np.ndarray], x: np.ndarray, rng: np.random.Generator
) -> Mixing | None:
    """Return how `forward` mixes samples (None when sample i's output needs sample i only).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> forward_mixing(lambda x: x - x.mean(axis=0), np.ones((3, 2)), rng).where
    'forward'
    >>> forward_mixing(np.tanh, np.ones((3, 2)), rng) is None
    True
    """
    x = np.asarray(x)
    y = np.asarray(forward(x.copy()))
    if x.ndim < 1 or len(x) < 2 or y.ndim < 1 or len(y) != len(x):
        return None
    eps = lp.working_eps(y.dtype)
    steps = lp.probe_steps(x, x.dtype)
    for i in probe_samples(len(x), rng):
        bumped = np.array(x, dtype=np.float64)
        bumped[i] += steps[i] * rng.choice([-1.0, 1.0], size=bumped[i].shape)
        new = np.asarray(forward(bumped.astype(x.dtype)), dtype=np.float64)
        moved = lp.moved_beyond_rounding(new, y, eps).reshape(len(x), -1).any(axis=1)
        moved[i] = False
        if moved.any():
            return Mixing("forward", i, np.flatnonzero(moved).tolist())
    return None


def backward_mixing(
    vjp: Callable[[np.ndarray], np.ndarray | None],
    x: np.ndarray,
    g: np.ndarray,
    rng: np.random.Generator,
) -> Mixing | None:
    """Return how a backward mixes samples: ``vjp(g)`` must keep a one-sample ``g`` on it.

    `vjp(g)` runs the layer's forward on `x` then its backward on `g`, returning ``dx``.
    """
    n = len(x) if np.ndim(x) >= 1 else 0
    if n < 2 or np.ndim(g) < 1 or len(g) != n:
        return None
    for i in probe_samples(n, rng):
        only_i = np.zeros_like(g)
        only_i[i] = g[i]
        dx = vjp(only_i)
        if dx is None or np.shape(dx)[:1] != (n,):
            return None
        dx = np.asarray(dx, dtype=np.float64).reshape(n, -1)
        own = max(float(np.max(np.abs(dx[i]), initial=0.0)), float(np.max(np.abs(g[i]))))
        eps = lp.working_eps(np.asarray(g).dtype, np.asarray(x).dtype)
        moved = lp.leaked(dx, own, eps).any(axis=1)
        moved[i] = False
        if moved.any():
            return Mixing("backward", i, np.flatnonzero(moved).tolist())
    return None


def mixing_diagnosis(name: str, found: Mixing) -> Diagnosis:
    """Explain mixing in a layer that must not mix (its forward keeps the samples apart)."""
    shown = ", ".join(map(str, found.mixed[:5])) + (", ..." if len(found.mixed) > 5 else "")
    i = found.sample
    if found.where == "forward":
        what = f"changing sample {i}'s input changes the output of sample(s) {shown}"
        fix = "if the layer mixes samples on purpose, do not set `mixes_samples = False`"
    else:
        what = (
            f"an upstream gradient on sample {i} only gives a nonzero input gradient on "
            f"sample(s) {shown}, although its forward keeps the samples apart"
        )
        fix = "the backward must treat each sample on its own, as the forward does"
    message = (
        f"`{name}` mixes samples in its {found.where} pass: {what}. Look for a reshape where a "
        f"transpose was meant, a sum/mean over the batch axis, or a broadcast across rows; {fix}."
    )
    evidence = {"sample": i, "mixed": found.mixed[:20], "where": found.where}
    return Diagnosis("batch_mixing", name, 0.95, message, evidence)


def coupling_dropped(name: str, forward_found: Mixing) -> Diagnosis:
    """Explain a per-sample backward for a forward that mixes samples (batch statistics)."""
    i, shown = forward_found.sample, ", ".join(map(str, forward_found.mixed[:5]))
    message = (
        f"`{name}`: the forward mixes samples (changing sample {i}'s input changes the output "
        f"of sample(s) {shown}: batch statistics), but the backward treats each sample on its "
        "own: it dropped the terms through the batch mean and variance (dmean, dvar summed "
        "over the batch)."
    )
    evidence = {"sample": i, "mixed": forward_found.mixed[:20], "pattern": "coupling_dropped"}
    return Diagnosis("batch_mixing", name, 0.95, message, evidence)
